using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;

namespace ModelSecurity.Tests;

/// <summary>
/// Builds model caches on disk in their real layouts (formats.md §6) under a temporary folder that
/// is deleted on dispose: a Hugging Face hub cache, an Ollama store, LM Studio and llama.cpp folders.
/// </summary>
internal sealed class CacheBuilder : IDisposable
{
    public CacheBuilder()
    {
        Root = Path.Combine(Path.GetTempPath(), "ms-cache-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public static string Sha256(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    /// <summary>The git blob id: SHA-1 of "blob &lt;length&gt;\0" and the bytes.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5350", Justification = "Git names blobs by SHA-1; the test reproduces that, it does not rely on SHA-1 for security.")]
    public static string GitBlobSha1(byte[] bytes) =>
        Convert.ToHexString(SHA1.HashData(Encoding.ASCII.GetBytes($"blob {bytes.Length}\0").Concat(bytes).ToArray())).ToLowerInvariant();

    /// <summary>
    /// Adds a repository snapshot to the hub cache at <c>Root/hub</c>: each file's blob is named by
    /// SHA-256 when <c>Lfs</c> is true, else by git blob SHA-1, and the snapshot holds relative links
    /// to the blobs (copies when <paramref name="copies"/>). Returns the snapshot folder.
    /// </summary>
    public string AddHubRepo(string repoId, string commit, IEnumerable<(string Path, byte[] Content, bool Lfs)> files, string refName = "main", bool copies = false, bool writeTree = false)
    {
        string repo = Path.Combine(Root, "hub", "models--" + repoId.Replace("/", "--"));
        string snapshot = Path.Combine(repo, "snapshots", commit);
        Directory.CreateDirectory(Path.Combine(repo, "blobs"));
        Directory.CreateDirectory(Path.Combine(repo, "refs"));
        File.WriteAllText(Path.Combine(repo, "refs", refName), commit);
        var tree = new List<string>();
        foreach ((string path, byte[] content, bool lfs) in files)
        {
            string etag = lfs ? Sha256(content) : GitBlobSha1(content);
            string blob = Path.Combine(repo, "blobs", etag);
            File.WriteAllBytes(blob, content);
            string link = Path.Combine(snapshot, path.Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(link)!);
            if (copies)
            {
                File.WriteAllBytes(link, content);
            }
            else
            {
                File.CreateSymbolicLink(link, Path.GetRelativePath(Path.GetDirectoryName(link)!, blob));
            }

            string lfsPart = lfs ? $",\"lfs_sha256\":\"{Sha256(content)}\",\"lfs_size\":{content.Length}" : "";
            tree.Add($"\"{path}\":{{\"size\":{content.Length},\"blob_id\":\"{GitBlobSha1(content)}\"{lfsPart}}}");
        }

        if (writeTree)
        {
            Directory.CreateDirectory(Path.Combine(repo, "trees"));
            File.WriteAllText(Path.Combine(repo, "trees", commit + ".json"), "{\"format_version\":1,\"files\":{" + string.Join(",", tree) + "}}");
        }

        return snapshot;
    }

    /// <summary>
    /// Adds a model to the Ollama store at <c>Root/ollama</c>: blobs named by SHA-256 and a manifest
    /// naming the config and layers. <paramref name="missingLayers"/> are named in the manifest but not written.
    /// Returns the manifest path.
    /// </summary>
    public string AddOllamaModel(string model, string tag, IEnumerable<(string MediaType, byte[] Content)> layers, string ns = "library", string host = "registry.ollama.ai", IEnumerable<(string MediaType, string Digest)>? missingLayers = null)
    {
        string store = Path.Combine(Root, "ollama");
        Directory.CreateDirectory(Path.Combine(store, "blobs"));
        byte[] config = Encoding.UTF8.GetBytes("{\"model_format\":\"gguf\",\"model_family\":\"llama\",\"file_type\":\"Q4_K_M\"}");
        string configDigest = WriteOllamaBlob(store, config);
        var entries = new List<string>();
        foreach ((string mediaType, byte[] content) in layers)
        {
            entries.Add($"{{\"mediaType\":\"{mediaType}\",\"digest\":\"sha256:{WriteOllamaBlob(store, content)}\",\"size\":{content.Length}}}");
        }

        foreach ((string mediaType, string digest) in missingLayers ?? Array.Empty<(string, string)>())
        {
            entries.Add($"{{\"mediaType\":\"{mediaType}\",\"digest\":\"{digest}\",\"size\":1}}");
        }

        string manifest = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
            + $"\"config\":{{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"digest\":\"sha256:{configDigest}\",\"size\":{config.Length}}},"
            + "\"layers\":[" + string.Join(",", entries) + "]}";
        string path = Path.Combine(store, "manifests", host, ns, model, tag);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, manifest);
        return path;
    }

    /// <summary>The blob path of <paramref name="content"/> in the Ollama store.</summary>
    public string OllamaBlob(byte[] content) => Path.Combine(Root, "ollama", "blobs", "sha256-" + Sha256(content));

    /// <summary>Writes <c>Root/relative</c> and returns its full path.</summary>
    public string AddFile(string relative, byte[] content)
    {
        string path = Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp folder left behind harms nothing.
        }
    }

    private static string WriteOllamaBlob(string store, byte[] content)
    {
        string digest = Sha256(content);
        File.WriteAllBytes(Path.Combine(store, "blobs", "sha256-" + digest), content);
        return digest;
    }
}
