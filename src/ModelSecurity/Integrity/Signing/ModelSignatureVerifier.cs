using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading;

namespace ModelSecurity.Integrity.Signing;

/// <summary>What the verifier trusts: a public key, certificate roots, or nothing (Sigstore keyless, reported unverified).</summary>
internal sealed class SignatureTrust
{
    private SignatureTrust(ECDsa? key, X509Certificate2Collection? roots)
    {
        Key = key;
        Roots = roots;
    }

    public ECDsa? Key { get; }

    public X509Certificate2Collection? Roots { get; }

    public bool Keyless => Key is null && Roots is null;

    public static SignatureTrust ForKey(ECDsa key) => new(key, null);

    public static SignatureTrust ForRoots(X509Certificate2Collection roots) => new(null, roots);

    public static SignatureTrust ForKeyless() => new(null, null);
}

/// <summary>
/// Verifies a model.sig as model_signing v1.x does (formats.md §8.3): the bundle, the DSSE signature
/// over the PAE (with the v0.2 compatibility message as fallback), the certificate chain to the
/// given roots, the statement's root digest, then every file of the folder against the statement.
/// </summary>
internal static class ModelSignatureVerifier
{
    private const string CodeSigningOid = "1.3.6.1.5.5.7.3.3";

    public static ModelSignatureResult Verify(string folder, string signaturePath, SignatureTrust trust, IEnumerable<string> extraIgnorePaths, bool ignoreUnsignedFiles, CancellationToken cancel)
    {
        var outcome = new Outcome(folder, signaturePath);

        // 1. The bundle.
        SigstoreBundle bundle;
        try
        {
            var info = new FileInfo(signaturePath);
            if (!info.Exists)
            {
                return outcome.Error($"the signature file '{signaturePath}' does not exist");
            }

            if (info.Length > SigstoreBundle.MaxBundleBytes)
            {
                return outcome.Error($"the signature file is {info.Length:N0} bytes, more than the {SigstoreBundle.MaxBundleBytes:N0} accepted");
            }

            bundle = SigstoreBundle.Parse(File.ReadAllBytes(signaturePath));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return outcome.Error($"the signature file cannot be read: {e.Message}");
        }
        catch (InvalidDataException e)
        {
            return outcome.Error($"the signature is malformed: {e.Message}");
        }

        if (bundle.PayloadType != SigstoreBundle.InTotoPayloadType)
        {
            return outcome.Error($"the signature is malformed: the DSSE payload type is '{bundle.PayloadType}', not '{SigstoreBundle.InTotoPayloadType}'");
        }

        // 2. The signature, with what the caller trusts.
        string verified;
        bool unverified = false;
        if (trust.Key is not null)
        {
            if (!VerifyWithKey(bundle, trust.Key, outcome, out verified))
            {
                return outcome.Result;
            }
        }
        else if (trust.Roots is not null)
        {
            if (!VerifyWithRoots(bundle, trust.Roots, outcome, out verified))
            {
                return outcome.Result;
            }
        }
        else
        {
            if (!VerifyKeyless(bundle, outcome, out verified))
            {
                return outcome.Result;
            }

            unverified = true;
        }

        // 3. The statement, and its own consistency.
        ModelSigningStatement statement;
        try
        {
            statement = ModelSigningStatement.Parse(bundle.Payload);
        }
        catch (InvalidDataException e)
        {
            return outcome.Error($"the signed statement is malformed: {e.Message}");
        }
        catch (NotSupportedException e)
        {
            return outcome.Error($"the signature is not supported: {e.Message}");
        }

        outcome.Method = statement.Method;
        outcome.RootDigest = statement.RootDigestHex;
        if (statement.RootDigestHex is not null)
        {
            string computed = Hex(ModelDirectoryHasher.RootDigest(statement.Resources.Select(r => r.Digest)));
            if (computed != statement.RootDigestHex)
            {
                return outcome.Invalid($"manifest is inconsistent (root digest): the statement's subject is sha256 {statement.RootDigestHex}, but its resources hash to {computed}");
            }
        }

        if (statement.HashType != "sha256")
        {
            return outcome.Error($"the signature uses the hash type '{statement.HashType}'; this version verifies sha256 only");
        }

        if (statement.Resources.FirstOrDefault(r => r.Algorithm != "sha256") is SignedResource odd)
        {
            return outcome.Error($"resource '{odd.Name}' uses the algorithm '{odd.Algorithm}'; this version verifies sha256 only");
        }

        // 4. The files.
        List<string> ignore = ModelSigner.IgnorePaths(folder, signaturePath, statement.IgnorePaths.Concat(extraIgnorePaths), out _);
        var settings = new HashingSettings(statement.Method, statement.Method == ModelHashMethod.Shards ? statement.ShardSize : HashingSettings.DefaultShardSize, statement.AllowSymlinks, ignore);
        List<ModelResource> local;
        try
        {
            local = ModelDirectoryHasher.Hash(folder, settings, cancel);
        }
        catch (ModelHashingException e) when (e.IsSymlink)
        {
            return outcome.Invalid($"{e.Message.TrimEnd('.')} (the signature was made without links)");
        }
        catch (ModelHashingException e)
        {
            return outcome.Error(e.Message.TrimEnd('.'));
        }

        var expected = new Dictionary<string, SignedResource>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (SignedResource resource in statement.Resources)
        {
            string? key = CanonicalName(resource.Name, statement.Method);
            if (key is null)
            {
                return outcome.Error($"the signed statement is malformed: '{resource.Name}' is not a shard name (path:start:end)");
            }

            if (!expected.ContainsKey(key))
            {
                order.Add(key);
            }

            expected[key] = resource;
        }

        var actual = local.ToDictionary(r => r.Name, StringComparer.Ordinal);
        var files = new List<ModelSignatureFile>(order.Count + local.Count);
        var problems = new List<string>();
        string noun = statement.Method == ModelHashMethod.Shards ? "shard" : "file";
        foreach (string name in order)
        {
            string want = Hex(expected[name].Digest);
            if (!actual.TryGetValue(name, out ModelResource? have))
            {
                files.Add(new ModelSignatureFile(name, ModelSignatureFileStatus.Missing, want, null));
                problems.Add($"{noun} '{name}' is signed but missing");
                continue;
            }

            string got = Hex(have.Digest);
            if (got == want)
            {
                files.Add(new ModelSignatureFile(name, ModelSignatureFileStatus.Match, want, got));
            }
            else
            {
                files.Add(new ModelSignatureFile(name, ModelSignatureFileStatus.Changed, want, got));
                problems.Add($"{noun} '{name}' changed: expected sha256 {want}, found {got}");
            }
        }

        int unsigned = 0;
        foreach (ModelResource resource in local)
        {
            if (!expected.ContainsKey(resource.Name))
            {
                files.Add(new ModelSignatureFile(resource.Name, ModelSignatureFileStatus.Unsigned, null, Hex(resource.Digest)));
                unsigned++;
                if (!ignoreUnsignedFiles)
                {
                    problems.Add($"{noun} '{resource.Name}' is not in the signature");
                }
            }
        }

        outcome.Files = files;
        if (problems.Count > 0)
        {
            string more = problems.Count > 1 ? string.Create(CultureInfo.InvariantCulture, $" (and {problems.Count - 1} more {(problems.Count == 2 ? "problem" : "problems")})") : string.Empty;
            return outcome.Invalid(problems[0] + more);
        }

        int matched = files.Count(f => f.Status == ModelSignatureFileStatus.Match);
        string summary = string.Create(CultureInfo.InvariantCulture, $"{matched} {noun}{(matched == 1 ? string.Empty : "s")} match");
        if (unsigned > 0)
        {
            summary += string.Create(CultureInfo.InvariantCulture, $"; {unsigned} unsigned {noun}{(unsigned == 1 ? " is" : "s are")} ignored (-IgnoreUnsignedFiles)");
        }

        if (statement.IsLegacy)
        {
            summary += "; legacy v0.1 statement (no root digest)";
        }

        return unverified
            ? outcome.With(ModelSignatureStatus.Unverified, $"{verified}; {summary}; the transparency log, the Fulcio certificate chain and the signing time were NOT checked")
            : outcome.With(ModelSignatureStatus.Valid, $"{verified}; {summary}");
    }

