using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using ModelSecurity.Integrity.Signing;
using Xunit;

namespace ModelSecurity.Tests;

/// <summary>
/// OpenSSF Model Signing (formats.md §8): hashing a folder like model_signing, writing and reading
/// bundles, and verification with a key, a certificate chain, and Sigstore keyless bundles.
/// Every key, certificate and bundle is made here; no third-party test data is used.
/// </summary>
public sealed class ModelSigningTests : IDisposable
{
    private readonly string _root;

    public ModelSigningTests()
    {
        _root = Path.Combine(Path.GetTempPath(), "ModelSecurity.Signing." + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_root);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    // ---- roundtrips -------------------------------------------------------------------------

    public static TheoryData<string, ModelHashMethod> Curves => new()
    {
        { "P-256", ModelHashMethod.Files },
        { "P-384", ModelHashMethod.Files },
        { "P-256", ModelHashMethod.Shards },
        { "P-384", ModelHashMethod.Shards },
    };

    [Theory]
    [MemberData(nameof(Curves))]
    public void SignThenVerify_IsValid(string curve, ModelHashMethod method)
    {
        string model = NewModel();
        using ECDsa key = NewKey(curve);

        ModelSignature signed = Sign(model, key, method, shardSize: 5);
        ModelSignatureResult result = VerifyWithKey(model, key);

        Assert.Equal(ModelSignatureStatus.Valid, result.Status);
        Assert.StartsWith("signature verifies with the given key", result.Reason, StringComparison.Ordinal);
        Assert.Equal(method, result.Method);
        Assert.Equal(signed.RootDigest, result.RootDigest);
        Assert.Equal("key " + SigningKeys.Hint(key), result.Signer);
        Assert.All(result.Files, f => Assert.Equal(ModelSignatureFileStatus.Match, f.Status));
        Assert.Equal($"ECDSA {curve} SHA-{curve[2..]}", signed.Algorithm);
        Assert.Equal(SigningKeys.Hint(key), signed.KeyHint);
        if (method == ModelHashMethod.Files)
        {
            // model.safetensors, config.json, sub/dir/weights.bin, .hidden, empty.txt (.git is ignored)
            Assert.Equal(5, signed.FileCount);
            Assert.Equal(5, result.Files.Count);
        }
        else
        {
            // 23 bytes in 5-byte shards = 5 shards; empty.txt has no shard at all, as in model_signing.
            Assert.Equal(4, signed.FileCount);
            Assert.Contains(result.Files, f => f.Name == "model.safetensors:20:23");
            Assert.DoesNotContain(result.Files, f => f.Name.StartsWith("empty.txt", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("model.safetensors")]
    [InlineData("config.json")]
    [InlineData("sub/dir/weights.bin")]
    [InlineData(".hidden")]
    public void OneByteChanged_InAnyFile_IsInvalid_NamingTheFile(string file)
    {
        string model = NewModel();
        using ECDsa key = NewKey("P-256");
        Sign(model, key);
        string path = Path.Combine(model, file);
        string before = Sha256Hex(File.ReadAllBytes(path));
        byte[] bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 1;
        File.WriteAllBytes(path, bytes);

        ModelSignatureResult result = VerifyWithKey(model, key);

        Assert.Equal(ModelSignatureStatus.Invalid, result.Status);
        Assert.Equal($"file '{file}' changed: expected sha256 {before}, found {Sha256Hex(bytes)}", result.Reason);
        ModelSignatureFile changed = Assert.Single(result.Files, f => f.Status != ModelSignatureFileStatus.Match);
        Assert.Equal((file, ModelSignatureFileStatus.Changed, before, Sha256Hex(bytes)), (changed.Name, changed.Status, changed.Expected, changed.Actual));
    }

    [Fact]
    public void ChangedFile_WithShards_NamesTheShard()
    {
        string model = NewModel();
        using ECDsa key = NewKey("P-384");
        Sign(model, key, ModelHashMethod.Shards, shardSize: 5);
        byte[] bytes = File.ReadAllBytes(Path.Combine(model, "model.safetensors"));
        bytes[12] ^= 0xFF;
        File.WriteAllBytes(Path.Combine(model, "model.safetensors"), bytes);

        ModelSignatureResult result = VerifyWithKey(model, key);

        Assert.Equal(ModelSignatureStatus.Invalid, result.Status);
        Assert.StartsWith("shard 'model.safetensors:10:15' changed: expected sha256 ", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void FileAdded_IsInvalid_UnlessUnsignedFilesAreIgnored()
    {
        string model = NewModel();
        using ECDsa key = NewKey("P-256");
        Sign(model, key);
        File.WriteAllText(Path.Combine(model, "sub", "extra.py"), "import os");

        ModelSignatureResult result = VerifyWithKey(model, key);
        ModelSignatureResult lenient = VerifyWithKey(model, key, ignoreUnsigned: true);

        Assert.Equal(ModelSignatureStatus.Invalid, result.Status);
        Assert.Equal("file 'sub/extra.py' is not in the signature", result.Reason);
        Assert.Equal(ModelSignatureStatus.Valid, lenient.Status);
        Assert.Contains("1 unsigned file is ignored", lenient.Reason, StringComparison.Ordinal);
        ModelSignatureFile extra = Assert.Single(lenient.Files, f => f.Status == ModelSignatureFileStatus.Unsigned);
        Assert.Equal(("sub/extra.py", (string?)null), (extra.Name, extra.Expected));
    }

    [Fact]
    public void FileRemoved_IsInvalid()
    {
        string model = NewModel();
        using ECDsa key = NewKey("P-256");
        Sign(model, key);
        File.Delete(Path.Combine(model, "config.json"));

        ModelSignatureResult result = VerifyWithKey(model, key);

        Assert.Equal(ModelSignatureStatus.Invalid, result.Status);
        Assert.Equal("file 'config.json' is signed but missing", result.Reason);
        Assert.Equal(ModelSignatureFileStatus.Missing, Assert.Single(result.Files, f => f.Name == "config.json").Status);
    }

    [Fact]
    public void SeveralProblems_AreAllListed_AndCounted()
    {
        string model = NewModel();
        using ECDsa key = NewKey("P-256");
        Sign(model, key);
        File.Delete(Path.Combine(model, "config.json"));
        File.WriteAllText(Path.Combine(model, "new.txt"), "x");

        ModelSignatureResult result = VerifyWithKey(model, key);

        Assert.Equal("file 'config.json' is signed but missing (and 1 more problem)", result.Reason);
        Assert.Equal(new[] { ModelSignatureFileStatus.Missing, ModelSignatureFileStatus.Unsigned }, result.Files.Where(f => f.Status != ModelSignatureFileStatus.Match).Select(f => f.Status));
    }

    [Fact]
    public void DifferentKey_IsInvalid_AndNamesBothHints()
    {
        string model = NewModel();
        using ECDsa signer = NewKey("P-256");
        using ECDsa other = NewKey("P-256");
        Sign(model, signer);

        ModelSignatureResult result = VerifyWithKey(model, other);

        Assert.Equal(ModelSignatureStatus.Invalid, result.Status);
        Assert.Equal($"signature does not verify with the given key (it was made with the key whose hint is {SigningKeys.Hint(signer)}; the given key's hint is {SigningKeys.Hint(other)})", result.Reason);
        Assert.Empty(result.Files);
    }

    [Fact]
    public void TamperedPayload_IsInvalid()
    {
        string model = NewModel();
        using ECDsa key = NewKey("P-256");
        Sign(model, key);
        string sigPath = Path.Combine(model, "model.sig");
        var bundle = SigstoreBundle.Parse(File.ReadAllBytes(sigPath));
        byte[] payload = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(bundle.Payload).Replace("\"config.json\"", "\"config.jsom\"", StringComparison.Ordinal));
        File.WriteAllBytes(sigPath, SigstoreBundle.WriteForKey(bundle.KeyHint!, payload, bundle.Signature));

        ModelSignatureResult result = VerifyWithKey(model, key);

        Assert.Equal(ModelSignatureStatus.Invalid, result.Status);
        Assert.Equal("signature does not verify with the given key", result.Reason);
    }

    [Fact]
    public void SwappedResources_SignedByTheKey_AreAnInconsistentManifest()
    {
        string model = NewModel();
        using ECDsa key = NewKey("P-256");
        var settings = Settings(model);
        List<ModelResource> resources = ModelDirectoryHasher.Hash(model, settings, CancellationToken.None);
        byte[] honest = ModelSigningStatement.Write("m", resources, settings);
        (resources[0], resources[1]) = (resources[1], resources[0]);
        byte[] swapped = ModelSigningStatement.Write("m", resources, settings);

        // Keep the honest subject (root digest) over the swapped list: the root no longer matches.
        string honestRoot = Subject(honest);
        string swappedRoot = Subject(swapped);
        byte[] payload = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(swapped).Replace(swappedRoot, honestRoot, StringComparison.Ordinal));
        WriteKeyBundle(model, key, payload);

        ModelSignatureResult result = VerifyWithKey(model, key);

        Assert.Equal(ModelSignatureStatus.Invalid, result.Status);
        Assert.Equal($"manifest is inconsistent (root digest): the statement's subject is sha256 {honestRoot}, but its resources hash to {swappedRoot}", result.Reason);
    }

    [Fact]
    public void MissingOrMalformedSignature_IsAnError()
    {
        string model = NewModel();
        using ECDsa key = NewKey("P-256");

        ModelSignatureResult missing = VerifyWithKey(model, key);
        File.WriteAllText(Path.Combine(model, "model.sig"), "{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\",\"verificationMaterial\":{}}");
        ModelSignatureResult malformed = VerifyWithKey(model, key);
        File.WriteAllText(Path.Combine(model, "model.sig"), "not json");
        ModelSignatureResult notJson = VerifyWithKey(model, key);

        Assert.Equal((ModelSignatureStatus.Error, $"the signature file '{Path.Combine(model, "model.sig")}' does not exist"), (missing.Status, missing.Reason));
        Assert.Equal((ModelSignatureStatus.Error, "the signature is malformed: the bundle has no 'dsseEnvelope'"), (malformed.Status, malformed.Reason));
        Assert.Equal(ModelSignatureStatus.Error, notJson.Status);
        Assert.StartsWith("the signature is malformed: the signature file is not JSON", notJson.Reason, StringComparison.Ordinal);
    }

    // ---- reference-tool compatibility ---------------------------------------------------------

    [Fact]
    public void Statement_IsByteForByte_TheReferenceToolsV110KeyVectorPayload()
    {
        // sigstore/model-transparency scripts/tests/v1.1.0-elliptic-key: two files and their digests,
        // the ignore paths in the order that signature recorded them; its payload is 926 bytes.
        var resources = new List<ModelResource>
        {
            new("signme-1", 0, 0, Convert.FromHexString("bc9a717db6064a32cbe9eae6fc40651dd6d36ef1757183f590eff2b1765d7ebc"), false),
            new("signme-2", 0, 0, Convert.FromHexString("32dcb1f8e1ae52d5963e56a6ba06ab58b424c15ed2a6b70d2feca1d089370028"), false),
        };
        var settings = new HashingSettings(ModelHashMethod.Files, 0, false, new[] { ".git", "model.sig", "ignore-me", ".gitattributes", ".gitignore", ".github" });

        byte[] payload = ModelSigningStatement.Write("v1.1.0-elliptic-key", resources, settings);

        Assert.Equal(926, payload.Length);
        Assert.Equal("75b4ab3675e70de301a48219cd5c0619dc18c9ef90be63a617d0ab30ec2cc0c9", Sha256Hex(payload));
        Assert.Equal("92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4", Subject(payload));
        byte[] pae = SigstoreBundle.Pae(SigstoreBundle.InTotoPayloadType, payload);
        Assert.StartsWith("DSSEv1 28 application/vnd.in-toto+json 926 {", Encoding.UTF8.GetString(pae), StringComparison.Ordinal);
    }

    [Fact]
    public void KeyBundle_HasTheReferenceToolsShape()
    {
        string model = NewModel();
        using ECDsa key = NewKey("P-384");
        Sign(model, key);

        string text = File.ReadAllText(Path.Combine(model, "model.sig"));

        Assert.Matches("^\\{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3\\+json\",\"verificationMaterial\":\\{\"publicKey\":\\{\"hint\":\"[0-9a-f]{64}\"\\},\"tlogEntries\":\\[\\]\\},\"dsseEnvelope\":\\{\"payload\":\"[A-Za-z0-9+/=]+\",\"payloadType\":\"application/vnd.in-toto\\+json\",\"signatures\":\\[\\{\"sig\":\"[A-Za-z0-9+/=]+\",\"keyid\":\"\"\\}\\]\\}\\}$", text);
        var bundle = SigstoreBundle.Parse(Encoding.UTF8.GetBytes(text));
        Assert.Equal(0x30, bundle.Signature[0]);
        string statement = Encoding.UTF8.GetString(bundle.Payload);
        Assert.StartsWith("{\n  \"_type\": \"https://in-toto.io/Statement/v1\",\n  \"subject\": [\n    {\n      \"name\": \"", statement, StringComparison.Ordinal);
        Assert.EndsWith("\n    }\n  }\n}", statement, StringComparison.Ordinal);
        Assert.Contains("\"ignore_paths\": [\n        \".git\",\n        \".gitattributes\",\n        \".github\",\n        \".gitignore\",\n        \"model.sig\"\n      ]", statement, StringComparison.Ordinal);
    }

    [Fact]
    public void KeyHint_IsTheSha256OfTheOpenSslStylePem()
    {
        using ECDsa key = NewKey("P-384");
        string base64 = Convert.ToBase64String(key.ExportSubjectPublicKeyInfo());
        var pem = new StringBuilder("-----BEGIN PUBLIC KEY-----\n");
        for (int i = 0; i < base64.Length; i += 64)
        {
            pem.Append(base64, i, Math.Min(64, base64.Length - i)).Append('\n');
        }

        pem.Append("-----END PUBLIC KEY-----\n");

        Assert.Equal(Sha256Hex(Encoding.ASCII.GetBytes(pem.ToString())), SigningKeys.Hint(key));
    }

    [Fact]
    public void CertificateChain_LikeTheReferenceVector_VerifiesToItsRoot_EvenAfterTheLeafExpired()
    {
        // Like v1.1.0-certificate: RSA root-ca -> RSA intermediate-ca -> P-384 leaf whose subject is
        // also CN=intermediate-ca, with CA:TRUE, digitalSignature and codeSigning; chain = [leaf, intermediate].
        DateTimeOffset notBefore = DateTimeOffset.UtcNow.AddYears(-2);
        using RSA rootKey = RSA.Create(2048);
        using X509Certificate2 root = NewCa("CN=root-ca", rootKey, null, null, notBefore, notBefore.AddYears(10));
        using RSA intermediateKey = RSA.Create(2048);
        using X509Certificate2 intermediate = NewCa("CN=intermediate-ca", intermediateKey, root, rootKey, notBefore, notBefore.AddYears(10));
        using ECDsa leafKey = NewKey("P-384");
        using X509Certificate2 leaf = NewLeaf("CN=intermediate-ca", leafKey, intermediate, intermediateKey, notBefore, notBefore.AddYears(1), X509KeyUsageFlags.DigitalSignature, codeSigning: true, ca: true);
        string model = NewModel();

        ModelSignature signed = ModelSigner.Sign(model, Path.Combine(model, "model.sig"), leafKey, new[] { leaf, intermediate }, Settings(model), CancellationToken.None);
        ModelSignatureResult result = Verify(model, SignatureTrust.ForRoots(new X509Certificate2Collection(root)));
        using RSA strangerKey = RSA.Create(2048);
        using X509Certificate2 stranger = NewCa("CN=root-ca", strangerKey, null, null, notBefore, notBefore.AddYears(10));
        ModelSignatureResult wrongRoot = Verify(model, SignatureTrust.ForRoots(new X509Certificate2Collection(stranger)));
        ModelSignatureResult withKey = VerifyWithKey(model, leafKey);

        Assert.Equal("CN=intermediate-ca", signed.Subject);
        Assert.Null(signed.KeyHint);
        Assert.True(leaf.NotAfter < DateTime.Now);
        Assert.Equal(ModelSignatureStatus.Valid, result.Status);
        Assert.Equal("CN=intermediate-ca", result.Signer);
        Assert.StartsWith("signature verifies with the certificate 'CN=intermediate-ca', whose chain leads to the given root 'CN=root-ca'; 5 files match", result.Reason, StringComparison.Ordinal);
        Assert.Equal(ModelSignatureStatus.Invalid, wrongRoot.Status);
        Assert.StartsWith("the certificate chain of 'CN=intermediate-ca' does not lead to a given root", wrongRoot.Reason, StringComparison.Ordinal);
        Assert.Equal("the signature was made with a certificate, not a key: verify it with -CertificateRootPath", withKey.Reason);
        var bundle = SigstoreBundle.Parse(File.ReadAllBytes(Path.Combine(model, "model.sig")));
        Assert.Equal(new[] { leaf.RawData, intermediate.RawData }, bundle.Certificates);
    }

    [Fact]
    public void CertificateWithoutSigningUsage_IsInvalid()
    {
        DateTimeOffset notBefore = DateTimeOffset.UtcNow.AddDays(-1);
        using RSA rootKey = RSA.Create(2048);
        using X509Certificate2 root = NewCa("CN=root", rootKey, null, null, notBefore, notBefore.AddYears(1));
        using ECDsa leafKey = NewKey("P-256");
        using X509Certificate2 leaf = NewLeaf("CN=leaf", leafKey, root, rootKey, notBefore, notBefore.AddYears(1), X509KeyUsageFlags.KeyEncipherment, codeSigning: false, ca: false);
        string model = NewModel();
        ModelSigner.Sign(model, Path.Combine(model, "model.sig"), leafKey, new[] { leaf }, Settings(model), CancellationToken.None);

        ModelSignatureResult result = Verify(model, SignatureTrust.ForRoots(new X509Certificate2Collection(root)));

        Assert.Equal(ModelSignatureStatus.Invalid, result.Status);
        Assert.Equal("the signing certificate 'CN=leaf' allows neither digital signatures (KeyUsage) nor code signing (EKU)", result.Reason);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SigstoreKeylessBundle_IsUnverified_WithItsIdentity(bool legacyIssuer)
    {
        string model = NewModel();
        using ECDsa key = NewKey("P-256");
        using X509Certificate2 fulcio = NewFulcioLikeCertificate(key, "dev@example.com", "https://issuer.example", legacyIssuer);
        var settings = Settings(model);
        byte[] payload = ModelSigningStatement.Write("m", ModelDirectoryHasher.Hash(model, settings, CancellationToken.None), settings);
        byte[] signature = key.SignData(SigstoreBundle.Pae(SigstoreBundle.InTotoPayloadType, payload), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        string bundle = "{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\",\"verificationMaterial\":{\"certificate\":{\"rawBytes\":\"" + Convert.ToBase64String(fulcio.RawData)
            + "\"},\"tlogEntries\":[{\"logIndex\":\"598151086\",\"logId\":{\"keyId\":\"AA==\"},\"kindVersion\":{\"kind\":\"dsse\",\"version\":\"0.0.1\"},\"integratedTime\":\"1760062340\"}]},"
            + "\"dsseEnvelope\":{\"payload\":\"" + Convert.ToBase64String(payload) + "\",\"payloadType\":\"application/vnd.in-toto+json\",\"signatures\":[{\"sig\":\"" + Convert.ToBase64String(signature) + "\"}]}}";
        File.WriteAllText(Path.Combine(model, "model.sig"), bundle);

        ModelSignatureResult result = Verify(model, SignatureTrust.ForKeyless());
        ModelSignatureResult withKey = VerifyWithKey(model, key);
        File.AppendAllText(Path.Combine(model, "config.json"), " ");
        ModelSignatureResult tampered = Verify(model, SignatureTrust.ForKeyless());

        Assert.Equal(ModelSignatureStatus.Unverified, result.Status);
        Assert.Equal("dev@example.com via https://issuer.example", result.Signer);
        Assert.Equal("Sigstore-signed by dev@example.com via https://issuer.example (transparency log index 598151086); the signature verifies with its certificate's key; 5 files match; the transparency log, the Fulcio certificate chain and the signing time were NOT checked", result.Reason);
        Assert.Equal(ModelSignatureStatus.Invalid, withKey.Status);
        Assert.Equal("the signature is a Sigstore keyless signature, not a key signature: verify it with -AllowKeyless", withKey.Reason);
        Assert.Equal(ModelSignatureStatus.Invalid, tampered.Status);
        Assert.StartsWith("file 'config.json' changed", tampered.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void LegacyDigestsPredicate_SignedOverTheV02CompatMessage_Verifies()
    {
        string model = NewModel();
        using ECDsa key = NewKey("P-256");
        var settings = Settings(model);
        var json = new StringBuilder("{\n  \"_type\": \"https://in-toto.io/Statement/v1\",\n  \"subject\": [");
        List<ModelResource> resources = ModelDirectoryHasher.Hash(model, settings, CancellationToken.None);
        json.Append(string.Join(",", resources.Select(r => $"\n    {{\"name\": \"{r.Name}\", \"digest\": {{\"sha256\": \"{Convert.ToHexString(r.Digest).ToLowerInvariant()}\"}}, \"annotations\": {{\"actual_hash_algorithm\": \"file-sha256\"}}}}")));
        json.Append("\n  ],\n  \"predicateType\": \"https://model_signing/Digests/v0.1\",\n  \"predicate\": {\"unused\": \"Unused, just passed due to API requirements\"}\n}");
        byte[] payload = Encoding.UTF8.GetBytes(json.ToString());
        byte[] signature = key.SignData(SigstoreBundle.PaeCompat(SigstoreBundle.InTotoPayloadType, payload), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        File.WriteAllBytes(Path.Combine(model, "model.sig"), SigstoreBundle.WriteForKey(SigningKeys.Hint(key), payload, signature));

        ModelSignatureResult result = VerifyWithKey(model, key);

        Assert.Equal(ModelSignatureStatus.Valid, result.Status);
        Assert.Null(result.RootDigest);
        Assert.EndsWith("5 files match; legacy v0.1 statement (no root digest)", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void PaeCompat_IsPythonsReprOfTheBytes()
    {
        byte[] payload = Encoding.UTF8.GetBytes("{\"a\": 'b'}\n\té\\");

        string message = Encoding.UTF8.GetString(SigstoreBundle.PaeCompat("application/vnd.in-toto+json", payload));

        // Python: f"DSSEV1 28 application/vnd.in-toto+json {len(p)} {p}" for these bytes.
        Assert.Equal("DSSEV1 28 application/vnd.in-toto+json 15 b'{\"a\": \\'b\\'}\\n\\t\\xc3\\xa9\\\\'", message);
    }

    // ---- hashing ------------------------------------------------------------------------------

    [Fact]
    public void Resources_AreSortedLikePurePosixPath_NotLikeStrings()
    {
        string model = Path.Combine(_root, "order");
        foreach (string name in new[] { "a.b", "a-b", "a/b", "a/b.c/d", "ab", "A", "\uFFFD", "\U0001F600" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(model, name))!);
            File.WriteAllText(Path.Combine(model, name), name);
        }

        List<ModelResource> resources = ModelDirectoryHasher.Hash(model, Settings(model), CancellationToken.None);

        // Python: sorted(PurePosixPath(p) for p in names) compares component lists by code point.
        Assert.Equal(new[] { "A", "a/b", "a/b.c/d", "a-b", "a.b", "ab", "\uFFFD", "\U0001F600" }, resources.Select(r => r.Name));
    }

    [Fact]
    public void Shards_AreSortedByStartAndEndAsNumbers()
    {
        string model = Path.Combine(_root, "shards");
        Directory.CreateDirectory(model);
        File.WriteAllBytes(Path.Combine(model, "f"), new byte[25]);
        File.WriteAllBytes(Path.Combine(model, "f.x"), new byte[3]);

        List<ModelResource> resources = ModelDirectoryHasher.Hash(model, Settings(model, ModelHashMethod.Shards, 5), CancellationToken.None);

        Assert.Equal(new[] { "f:0:5", "f:5:10", "f:10:15", "f:15:20", "f:20:25", "f.x:0:3" }, resources.Select(r => r.Name));
        Assert.Equal(Sha256Hex(new byte[5]), Convert.ToHexString(resources[2].Digest).ToLowerInvariant());
    }

    [Fact]
    public void IgnorePaths_CoverTheirSubtree_AndAreRecorded()
    {
        string model = NewModel();
        File.WriteAllText(Path.Combine(model, "README.md"), "readme");
        Directory.CreateDirectory(Path.Combine(model, "docs", "img"));
        File.WriteAllText(Path.Combine(model, "docs", "img", "a.png"), "png");
        File.WriteAllText(Path.Combine(model, "docsx"), "not under docs");
        using ECDsa key = NewKey("P-256");
        List<string> ignore = ModelSigner.IgnorePaths(model, Path.Combine(model, "model.sig"), new[] { "README.md", "docs/", Path.Combine(_root, "elsewhere") }, out List<string> outside);

        ModelSigner.Sign(model, Path.Combine(model, "model.sig"), key, null, new HashingSettings(ModelHashMethod.Files, 0, false, ignore), CancellationToken.None);
        File.WriteAllText(Path.Combine(model, "README.md"), "changed, but ignored");
        var statement = ModelSigningStatement.Parse(SigstoreBundle.Parse(File.ReadAllBytes(Path.Combine(model, "model.sig"))).Payload);
        ModelSignatureResult result = VerifyWithKey(model, key);

        Assert.Equal(new[] { ".git", ".gitattributes", ".github", ".gitignore", "model.sig", "README.md", "docs" }, statement.IgnorePaths);
        Assert.Equal(new[] { Path.Combine(_root, "elsewhere") }, outside);
        Assert.Contains(statement.Resources, r => r.Name == "docsx");
        Assert.DoesNotContain(statement.Resources, r => r.Name.StartsWith("docs/", StringComparison.Ordinal) || r.Name.StartsWith(".git/", StringComparison.Ordinal));
        Assert.Equal(ModelSignatureStatus.Valid, result.Status);
    }

    [SkippableFact]
    public void Symlinks_AreRefused_UnlessAllowed()
    {
        string model = NewModel();
        try
        {
            File.CreateSymbolicLink(Path.Combine(model, "link.bin"), Path.Combine(model, "config.json"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Skip.If(true, "this system does not let the test create symbolic links");
        }

        using ECDsa key = NewKey("P-256");
        var refused = Assert.Throws<ModelHashingException>(() => Sign(model, key));
        ModelSignature allowed = ModelSigner.Sign(model, Path.Combine(model, "model.sig"), key, null, new HashingSettings(ModelHashMethod.Files, 0, true, Settings(model).IgnorePaths), CancellationToken.None);
        ModelSignatureResult result = VerifyWithKey(model, key);

        Assert.True(refused.IsSymlink);
        Assert.Equal("'link.bin' is a symbolic link; links are only signed and verified with -AllowSymlinks.", refused.Message);
        Assert.Equal(6, allowed.FileCount);
        Assert.Equal(ModelSignatureStatus.Valid, result.Status);
        Assert.Equal(Assert.Single(result.Files, f => f.Name == "config.json").Actual, Assert.Single(result.Files, f => f.Name == "link.bin").Actual);
    }

    // ---- keys -----------------------------------------------------------------------------------

    [Fact]
    public void PrivateKeys_LoadFromPkcs8Sec1AndEncryptedPem()
    {
        using ECDsa key = NewKey("P-384");
        string pkcs8 = WriteText("k8.pem", key.ExportPkcs8PrivateKeyPem());
        string sec1 = WriteText("sec1.pem", key.ExportECPrivateKeyPem());
        string encrypted = WriteText("enc.pem", key.ExportEncryptedPkcs8PrivateKeyPem("pw", new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 10_000)));

        using ECDsa a = SigningKeys.LoadPrivateKey(pkcs8, null);
        using ECDsa b = SigningKeys.LoadPrivateKey(sec1, null);
        using ECDsa c = SigningKeys.LoadPrivateKey(encrypted, Secure("pw"));
        var noPassword = Assert.Throws<SigningKeyException>(() => SigningKeys.LoadPrivateKey(encrypted, null));
        var wrongPassword = Assert.Throws<SigningKeyException>(() => SigningKeys.LoadPrivateKey(encrypted, Secure("nope")));

        Assert.All(new[] { a, b, c }, k => Assert.True(SigningKeys.SamePublicKey(k, key)));
        Assert.Equal(SigningKeyProblem.Password, noPassword.Problem);
        Assert.Equal(SigningKeyProblem.Password, wrongPassword.Problem);
    }

    [Fact]
    public void UnsupportedKeys_AreRefusedWithTheReason()
    {
        using RSA rsa = RSA.Create(2048);
        string rsaPath = WriteText("rsa.pem", rsa.ExportPkcs8PrivateKeyPem());
        string garbage = WriteText("garbage.pem", "hello");
        var rsaError = Assert.Throws<SigningKeyException>(() => SigningKeys.LoadPrivateKey(rsaPath, null));
        var garbageError = Assert.Throws<SigningKeyException>(() => SigningKeys.LoadPrivateKey(garbage, null));
        var missing = Assert.Throws<SigningKeyException>(() => SigningKeys.LoadPublicKey(Path.Combine(_root, "none.pem")));

        Assert.Equal(SigningKeyProblem.Unsupported, rsaError.Problem);
        Assert.Equal(SigningKeyProblem.Unreadable, garbageError.Problem);
        Assert.Equal(SigningKeyProblem.Unreadable, missing.Problem);
        ECDsa k1;
        try
        {
            k1 = ECDsa.Create(ECCurve.CreateFromFriendlyName("secP256k1"));
        }
        catch (Exception e) when (e is PlatformNotSupportedException or CryptographicException)
        {
            return;
        }

        using (k1)
        {
            string path = WriteText("k1.pem", k1.ExportPkcs8PrivateKeyPem());
            Assert.Equal(SigningKeyProblem.Unsupported, Assert.Throws<SigningKeyException>(() => SigningKeys.LoadPrivateKey(path, null)).Problem);
        }
    }

    // ---- helpers --------------------------------------------------------------------------------

    private string NewModel()
    {
        string model = Path.Combine(_root, "model-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.Combine(model, "sub", "dir"));
        Directory.CreateDirectory(Path.Combine(model, ".git"));
        File.WriteAllBytes(Path.Combine(model, "model.safetensors"), Encoding.ASCII.GetBytes("0123456789abcdefghijklm"));
        File.WriteAllText(Path.Combine(model, "config.json"), "{\"model_type\": \"llama\"}");
        File.WriteAllBytes(Path.Combine(model, "sub", "dir", "weights.bin"), new byte[] { 1, 2, 3, 4, 5, 6, 7 });
        File.WriteAllText(Path.Combine(model, ".hidden"), "hidden files are signed too");
        File.WriteAllBytes(Path.Combine(model, "empty.txt"), Array.Empty<byte>());
        File.WriteAllText(Path.Combine(model, ".git", "HEAD"), "ref: refs/heads/main");
        return model;
    }

    private static HashingSettings Settings(string model, ModelHashMethod method = ModelHashMethod.Files, long shardSize = HashingSettings.DefaultShardSize) =>
        new(method, shardSize, false, ModelSigner.IgnorePaths(model, Path.Combine(model, "model.sig"), Array.Empty<string>(), out _));

    private static ModelSignature Sign(string model, ECDsa key, ModelHashMethod method = ModelHashMethod.Files, long shardSize = HashingSettings.DefaultShardSize) =>
        ModelSigner.Sign(model, Path.Combine(model, "model.sig"), key, null, Settings(model, method, shardSize), CancellationToken.None);

    private static ModelSignatureResult VerifyWithKey(string model, ECDsa key, bool ignoreUnsigned = false)
    {
        using var publicKey = ECDsa.Create(key.ExportParameters(false));
        return ModelSignatureVerifier.Verify(model, Path.Combine(model, "model.sig"), SignatureTrust.ForKey(publicKey), Array.Empty<string>(), ignoreUnsigned, CancellationToken.None);
    }

    private static ModelSignatureResult Verify(string model, SignatureTrust trust) =>
        ModelSignatureVerifier.Verify(model, Path.Combine(model, "model.sig"), trust, Array.Empty<string>(), false, CancellationToken.None);

    private static void WriteKeyBundle(string model, ECDsa key, byte[] payload)
    {
        byte[] signature = key.SignData(SigstoreBundle.Pae(SigstoreBundle.InTotoPayloadType, payload), SigningKeys.HashFor(key), DSASignatureFormat.Rfc3279DerSequence);
        File.WriteAllBytes(Path.Combine(model, "model.sig"), SigstoreBundle.WriteForKey(SigningKeys.Hint(key), payload, signature));
    }

    private static ECDsa NewKey(string curve) => ECDsa.Create(curve switch
    {
        "P-256" => ECCurve.NamedCurves.nistP256,
        "P-384" => ECCurve.NamedCurves.nistP384,
        _ => ECCurve.NamedCurves.nistP521,
    });

    private static string Subject(byte[] payload)
    {
        using var document = System.Text.Json.JsonDocument.Parse(payload);
        return document.RootElement.GetProperty("subject")[0].GetProperty("digest").GetProperty("sha256").GetString()!;
    }

    private static string Sha256Hex(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    private string WriteText(string name, string text)
    {
        string path = Path.Combine(_root, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static System.Security.SecureString Secure(string text)
    {
        var secure = new System.Security.SecureString();
        foreach (char c in text)
        {
            secure.AppendChar(c);
        }

        return secure;
    }

    private static X509Certificate2 NewCa(string subject, RSA key, X509Certificate2? issuer, RSA? issuerKey, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var ski = new X509SubjectKeyIdentifierExtension(request.PublicKey, false);
        request.CertificateExtensions.Add(ski);
        if (issuer is null)
        {
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(ski));
            return request.CreateSelfSigned(notBefore, notAfter);
        }

        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        using X509Certificate2 signed = request.Create(issuer.SubjectName, X509SignatureGenerator.CreateForRSA(issuerKey!, RSASignaturePadding.Pkcs1), notBefore, notAfter, Guid.NewGuid().ToByteArray()[..12]);
        return X509CertificateLoader.LoadCertificate(signed.RawData);
    }

    private static X509Certificate2 NewLeaf(string subject, ECDsa key, X509Certificate2 issuer, RSA issuerKey, DateTimeOffset notBefore, DateTimeOffset notAfter, X509KeyUsageFlags usage, bool codeSigning, bool ca)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA384);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(ca, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(usage, true));
        if (codeSigning)
        {
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid("1.3.6.1.5.5.7.3.3") }, false));
        }

        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        using X509Certificate2 signed = request.Create(issuer.SubjectName, X509SignatureGenerator.CreateForRSA(issuerKey, RSASignaturePadding.Pkcs1), notBefore, notAfter, Guid.NewGuid().ToByteArray()[..12]);
        return X509CertificateLoader.LoadCertificate(signed.RawData);
    }

    private static X509Certificate2 NewFulcioLikeCertificate(ECDsa key, string email, string issuer, bool legacyIssuer)
    {
        // Fulcio certificates have an empty subject, the identity in the SAN and the OIDC issuer in an extension.
        var request = new CertificateRequest(new X500DistinguishedName(new byte[] { 0x30, 0x00 }), key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddEmailAddress(email);
        request.CertificateExtensions.Add(san.Build(true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid("1.3.6.1.5.5.7.3.3") }, false));
        if (legacyIssuer)
        {
            request.CertificateExtensions.Add(new X509Extension("1.3.6.1.4.1.57264.1.1", Encoding.UTF8.GetBytes(issuer), false));
        }
        else
        {
            var writer = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
            writer.WriteCharacterString(System.Formats.Asn1.UniversalTagNumber.UTF8String, issuer);
            request.CertificateExtensions.Add(new X509Extension("1.3.6.1.4.1.57264.1.8", writer.Encode(), false));
        }

        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));
    }
}
