namespace ModelSecurity.Integrity;

/// <summary>What <c>Confirm-ModelHash</c> reports for one file.</summary>
public sealed class ModelHashResult : IModelFileReference
{
    internal ModelHashResult(
        string path,
        ModelHashAlgorithm algorithm,
        string? hash,
        string? expected,
        HashReferenceSource expectedSource,
        ModelHashStatus status,
        long length,
        bool fromCache,
        string detail)
    {
        Path = path;
        Algorithm = algorithm;
        Hash = hash;
        Expected = expected;
        ExpectedSource = expectedSource;
        Status = status;
        Length = length;
        FromCache = fromCache;
        Detail = detail;
    }

    /// <summary>Full path of the file as it was given or found (a Hugging Face snapshot path, not its blob).</summary>
    public string Path { get; }

    /// <summary>File name, for tables.</summary>
    public string Name => System.IO.Path.GetFileName(Path);

    /// <summary>The algorithm of <see cref="Hash"/> and <see cref="Expected"/>: the reference's, or -Algorithm's when there is none.</summary>
    public ModelHashAlgorithm Algorithm { get; }

    /// <summary>The file's hash in lower-case hex; null when the file is Missing or Unlisted (not read).</summary>
    public string? Hash { get; }

    /// <summary>The reference value in lower-case hex; null when there is none.</summary>
    public string? Expected { get; }

    /// <summary>Where <see cref="Expected"/> came from.</summary>
    public HashReferenceSource ExpectedSource { get; }

    /// <summary>Match, Mismatch, NoReference, Missing or Unlisted. Only Match means "these are the published bytes".</summary>
    public ModelHashStatus Status { get; }

    /// <summary>File size in bytes (0 when Missing).</summary>
    public long Length { get; }

    /// <summary>True when the hash came from the hash cache because the file is unchanged since it was last read.</summary>
    public bool FromCache { get; }

    /// <summary>Which reference was used and why, or why there was none.</summary>
    public string Detail { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Status} {Algorithm} {Path}";
}

/// <summary>A value a file's hash should have, and where it was found.</summary>
internal sealed record HashReference(ModelHashAlgorithm Algorithm, string Value, HashReferenceSource Source, string Detail);
