using System;
using System.Collections.Specialized;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using ModelSecurity.Analysis;

namespace ModelSecurity.Provenance;

/// <summary>
/// -Online: asks Hugging Face and the Ollama registry about a model and adds what they say to its
/// facts (<see cref="SourceFacts.Remote"/>, evidence, findings). A failed request throws an
/// <see cref="OnlineLookupException"/>; what was learnt before it is kept.
/// </summary>
internal sealed class OnlineProvenance
{
    private static readonly Regex RedFlag = new(
        @"\b(malware|malicious|backdoor(ed)?|virus|trojan|pickle|exploit|remote code|code execution|rce|security|vulnerab\w*|cve-\d{4}-\d+|compromised|stealer|ransomware|miner)\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    private static readonly Regex Commit = new("^[0-9a-f]{40}$", RegexOptions.CultureInvariant);

    private readonly HubClient _hub;
    private readonly OllamaRegistryClient _ollama;
    private readonly PublisherRegistry _registry;

    public OnlineProvenance(HubClient hub, OllamaRegistryClient ollama, PublisherRegistry registry)
    {
        _hub = hub;
        _ollama = ollama;
        _registry = registry;
    }

    public void Enrich(SourceFacts facts, CancellationToken cancel)
    {
        facts.Remote ??= new OrderedDictionary();
        if (facts.OllamaReference is { } reference && ModelSourceReader.IsOllamaHost(reference.Host))
        {
            EnrichOllama(facts, reference.Namespace, reference.Model, reference.Tag, cancel);
        }

        if (facts.HubRepoId is not null)
        {
            EnrichHub(facts, facts.HubRepoId, cancel);
        }
    }

    private void EnrichOllama(SourceFacts facts, string ns, string model, string tag, CancellationToken cancel)
    {
        OrderedDictionary remote = facts.Remote!;
        OllamaRemoteManifest manifest = _ollama.GetManifest(ns, model, tag, cancel);
        remote["Registry"] = _ollama.Endpoint.AbsoluteUri.TrimEnd('/');
        remote["ManifestDigest"] = manifest.Digest;
        remote["ModelLayerDigest"] = manifest.ModelDigest;
        remote["ModelLayerSize"] = manifest.ModelSize;
        facts.Evidence.Add($"Remote: Ollama registry manifest of {ns}/{model}:{tag}");
        if (facts.Path is null)
        {
            facts.Revision ??= manifest.Digest;
            facts.Evidence.Add("Revision: SHA-256 of the registry's manifest");
        }
        else if (facts.Revision is not null)
        {
            bool same = facts.Revision == manifest.Digest;
            remote["ManifestMatchesLocal"] = same;
            facts.Evidence.Add(same
                ? "Revision: the registry's manifest for this tag is the local one"
                : $"Revision: the registry's manifest for this tag is now {manifest.Digest}; the local one is an older (or altered) version");
        }
    }

    private void EnrichHub(SourceFacts facts, string repoId, CancellationToken cancel)
    {
        OrderedDictionary remote = facts.Remote!;
        string? revision = facts.Ecosystem == ModelEcosystem.HuggingFace && facts.Revision is not null && Commit.IsMatch(facts.Revision) ? facts.Revision : null;
        revision ??= facts.Path is null ? facts.Revision : null;
        HubModelInfo info = _hub.GetModel(repoId, revision, cancel);
        string endpoint = _hub.Endpoint.AbsoluteUri.TrimEnd('/');
        remote["Hub"] = endpoint;
        remote["Id"] = info.Id;
        remote["Author"] = info.Author;
        remote["Sha"] = info.Sha;
        remote["Gated"] = info.Gated;
        remote["Private"] = info.Private;
        remote["Downloads"] = info.Downloads;
        remote["Likes"] = info.Likes;
        remote["LastModified"] = info.LastModified;
        remote["CreatedAt"] = info.CreatedAt;
        remote["SecurityScansDone"] = info.ScansDone;
        remote["FilesWithIssues"] = info.FilesWithIssues.ToArray();
        facts.Evidence.Add($"Remote: Hugging Face API {endpoint}/api/models/{repoId}{(revision is null ? "" : "/revision/" + revision)}");

        if (!info.Id.Equals(repoId, StringComparison.OrdinalIgnoreCase))
        {
            facts.Report(RuleIds.SourceConflict, $"The hub answers for '{info.Id}' when asked for '{repoId}': the repository was renamed or transferred. Sides: local '{repoId}' / hub '{info.Id}'.", "hub id");
        }

        if (info.Author is not null && facts.Publisher is not null && facts.Ecosystem != ModelEcosystem.Ollama && !info.Author.Equals(facts.Publisher, StringComparison.OrdinalIgnoreCase))
        {
            facts.Report(RuleIds.SourceConflict, $"The hub names '{info.Author}' as the author, not '{facts.Publisher}'. Sides: local '{facts.Publisher}' / hub '{info.Author}'.", "hub author");
        }

        if (facts.Revision is null && info.Sha is not null)
        {
            facts.Revision = info.Sha;
            facts.Evidence.Add("Revision: the hub's current commit (sha)");
        }

        int before = facts.Licenses.Count;
        facts.AddLicense(info.CardLicense, "Hugging Face API cardData.license");
        foreach (string baseModel in info.CardBaseModels)
        {
            facts.AddBaseModel(baseModel, "Hugging Face API cardData.base_model");
        }

        if (facts.Licenses.Count != before)
        {
            ModelSourceReader.ReportLicenseConflicts(facts);
        }

        if (info.FilesWithIssues.Count > 0)
        {
            facts.Report(RuleIds.SourceHubScanIssue, $"Hugging Face's security scan lists {info.FilesWithIssues.Count} file(s) with issues: {string.Join(", ", info.FilesWithIssues.Take(10))}.", "hub securityRepoStatus");
        }

        string ns = info.Author ?? repoId.Split('/')[0];
        HubNamespaceInfo? owner = _hub.GetNamespace(ns, cancel);
        if (owner is not null)
        {
            remote["PublisherType"] = owner.Type;
            remote["PublisherVerified"] = owner.IsVerified;
            facts.Evidence.Add($"Remote: {endpoint}/api/{(owner.Type == "org" ? "organizations" : "users")}/{ns}/overview ({owner.Type}{(owner.IsVerified == true ? ", verified" : "")})");
            if (owner.IsVerified == true && facts.TrustLevel == TrustLevel.Low && facts.LookalikeOf is null && _registry.FindHuggingFace(ns) is null)
            {
                facts.TrustLevel = TrustLevel.Medium;
                facts.TrustReason = $"'{ns}' is a verified organisation on Hugging Face ({owner.FullName ?? ns}) but not in the publisher registry.";
            }
        }

        var flagged = _hub.GetOpenDiscussions(info.Id, cancel).Where(d => RedFlag.IsMatch(d.Title)).Take(10).ToList();
        remote["OpenSecurityDiscussions"] = flagged.Count;
        if (flagged.Count > 0)
        {
            facts.Report(RuleIds.SourceCommunityRedFlag,
                $"Open discussions on {info.Id} mention security problems: {string.Join("; ", flagged.Select(d => $"#{d.Number} '{d.Title}'"))}.",
                "hub discussions");
        }
    }
}
