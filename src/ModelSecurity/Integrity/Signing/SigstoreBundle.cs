using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;

namespace ModelSecurity.Integrity.Signing;

/// <summary>What a bundle carries to identify its signer.</summary>
internal enum BundleMaterial
{
    /// <summary>A key: a hint (v1.1+) or the PEM itself (v1.0.x); the verifier brings the key.</summary>
    PublicKey,

    /// <summary>An X.509 chain, leaf first; the verifier brings the root.</summary>
    CertificateChain,

    /// <summary>A Sigstore (Fulcio) certificate with transparency-log entries: keyless signing.</summary>
    SigstoreCertificate,
}

/// <summary>
/// A Sigstore bundle v0.3 (JSON) with a DSSE envelope, the container of a model.sig file. Reading
/// accepts what model_signing has written since v0.2 (spaced or compact JSON, a null keyid, a
/// missing tlogEntries); writing produces the compact form model_signing v1.1+ writes.
/// </summary>
internal sealed class SigstoreBundle
{
    public const string MediaType = "application/vnd.dev.sigstore.bundle.v0.3+json";
    public const string InTotoPayloadType = "application/vnd.in-toto+json";

    /// <summary>Larger than the statement of any real model folder; bounds what is read.</summary>
    public const int MaxBundleBytes = 256 << 20;

    private const int MaxCertificates = 16;

    private SigstoreBundle(BundleMaterial material, string? keyHint, byte[]? publicKeyPem, IReadOnlyList<byte[]> certificates, string? logIndex, string? integratedTime, string payloadType, byte[] payload, byte[] signature)
    {
        Material = material;
        KeyHint = keyHint;
        PublicKeyPem = publicKeyPem;
        Certificates = certificates;
        LogIndex = logIndex;
        IntegratedTime = integratedTime;
        PayloadType = payloadType;
        Payload = payload;
        Signature = signature;
    }

    public BundleMaterial Material { get; }

    /// <summary>Lower-case hex SHA-256 of the signer's SPKI PEM (v1.1+ key signing).</summary>
    public string? KeyHint { get; }

    /// <summary>The signer's public key PEM (v1.0.x key signing).</summary>
    public byte[]? PublicKeyPem { get; }

    /// <summary>DER certificates, leaf first (chain and Sigstore modes).</summary>
    public IReadOnlyList<byte[]> Certificates { get; }

    /// <summary>Rekor log index of the first transparency-log entry (Sigstore only).</summary>
    public string? LogIndex { get; }

    /// <summary>Rekor integrated time (Unix seconds) of the first entry (Sigstore only).</summary>
    public string? IntegratedTime { get; }

    public string PayloadType { get; }

    public byte[] Payload { get; }

    /// <summary>The DER ECDSA signature over the DSSE PAE of the payload.</summary>
    public byte[] Signature { get; }

    /// <summary>DSSE v1 pre-authentication encoding: "DSSEv1 len(type) type len(payload) payload".</summary>
    public static byte[] Pae(string payloadType, byte[] payload)
    {
        byte[] head = Encoding.UTF8.GetBytes($"DSSEv1 {Encoding.UTF8.GetByteCount(payloadType)} {payloadType} {payload.Length} ");
        byte[] pae = new byte[head.Length + payload.Length];
        head.CopyTo(pae, 0);
        payload.CopyTo(pae, head.Length);
        return pae;
    }

    /// <summary>
    /// The message model_signing v0.2 signed by mistake ("DSSEV1 ... " and the payload as Python's
    /// repr of bytes); only for verifying signatures of that version.
    /// </summary>
    public static byte[] PaeCompat(string payloadType, byte[] payload)
    {
        var text = new StringBuilder();
        text.Append("DSSEV1 ").Append(payloadType.Length).Append(' ').Append(payloadType).Append(' ').Append(payload.Length).Append(' ');
        bool hasSingle = Array.IndexOf(payload, (byte)'\'') >= 0;
        bool hasDouble = Array.IndexOf(payload, (byte)'"') >= 0;
        char quote = hasSingle && !hasDouble ? '"' : '\'';
        text.Append('b').Append(quote);
        foreach (byte b in payload)
        {
            if (b == quote || b == '\\')
            {
                text.Append('\\').Append((char)b);
            }
            else if (b == '\t')
            {
                text.Append("\\t");
            }
            else if (b == '\n')
            {
                text.Append("\\n");
            }
            else if (b == '\r')
            {
                text.Append("\\r");
            }
            else if (b < 0x20 || b >= 0x7F)
            {
                text.Append("\\x").Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                text.Append((char)b);
            }
        }

        text.Append(quote);
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>A key-signed bundle as model_signing v1.1+ writes it (the key's hint, no log entries).</summary>
    public static byte[] WriteForKey(string keyHint, byte[] payload, byte[] signature)
    {
        var json = Begin();
        json.StartObject("publicKey");
        json.String("hint", keyHint);
        json.EndObject();
        return End(json, payload, signature);
    }

    /// <summary>A certificate-signed bundle: the chain as given, leaf first.</summary>
    public static byte[] WriteForCertificates(IReadOnlyList<byte[]> certificates, byte[] payload, byte[] signature)
    {
        var json = Begin();
        json.StartObject("x509CertificateChain");
        json.StartArray("certificates");
        foreach (byte[] certificate in certificates)
        {
            json.StartObject();
            json.String("rawBytes", Convert.ToBase64String(certificate));
            json.EndObject();
        }

        json.EndArray();
        json.EndObject();
        return End(json, payload, signature);
    }

    /// <summary>Reads a bundle; InvalidDataException says precisely what is malformed.</summary>
    public static SigstoreBundle Parse(byte[] bytes)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"the signature file is not JSON: {e.Message}", e);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException("the signature file is not a JSON object");
            }

