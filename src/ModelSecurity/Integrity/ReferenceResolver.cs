using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using ModelSecurity.Provenance;

namespace ModelSecurity.Integrity;

/// <summary>
/// Finds the value a file's hash should have. Sources are tried in a fixed order and the first that
/// knows the file wins: -Expected, -ManifestPath lists, a sidecar (<c>file.sha256</c>, <c>file.sha512</c>),
/// then the Hugging Face API when -Online was asked (it outranks what a cache says about itself), then
/// the cache layout: the Hugging Face hub cache (blob name or <c>trees/&lt;commit&gt;.json</c>), the
/// Ollama store (blob name, named by a manifest or not) and text-generation-webui's
/// <c>huggingface-metadata.txt</c>. When none knows the file there is no reference: never a Match.
/// </summary>
internal sealed class ReferenceResolver
{
    private static readonly Regex MetadataLine = new(@"^\s*(?:sha256sum:)?\s*(?<hex>[0-9a-fA-F]{64})\s+\*?(?<name>\S.*?)\s*$", RegexOptions.CultureInvariant);
    private static readonly Regex HexOnly = new("^[0-9a-fA-F]+$", RegexOptions.CultureInvariant);

    private readonly HashReference? _expected;
    private readonly IReadOnlyList<ChecksumList> _lists;
    private readonly HubApiClient? _hub;
    private readonly CancellationToken _cancellation;
    private readonly Dictionary<string, Dictionary<string, string>?> _metadata = new(StringComparer.Ordinal);

    public ReferenceResolver(HashReference? expected, IReadOnlyList<ChecksumList> lists, HubApiClient? hub, CancellationToken cancellation)
    {
        _expected = expected;
        _lists = lists;
        _hub = hub;
        _cancellation = cancellation;
    }

    /// <summary>Problems met on the way (the hub unreachable, …), for the caller to report once each.</summary>
    public List<(object Target, Exception Error)> Problems { get; } = new();

    /// <summary>
    /// The reference for <paramref name="path"/>, or null with <paramref name="why"/> saying what was looked at.
    /// <paramref name="location"/> is the file's cache layout (null for none).
    /// </summary>
    public HashReference? Resolve(string path, CacheLocation? location, out string why)
    {
        why = "";
        if (_expected is not null)
        {
            return _expected;
        }

        foreach (ChecksumList list in _lists)
        {
            if (list.Find(path) is ChecksumEntry entry)
            {
                return new HashReference(entry.Algorithm, entry.Value, HashReferenceSource.Manifest, $"listed as '{entry.RelativePath}' in {list.Kind} '{list.FilePath}'");
            }
        }

        if (Sidecar(path) is HashReference sidecar)
        {
            return sidecar;
        }

        HashReference? local = FromLayout(path, location, out string layoutWhy);
        string onlineWhy = "";
        if (_hub is not null && Online(path, location, local, out onlineWhy) is HashReference online)
        {
            return online;
        }
        else if (_hub is not null && local is null)
        {
            layoutWhy = string.Join("; ", new[] { layoutWhy, onlineWhy }.Where(s => s.Length > 0));
        }

        if (local is not null)
        {
            return local;
        }

        why = layoutWhy.Length > 0 ? layoutWhy : "no reference value: no -Expected, manifest entry, sidecar or cache layout names this file's hash";
        return null;
    }

    private static HashReference? Sidecar(string path)
    {
        foreach ((string extension, ModelHashAlgorithm algorithm) in new[] { (".sha256", ModelHashAlgorithm.SHA256), (".sha512", ModelHashAlgorithm.SHA512) })
        {
            string sidecar = path + extension;
            string? text = CacheLayouts.ReadSmallText(sidecar, 64 * 1024);
            if (text is null)
            {
                continue;
            }

            // "<hex>" alone or "<hex>  name", as sha256sum writes it.
            string first = text.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
            if (first.Length == algorithm.HexLength() && HexOnly.IsMatch(first))
            {
                return new HashReference(algorithm, first.ToLowerInvariant(), HashReferenceSource.Sidecar, $"sidecar '{sidecar}'");
            }
        }

        return null;
    }

