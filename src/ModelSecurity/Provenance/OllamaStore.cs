using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ModelSecurity.Provenance;

/// <summary>One layer (or the config) a manifest names.</summary>
internal sealed record OllamaLayer(string MediaType, string Digest, long Size);

/// <summary>
/// An Ollama manifest (<c>manifests/&lt;host&gt;/&lt;namespace&gt;/&lt;model&gt;/&lt;tag&gt;</c>, Docker v2 schema 2).
/// </summary>
internal sealed class OllamaManifest
{
    public const string DefaultHost = "registry.ollama.ai";
    public const string DefaultNamespace = "library";

    public OllamaManifest(string manifestPath, string host, string ns, string model, string tag)
    {
        ManifestPath = manifestPath;
        Host = host;
        Namespace = ns;
        Model = model;
        Tag = tag;
    }

    public string ManifestPath { get; }

    public string Host { get; }

    public string Namespace { get; }

    public string Model { get; }

    public string Tag { get; }

    /// <summary>The name as <c>ollama pull</c> takes it: <c>llama3:8b</c>, <c>user/model:tag</c>, <c>hf.co/org/repo:Q4_K_M</c>.</summary>
    public string DisplayName =>
        Host.Equals(DefaultHost, StringComparison.OrdinalIgnoreCase)
            ? (Namespace.Equals(DefaultNamespace, StringComparison.OrdinalIgnoreCase) ? $"{Model}:{Tag}" : $"{Namespace}/{Model}:{Tag}")
            : $"{Host}/{Namespace}/{Model}:{Tag}";

    /// <summary>SHA-256 of the raw manifest bytes, as the registry addresses it.</summary>
    public string? ManifestDigest { get; internal set; }

    /// <summary>The config blob (null when the manifest has none).</summary>
    public OllamaLayer? Config { get; internal set; }

    public List<OllamaLayer> Layers { get; } = new();

    /// <summary>Why the manifest could not be read, when it could not.</summary>
    public string? Error { get; internal set; }

    /// <summary>Config and layers: every blob the manifest needs.</summary>
    public IEnumerable<OllamaLayer> Blobs => Config is null ? Layers : Layers.Prepend(Config);
}

/// <summary>
/// The manifests of one Ollama store, read once and kept while the manifests folder is unchanged.
/// Digests are checked against the strict form Ollama itself requires (CVE-2024-37032), so a
/// manifest cannot point a blob path outside <c>blobs/</c>.
/// </summary>
internal sealed class OllamaStore
{
    private const int MaxManifests = 100_000;
    private static readonly Regex Digest = new("^sha256[:-]([0-9a-fA-F]{64})$", RegexOptions.CultureInvariant);
    private static readonly ConcurrentDictionary<string, (string Fingerprint, OllamaStore Store)> Stores = new();

    private OllamaStore(string root, List<OllamaManifest> manifests)
    {
        Root = root;
        Manifests = manifests;
    }

    public string Root { get; }

    public IReadOnlyList<OllamaManifest> Manifests { get; }

    /// <summary>The store at <paramref name="root"/> (the folder holding <c>manifests/</c> and <c>blobs/</c>).</summary>
    public static OllamaStore Load(string root)
    {
        string folder = Path.Combine(root, "manifests");
        List<FileInfo> files = new();
        try
        {
            if (Directory.Exists(folder))
            {
                files = new DirectoryInfo(folder).EnumerateFiles("*", SearchOption.AllDirectories).Take(MaxManifests).ToList();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            files = new List<FileInfo>();
        }

        string fingerprint = string.Join("|", files.Select(f => $"{f.FullName}:{f.Length}:{f.LastWriteTimeUtc.Ticks}"));
        if (Stores.TryGetValue(root, out var cached) && cached.Fingerprint == fingerprint)
        {
            return cached.Store;
        }

        var manifests = new List<OllamaManifest>();
        foreach (FileInfo file in files)
        {
            string[] relative = Path.GetRelativePath(folder, file.FullName).Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
            if (relative.Length != 4)
            {
                continue;
            }

            manifests.Add(Parse(file.FullName, relative[0], relative[1], relative[2], relative[3]));
        }

        var store = new OllamaStore(root, manifests);
        Stores[root] = (fingerprint, store);
        return store;
    }

    /// <summary>Reads one manifest file; problems are recorded in <see cref="OllamaManifest.Error"/>.</summary>
    public static OllamaManifest Parse(string path, string host, string ns, string model, string tag)
    {
        var manifest = new OllamaManifest(path, host, ns, model, tag);
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (info.Length > CacheLayouts.MaxBookkeepingBytes)
            {
                manifest.Error = $"the manifest is {info.Length} bytes, larger than any real manifest";
                return manifest;
            }

            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            manifest.Error = "the manifest could not be read: " + e.Message;
            return manifest;
        }

        manifest.ManifestDigest = "sha256:" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes)).ToLowerInvariant();
        try
        {
            using JsonDocument document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 16 });
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                manifest.Error = "the manifest is not a JSON object";
                return manifest;
            }

            if (root.TryGetProperty("config", out JsonElement config) && config.ValueKind == JsonValueKind.Object)
            {
                manifest.Config = Layer(config, manifest);
            }

            if (root.TryGetProperty("layers", out JsonElement layers) && layers.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement layer in layers.EnumerateArray().Take(10_000))
                {
                    if (layer.ValueKind == JsonValueKind.Object && Layer(layer, manifest) is { } parsed)
                    {
                        manifest.Layers.Add(parsed);
                    }
                }
            }
        }
        catch (JsonException e)
        {
            manifest.Error = $"the manifest is not valid JSON ({e.Message})";
        }

        return manifest;
    }

    /// <summary>The manifests (and their layer) that name the blob <paramref name="contentAddress"/> (<c>sha256:&lt;hex&gt;</c>).</summary>
    public List<(OllamaManifest Manifest, OllamaLayer Layer)> Referencing(string contentAddress) =>
        Manifests.SelectMany(m => m.Blobs.Where(l => l.Digest == contentAddress).Select(l => (m, l))).ToList();

    /// <summary>The blob file a digest names.</summary>
    public string BlobPath(string digest) => Path.Combine(Root, "blobs", digest.Replace(':', '-'));

    private static OllamaLayer? Layer(JsonElement element, OllamaManifest manifest)
    {
        string? digest = element.TryGetProperty("digest", out JsonElement d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
        string mediaType = element.TryGetProperty("mediaType", out JsonElement m) && m.ValueKind == JsonValueKind.String ? m.GetString() ?? "" : "";
        long size = element.TryGetProperty("size", out JsonElement s) && s.TryGetInt64(out long n) ? n : -1;
        Match match = digest is null ? System.Text.RegularExpressions.Match.Empty : Digest.Match(digest);
        if (!match.Success)
        {
            manifest.Error ??= $"a layer's digest '{Truncate(digest)}' is not of the form sha256:<64 hex>; Ollama refuses such names (CVE-2024-37032)";
            return null;
        }

        return new OllamaLayer(mediaType, "sha256:" + match.Groups[1].Value.ToLowerInvariant(), size);
    }

    private static string Truncate(string? text) => text is null ? "(none)" : text.Length > 80 ? string.Concat(text.AsSpan(0, 80), "…") : text;
}
