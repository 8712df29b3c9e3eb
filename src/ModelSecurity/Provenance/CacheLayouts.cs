using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ModelSecurity.Provenance;

/// <summary>
/// The folder layouts of the places models are downloaded to (reference: formats.md §6): which cache
/// a path is in, and what the layout says about the file. Recognised wherever it is found, so a copy
/// of a cache on another disk is read the same way. Only small bookkeeping files (refs, trees,
/// manifests, sidecars) are read; never model content.
/// </summary>
internal static class CacheLayouts
{
    /// <summary>Largest bookkeeping file read (refs, trees, manifests, sidecars, metadata).</summary>
    internal const int MaxBookkeepingBytes = 4 * 1024 * 1024;

    private static readonly Regex HubRepoFolder = new("^(models|datasets|spaces)--(.+)$", RegexOptions.CultureInvariant);
    private static readonly Regex Hex40 = new("^[0-9a-f]{40}$", RegexOptions.CultureInvariant);
    private static readonly Regex Hex64 = new("^[0-9a-f]{64}$", RegexOptions.CultureInvariant);
    private static readonly Regex OllamaBlob = new("^sha256[-:]([0-9a-fA-F]{64})$", RegexOptions.CultureInvariant);
    private static readonly Regex HubFileUrl = new(
        @"^https?://[^/]+/(?<repo>[^/]+/[^/]+)/(?:resolve|blob)/(?<rev>[^/]+)/(?<file>.+)$", RegexOptions.CultureInvariant);

    private static readonly StringComparison PathComparison =
        RuntimeInformation.IsOSPlatform(OSPlatform.Linux) ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;

    /// <summary>The cache layout <paramref name="path"/> (a full path to a file) sits in, or null for none.</summary>
    public static CacheLocation? Identify(string path)
    {
        string full = Path.GetFullPath(path);
        string[] parts = Split(full);
        return IdentifyHuggingFace(full, parts)
            ?? IdentifyOllama(full, parts)
            ?? IdentifyTextGenerationWebUI(full)
            ?? IdentifyLMStudio(parts)
            ?? IdentifyLlamaCpp(full, parts)
            ?? IdentifyGpt4All(full, parts)
            ?? IdentifyJan(parts);
    }

    /// <summary>
    /// The cache folders of this machine, honouring the variables each tool reads
    /// (<c>HF_HUB_CACHE</c>, <c>HF_HOME</c>, <c>OLLAMA_MODELS</c>, <c>LLAMA_CACHE</c>, …). Folders that
    /// do not exist are left out. <paramref name="environment"/> is for tests; null reads the process.
    /// </summary>
    public static IReadOnlyList<(ModelEcosystem Ecosystem, string Root)> KnownRoots(Func<string, string?>? environment = null, string? home = null)
    {
        Func<string, string?> env = environment ?? Environment.GetEnvironmentVariable;
        home ??= Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        bool windows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);
        bool mac = RuntimeInformation.IsOSPlatform(OSPlatform.OSX);
        string? Var(string name) => string.IsNullOrWhiteSpace(env(name)) ? null : env(name);
        string? localAppData = Var("LOCALAPPDATA");
        string? appData = Var("APPDATA");
        string xdgCache = Var("XDG_CACHE_HOME") ?? Path.Combine(home, ".cache");
        string xdgData = Var("XDG_DATA_HOME") ?? Path.Combine(home, ".local", "share");

        var roots = new List<(ModelEcosystem, string)>();
        string hfHome = Var("HF_HOME") ?? Path.Combine(xdgCache, "huggingface");
        roots.Add((ModelEcosystem.HuggingFace, Var("HF_HUB_CACHE") ?? Var("HUGGINGFACE_HUB_CACHE") ?? Path.Combine(hfHome, "hub")));
        roots.Add((ModelEcosystem.HuggingFace, Path.Combine(hfHome, "modules")));
        if (Var("LLAMA_CACHE") is string llamaCache)
        {
            roots.Add((ModelEcosystem.LlamaCpp, llamaCache));
        }

        roots.Add((ModelEcosystem.LlamaCpp, windows && localAppData is not null
            ? Path.Combine(localAppData, "llama.cpp")
            : mac ? Path.Combine(home, "Library", "Caches", "llama.cpp") : Path.Combine(xdgCache, "llama.cpp")));
        roots.Add((ModelEcosystem.Ollama, Var("OLLAMA_MODELS") ?? Path.Combine(home, ".ollama", "models")));
        if (!windows && !mac)
        {
            roots.Add((ModelEcosystem.Ollama, "/usr/share/ollama/.ollama/models"));
        }

