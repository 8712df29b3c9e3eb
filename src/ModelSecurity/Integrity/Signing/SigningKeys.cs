using System;
using System.Formats.Asn1;
using System.IO;
using System.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace ModelSecurity.Integrity.Signing;

/// <summary>Why a key or certificate file cannot be used.</summary>
internal enum SigningKeyProblem
{
    /// <summary>The file cannot be read, or holds no key in a PEM form .NET reads.</summary>
    Unreadable,

    /// <summary>A key, but not ECDSA on P-256, P-384 or P-521.</summary>
    Unsupported,

    /// <summary>The key is encrypted and no (or a wrong) -Password was given.</summary>
    Password,
}

/// <summary>A key or certificate file that cannot be used, and why.</summary>
internal sealed class SigningKeyException : Exception
{
    public SigningKeyException(SigningKeyProblem problem, string message, Exception? inner = null)
        : base(message, inner)
    {
        Problem = problem;
    }

    public SigningKeyProblem Problem { get; }
}

/// <summary>
/// Keys as model_signing accepts them: ECDSA on NIST P-256, P-384 or P-521 only, the hash chosen by
/// the curve (SHA-256, SHA-384, SHA-512), signatures in DER; the key hint is the SHA-256 of the
/// canonical SPKI PEM (LF line ends, final LF).
/// </summary>
internal static class SigningKeys
{
    private const int MaxPemBytes = 1 << 20;

    /// <summary>Reads a PEM private key (PKCS#8, SEC1, or encrypted PKCS#8 with a password).</summary>
    public static ECDsa LoadPrivateKey(string path, SecureString? password)
    {
        string pem = ReadPem(path, "private key");
        bool encrypted = pem.Contains("-----BEGIN ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal);
        if (pem.Contains("Proc-Type: 4,ENCRYPTED", StringComparison.Ordinal))
        {
            throw new SigningKeyException(SigningKeyProblem.Unsupported, $"The key '{path}' is encrypted in the legacy OpenSSL format; convert it to PKCS#8 ('openssl pkcs8 -topk8 -in old.pem -out key.pem') and sign again.");
        }

        if (encrypted && password is null)
        {
            throw new SigningKeyException(SigningKeyProblem.Password, $"The key '{path}' is encrypted; give its password with -Password.");
        }

        if (!pem.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
        {
            throw new SigningKeyException(SigningKeyProblem.Unreadable, $"'{path}' holds no PEM private key (BEGIN PRIVATE KEY, BEGIN EC PRIVATE KEY or BEGIN ENCRYPTED PRIVATE KEY).");
        }

        var key = ECDsa.Create();
        try
        {
            if (encrypted)
            {
                key.ImportFromEncryptedPem(pem, new System.Net.NetworkCredential(string.Empty, password).Password);
            }
            else
            {
                key.ImportFromPem(pem);
            }

            CheckCurve(key, path);
            return key;
        }
        catch (CryptographicException e)
        {
            key.Dispose();
            if (encrypted)
            {
                throw new SigningKeyException(SigningKeyProblem.Password, $"The key '{path}' cannot be decrypted: the password is wrong or the file is damaged ({e.Message}).", e);
            }

            throw new SigningKeyException(SigningKeyProblem.Unsupported, $"'{path}' is not an ECDSA private key on P-256, P-384 or P-521 ({e.Message}).", e);
        }
        catch (ArgumentException e)
        {
            key.Dispose();
            throw new SigningKeyException(SigningKeyProblem.Unreadable, $"'{path}' holds no private key .NET can read: {e.Message}", e);
        }
        catch (SigningKeyException)
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>Reads a PEM public key (SubjectPublicKeyInfo).</summary>
    public static ECDsa LoadPublicKey(string path)
    {
        string pem = ReadPem(path, "public key");
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            CheckCurve(key, path);
            return key;
        }
        catch (CryptographicException e)
        {
            key.Dispose();
            throw new SigningKeyException(SigningKeyProblem.Unsupported, $"'{path}' is not an ECDSA public key on P-256, P-384 or P-521 ({e.Message}).", e);
        }
        catch (ArgumentException e)
        {
            key.Dispose();
            throw new SigningKeyException(SigningKeyProblem.Unreadable, $"'{path}' holds no PEM public key .NET can read: {e.Message}", e);
        }
        catch (SigningKeyException)
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>Every certificate of a PEM file, in file order.</summary>
    public static X509Certificate2Collection LoadCertificates(string path, string what)
    {
        string pem = ReadPem(path, what);
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(pem);
        }
        catch (CryptographicException e)
        {
            throw new SigningKeyException(SigningKeyProblem.Unreadable, $"'{path}' holds a certificate .NET cannot read: {e.Message}", e);
        }

        if (certificates.Count == 0)
        {
            throw new SigningKeyException(SigningKeyProblem.Unreadable, $"'{path}' holds no PEM certificate (BEGIN CERTIFICATE).");
        }

        return certificates;
    }

    /// <summary>"P-256", "P-384" or "P-521"; throws Unsupported for any other curve.</summary>
    public static string CurveName(ECDsa key)
    {
        ECCurve curve = key.ExportParameters(false).Curve;
        string? oid = curve.Oid?.Value;
        string? name = curve.Oid?.FriendlyName;
        if (oid == "1.2.840.10045.3.1.7" || name is "nistP256" or "ECDSA_P256" or "secp256r1")
        {
            return "P-256";
        }

        if (oid == "1.3.132.0.34" || name is "nistP384" or "ECDSA_P384" or "secp384r1")
        {
            return "P-384";
        }

        if (oid == "1.3.132.0.35" || name is "nistP521" or "ECDSA_P521" or "secp521r1")
        {
            return "P-521";
        }

        throw new SigningKeyException(SigningKeyProblem.Unsupported, $"The key is on the curve '{name ?? oid ?? "explicit"}'; model signatures use P-256, P-384 or P-521.");
    }

    /// <summary>The hash model_signing pairs with the curve.</summary>
    public static HashAlgorithmName HashFor(ECDsa key) => CurveName(key) switch
    {
        "P-256" => HashAlgorithmName.SHA256,
        "P-384" => HashAlgorithmName.SHA384,
        _ => HashAlgorithmName.SHA512,
    };

    /// <summary>E.g. "ECDSA P-384 SHA-384".</summary>
    public static string AlgorithmName(ECDsa key) => $"ECDSA {CurveName(key)} {HashFor(key).Name!.Replace("SHA", "SHA-", StringComparison.Ordinal)}";

    /// <summary>The hint model_signing v1.1+ records: hex SHA-256 of the SPKI PEM with LF line ends and a final LF.</summary>
    public static string Hint(ECDsa key)
    {
        string pem = key.ExportSubjectPublicKeyInfoPem().Replace("\r\n", "\n", StringComparison.Ordinal) + "\n";
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(pem))).ToLowerInvariant();
    }