    private static bool VerifyWithKey(SigstoreBundle bundle, ECDsa key, Outcome outcome, out string verified)
    {
        verified = string.Empty;
        string givenHint = SigningKeys.Hint(key);
        outcome.Signer = "key " + (bundle.KeyHint ?? givenHint);
        if (bundle.Material != BundleMaterial.PublicKey)
        {
            outcome.Invalid(bundle.Material == BundleMaterial.CertificateChain
                ? "the signature was made with a certificate, not a key: verify it with -CertificateRootPath"
                : "the signature is a Sigstore keyless signature, not a key signature: verify it with -AllowKeyless");
            return false;
        }

        if (!VerifyDsse(bundle, key, SigningKeys.HashFor(key)))
        {
            string reason = "signature does not verify with the given key";
            if (bundle.KeyHint is not null && bundle.KeyHint != givenHint)
            {
                reason += $" (it was made with the key whose hint is {bundle.KeyHint}; the given key's hint is {givenHint})";
            }

            outcome.Invalid(reason);
            return false;
        }

        verified = "signature verifies with the given key";
        return true;
    }

    private static bool VerifyWithRoots(SigstoreBundle bundle, X509Certificate2Collection roots, Outcome outcome, out string verified)
    {
        verified = string.Empty;
        if (bundle.Material == BundleMaterial.PublicKey)
        {
            outcome.Invalid("the signature was made with a key, not a certificate: verify it with -PublicKeyPath");
            return false;
        }

        if (bundle.Material == BundleMaterial.SigstoreCertificate)
        {
            outcome.Invalid("the signature is a Sigstore keyless signature: verify it with -AllowKeyless (its transparency log is not checked)");
            return false;
        }

        var certificates = new List<X509Certificate2>();
        try
        {
            foreach (byte[] der in bundle.Certificates)
            {
                certificates.Add(new X509Certificate2(der));
            }
        }
        catch (CryptographicException e)
        {
            outcome.Error($"the signature is malformed: a certificate of its chain cannot be read ({e.Message})");
            return false;
        }

        X509Certificate2 leaf = certificates[0];
        outcome.Signer = leaf.Subject;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.NoFlag;

        // model_signing checks the chain at the leaf's notBefore, so a signature outlives its certificate.
        chain.ChainPolicy.VerificationTime = leaf.NotBefore;
        for (int i = 1; i < certificates.Count; i++)
        {
            chain.ChainPolicy.ExtraStore.Add(certificates[i]);
        }

        if (!chain.Build(leaf))
        {
            string statuses = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
            outcome.Invalid($"the certificate chain of '{leaf.Subject}' does not lead to a given root ({(statuses.Length > 0 ? statuses : "no chain")})");
            return false;
        }

        if (!AllowsSigning(leaf))
        {
            outcome.Invalid($"the signing certificate '{leaf.Subject}' allows neither digital signatures (KeyUsage) nor code signing (EKU)");
            return false;
        }

        if (!VerifyWithCertificate(bundle, leaf, outcome, "the signing certificate's key"))
        {
            return false;
        }

        verified = $"signature verifies with the certificate '{leaf.Subject}', whose chain leads to the given root '{chain.ChainElements[^1].Certificate.Subject}'";
        return true;
    }

