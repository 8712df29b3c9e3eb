using System.Collections.Generic;

namespace ModelSecurity.Provenance;

/// <summary>What kind of item a path is inside its cache.</summary>
internal enum CacheItemKind
{
    /// <summary>A model file as its users see it: a Hugging Face snapshot file, an LM Studio file, …</summary>
    File,

    /// <summary>Content stored under its own hash (Hugging Face <c>blobs/</c>, Ollama <c>blobs/</c>).</summary>
    Blob,

    /// <summary>A partial download (<c>blobs/&lt;etag&gt;.incomplete</c>).</summary>
    IncompleteBlob,

    /// <summary>An Ollama manifest.</summary>
    Manifest,

    /// <summary>Cache bookkeeping (refs, trees, sidecar metadata), not model content.</summary>
    Bookkeeping,
}

/// <summary>
/// Where a file sits in a known cache layout and what the layout says about it: repository,
/// revision, tag and content address. Facts come with the evidence they were read from.
/// </summary>
internal sealed class CacheLocation
{
    public CacheLocation(ModelEcosystem ecosystem, string cacheRoot, CacheItemKind kind)
    {
        Ecosystem = ecosystem;
        CacheRoot = cacheRoot;
        Kind = kind;
    }

    public ModelEcosystem Ecosystem { get; }

    /// <summary>The cache's root folder (the hub cache, the Ollama models folder, LM Studio's models folder, …).</summary>
    public string CacheRoot { get; }

    public CacheItemKind Kind { get; }

    /// <summary>Repository id (<c>org/name</c>) or Ollama <c>model:tag</c> as people write it.</summary>
    public string? Name { get; set; }

    /// <summary>Organisation or user that published the repository, or the Ollama namespace.</summary>
    public string? Publisher { get; set; }

    /// <summary>Repository (or Ollama model) name without its publisher.</summary>
    public string? Repository { get; set; }

    /// <summary>Commit (Hugging Face), branch, or other revision the layout records.</summary>
    public string? Revision { get; set; }

    /// <summary>Ollama tag, or the Hugging Face refs (branch names) that point at <see cref="Revision"/>.</summary>
    public string? Tag { get; set; }

    /// <summary>The file's path inside its repository (Hugging Face snapshots).</summary>
    public string? RepoPath { get; set; }

    /// <summary>The content address the layout gives: <c>sha256:&lt;hex&gt;</c> or <c>gitsha1:&lt;hex&gt;</c>.</summary>
    public string? ContentAddress { get; set; }

    /// <summary>The blob file the path resolves to, when the layout stores content under its hash.</summary>
    public string? BlobPath { get; set; }

    /// <summary>Ollama: the media type of the layer this blob is (<c>application/vnd.ollama.image.model</c>, …).</summary>
    public string? MediaType { get; set; }

    /// <summary>Ollama: every <c>model:tag</c> whose manifest names this blob.</summary>
    public List<string> AlsoNamedBy { get; } = new();

    /// <summary>Where each fact came from ("Revision: snapshot folder name", …).</summary>
    public List<string> Evidence { get; } = new();
}
