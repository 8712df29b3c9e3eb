using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading;
using ModelSecurity.Analysis;
using ModelSecurity.Formats;
using ModelSecurity.Formats.Gguf;
using ModelSecurity.Formats.SafeTensors;

namespace ModelSecurity.Provenance;

/// <summary>
/// Gathers where a model came from: the cache layout, the file's own metadata (GGUF <c>general.*</c>,
/// SafeTensors <c>__metadata__</c>), the model card and config, or the name alone; then judges the
/// publisher against the registry and the name against popular ones. Claims inside a file are
/// compared with where the file sits but never earn trust by themselves. Reads headers and small
/// files only.
/// </summary>
internal sealed class ModelSourceReader
{
    private const int MaxLicenseLayerBytes = 256 * 1024;

    private static readonly Regex HubUrl = new(@"^https?://(?:www\.)?(?:huggingface\.co|hf\.co)/(?!api/|datasets/|spaces/)(?<ns>[^/\s?#]+)/(?<repo>[^/\s?#]+)", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);
    private static readonly Regex HubId = new(@"^(?<ns>[^/\s]+)/(?<repo>[^/\s]+)$", RegexOptions.CultureInvariant);

    // Licence texts Ollama ships as a layer, recognised by their titles (most specific first).
    private static readonly (Regex Text, string Id)[] LicenseTexts =
    {
        (new Regex(@"LLAMA 4 COMMUNITY LICENSE", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "llama4"),
        (new Regex(@"LLAMA 3\.3 COMMUNITY LICENSE", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "llama3.3"),
        (new Regex(@"LLAMA 3\.2 COMMUNITY LICENSE", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "llama3.2"),
        (new Regex(@"LLAMA 3\.1 COMMUNITY LICENSE", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "llama3.1"),
        (new Regex(@"META LLAMA 3 COMMUNITY LICENSE", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "llama3"),
        (new Regex(@"LLAMA 2 COMMUNITY LICENSE", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "llama2"),
        (new Regex(@"Gemma Terms of Use", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "gemma"),
        (new Regex(@"Apache License,?\s+Version 2\.0", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "apache-2.0"),
        (new Regex(@"\bMIT License\b|Permission is hereby granted, free of charge", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "mit"),
        (new Regex(@"Attribution-NonCommercial 4\.0 International", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "cc-by-nc-4.0"),
        (new Regex(@"Attribution 4\.0 International", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant), "cc-by-4.0"),
    };

    public ModelSourceReader(PublisherRegistry registry, Lookalikes lookalikes)
    {
        Registry = registry;
        Lookalike = lookalikes;
    }

    public PublisherRegistry Registry { get; }

    public Lookalikes Lookalike { get; }

    /// <summary>Everything the disk says about one file.</summary>
    public SourceFacts ReadFile(string path, CancellationToken cancel)
    {
        var facts = new SourceFacts { Path = path, Name = Path.GetFileName(path) };
        CacheLocation? location = CacheLayouts.Identify(path);
        string? folder = Path.GetDirectoryName(path);
        facts.CardFolder = folder;
        if (location is not null)
        {
            ApplyLocation(facts, location, path);
        }
        else
        {
            facts.Evidence.Add("Ecosystem: the file is in no known cache layout");
        }

        // The card comes first: what its author declares outranks what a converter wrote into the file.
        if (facts.CardFolder is not null)
        {
            ModelCard.Read(facts.CardFolder, facts, Lookalike);
        }

        cancel.ThrowIfCancellationRequested();
        ReadContent(facts, path);

        Judge(facts, location is null ? null : NamespaceOf(location));
        return facts;
    }

    /// <summary>What a name alone says, before anything is downloaded.</summary>
    /// <exception cref="ArgumentException">The name is not of a form Hugging Face or Ollama takes.</exception>
    public SourceFacts ReadName(string name)
    {
        string text = name.Trim();
        if (text.Length == 0 || text.Length > 512 || text.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            throw new ArgumentException($"'{name}' is not a model name: use 'org/repo' for Hugging Face or 'model:tag' for Ollama.");
        }

        var facts = new SourceFacts();
        string? revision = null;
        Match url = HubUrl.Match(text);
        if (url.Success)
        {
            text = url.Groups["ns"].Value + "/" + url.Groups["repo"].Value;
        }
        else if (text.StartsWith("https://ollama.com/", StringComparison.OrdinalIgnoreCase) || text.StartsWith("https://registry.ollama.ai/", StringComparison.OrdinalIgnoreCase))
        {
            text = text.Substring(text.IndexOf(".com/", StringComparison.OrdinalIgnoreCase) is int i and >= 0 ? i + 5 : "https://registry.ollama.ai/".Length).TrimEnd('/');
            if (text.StartsWith("library/", StringComparison.OrdinalIgnoreCase))
            {
                text = text.Substring("library/".Length);
            }

            if (!text.Contains(':', StringComparison.Ordinal) && !text.Contains('/', StringComparison.Ordinal))
            {
                text += ":latest";
            }
        }

        int at = text.IndexOf('@', StringComparison.Ordinal);
        if (at > 0 && !text.Contains(':', StringComparison.Ordinal))
        {
            revision = text.Substring(at + 1);
            text = text.Substring(0, at);
        }

        string[] segments = text.Split('/');
        if (segments.Any(s => s.Length == 0 || s.Length > 200))
        {
            throw new ArgumentException($"'{name}' is not a model name: use 'org/repo' for Hugging Face or 'model:tag' for Ollama.");
        }

        bool hfViaOllama = segments.Length == 3 && (segments[0].Equals("hf.co", StringComparison.OrdinalIgnoreCase) || segments[0].Equals("huggingface.co", StringComparison.OrdinalIgnoreCase));
        if (!hfViaOllama && segments.Length == 2 && !text.Contains(':', StringComparison.Ordinal))
        {
            Match id = HubId.Match(text);
            facts.Ecosystem = ModelEcosystem.HuggingFace;
            facts.Name = text;
            facts.Publisher = id.Groups["ns"].Value;
            facts.Repository = id.Groups["repo"].Value;
            facts.Evidence.Add("Name: -Name, read as a Hugging Face repository id (org/repo)");
            facts.Evidence.Add("Publisher: namespace of the repository id");
            if (revision is not null)
            {
                facts.Revision = revision;
                facts.Evidence.Add("Revision: -Name after '@'");
            }

            facts.HubRepoId = text;
            Judge(facts, (facts.Publisher, NamespaceKind.HuggingFace));
            return facts;
        }

        if (segments.Length > 3)
        {
            throw new ArgumentException($"'{name}' has too many '/' for an Ollama name ([host/][namespace/]model[:tag]) or a Hugging Face id (org/repo).");
        }

        string last = segments[^1];
        int colon = last.IndexOf(':', StringComparison.Ordinal);
        string model = colon >= 0 ? last.Substring(0, colon) : last;
        string? tag = colon >= 0 ? last.Substring(colon + 1) : null;
        if (model.Length == 0 || tag is { Length: 0 } || (segments.Length < 3 && text.Count(c => c == ':') > 1))
        {
            throw new ArgumentException($"'{name}' is not an Ollama name ([host/][namespace/]model[:tag]).");
        }

        string host = segments.Length == 3 ? segments[0] : OllamaManifest.DefaultHost;
        string ns = segments.Length >= 2 ? segments[^2] : OllamaManifest.DefaultNamespace;
        var manifest = new OllamaManifest(string.Empty, host, ns, model, tag ?? "latest");
        facts.Ecosystem = ModelEcosystem.Ollama;
        facts.Name = manifest.DisplayName;
        facts.Publisher = ns;
        facts.Repository = model;
        facts.Tag = manifest.Tag;
        facts.Evidence.Add("Name: -Name, read as an Ollama name ([host/][namespace/]model[:tag])");
        facts.Evidence.Add(segments.Length >= 2 ? "Publisher: namespace of the Ollama name" : "Publisher: Ollama's default namespace 'library' (no namespace given)");
        facts.Evidence.Add(tag is null ? "Tag: Ollama's default 'latest' (no tag given)" : "Tag: -Name after ':'");
        facts.OllamaReference = (host, ns, model, manifest.Tag);
        if (hfViaOllama)
        {
            facts.HubRepoId = ns + "/" + model;
            facts.Evidence.Add($"Repository: Hugging Face repository {ns}/{model}, pulled through Ollama");
        }

        Judge(facts, (ns, hfViaOllama ? NamespaceKind.HuggingFace : IsOllamaHost(host) ? NamespaceKind.Ollama : NamespaceKind.OtherRegistry), tag);
        return facts;
    }

    private enum NamespaceKind
    {
        HuggingFace,
        Ollama,
        OtherRegistry,
    }

    internal static bool IsOllamaHost(string host) => host.Equals(OllamaManifest.DefaultHost, StringComparison.OrdinalIgnoreCase) || host.Equals("ollama.com", StringComparison.OrdinalIgnoreCase);

    internal static bool IsHubHost(string host) => host.Equals("hf.co", StringComparison.OrdinalIgnoreCase) || host.Equals("huggingface.co", StringComparison.OrdinalIgnoreCase);

    /// <summary>The namespace that decides trust, from where the file sits.</summary>
    private static (string Namespace, NamespaceKind Kind)? NamespaceOf(CacheLocation location)
    {
        if (location.Publisher is null)
        {
            return null;
        }

        if (location.Ecosystem == ModelEcosystem.Ollama)
        {
            string host = location.Name is { } n && n.Count(c => c == '/') >= 2 ? n.Substring(0, n.IndexOf('/', StringComparison.Ordinal)) : OllamaManifest.DefaultHost;
            return (location.Publisher, IsHubHost(host) ? NamespaceKind.HuggingFace : IsOllamaHost(host) ? NamespaceKind.Ollama : NamespaceKind.OtherRegistry);
        }

        return (location.Publisher, NamespaceKind.HuggingFace);
    }

    private static void ApplyLocation(SourceFacts facts, CacheLocation location, string path)
    {
        facts.Ecosystem = location.Ecosystem;
        facts.Name = location.Name ?? facts.Name;
        facts.Publisher = location.Publisher;
        facts.Repository = location.Repository;
        facts.Revision = location.Revision;
        facts.Tag = location.Tag;
        facts.Evidence.Add($"Ecosystem: {location.Ecosystem} layout under '{location.CacheRoot}'");
        facts.Evidence.AddRange(location.Evidence);
        if (location.Publisher is not null)
        {
            facts.Evidence.Add($"Publisher: {location.Ecosystem} {(location.Ecosystem == ModelEcosystem.Ollama ? "namespace" : "repository owner")} from the layout");
        }

        if (location.Ecosystem != ModelEcosystem.Ollama && location.Publisher is not null && location.Repository is not null)
        {
            facts.HubRepoId = location.Publisher + "/" + location.Repository;
        }

        if (location.Ecosystem == ModelEcosystem.HuggingFace)
        {
            // The card describes the snapshot, not the subfolder a file sits in.
            facts.CardFolder = location.Kind == CacheItemKind.File && location.RepoPath is not null
                ? SnapshotRoot(path, location.RepoPath)
                : null;
        }
        else if (location.Ecosystem == ModelEcosystem.Ollama)
        {
            facts.CardFolder = null;
            ApplyOllama(facts, location);
        }
    }

    private static string? SnapshotRoot(string path, string repoPath)
    {
        string? folder = Path.GetDirectoryName(path);
        for (int depth = repoPath.Count(c => c == '/'); depth > 0 && folder is not null; depth--)
        {
            folder = Path.GetDirectoryName(folder);
        }

        return folder;
    }

    private static void ApplyOllama(SourceFacts facts, CacheLocation location)
    {
        OllamaStore store = OllamaStore.Load(location.CacheRoot);
        OllamaManifest? manifest = location.Kind == CacheItemKind.Manifest
            ? store.Manifests.FirstOrDefault(m => facts.Path is not null && CacheLayouts.SamePath(m.ManifestPath, facts.Path))
            : location.ContentAddress is null ? null : store.Referencing(location.ContentAddress).Select(r => r.Manifest).FirstOrDefault();
        if (location.AlsoNamedBy.Count > 1)
        {
            facts.Evidence.Add($"Name: the blob is also named by {string.Join(", ", location.AlsoNamedBy.Skip(1))}");
        }

        if (manifest is null)
        {
            return;
        }

        facts.OllamaReference = (manifest.Host, manifest.Namespace, manifest.Model, manifest.Tag);
        if (IsHubHost(manifest.Host))
        {
            facts.HubRepoId = manifest.Namespace + "/" + manifest.Model;
        }

        if (manifest.ManifestDigest is not null)
        {
            facts.Revision = manifest.ManifestDigest;
            facts.Evidence.Add($"Revision: SHA-256 of manifest '{manifest.ManifestPath}'");
        }

        if (manifest.Config is { } config && CacheLayouts.ReadSmallText(store.BlobPath(config.Digest), 64 * 1024) is string configJson)
        {
            try
            {
                using JsonDocument document = JsonDocument.Parse(configJson, new JsonDocumentOptions { MaxDepth = 16 });
                if (document.RootElement.ValueKind == JsonValueKind.Object)
                {
                    string Field(string key) => document.RootElement.TryGetProperty(key, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() ?? "" : "";
                    facts.Evidence.Add($"Config: Ollama config blob (model_format '{Field("model_format")}', model_family '{Field("model_family")}', file_type '{Field("file_type")}')");
                    if (Field("remote_host").Length > 0)
                    {
                        facts.Evidence.Add($"Config: the model is served by the remote host '{Field("remote_host")}', not from local blobs");
                    }
                }
            }
            catch (JsonException)
            {
                facts.Evidence.Add("Config: the Ollama config blob is not valid JSON");
            }
        }

        OllamaLayer? license = manifest.Layers.FirstOrDefault(l => l.MediaType == "application/vnd.ollama.image.license");
        if (license is not null && CacheLayouts.ReadSmallText(store.BlobPath(license.Digest), MaxLicenseLayerBytes) is string text)
        {
            string? id = LicenseTexts.FirstOrDefault(l => l.Text.IsMatch(text)).Id;
            string firstLine = text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "";
            facts.AddLicense(id ?? (firstLine.Length > 80 ? string.Concat(firstLine.AsSpan(0, 80), "…") : firstLine),
                id is null ? "Ollama licence layer (first line; text not recognised)" : $"Ollama licence layer (recognised as {id})");
        }
    }

    /// <summary>Provenance claims from GGUF metadata or SafeTensors __metadata__ (headers only).</summary>
    private void ReadContent(SourceFacts facts, string path)
    {
        try
        {
            using ModelFileSource source = ModelFileSource.OpenFile(path);
            if (source.Length == 0)
            {
                return;
            }

            ModelFormat format = FormatDetector.Detect(new SniffContext(source)).Format;
            if (format == ModelFormat.Gguf)
            {
                ReadGguf(facts, GgufFile.Parse(source));
            }
            else if (format == ModelFormat.SafeTensors)
            {
                ReadSafeTensors(facts, SafeTensorsHeader.Parse(source));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            facts.Evidence.Add($"Content: the file could not be read ({e.Message})");
        }
    }

    private void ReadGguf(SourceFacts facts, GgufFile file)
    {
        string? Text(string key) => file.Get(key) is string s && s.Trim().Length > 0 ? s.Trim() : null;
        if (Text("general.name") is string modelName)
        {
            facts.Evidence.Add($"ModelName: GGUF general.name ('{modelName}')");
        }

        foreach (string key in new[] { "general.repo_url", "general.url", "general.source.huggingface.repository" })
        {
            if (Text(key) is string value && RepoIdOf(value) is string repoId)
            {
                facts.Claims.Add((repoId.Split('/')[0], repoId, $"GGUF {key} ('{value}')"));
                facts.Evidence.Add($"Claim: GGUF {key} names the repository {repoId}");
            }
        }

        foreach (string key in new[] { "general.source.url", "general.source.repo_url" })
        {
            if (Text(key) is string value)
            {
                facts.Evidence.Add($"Source: GGUF {key} says it was converted from '{value}'");
            }
        }

        foreach (string key in new[] { "general.organization", "general.author" })
        {
            if (Text(key) is string value)
            {
                facts.Claims.Add((value, null, $"GGUF {key} ('{value}')"));
                facts.Evidence.Add($"Claim: GGUF {key} names '{value}'");
            }
        }

        if (Text("general.quantized_by") is string quantizer)
        {
            facts.Evidence.Add($"QuantizedBy: GGUF general.quantized_by ('{quantizer}')");
        }

        string? license = Text("general.license");
        if (license is not null)
        {
            string? licenseName = Text("general.license.name");
            facts.AddLicense(license.Equals("other", StringComparison.OrdinalIgnoreCase) && licenseName is not null ? licenseName : license, "GGUF general.license");
            if (ModelCard.LicenseProblem(license, licenseName, Lookalike) is string problem)
            {
                facts.Report(RuleIds.SourceLicenseUnclear, $"The GGUF metadata's licence is unclear: {problem}.", "metadata general.license");
            }
        }

        for (int i = 0; i < 64; i++)
        {
            string prefix = string.Create(CultureInfo.InvariantCulture, $"general.base_model.{i}.");
            string? repo = Text(prefix + "repo_url") is string url ? RepoIdOf(url) ?? url : null;
            string? baseName = Text(prefix + "name");
            string? org = Text(prefix + "organization");
            string? value = repo ?? (baseName is null ? null : org is null ? baseName : $"{org}/{baseName}");
            if (value is null)
            {
                if (i > 0)
                {
                    break;
                }

                continue;
            }

            facts.AddBaseModel(value, "GGUF " + prefix + (repo is not null ? "repo_url" : "name"));
        }
    }

    private static void ReadSafeTensors(SourceFacts facts, SafeTensorsHeader header)
    {
        if (header.Metadata is null)
        {
            return;
        }

        foreach ((string key, string value) in header.Metadata.Take(1000))
        {
            string v = value.Trim();
            if (v.Length == 0 || v.Length > 512)
            {
                continue;
            }

            switch (key)
            {
                case "modelspec.author" or "author":
                    facts.Claims.Add((v, null, $"SafeTensors __metadata__ {key} ('{v}')"));
                    facts.Evidence.Add($"Claim: SafeTensors __metadata__ {key} names '{v}'");
                    break;
                case "modelspec.license" or "license":
                    facts.AddLicense(v, $"SafeTensors __metadata__ {key}");
                    break;
                case "modelspec.title" or "format":
                    facts.Evidence.Add($"Metadata: SafeTensors __metadata__ {key} ('{v}')");
                    break;
                default:
                    if (RepoIdOf(v) is string repoId && key.Contains("repo", StringComparison.OrdinalIgnoreCase))
                    {
                        facts.Claims.Add((repoId.Split('/')[0], repoId, $"SafeTensors __metadata__ {key} ('{v}')"));
                        facts.Evidence.Add($"Claim: SafeTensors __metadata__ {key} names the repository {repoId}");
                    }

                    break;
            }
        }
    }

    /// <summary>A Hugging Face repository id from a URL or an <c>org/name</c> string; null for anything else.</summary>
    internal static string? RepoIdOf(string value)
    {
        Match url = HubUrl.Match(value);
        if (url.Success)
        {
            return url.Groups["ns"].Value + "/" + url.Groups["repo"].Value;
        }

        return !value.Contains("://", StringComparison.Ordinal) && HubId.IsMatch(value) && value.Length <= 200 ? value : null;
    }

    /// <summary>Look-alike, conflicts between sources, and trust.</summary>
    private void Judge(SourceFacts facts, (string Namespace, NamespaceKind Kind)? ns, string? ollamaTag = null)
    {
        Publisher? publisher = null;
        if (ns is { } n && facts.Repository is not null)
        {
            facts.LookalikeOf = n.Kind == NamespaceKind.HuggingFace
                ? Lookalike.CheckHuggingFace(n.Namespace, facts.Repository, Registry)
                : n.Kind == NamespaceKind.Ollama ? Lookalike.CheckOllama(n.Namespace, facts.Repository, ollamaTag ?? (facts.Path is null ? null : facts.Tag), Registry) : null;
            publisher = n.Kind == NamespaceKind.HuggingFace ? Registry.FindHuggingFace(n.Namespace) : n.Kind == NamespaceKind.Ollama ? Registry.FindOllama(n.Namespace) : null;
            if (facts.LookalikeOf is not null)
            {
                facts.Report(RuleIds.SourceLookalike, $"'{facts.Name}' looks like '{facts.LookalikeOf}' but is not it: a typosquat, or a different model that borrows a popular name.", facts.Name);
            }
        }

        ReportConflicts(facts, ns?.Namespace, publisher);
        ReportLicenseConflicts(facts);
        if (facts.License is null && facts.Path is not null && facts.Ecosystem != ModelEcosystem.Ollama)
        {
            facts.Report(RuleIds.SourceLicenseUnclear, "No source (model card, GGUF or SafeTensors metadata) names a licence.");
        }

        if (facts.LookalikeOf is not null)
        {
            facts.TrustLevel = TrustLevel.Low;
            facts.TrustReason = $"The name imitates '{facts.LookalikeOf}'; it is not that model's publisher.";
        }
        else if (publisher is not null)
        {
            facts.TrustLevel = publisher.Trust;
            facts.TrustReason = $"{publisher.Name} ({publisher.Kind.ToString().ToLowerInvariant()}, {publisher.Origin}): {publisher.Reason}.";
        }
        else if (ns is { } known)
        {
            facts.TrustLevel = TrustLevel.Low;
            facts.TrustReason = known.Kind == NamespaceKind.OtherRegistry
                ? $"'{facts.Name}' comes from a registry other than Ollama's or Hugging Face's; nothing is known of its publisher."
                : $"'{known.Namespace}' is not in the publisher registry: an individual, or an organisation nobody has rated. Prefer the original publisher's repository.";
        }
        else
        {
            string[] claimed = facts.Claims.Select(c => c.RepoId ?? c.Publisher).Where(c => c is not null).Distinct(StringComparer.OrdinalIgnoreCase).Take(3).ToArray()!;
            facts.TrustReason = claimed.Length > 0
                ? $"Where the file came from is not known; only its own metadata names a publisher ({string.Join(", ", claimed)}), and such claims are not authenticated."
                : "Where the file came from is not known: it is in no cache layout and names no publisher.";
        }
    }

    private void ReportConflicts(SourceFacts facts, string? ns, Publisher? located)
    {
        if (ns is null || facts.Path is null)
        {
            return;
        }

        // Republishers hold other publishers' models by design; their files' claims name the original.
        if (located?.Kind is PublisherKind.Quantiser or PublisherKind.Registry)
        {
            return;
        }

        string here = facts.Repository is null ? ns : ns + "/" + facts.Repository;
        foreach ((string? claimPublisher, string? repoId, string source) in facts.Claims)
        {
            if (repoId is not null)
            {
                if (!repoId.Equals(here, StringComparison.OrdinalIgnoreCase) && !repoId.Split('/')[0].Equals(ns, StringComparison.OrdinalIgnoreCase))
                {
                    facts.Report(RuleIds.SourceConflict,
                        $"{source} claims the repository '{repoId}', but the file sits in '{here}' ({facts.Ecosystem} layout). Sides: file metadata '{repoId}' / location '{here}'.",
                        source);
                    facts.Evidence.Add($"Conflict: {source} vs the {facts.Ecosystem} layout ('{here}')");
                }

                continue;
            }

            Publisher? claimed = claimPublisher is null ? null : FindPublisherByName(claimPublisher);
            if (claimed is not null && !ReferenceEquals(claimed, located) && !claimed.HuggingFace.Contains(ns, StringComparer.OrdinalIgnoreCase) && !claimed.Ollama.Contains(ns, StringComparer.OrdinalIgnoreCase))
            {
                facts.Report(RuleIds.SourceConflict,
                    $"{source} names {claimed.Name}, but the file sits in '{here}', which is not one of {claimed.Name}'s namespaces ({string.Join(", ", claimed.HuggingFace.Concat(claimed.Ollama))}). Sides: file metadata '{claimPublisher}' / location '{ns}'.",
                    source);
                facts.Evidence.Add($"Conflict: {source} vs the {facts.Ecosystem} layout ('{ns}')");
            }
        }
    }

    /// <summary>The registry publisher a free-text organisation or author names ("Meta Llama", "Qwen", "mistralai").</summary>
    private Publisher? FindPublisherByName(string name)
    {
        string loose = Lookalikes.Loose(name);
        if (loose.Length < 3)
        {
            return null;
        }

        return Registry.Publishers.FirstOrDefault(p =>
            Lookalikes.Loose(p.Name) == loose
            || p.HuggingFace.Any(n => Lookalikes.Loose(n) == loose)
            || (Lookalikes.Loose(p.Name).Length >= 4 && loose.StartsWith(Lookalikes.Loose(p.Name), StringComparison.Ordinal) && p.Kind == PublisherKind.Organisation && p.Trust == TrustLevel.High));
    }

    internal static void ReportLicenseConflicts(SourceFacts facts)
    {
        facts.Remove(RuleIds.SourceConflict, "licence");
        var distinct = facts.Licenses
            .Where(l => !l.License.Equals("other", StringComparison.OrdinalIgnoreCase) && !l.Source.Contains("not recognised", StringComparison.Ordinal))
            .GroupBy(l => Lookalikes.Loose(l.License))
            .ToList();
        if (distinct.Count > 1)
        {
            string sides = string.Join(" / ", distinct.Select(g => $"'{g.First().License}' ({string.Join(", ", g.Select(l => l.Source))})"));
            facts.Report(RuleIds.SourceConflict, $"The sources name different licences: {sides}.", "licence");
        }
    }
}