    private static bool VerifyKeyless(SigstoreBundle bundle, Outcome outcome, out string verified)
    {
        verified = string.Empty;
        if (bundle.Material != BundleMaterial.SigstoreCertificate)
        {
            outcome.Invalid(bundle.Material == BundleMaterial.PublicKey
                ? "the signature was made with a key, not with Sigstore: verify it with -PublicKeyPath"
                : "the signature was made with a certificate, not with Sigstore: verify it with -CertificateRootPath");
            return false;
        }

        X509Certificate2 leaf;
        try
        {
            leaf = new X509Certificate2(bundle.Certificates[0]);
        }
        catch (CryptographicException e)
        {
            outcome.Error($"the signature is malformed: its Sigstore certificate cannot be read ({e.Message})");
            return false;
        }

        string identity = SigstoreIdentity.SubjectAlternativeName(leaf) ?? "an unknown identity";
        string issuer = SigstoreIdentity.Issuer(leaf) ?? "an unknown issuer";
        outcome.Signer = $"{identity} via {issuer}";
        if (!VerifyWithCertificate(bundle, leaf, outcome, "its Sigstore certificate's key"))
        {
            return false;
        }

        string log = bundle.LogIndex is null ? "no transparency log entry" : $"transparency log index {bundle.LogIndex}";
        verified = $"Sigstore-signed by {identity} via {issuer} ({log}); the signature verifies with its certificate's key";
        return true;
    }

