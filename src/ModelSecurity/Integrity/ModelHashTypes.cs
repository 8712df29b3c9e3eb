using System;

namespace ModelSecurity.Integrity;

/// <summary>The hash a result's <c>Hash</c> and <c>Expected</c> are in.</summary>
public enum ModelHashAlgorithm
{
    /// <summary>SHA-256 of the file's bytes (Hugging Face LFS, Ollama, sha256sum).</summary>
    SHA256,

    /// <summary>SHA-512 of the file's bytes.</summary>
    SHA512,

    /// <summary>Git's blob id: SHA-1 of <c>"blob &lt;length&gt;\0"</c> and the bytes (Hugging Face files kept in git, not LFS).</summary>
    GitBlobSHA1,
}

/// <summary>What a file's hash was compared with, and the outcome.</summary>
public enum ModelHashStatus
{
    /// <summary>The file's hash equals the reference value.</summary>
    Match,

    /// <summary>The file's hash differs from the reference value: the bytes are not the ones published.</summary>
    Mismatch,

    /// <summary>No reference value was found: the file was hashed but nothing says what it should be. Never a pass.</summary>
    NoReference,

    /// <summary>A manifest (this module's, a sha256sum list or an Ollama manifest) names a file that does not exist.</summary>
    Missing,

    /// <summary>A file in a manifest's folder that the manifest does not list (checked with -ManifestPath alone).</summary>
    Unlisted,
}

/// <summary>Where a reference value came from.</summary>
public enum HashReferenceSource
{
    /// <summary>No reference.</summary>
    None,

    /// <summary>The -Expected parameter.</summary>
    Parameter,

    /// <summary>A manifest given with -ManifestPath (this module's JSON or a sha256sum/SHA256SUMS list).</summary>
    Manifest,

    /// <summary>A sidecar file next to the model (<c>model.gguf.sha256</c>, <c>.sha512</c>).</summary>
    Sidecar,

    /// <summary>The Hugging Face hub cache: the blob's name (SHA-256 or git blob id) or <c>trees/&lt;commit&gt;.json</c>.</summary>
    HuggingFaceCache,

    /// <summary>An Ollama manifest names the blob by this digest.</summary>
    OllamaManifest,

    /// <summary>An Ollama blob's own file name (<c>sha256-&lt;hex&gt;</c>), when no manifest names it.</summary>
    OllamaBlobName,

    /// <summary>text-generation-webui's <c>huggingface-metadata.txt</c> (<c>sha256sum:</c> lines from the hub API).</summary>
    TextGenerationWebUIMetadata,

    /// <summary>The Hugging Face API (-Online): <c>siblings[].lfs.sha256</c> or <c>blobId</c> for the file's repository and revision.</summary>
    HuggingFaceApi,
}

/// <summary>The digests of one file, computed in one pass or taken from the hash cache.</summary>
internal sealed class FileDigests
{
    public FileDigests(long length) => Length = length;

    public long Length { get; }

    public string? Sha256 { get; set; }

    public string? Sha512 { get; set; }

    public string? GitBlobSha1 { get; set; }

    public bool FromCache { get; set; }

    public string? Get(ModelHashAlgorithm algorithm) => algorithm switch
    {
        ModelHashAlgorithm.SHA256 => Sha256,
        ModelHashAlgorithm.SHA512 => Sha512,
        ModelHashAlgorithm.GitBlobSHA1 => GitBlobSha1,
        _ => null,
    };

    public bool Has(DigestKinds kinds) =>
        (!kinds.HasFlag(DigestKinds.Sha256) || Sha256 is not null)
        && (!kinds.HasFlag(DigestKinds.Sha512) || Sha512 is not null)
        && (!kinds.HasFlag(DigestKinds.GitBlobSha1) || GitBlobSha1 is not null);
}

/// <summary>Which digests to compute in one read of a file.</summary>
[Flags]
internal enum DigestKinds
{
    None = 0,
    Sha256 = 1,
    Sha512 = 2,
    GitBlobSha1 = 4,
}

internal static class DigestKindsExtensions
{
    public static DigestKinds ToKinds(this ModelHashAlgorithm algorithm) => algorithm switch
    {
        ModelHashAlgorithm.SHA512 => DigestKinds.Sha512,
        ModelHashAlgorithm.GitBlobSHA1 => DigestKinds.GitBlobSha1,
        _ => DigestKinds.Sha256,
    };

    /// <summary>Hex length of a digest, used to tell an -Expected value's algorithm.</summary>
    public static int HexLength(this ModelHashAlgorithm algorithm) => algorithm switch
    {
        ModelHashAlgorithm.SHA512 => 128,
        ModelHashAlgorithm.GitBlobSHA1 => 40,
        _ => 64,
    };
}