    /// <summary>True when both keys are the same public key.</summary>
    public static bool SamePublicKey(ECDsa a, ECDsa b) =>
        a.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(b.ExportSubjectPublicKeyInfo());

    private static void CheckCurve(ECDsa key, string path)
    {
        try
        {
            CurveName(key);
        }
        catch (SigningKeyException e)
        {
            throw new SigningKeyException(SigningKeyProblem.Unsupported, $"'{path}': {e.Message}", e);
        }
    }

    private static string ReadPem(string path, string what)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw new SigningKeyException(SigningKeyProblem.Unreadable, $"The {what} file '{path}' does not exist.");
            }

            if (info.Length > MaxPemBytes)
            {
                throw new SigningKeyException(SigningKeyProblem.Unreadable, $"The {what} file '{path}' is {info.Length:N0} bytes; a PEM file is far smaller.");
            }

            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SigningKeyException(SigningKeyProblem.Unreadable, $"The {what} file '{path}' cannot be read: {e.Message}", e);
        }
    }
}

/// <summary>Who a Sigstore (Fulcio) certificate says signed: the SAN and the OIDC issuer extension.</summary>
internal static class SigstoreIdentity
{
    private const string IssuerV2Oid = "1.3.6.1.4.1.57264.1.8";
    private const string IssuerV1Oid = "1.3.6.1.4.1.57264.1.1";

    /// <summary>The first e-mail, URI or DNS name of the subject alternative names, or null.</summary>
    public static string? SubjectAlternativeName(X509Certificate2 certificate)
    {
        foreach (X509Extension extension in certificate.Extensions)
        {
            if (extension.Oid?.Value != "2.5.29.17")
            {
                continue;
            }

            try
            {
                var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER);
                AsnReader names = reader.ReadSequence();
                while (names.HasData)
                {
                    Asn1Tag tag = names.PeekTag();
                    if (tag.TagClass == TagClass.ContextSpecific && !tag.IsConstructed && tag.TagValue is 1 or 2 or 6)
                    {
                        return names.ReadCharacterString(UniversalTagNumber.IA5String, tag);
                    }

                    names.ReadEncodedValue();
                }
            }
            catch (AsnContentException)
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>The OIDC issuer (extension 1.3.6.1.4.1.57264.1.8, or the legacy raw-string 1.1), or null.</summary>
    public static string? Issuer(X509Certificate2 certificate)
    {
        string? legacy = null;
        foreach (X509Extension extension in certificate.Extensions)
        {
            if (extension.Oid?.Value == IssuerV2Oid)
            {
                try
                {
                    return new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadCharacterString(UniversalTagNumber.UTF8String);
                }
                catch (AsnContentException)
                {
                    return null;
                }
            }

            if (extension.Oid?.Value == IssuerV1Oid)
            {
                legacy = Encoding.UTF8.GetString(extension.RawData);
            }
        }

        return legacy;
    }
}
