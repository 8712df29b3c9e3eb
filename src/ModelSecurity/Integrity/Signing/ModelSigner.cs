using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading;

namespace ModelSecurity.Integrity.Signing;

/// <summary>Signs a model folder into a model.sig that model_signing v1.x verifies.</summary>
internal static class ModelSigner
{
    /// <summary>The default signature file name, at the model root.</summary>
    public const string DefaultSignatureName = "model.sig";

    /// <summary>
    /// The ignore paths recorded and applied: model_signing's git defaults, the signature file when it
    /// is inside the folder, and the caller's paths (relative to the folder). Paths outside the folder
    /// are returned in <paramref name="outside"/> and ignored.
    /// </summary>
    public static List<string> IgnorePaths(string folder, string signaturePath, IEnumerable<string> extra, out List<string> outside)
    {
        var paths = new List<string>(ModelDirectoryHasher.DefaultIgnorePaths);
        outside = new List<string>();
        if (ModelDirectoryHasher.ToRelativeIgnorePath(folder, signaturePath) is string signature)
        {
            paths.Add(signature);
        }

        foreach (string path in extra)
        {
            string? relative = ModelDirectoryHasher.ToRelativeIgnorePath(folder, path);
            if (relative is null)
            {
                outside.Add(path);
            }
            else if (!paths.Contains(relative, StringComparer.Ordinal))
            {
                paths.Add(relative);
            }
        }

        return paths;
    }

    /// <summary>
    /// Hashes the folder, signs the statement and writes the bundle. With a chain the bundle carries
    /// the certificates (leaf first); without, the key's hint.
    /// </summary>
    public static ModelSignature Sign(string folder, string signaturePath, ECDsa key, IReadOnlyList<X509Certificate2>? chain, HashingSettings settings, CancellationToken cancel)
    {
        List<ModelResource> resources = ModelDirectoryHasher.Hash(folder, settings, cancel);
        string modelName = Path.GetFileName(Path.TrimEndingDirectorySeparator(folder));
        byte[] payload = ModelSigningStatement.Write(modelName, resources, settings);
        byte[] signature = key.SignData(SigstoreBundle.Pae(SigstoreBundle.InTotoPayloadType, payload), SigningKeys.HashFor(key), DSASignatureFormat.Rfc3279DerSequence);
        string? hint = null;
        string? subject = null;
        byte[] bundle;
        if (chain is { Count: > 0 })
        {
            subject = chain[0].Subject;
            bundle = SigstoreBundle.WriteForCertificates(chain.Select(c => c.RawData).ToList(), payload, signature);
        }
        else
        {
            hint = SigningKeys.Hint(key);
            bundle = SigstoreBundle.WriteForKey(hint, payload, signature);
        }

        File.WriteAllBytes(signaturePath, bundle);
        string root = Convert.ToHexString(ModelDirectoryHasher.RootDigest(resources.Select(r => r.Digest))).ToLowerInvariant();
        int fileCount = resources.Select(r => r.RelativePath).Distinct(StringComparer.Ordinal).Count();
        return new ModelSignature(folder, signaturePath, settings.Method, SigningKeys.AlgorithmName(key), fileCount, resources.Count, root, hint, subject);
    }
}