    private static bool VerifyWithCertificate(SigstoreBundle bundle, X509Certificate2 leaf, Outcome outcome, string what)
    {
        using ECDsa? key = leaf.GetECDsaPublicKey();
        if (key is null)
        {
            outcome.Error($"the signing certificate '{leaf.Subject}' has no ECDSA key; model signatures use ECDSA");
            return false;
        }

        HashAlgorithmName hash;
        try
        {
            hash = SigningKeys.HashFor(key);
        }
        catch (SigningKeyException e)
        {
            outcome.Error(e.Message.TrimEnd('.'));
            return false;
        }

        // The v0.2 compatibility message was always hashed with SHA-256 for certificates.
        if (!VerifyDsse(bundle, key, hash, HashAlgorithmName.SHA256))
        {
            outcome.Invalid($"signature does not verify with {what}");
            return false;
        }

        return true;
    }

    private static bool VerifyDsse(SigstoreBundle bundle, ECDsa key, HashAlgorithmName hash, HashAlgorithmName? compatHash = null)
    {
        byte[] pae = SigstoreBundle.Pae(bundle.PayloadType, bundle.Payload);
        if (key.VerifyData(pae, bundle.Signature, hash, DSASignatureFormat.Rfc3279DerSequence))
        {
            return true;
        }

        byte[] compat = SigstoreBundle.PaeCompat(bundle.PayloadType, bundle.Payload);
        return key.VerifyData(compat, bundle.Signature, compatHash ?? hash, DSASignatureFormat.Rfc3279DerSequence);
    }

    private static bool AllowsSigning(X509Certificate2 leaf)
    {
        foreach (X509Extension extension in leaf.Extensions)
        {
            if (extension is X509KeyUsageExtension usage && (usage.KeyUsages & X509KeyUsageFlags.DigitalSignature) != 0)
            {
                return true;
            }

            if (extension is X509EnhancedKeyUsageExtension enhanced && enhanced.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Any(o => o.Value == CodeSigningOid))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The name as a manifest key: a PurePosixPath, and numbers for a shard's range.</summary>
    private static string? CanonicalName(string name, ModelHashMethod method)
    {
        if (method == ModelHashMethod.Files)
        {
            return ModelDirectoryHasher.ToPosix(name);
        }

        int last = name.LastIndexOf(':');
        int middle = last > 0 ? name.LastIndexOf(':', last - 1) : -1;
        if (middle <= 0
            || !long.TryParse(name.AsSpan(middle + 1, last - middle - 1), NumberStyles.None, CultureInfo.InvariantCulture, out long start)
            || !long.TryParse(name.AsSpan(last + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long end))
        {
            return null;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{ModelDirectoryHasher.ToPosix(name[..middle])}:{start}:{end}");
    }

    private static string Hex(byte[] bytes) => Convert.ToHexString(bytes).ToLowerInvariant();

    /// <summary>The result being built; each early exit sets status and reason once.</summary>
    private sealed class Outcome
    {
        private readonly string _folder;
        private readonly string _signaturePath;

        public Outcome(string folder, string signaturePath)
        {
            _folder = folder;
            _signaturePath = signaturePath;
            Result = With(ModelSignatureStatus.Error, "not verified");
        }

        public string? Signer { get; set; }

        public ModelHashMethod? Method { get; set; }

        public string? RootDigest { get; set; }

        public IReadOnlyList<ModelSignatureFile> Files { get; set; } = Array.Empty<ModelSignatureFile>();

        public ModelSignatureResult Result { get; private set; }

        public ModelSignatureResult Error(string reason) => With(ModelSignatureStatus.Error, reason);

        public ModelSignatureResult Invalid(string reason) => With(ModelSignatureStatus.Invalid, reason);

        public ModelSignatureResult With(ModelSignatureStatus status, string reason)
        {
            Result = new ModelSignatureResult(_folder, _signaturePath, status, Signer, Method, RootDigest, reason, Files);
            return Result;
        }
    }
}