        roots.Add((ModelEcosystem.LMStudio, Path.Combine(home, ".lmstudio", "models")));
        roots.Add((ModelEcosystem.LMStudio, Path.Combine(home, ".cache", "lm-studio", "models")));
        roots.Add((ModelEcosystem.GPT4All, windows && localAppData is not null
            ? Path.Combine(localAppData, "nomic.ai", "GPT4All")
            : mac ? Path.Combine(home, "Library", "Application Support", "nomic.ai", "GPT4All") : Path.Combine(xdgData, "nomic.ai", "GPT4All")));
        roots.Add((ModelEcosystem.GPT4All, Path.Combine(home, ".cache", "gpt4all")));
        roots.Add((ModelEcosystem.Jan, Path.Combine(home, "jan", "models")));
        roots.Add((ModelEcosystem.Jan, windows && appData is not null
            ? Path.Combine(appData, "Jan", "data", "models")
            : mac ? Path.Combine(home, "Library", "Application Support", "Jan", "data", "models") : Path.Combine(xdgData, "Jan", "data", "models")));

        var seen = new HashSet<string>(RuntimeInformation.IsOSPlatform(OSPlatform.Linux) ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase);
        return roots
            .Select(r => (r.Item1, Path.GetFullPath(r.Item2)))
            .Where(r => Directory.Exists(r.Item2) && seen.Add(r.Item2))
            .ToList();
    }

    /// <summary>True for names of files that are a cache's bookkeeping rather than model content.</summary>
    public static bool IsBookkeeping(CacheLocation? location) =>
        location is not null && location.Kind is CacheItemKind.Bookkeeping or CacheItemKind.Manifest;

    /// <summary>
    /// Hugging Face refs of a repository folder (<c>refs/main</c> → commit); bad or oversized refs are skipped.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ReadHubRefs(string repoFolder)
    {
        var refs = new SortedDictionary<string, string>(StringComparer.Ordinal);
        string refsFolder = Path.Combine(repoFolder, "refs");
        if (!Directory.Exists(refsFolder))
        {
            return refs;
        }

        try
        {
            foreach (string file in Directory.EnumerateFiles(refsFolder, "*", SearchOption.AllDirectories).Take(1000))
            {
                string? text = ReadSmallText(file, 256)?.Trim();
                if (text is not null && Hex40.IsMatch(text))
                {
                    refs[Path.GetRelativePath(refsFolder, file).Replace('\\', '/')] = text;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Unreadable refs tell nothing; the snapshot folder name still gives the revision.
        }

        return refs;
    }

    /// <summary>
    /// The entry for <paramref name="repoPath"/> in <c>trees/&lt;commit&gt;.json</c> (written by recent
    /// huggingface_hub): its git blob id and, for LFS files, its SHA-256. Null when there is none.
    /// </summary>
    public static (string? BlobId, string? LfsSha256, long? Size)? ReadHubTreeEntry(string repoFolder, string commit, string repoPath)
    {
        string? json = ReadSmallText(Path.Combine(repoFolder, "trees", commit + ".json"), MaxBookkeepingBytes);
        if (json is null)
        {
            return null;
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("files", out JsonElement files)
                && files.ValueKind == JsonValueKind.Object
                && files.TryGetProperty(repoPath, out JsonElement entry)
                && entry.ValueKind == JsonValueKind.Object)
            {
                string? blob = Text(entry, "blob_id")?.ToLowerInvariant();
                string? lfs = Text(entry, "lfs_sha256")?.ToLowerInvariant();
                long? size = entry.TryGetProperty("size", out JsonElement s) && s.TryGetInt64(out long n) ? n : null;
                return (blob is not null && Hex40.IsMatch(blob) ? blob : null, lfs is not null && Hex64.IsMatch(lfs) ? lfs : null, size);
            }
        }
        catch (JsonException)
        {
            // A damaged tree file gives no reference; the caller reports what it could not verify.
        }

        return null;
    }

    /// <summary>Reads at most <paramref name="maxBytes"/> of a small text file; null when absent, unreadable or larger.</summary>
    internal static string? ReadSmallText(string path, int maxBytes)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length > maxBytes)
            {
                return null;
            }

            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return null;
        }
    }

    private static CacheLocation? IdentifyHuggingFace(string full, string[] parts)
    {
        for (int i = parts.Length - 3; i >= 0; i--)
        {
            Match repo = HubRepoFolder.Match(parts[i]);
            if (!repo.Success)
            {
                continue;
            }

            string area = parts[i + 1];
            if (area is not ("snapshots" or "blobs" or "refs" or "trees" or ".no_exist"))
            {
                continue;
            }

            string repoFolder = Join(parts, i + 1);
            string repoId = repo.Groups[2].Value.Replace("--", "/");
            string cacheRoot = Join(parts, i);
            var location = area switch
            {
                "snapshots" when parts.Length > i + 3 => new CacheLocation(ModelEcosystem.HuggingFace, cacheRoot, CacheItemKind.File),
                "blobs" when parts.Length == i + 3 => new CacheLocation(ModelEcosystem.HuggingFace, cacheRoot,
                    parts[i + 2].EndsWith(".incomplete", StringComparison.Ordinal) ? CacheItemKind.IncompleteBlob : CacheItemKind.Blob),
                _ => new CacheLocation(ModelEcosystem.HuggingFace, cacheRoot, CacheItemKind.Bookkeeping),
            };
            SetRepository(location, repoId);
            if (repo.Groups[1].Value != "models")
            {
                location.Evidence.Add($"Kind: a Hugging Face {repo.Groups[1].Value.TrimEnd('s')} repository, not a model");
            }

            location.Evidence.Add($"Repository: Hugging Face cache folder '{parts[i]}'");
            IReadOnlyDictionary<string, string> refs = ReadHubRefs(repoFolder);
            if (location.Kind == CacheItemKind.File)
            {
                string commit = parts[i + 2];
                location.Revision = commit;
                location.RepoPath = string.Join("/", parts.Skip(i + 3));
                location.Evidence.Add(Hex40.IsMatch(commit)
                    ? $"Revision: snapshot folder '{commit}'"
                    : $"Revision: snapshot folder '{commit}' is not a 40-hex commit id");
                string[] names = refs.Where(r => r.Value == commit).Select(r => r.Key).ToArray();
                if (names.Length > 0)
                {
                    location.Tag = string.Join(",", names);
                    location.Evidence.Add($"Tag: refs/{string.Join(", refs/", names)} point at this snapshot");
                }

                SetHubContentAddress(location, full, repoFolder, commit);
            }
            else if (location.Kind is CacheItemKind.Blob or CacheItemKind.IncompleteBlob)
            {
                string etag = parts[i + 2];
                if (location.Kind == CacheItemKind.IncompleteBlob)
                {
                    etag = etag.Substring(0, etag.Length - ".incomplete".Length);
                }

                location.BlobPath = full;
                location.ContentAddress = AddressOf(etag);
                if (location.ContentAddress is not null)
                {
                    location.Evidence.Add($"ContentAddress: blob file name '{etag}'");
                }
            }

            return location;
        }

        return null;
    }

    private static void SetHubContentAddress(CacheLocation location, string full, string repoFolder, string commit)
    {
        try
        {
            FileSystemInfo? target = new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true);
            if (target is not null)
            {
                location.BlobPath = target.FullName;
                location.ContentAddress = AddressOf(target.Name);
                location.Evidence.Add(location.ContentAddress is not null
                    ? $"ContentAddress: symbolic link to blob '{target.Name}'"
                    : $"ContentAddress: symbolic link to '{target.FullName}', which is not a cache blob");
                return;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            location.Evidence.Add($"ContentAddress: the symbolic link could not be read ({e.Message})");
        }

        // Copies instead of links (Windows without Developer Mode): the tree listing knows the hashes.
        if (location.RepoPath is not null && ReadHubTreeEntry(repoFolder, commit, location.RepoPath) is { } entry)
        {
            if (entry.LfsSha256 is not null)
            {
                location.ContentAddress = "sha256:" + entry.LfsSha256;
            }
            else if (entry.BlobId is not null)
            {
                location.ContentAddress = "gitsha1:" + entry.BlobId;
            }

            if (location.ContentAddress is not null)
            {
                location.Evidence.Add($"ContentAddress: trees/{commit}.json");
            }
        }
    }

    private static CacheLocation? IdentifyOllama(string full, string[] parts)
    {
        for (int i = parts.Length - 2; i >= 0; i--)
        {
            if (parts[i] == "blobs" && i == parts.Length - 2 && OllamaBlob.Match(parts[i + 1]) is { Success: true } blob)
            {
                string root = Join(parts, i);
                var location = new CacheLocation(ModelEcosystem.Ollama, root, CacheItemKind.Blob)
                {
                    ContentAddress = "sha256:" + blob.Groups[1].Value.ToLowerInvariant(),
                    BlobPath = full,
                };
                location.Evidence.Add($"ContentAddress: Ollama blob file name '{parts[i + 1]}'");
                List<(OllamaManifest Manifest, OllamaLayer Layer)> users = OllamaStore.Load(root).Referencing(location.ContentAddress);
                if (users.Count > 0)
                {
                    OllamaManifest first = users[0].Manifest;
                    SetOllamaName(location, first);
                    location.MediaType = users[0].Layer.MediaType;
                    location.AlsoNamedBy.AddRange(users.Select(u => u.Manifest.DisplayName).Distinct(StringComparer.Ordinal));
                    location.Evidence.Add($"Name: manifest '{first.ManifestPath}' names this blob as {users[0].Layer.MediaType}");
                }
                else
                {
                    location.Evidence.Add("Name: no manifest in this store names this blob");
                }

                return location;
            }

            if (parts[i] == "manifests" && parts.Length == i + 5)
            {
                var location = new CacheLocation(ModelEcosystem.Ollama, Join(parts, i), CacheItemKind.Manifest);
                SetOllamaName(location, new OllamaManifest(full, parts[i + 1], parts[i + 2], parts[i + 3], parts[i + 4]));
                location.Evidence.Add("Name: manifest path (host/namespace/model/tag)");
                return location;
            }
        }

        return null;
    }

    private static void SetOllamaName(CacheLocation location, OllamaManifest manifest)
    {
        location.Name = manifest.DisplayName;
        location.Publisher = manifest.Namespace;
        location.Repository = manifest.Model;
        location.Tag = manifest.Tag;
    }

    private static CacheLocation? IdentifyTextGenerationWebUI(string full)
    {
        string? folder = Path.GetDirectoryName(full);
        string? text = folder is null ? null : ReadSmallText(Path.Combine(folder, "huggingface-metadata.txt"), 1024 * 1024);
        if (text is null)
        {
            return null;
        }

        var location = new CacheLocation(ModelEcosystem.TextGenerationWebUI, Path.GetDirectoryName(folder!) ?? folder!, CacheItemKind.File);
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.StartsWith("url:", StringComparison.OrdinalIgnoreCase))
            {
                string url = line.Substring(4).Trim().TrimEnd('/');
                int host = url.IndexOf("://", StringComparison.Ordinal);
                string[] segments = (host >= 0 ? url.Substring(host + 3) : url).Split('/');
                if (segments.Length >= 3)
                {
                    SetRepository(location, segments[1] + "/" + segments[2]);
                    location.Evidence.Add("Repository: huggingface-metadata.txt 'url'");
                }
            }
            else if (line.StartsWith("branch:", StringComparison.OrdinalIgnoreCase))
            {
                location.Revision = line.Substring(7).Trim();
                location.Evidence.Add("Revision: huggingface-metadata.txt 'branch'");
            }
        }

        return location;
    }

    private static CacheLocation? IdentifyLMStudio(string[] parts)
    {
        for (int i = parts.Length - 4; i >= 1; i--)
        {
            bool lmstudio = (parts[i - 1].Equals(".lmstudio", StringComparison.OrdinalIgnoreCase) || parts[i - 1].Equals("lm-studio", StringComparison.OrdinalIgnoreCase))
                && parts[i].Equals("models", StringComparison.OrdinalIgnoreCase);
            if (lmstudio)
            {
                var location = new CacheLocation(ModelEcosystem.LMStudio, Join(parts, i + 1), CacheItemKind.File);
                SetRepository(location, parts[i + 1] + "/" + parts[i + 2]);
                location.RepoPath = string.Join("/", parts.Skip(i + 3));
                location.Evidence.Add($"Repository: LM Studio folder '{parts[i + 1]}/{parts[i + 2]}'");
                return location;
            }
        }

        return null;
    }

    private static CacheLocation? IdentifyLlamaCpp(string full, string[] parts)
    {
        string? folder = Path.GetDirectoryName(full);
        if (folder is null || full.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || full.EndsWith(".etag", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        bool inCache = parts.Length >= 2 && parts[parts.Length - 2].Equals("llama.cpp", StringComparison.OrdinalIgnoreCase);
        string? sidecar = ReadSmallText(full + ".json", 64 * 1024);
        if (sidecar is null && !inCache)
        {
            return null;
        }

        string? url = null;
        if (sidecar is not null)
        {
            try
            {
                using JsonDocument document = JsonDocument.Parse(sidecar, new JsonDocumentOptions { MaxDepth = 8 });
                url = document.RootElement.ValueKind == JsonValueKind.Object ? Text(document.RootElement, "url") : null;
            }
            catch (JsonException)
            {
                url = null;
            }
        }

        Match match = url is null ? Match.Empty : HubFileUrl.Match(url);
        if (!match.Success && !inCache)
        {
            return null;
        }

        var location = new CacheLocation(ModelEcosystem.LlamaCpp, folder, CacheItemKind.File);
        if (match.Success)
        {
            SetRepository(location, match.Groups["repo"].Value);
            location.Revision = Uri.UnescapeDataString(match.Groups["rev"].Value);
            location.RepoPath = Uri.UnescapeDataString(match.Groups["file"].Value);
            location.Evidence.Add("Repository: llama.cpp sidecar '.json' url");
        }

        return location;
    }

    private static CacheLocation? IdentifyGpt4All(string full, string[] parts)
    {
        for (int i = 0; i < parts.Length - 1; i++)
        {
            bool desktop = i > 0 && parts[i - 1].Equals("nomic.ai", StringComparison.OrdinalIgnoreCase) && parts[i].Equals("GPT4All", StringComparison.OrdinalIgnoreCase);
            bool bindings = i > 0 && parts[i - 1].Equals(".cache", StringComparison.OrdinalIgnoreCase) && parts[i].Equals("gpt4all", StringComparison.OrdinalIgnoreCase);
            if (desktop || bindings)
            {
                var location = new CacheLocation(ModelEcosystem.GPT4All, Join(parts, i + 1), CacheItemKind.File) { Name = Path.GetFileName(full) };
                location.Evidence.Add("Name: GPT4All models folder file name");
                return location;
            }
        }

        return null;
    }

    private static CacheLocation? IdentifyJan(string[] parts)
    {
        for (int i = parts.Length - 3; i >= 1; i--)
        {
            bool legacy = parts[i - 1].Equals("jan", StringComparison.OrdinalIgnoreCase) && parts[i].Equals("models", StringComparison.Ordinal);
            bool current = i >= 2 && parts[i - 2].Equals("Jan", StringComparison.OrdinalIgnoreCase) && parts[i - 1].Equals("data", StringComparison.OrdinalIgnoreCase)
                && parts[i].Equals("models", StringComparison.Ordinal);
            if (legacy || current)
            {
                // Current Jan nests models by engine (models/llamacpp/<id>/); the id is the file's folder.
                var location = new CacheLocation(ModelEcosystem.Jan, Join(parts, i + 1), CacheItemKind.File) { Name = parts[parts.Length - 2] };
                location.Evidence.Add("Name: Jan model folder name");
                return location;
            }
        }

        return null;
    }

    private static void SetRepository(CacheLocation location, string repoId)
    {
        location.Name = repoId;
        int slash = repoId.IndexOf('/');
        location.Publisher = slash > 0 ? repoId.Substring(0, slash) : null;
        location.Repository = slash > 0 ? repoId.Substring(slash + 1) : repoId;
    }

    /// <summary>The content address a hub blob name stands for: 64 hex is SHA-256 (LFS), 40 hex a git blob SHA-1.</summary>
    internal static string? AddressOf(string blobName)
    {
        string name = blobName.ToLowerInvariant();
        return Hex64.IsMatch(name) ? "sha256:" + name : Hex40.IsMatch(name) ? "gitsha1:" + name : null;
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string[] Split(string full) =>
        full.Split(new[] { Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar }, StringSplitOptions.None);

    /// <summary>The path made of the first <paramref name="count"/> parts.</summary>
    private static string Join(string[] parts, int count)
    {
        string joined = string.Join(Path.DirectorySeparatorChar.ToString(), parts, 0, count);
        return joined.Length == 0 ? Path.DirectorySeparatorChar.ToString() : joined;
    }

    /// <summary>Compares paths the way this OS's file system does (by default).</summary>
    internal static bool SamePath(string a, string b) => string.Equals(a, b, PathComparison);
}
