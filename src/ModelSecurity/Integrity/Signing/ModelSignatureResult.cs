using System.Collections.Generic;

namespace ModelSecurity.Integrity.Signing;

/// <summary>The outcome of verifying a model signature.</summary>
public enum ModelSignatureStatus
{
    /// <summary>The signature verifies with the given key or root, and every file matches it.</summary>
    Valid,

    /// <summary>The signature does not verify, or a file is changed, missing or not signed.</summary>
    Invalid,

    /// <summary>A Sigstore keyless signature whose files match, but its transparency log entry and Fulcio chain were not checked.</summary>
    Unverified,

    /// <summary>The check could not be done: no signature file, a malformed one, an unsupported method, an unreadable file.</summary>
    Error,
}

/// <summary>How one signed or local file (or shard) compares with the signature.</summary>
public enum ModelSignatureFileStatus
{
    /// <summary>The local digest equals the signed one.</summary>
    Match,

    /// <summary>The file is there, but its digest differs.</summary>
    Changed,

    /// <summary>The signature lists it; the folder does not have it.</summary>
    Missing,

    /// <summary>The folder has it; the signature does not list it.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "The public contract names this status Unsigned.")]
    Unsigned,
}

/// <summary>One file (or shard, for the shards method) of a verified model folder.</summary>
public sealed class ModelSignatureFile
{
    internal ModelSignatureFile(string name, ModelSignatureFileStatus status, string? expected, string? actual)
    {
        Name = name;
        Status = status;
        Expected = expected;
        Actual = actual;
    }

    /// <summary>The resource name: the POSIX path relative to the folder, plus ":start:end" for a shard.</summary>
    public string Name { get; }

    /// <summary>Match, Changed, Missing or Unsigned.</summary>
    public ModelSignatureFileStatus Status { get; }

    /// <summary>The signed SHA-256 (lower-case hex); null for an unsigned file.</summary>
    public string? Expected { get; }

    /// <summary>The SHA-256 of the local bytes (lower-case hex); null for a missing file.</summary>
    public string? Actual { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Status} {Name}";
}

/// <summary>What <c>Confirm-ModelSignature</c> reports for one model folder.</summary>
public sealed class ModelSignatureResult : IModelFileReference
{
    internal ModelSignatureResult(string path, string signaturePath, ModelSignatureStatus status, string? signer, ModelHashMethod? method, string? rootDigest, string reason, IReadOnlyList<ModelSignatureFile> files)
    {
        Path = path;
        SignaturePath = signaturePath;
        Status = status;
        Signer = signer;
        Method = method;
        RootDigest = rootDigest;
        Reason = reason;
        Files = files;
    }

    /// <summary>Full path of the model folder.</summary>
    public string Path { get; }

    /// <summary>Folder name, for tables.</summary>
    public string Name => System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(Path));

    /// <summary>Full path of the signature file (model.sig).</summary>
    public string SignaturePath { get; }

    /// <summary>Valid, Invalid, Unverified (Sigstore keyless, log not checked) or Error.</summary>
    public ModelSignatureStatus Status { get; }

    /// <summary>The key hint, the certificate subject, or the Sigstore identity and issuer; null when unknown.</summary>
    public string? Signer { get; }

    /// <summary>Files or Shards, as the signature records; null when the signature could not be read.</summary>
    public ModelHashMethod? Method { get; }

    /// <summary>The signed root digest (SHA-256 over the resource digests, lower-case hex); null for legacy signatures.</summary>
    public string? RootDigest { get; }

    /// <summary>Why the status is what it is, in one sentence.</summary>
    public string Reason { get; }

    /// <summary>Every signed and every unsigned local file (or shard) with its own status.</summary>
    public IReadOnlyList<ModelSignatureFile> Files { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Status} {Path}: {Reason}";
}

/// <summary>What <c>New-ModelSignature</c> reports for one signed model folder.</summary>
public sealed class ModelSignature : IModelFileReference
{
    internal ModelSignature(string path, string signaturePath, ModelHashMethod method, string algorithm, int fileCount, int resourceCount, string rootDigest, string? keyHint, string? subject)
    {
        Path = path;
        SignaturePath = signaturePath;
        Method = method;
        Algorithm = algorithm;
        FileCount = fileCount;
        ResourceCount = resourceCount;
        RootDigest = rootDigest;
        KeyHint = keyHint;
        Subject = subject;
    }

    /// <summary>Full path of the model folder.</summary>
    public string Path { get; }

    /// <summary>Folder name, for tables.</summary>
    public string Name => System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(Path));

    /// <summary>Full path of the signature file written.</summary>
    public string SignaturePath { get; }

    /// <summary>Files or Shards.</summary>
    public ModelHashMethod Method { get; }

    /// <summary>The signature algorithm, e.g. "ECDSA P-384 SHA-384".</summary>
    public string Algorithm { get; }

    /// <summary>How many files were signed.</summary>
    public int FileCount { get; }

    /// <summary>How many resources the statement lists (files, or shards).</summary>
    public int ResourceCount { get; }

    /// <summary>SHA-256 over the resource digests (the statement's subject), lower-case hex.</summary>
    public string RootDigest { get; }

    /// <summary>The key hint recorded in the bundle (key signing); null with a certificate.</summary>
    public string? KeyHint { get; }

    /// <summary>The signing certificate's subject (certificate signing); null with a key.</summary>
    public string? Subject { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Path} -> {SignaturePath}";
}