            string mediaType = Json.RequiredString(root, "mediaType", "bundle");
            if (mediaType != MediaType)
            {
                throw new InvalidDataException($"the bundle media type is '{mediaType}', not '{MediaType}'");
            }

            JsonElement material = Json.Required(root, "verificationMaterial", JsonValueKind.Object, "bundle");
            JsonElement envelope = Json.Required(root, "dsseEnvelope", JsonValueKind.Object, "bundle");
            string payloadType = Json.RequiredString(envelope, "payloadType", "DSSE envelope");
            byte[] payload = Json.Base64(Json.RequiredString(envelope, "payload", "DSSE envelope"), "the DSSE payload");
            JsonElement signatures = Json.Required(envelope, "signatures", JsonValueKind.Array, "DSSE envelope");
            if (signatures.GetArrayLength() != 1)
            {
                throw new InvalidDataException($"the DSSE envelope has {signatures.GetArrayLength()} signatures; a model signature has exactly one");
            }

            byte[] signature = Json.Base64(Json.RequiredString(signatures[0], "sig", "DSSE signature"), "the DSSE signature");

            string? logIndex = null;
            string? integratedTime = null;
            if (material.TryGetProperty("tlogEntries", out JsonElement entries) && entries.ValueKind == JsonValueKind.Array && entries.GetArrayLength() > 0)
            {
                JsonElement first = entries[0];
                if (first.ValueKind == JsonValueKind.Object)
                {
                    logIndex = first.TryGetProperty("logIndex", out JsonElement index) ? Json.Number(index) : null;
                    integratedTime = first.TryGetProperty("integratedTime", out JsonElement time) ? Json.Number(time) : null;
                }
            }

            if (material.TryGetProperty("publicKey", out JsonElement key) && key.ValueKind == JsonValueKind.Object)
            {
                string? hint = key.TryGetProperty("hint", out JsonElement h) && h.ValueKind == JsonValueKind.String ? h.GetString() : null;
                byte[]? pem = key.TryGetProperty("rawBytes", out JsonElement raw) && raw.ValueKind == JsonValueKind.String ? Json.Base64(raw.GetString()!, "the public key") : null;
                return new SigstoreBundle(BundleMaterial.PublicKey, hint?.ToLowerInvariant(), pem, Array.Empty<byte[]>(), null, null, payloadType, payload, signature);
            }

            if (material.TryGetProperty("x509CertificateChain", out JsonElement chain) && chain.ValueKind == JsonValueKind.Object)
            {
                JsonElement certificates = Json.Required(chain, "certificates", JsonValueKind.Array, "certificate chain");
                int count = certificates.GetArrayLength();
                if (count == 0 || count > MaxCertificates)
                {
                    throw new InvalidDataException($"the certificate chain has {count} certificates (1 to {MaxCertificates} are accepted)");
                }

                var list = new List<byte[]>(count);
                foreach (JsonElement certificate in certificates.EnumerateArray())
                {
                    list.Add(Json.Base64(Json.RequiredString(certificate, "rawBytes", "certificate"), "a certificate"));
                }

                BundleMaterial kind = logIndex is null ? BundleMaterial.CertificateChain : BundleMaterial.SigstoreCertificate;
                return new SigstoreBundle(kind, null, null, list, logIndex, integratedTime, payloadType, payload, signature);
            }

            if (material.TryGetProperty("certificate", out JsonElement fulcio) && fulcio.ValueKind == JsonValueKind.Object)
            {
                byte[] der = Json.Base64(Json.RequiredString(fulcio, "rawBytes", "certificate"), "the certificate");
                return new SigstoreBundle(BundleMaterial.SigstoreCertificate, null, null, new[] { der }, logIndex, integratedTime, payloadType, payload, signature);
            }

            throw new InvalidDataException("the verification material has no publicKey, x509CertificateChain or certificate");
        }
    }

    private static PythonJsonWriter Begin()
    {
        var json = new PythonJsonWriter(0);
        json.StartObject();
        json.String("mediaType", MediaType);
        json.StartObject("verificationMaterial");
        return json;
    }

    private static byte[] End(PythonJsonWriter json, byte[] payload, byte[] signature)
    {
        json.StartArray("tlogEntries");
        json.EndArray();
        json.EndObject();
        json.StartObject("dsseEnvelope");
        json.String("payload", Convert.ToBase64String(payload));
        json.String("payloadType", InTotoPayloadType);
        json.StartArray("signatures");
        json.StartObject();
        json.String("sig", Convert.ToBase64String(signature));
        json.String("keyid", string.Empty);
        json.EndObject();
        json.EndArray();
        json.EndObject();
        json.EndObject();
        return json.ToUtf8();
    }
}