    private HashReference? FromLayout(string path, CacheLocation? location, out string why)
    {
        why = "";
        if (location is null)
        {
            return null;
        }

        switch (location.Ecosystem)
        {
            case ModelEcosystem.HuggingFace when location.Kind == CacheItemKind.IncompleteBlob:
                why = "a partial download (blobs/<etag>.incomplete): its name is the hash of the finished file, so it is not verified";
                return null;
            case ModelEcosystem.HuggingFace when location.Kind is CacheItemKind.File or CacheItemKind.Blob:
                if (Address(location.ContentAddress) is (ModelHashAlgorithm algorithm, string value))
                {
                    string evidence = location.Evidence.FirstOrDefault(e => e.StartsWith("ContentAddress:", StringComparison.Ordinal))?.Substring(16).Trim() ?? "the cache layout";
                    return new HashReference(algorithm, value, HashReferenceSource.HuggingFaceCache, $"Hugging Face cache {location.Name}: {evidence}");
                }

                why = "in a Hugging Face cache, but neither a link to a blob nor trees/<commit>.json names its hash";
                return null;
            case ModelEcosystem.Ollama when location.Kind == CacheItemKind.Blob && Address(location.ContentAddress) is (ModelHashAlgorithm a, string v):
                return location.AlsoNamedBy.Count > 0
                    ? new HashReference(a, v, HashReferenceSource.OllamaManifest, $"Ollama manifest of {string.Join(", ", location.AlsoNamedBy)} names this {location.MediaType} blob")
                    : new HashReference(a, v, HashReferenceSource.OllamaBlobName, "Ollama blob file name (no manifest in the store names it)");
            case ModelEcosystem.TextGenerationWebUI:
                string? folder = Path.GetDirectoryName(path);
                if (folder is not null && Metadata(folder) is { } sums && sums.TryGetValue(Path.GetFileName(path), out string? sum))
                {
                    return new HashReference(ModelHashAlgorithm.SHA256, sum, HashReferenceSource.TextGenerationWebUIMetadata, $"sha256sum line in '{Path.Combine(folder, "huggingface-metadata.txt")}'");
                }

                why = "text-generation-webui's huggingface-metadata.txt has no sha256sum line for this file";
                return null;
            default:
                return null;
        }
    }

    private HashReference? Online(string path, CacheLocation? location, HashReference? local, out string why)
    {
        why = "";
        if (location is null || location.Publisher is null || location.Name is null || !location.Name.Contains('/', StringComparison.Ordinal)
            || location.Ecosystem is not (ModelEcosystem.HuggingFace or ModelEcosystem.LMStudio or ModelEcosystem.LlamaCpp or ModelEcosystem.TextGenerationWebUI)
            || location.Kind != CacheItemKind.File)
        {
            return null;
        }

        string repoPath = location.RepoPath ?? Path.GetFileName(path);
        string revision = string.IsNullOrWhiteSpace(location.Revision) ? "main" : location.Revision!;
        HubRevision answer;
        try
        {
            answer = _hub!.GetRevision(location.Name, revision, _cancellation);
        }
        catch (HubApiException e)
        {
            if (!Problems.Any(p => p.Error.Message == e.Message))
            {
                Problems.Add((path, e));
            }

            why = "the Hugging Face API could not be asked (see the error)";
            return null;
        }

        if (!answer.Files.TryGetValue(repoPath, out HubFile? file))
        {
            why = $"the Hugging Face API lists no '{repoPath}' in {location.Name}@{revision}";
            return null;
        }

        (ModelHashAlgorithm algorithm, string? value) = file.LfsSha256 is not null ? (ModelHashAlgorithm.SHA256, file.LfsSha256) : (ModelHashAlgorithm.GitBlobSHA1, file.BlobId);
        if (value is null)
        {
            why = $"the Hugging Face API gives no hash for '{repoPath}' in {location.Name}@{revision}";
            return null;
        }

        string commit = answer.Commit is not null && answer.Commit != revision ? $" (commit {answer.Commit})" : "";
        string detail = $"Hugging Face API {_hub.Endpoint}: {location.Name}@{revision}{commit} '{repoPath}'";
        if (local is not null && local.Algorithm == algorithm && local.Value != value)
        {
            detail += $"; the local {local.Source} reference ({local.Value}) disagrees with the hub";
        }

        return new HashReference(algorithm, value, HashReferenceSource.HuggingFaceApi, detail);
    }

    private Dictionary<string, string>? Metadata(string folder)
    {
        if (_metadata.TryGetValue(folder, out Dictionary<string, string>? known))
        {
            return known;
        }

        Dictionary<string, string>? sums = null;
        string? text = CacheLayouts.ReadSmallText(Path.Combine(folder, "huggingface-metadata.txt"), 1024 * 1024);
        if (text is not null)
        {
            sums = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (string line in text.Split('\n'))
            {
                Match m = MetadataLine.Match(line);
                if (m.Success)
                {
                    sums[m.Groups["name"].Value] = m.Groups["hex"].Value.ToLowerInvariant();
                }
            }
        }

        _metadata[folder] = sums;
        return sums;
    }

    /// <summary>A cache content address (<c>sha256:&lt;hex&gt;</c>, <c>gitsha1:&lt;hex&gt;</c>) as algorithm and value.</summary>
    internal static (ModelHashAlgorithm, string)? Address(string? contentAddress) =>
        contentAddress switch
        {
            string a when a.StartsWith("sha256:", StringComparison.Ordinal) => (ModelHashAlgorithm.SHA256, a.Substring(7)),
            string a when a.StartsWith("gitsha1:", StringComparison.Ordinal) => (ModelHashAlgorithm.GitBlobSHA1, a.Substring(8)),
            _ => null,
        };
}
