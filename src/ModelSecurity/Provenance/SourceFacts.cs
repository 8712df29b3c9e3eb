using System;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Linq;
using ModelSecurity.Analysis;

namespace ModelSecurity.Provenance;

/// <summary>
/// The facts about one model gathered while reading its sources, before they become a
/// <see cref="ModelSource"/>. The first source to state a fact keeps it; every source is recorded
/// in <see cref="Evidence"/>.
/// </summary>
internal sealed class SourceFacts
{
    private readonly List<ModelFinding> _findings = new();
    private readonly HashSet<string> _findingKeys = new(StringComparer.Ordinal);

    public string? Path { get; set; }

    public string? Name { get; set; }

    public ModelEcosystem Ecosystem { get; set; } = ModelEcosystem.Local;

    public string? Publisher { get; set; }

    public string? Repository { get; set; }

    public string? Revision { get; set; }

    public string? Tag { get; set; }

    public string? License { get; set; }

    public List<string> BaseModels { get; } = new();

    public TrustLevel TrustLevel { get; set; } = TrustLevel.Unknown;

    public string TrustReason { get; set; } = "Where the model came from is not known.";

    public string? LookalikeOf { get; set; }

    public List<string> Evidence { get; } = new();

    public OrderedDictionary? Remote { get; set; }

    /// <summary>Where the file's own metadata (GGUF, SafeTensors, model card) says it comes from: (publisher, repository id, source).</summary>
    public List<(string? Publisher, string? RepoId, string Source)> Claims { get; } = new();

    /// <summary>Licences by source, to find disagreements.</summary>
    public List<(string License, string Source)> Licenses { get; } = new();

    /// <summary>The Hugging Face repository id to ask the API about with -Online.</summary>
    public string? HubRepoId { get; set; }

    /// <summary>The Ollama registry reference to ask about with -Online.</summary>
    public (string Host, string Namespace, string Model, string Tag)? OllamaReference { get; set; }

    /// <summary>Folder whose README.md and config.json describe the model (null: none).</summary>
    public string? CardFolder { get; set; }

    public IReadOnlyList<ModelFinding> Findings => _findings;

    public void Report(string ruleId, string detail, string? location = null)
    {
        // The same fact read from two files is one finding.
        if (_findingKeys.Add(ruleId + "\n" + detail + "\n" + location))
        {
            _findings.Add(RuleCatalogue.Finding(ruleId, detail, location));
        }
    }

    /// <summary>Drops the findings of one rule at one location (before they are reported again with more sources).</summary>
    public void Remove(string ruleId, string location)
    {
        _findings.RemoveAll(f => f.RuleId == ruleId && f.Location == location);
        _findingKeys.RemoveWhere(k => k.StartsWith(ruleId + "\n", StringComparison.Ordinal) && k.EndsWith("\n" + location, StringComparison.Ordinal));
    }

    public void AddLicense(string? license, string source)
    {
        if (string.IsNullOrWhiteSpace(license))
        {
            return;
        }

        license = license.Trim();
        Licenses.Add((license, source));
        if (License is null)
        {
            License = license;
            Evidence.Add($"License: {source}");
        }
    }

    public void AddBaseModel(string? baseModel, string source)
    {
        if (string.IsNullOrWhiteSpace(baseModel))
        {
            return;
        }

        baseModel = baseModel.Trim();
        if (!BaseModels.Contains(baseModel, StringComparer.OrdinalIgnoreCase))
        {
            BaseModels.Add(baseModel);
            Evidence.Add($"BaseModel: '{baseModel}' from {source}");
        }
    }

    public IReadOnlyList<ModelFinding> SortedFindings() =>
        _findings.OrderByDescending(f => f.Severity).ThenBy(f => f.RuleId, StringComparer.Ordinal).ToArray();
}
