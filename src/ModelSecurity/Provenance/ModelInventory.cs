using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using ModelSecurity.Formats;

namespace ModelSecurity.Provenance;

/// <summary>One model file found by <c>Get-ModelInventory</c>.</summary>
public sealed class ModelInventoryItem : IModelFileReference
{
    internal ModelInventoryItem(string path, CacheLocation? location, ModelFormat format, long length, DateTime lastWriteTime)
    {
        Path = path;
        Ecosystem = location?.Ecosystem ?? ModelEcosystem.Local;
        Name = location?.Name;
        Publisher = location?.Publisher;
        Revision = location?.Revision;
        Tag = location?.Tag;
        RepoPath = location?.RepoPath;
        ContentAddress = location?.ContentAddress;
        MediaType = location?.MediaType;
        CacheRoot = location?.CacheRoot;
        Format = format;
        Length = length;
        LastWriteTime = lastWriteTime;
    }

    /// <summary>The file as its users see it (a Hugging Face snapshot path, not the blob it links to).</summary>
    public string Path { get; }

    /// <summary>The cache the file sits in, or Local.</summary>
    public ModelEcosystem Ecosystem { get; }

    /// <summary>Repository id (<c>org/name</c>) or Ollama <c>model:tag</c>; null outside a cache.</summary>
    public string? Name { get; }

    /// <summary>Organisation or user of the repository (Ollama: the namespace).</summary>
    public string? Publisher { get; }

    /// <summary>Commit (Hugging Face) or branch the layout records.</summary>
    public string? Revision { get; }

    /// <summary>Ollama tag, or the Hugging Face refs pointing at <see cref="Revision"/>.</summary>
    public string? Tag { get; }

    /// <summary>Path of the file inside its repository.</summary>
    public string? RepoPath { get; }

    /// <summary>The content address the layout gives (<c>sha256:&lt;hex&gt;</c> or <c>gitsha1:&lt;hex&gt;</c>), or null.</summary>
    public string? ContentAddress { get; }

    /// <summary>Ollama: the layer's media type (<c>application/vnd.ollama.image.model</c>, …).</summary>
    public string? MediaType { get; }

    /// <summary>The cache's root folder.</summary>
    public string? CacheRoot { get; }

    /// <summary>What the content is, from its first bytes.</summary>
    public ModelFormat Format { get; }

    /// <summary>Size in bytes.</summary>
    public long Length { get; }

    /// <summary>Last modification time (local time).</summary>
    public DateTime LastWriteTime { get; }

    /// <summary>File name, for tables.</summary>
    public string FileName => System.IO.Path.GetFileName(Path);

    /// <summary>Why the file could not be read for its format, when it could not.</summary>
    internal string? Problem { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"{Ecosystem} {Name} {Path}";
}

/// <summary>
/// Walks folders and reports every model file with what its cache layout says about it. Cache
/// bookkeeping is left out: Hugging Face refs, trees and <c>.no_exist</c> markers, partial
/// downloads (<c>*.incomplete</c>), Ollama manifests, sidecar checksums and metadata files. A Hugging
/// Face blob is reported through the snapshot files that link to it (as users see it), not twice.
/// Symbolic links to folders are not followed.
/// </summary>
internal static class ModelInventory
{
    /// <summary>
    /// Every reportable file below <paramref name="root"/> (or <paramref name="root"/> itself when it is
    /// a file); with <paramref name="everyFile"/>, bookkeeping too (manifests pin a folder whole).
    /// </summary>
    public static IEnumerable<string> Files(string root, Action<string, Exception>? onUnreadable, CancellationToken cancellationToken, bool everyFile = false)
    {
        if (File.Exists(root))
        {
            yield return Path.GetFullPath(root);
            yield break;
        }

        var pending = new Stack<string>();
        pending.Push(Path.GetFullPath(root));
        while (pending.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string directory = pending.Pop();
            string[] files;
            string[] subdirectories;
            try
            {
                files = Directory.GetFiles(directory);
                subdirectories = Directory.GetDirectories(directory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                onUnreadable?.Invoke(directory, e);
                continue;
            }

            Array.Sort(files, StringComparer.Ordinal);
            foreach (string file in files)
            {
                if (everyFile || IsListed(file, SafeIdentify(file)))
                {
                    yield return file;
                }
            }

            Array.Sort(subdirectories, StringComparer.Ordinal);
            for (int i = subdirectories.Length - 1; i >= 0; i--)
            {
                if ((new DirectoryInfo(subdirectories[i]).Attributes & FileAttributes.ReparsePoint) == 0)
                {
                    pending.Push(subdirectories[i]);
                }
            }
        }
    }

    /// <summary>The inventory entry of one file.</summary>
    public static ModelInventoryItem Describe(string path)
    {
        CacheLocation? location = SafeIdentify(path);
        ModelFormat format = ModelFormat.Unknown;
        long length = 0;
        DateTime lastWrite = default;
        string? problem = null;
        try
        {
            using ModelFileSource source = ModelFileSource.OpenFile(path);
            length = source.Length;
            format = FormatDetector.Detect(new SniffContext(source)).Format;
            lastWrite = File.GetLastWriteTime(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = e.Message;
        }

        return new ModelInventoryItem(path, location, format, length, lastWrite) { Problem = problem };
    }

    /// <summary>
    /// True for files an inventory (and a folder walk of Confirm-ModelHash) reports: model content as
    /// users see it, not the cache's own records.
    /// </summary>
    public static bool IsListed(string file, CacheLocation? location)
    {
        string name = Path.GetFileName(file);
        if (location is not null)
        {
            if (location.Kind is CacheItemKind.Bookkeeping or CacheItemKind.Manifest or CacheItemKind.IncompleteBlob)
            {
                return false;
            }

            if (location.Ecosystem == ModelEcosystem.HuggingFace && location.Kind == CacheItemKind.Blob)
            {
                return false;
            }
        }

        if (name is "huggingface-metadata.txt" or "CACHEDIR.TAG")
        {
            return false;
        }

        // A checksum sidecar next to the file it describes is a reference, not a model.
        return !((name.EndsWith(".sha256", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".sha512", StringComparison.OrdinalIgnoreCase))
            && File.Exists(file.Substring(0, file.Length - 7)));
    }

    /// <summary>The cache layout of a file; a layout that cannot be read is no layout.</summary>
    public static CacheLocation? SafeIdentify(string path)
    {
        try
        {
            return CacheLayouts.Identify(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return null;
        }
    }
}
