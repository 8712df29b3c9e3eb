using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;
using ModelSecurity.Analysis;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ModelSecurity.Provenance;

/// <summary>
/// The model card (README.md with YAML front matter) and config files of a model folder: what they
/// declare (licence, base model, datasets, pipeline tag, architectures) and the checks people are told
/// to make by hand (training data and process, intended use, limitations, a clear licence, no remote
/// code). YAML is read into a node tree without constructing objects; only named top-level keys are read.
/// </summary>
internal static class ModelCard
{
    private const int MaxCardBytes = 1024 * 1024;
    private const int MaxFrontMatterChars = 64 * 1024;
    private const RegexOptions Options = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Multiline;

    // What a card must document, and the words that show it does (headings of the Hugging Face card template and common variants).
    private static readonly (string Item, Regex Evidence)[] Sections =
    {
        ("training data", new Regex(@"training data|trained on|pre-?training (data|corpus)|training (dataset|corpus)|\bdatasets?\b", Options)),
        ("training process", new Regex(@"training (procedure|process|details|hyper-?parameters|setup|recipe)|hyper-?parameters|fine-?tun(ed|ing)|pre-?trained (with|using|for)", Options)),
        ("intended use", new Regex(@"intended uses?|use cases?|direct use|downstream use|out-of-scope|how to use|\busage\b", Options)),
        ("limitations, bias and risks", new Regex(@"limitations?|\bbias|\brisks?\b|ethical considerations|\bsafety\b", Options)),
    };

    private static readonly Regex RemoteCodeInCard = new(@"trust_remote_code\s*=\s*True|--trust-remote-code", Options);

    /// <summary>Reads README.md, config.json and tokenizer_config.json of <paramref name="folder"/> into <paramref name="facts"/>.</summary>
    public static void Read(string folder, SourceFacts facts, Lookalikes lookalikes)
    {
        string cardPath = Path.Combine(folder, "README.md");
        string? card = CacheLayouts.ReadSmallText(cardPath, MaxCardBytes);
        if (card is null)
        {
            facts.Report(RuleIds.SourceCardMissing, File.Exists(cardPath)
                ? $"README.md in '{folder}' is larger than {MaxCardBytes / 1024} KiB or cannot be read."
                : $"There is no README.md (model card) in '{folder}'.", cardPath);
        }
        else
        {
            ReadCard(card, cardPath, facts, lookalikes);
        }

        ReadConfig(Path.Combine(folder, "config.json"), facts, true);
        ReadConfig(Path.Combine(folder, "tokenizer_config.json"), facts, false);
    }

    /// <summary>Splits a card into its YAML front matter (null when none) and its body.</summary>
    internal static (string? FrontMatter, string Body) Split(string card)
    {
        string text = card.TrimStart('\uFEFF');
        Match open = Regex.Match(text, @"\A---[ \t]*\r?\n", RegexOptions.CultureInvariant);
        if (!open.Success)
        {
            return (null, text);
        }

        Match close = Regex.Match(text.Substring(open.Length), @"^(---|\.\.\.)[ \t]*(\r?\n|\z)", RegexOptions.Multiline | RegexOptions.CultureInvariant);
        if (!close.Success)
        {
            return (null, text);
        }

        return (text.Substring(open.Length, close.Index), text.Substring(open.Length + close.Index + close.Length));
    }

    /// <summary>The top-level mapping of the front matter, or an error message.</summary>
    internal static (YamlMappingNode? Map, string? Error) ParseFrontMatter(string yaml)
    {
        if (yaml.Length > MaxFrontMatterChars)
        {
            return (null, $"the front matter is {yaml.Length:N0} characters, more than the {MaxFrontMatterChars:N0} read");
        }

        try
        {
            var stream = new YamlStream();
            using var reader = new StringReader(yaml);
            stream.Load(reader);
            if (stream.Documents.Count == 0)
            {
                return (null, null);
            }

            return stream.Documents[0].RootNode is YamlMappingNode map ? (map, null) : (null, "the front matter is not a YAML mapping");
        }
        catch (Exception e) when (e is YamlException or InvalidOperationException or ArgumentException)
        {
            return (null, "the front matter is not valid YAML: " + e.Message);
        }
    }

    /// <summary>Scalar values of a top-level key: a scalar gives one, a sequence of scalars gives each.</summary>
    internal static List<string> Values(YamlMappingNode map, string key)
    {
        var values = new List<string>();
        foreach (KeyValuePair<YamlNode, YamlNode> entry in map.Children)
        {
            if (entry.Key is YamlScalarNode { Value: { } name } && name == key)
            {
                if (entry.Value is YamlScalarNode { Value: { } scalar } && scalar.Length > 0)
                {
                    values.Add(scalar);
                }
                else if (entry.Value is YamlSequenceNode sequence)
                {
                    values.AddRange(sequence.Children.Take(1000).OfType<YamlScalarNode>().Select(s => s.Value).Where(v => !string.IsNullOrWhiteSpace(v))!);
                }
            }
        }

        return values;
    }

    /// <summary>Null when <paramref name="license"/> is clear (a known id, an SPDX expression of them, or other with a name), else why not.</summary>
    internal static string? LicenseProblem(string license, string? licenseName, Lookalikes lookalikes)
    {
        string id = license.Trim();
        if (id.Equals("other", StringComparison.OrdinalIgnoreCase))
        {
            return string.IsNullOrWhiteSpace(licenseName) ? "the licence is 'other' with no license_name" : null;
        }

        if (id.Equals("unknown", StringComparison.OrdinalIgnoreCase))
        {
            return "the licence is declared 'unknown'";
        }

        string[] parts = Regex.Split(id.Trim('(', ')'), @"\s+(?:AND|OR|WITH)\s+|[()]", RegexOptions.CultureInvariant)
            .Select(p => p.Trim()).Where(p => p.Length > 0).ToArray();
        string? unknown = parts.FirstOrDefault(p => !lookalikes.IsKnownLicense(p) && !lookalikes.IsKnownLicense(p.Replace("-only", "", StringComparison.OrdinalIgnoreCase).Replace("-or-later", "", StringComparison.OrdinalIgnoreCase)));
        return parts.Length == 0 || unknown is not null
            ? $"'{id}' is neither an SPDX licence id nor a named model licence"
            : null;
    }

    private static void ReadCard(string card, string cardPath, SourceFacts facts, Lookalikes lookalikes)
    {
        (string? frontMatter, string body) = Split(card);
        YamlMappingNode? map = null;
        if (frontMatter is null)
        {
            facts.Report(RuleIds.SourceCardIncomplete, "The model card has no YAML metadata (front matter): no licence, base model or datasets are declared.", cardPath);
        }
        else
        {
            (map, string? error) = ParseFrontMatter(frontMatter);
            if (error is not null)
            {
                facts.Report(RuleIds.SourceCardIncomplete, $"The model card's metadata cannot be read: {error}.", cardPath);
            }
        }

        bool hasDatasets = false;
        if (map is not null)
        {
            string? license = Values(map, "license").FirstOrDefault();
            string? licenseName = Values(map, "license_name").FirstOrDefault();
            if (license is not null)
            {
                string shown = license.Equals("other", StringComparison.OrdinalIgnoreCase) && licenseName is not null ? licenseName : license;
                facts.AddLicense(shown, "model card 'license'" + (shown == license ? "" : " and 'license_name'"));
                if (LicenseProblem(license, licenseName, lookalikes) is string problem)
                {
                    facts.Report(RuleIds.SourceLicenseUnclear, $"The model card's licence is unclear: {problem}.", cardPath);
                }
            }
            else
            {
                facts.Report(RuleIds.SourceLicenseUnclear, "The model card declares no licence in its metadata.", cardPath);
            }

            foreach (string baseModel in Values(map, "base_model").Take(64))
            {
                facts.AddBaseModel(baseModel, "model card 'base_model'");
            }

            List<string> datasets = Values(map, "datasets");
            hasDatasets = datasets.Count > 0;
            if (hasDatasets)
            {
                facts.Evidence.Add($"Datasets: model card 'datasets' ({string.Join(", ", datasets.Take(10))}{(datasets.Count > 10 ? ", …" : "")})");
            }

            if (Values(map, "pipeline_tag").FirstOrDefault() is string pipeline)
            {
                facts.Evidence.Add($"PipelineTag: model card 'pipeline_tag' ({pipeline})");
            }

            List<string> tags = Values(map, "tags");
            if (tags.Count > 0)
            {
                facts.Evidence.Add($"Tags: model card 'tags' ({string.Join(", ", tags.Take(10))}{(tags.Count > 10 ? ", …" : "")})");
            }
        }

        foreach ((string item, Regex evidence) in Sections)
        {
            if (!evidence.IsMatch(body) && !(item == "training data" && hasDatasets))
            {
                facts.Report(RuleIds.SourceCardIncomplete, $"The model card does not document the {item}.", cardPath);
            }
        }

        Match remote = RemoteCodeInCard.Match(body);
        if (remote.Success)
        {
            facts.Report(RuleIds.SourceRemoteCode, $"The model card tells users to run the repository's own Python code ('{remote.Value}').", cardPath);
        }
    }

    private static void ReadConfig(string path, SourceFacts facts, bool isModelConfig)
    {
        string? json = CacheLayouts.ReadSmallText(path, CacheLayouts.MaxBookkeepingBytes);
        if (json is null)
        {
            return;
        }

        string name = Path.GetFileName(path);
        try
        {
            using JsonDocument document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64, AllowTrailingCommas = true });
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            if (isModelConfig)
            {
                if (root.TryGetProperty("architectures", out JsonElement architectures) && architectures.ValueKind == JsonValueKind.Array)
                {
                    string list = string.Join(", ", architectures.EnumerateArray().Take(10).Where(a => a.ValueKind == JsonValueKind.String).Select(a => a.GetString()));
                    facts.Evidence.Add($"Architectures: {name} 'architectures' ({list})");
                }

                if (root.TryGetProperty("model_type", out JsonElement modelType) && modelType.ValueKind == JsonValueKind.String)
                {
                    facts.Evidence.Add($"ModelType: {name} 'model_type' ({modelType.GetString()})");
                }
            }

            if (root.TryGetProperty("auto_map", out JsonElement autoMap) && autoMap.ValueKind == JsonValueKind.Object)
            {
                var entries = new List<string>();
                bool otherRepo = false;
                foreach (JsonProperty entry in autoMap.EnumerateObject().Take(20))
                {
                    string target = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString() ?? "" : entry.Value.ToString();
                    otherRepo |= target.Contains("--", StringComparison.Ordinal);
                    entries.Add($"{entry.Name} = {(target.Length > 120 ? string.Concat(target.AsSpan(0, 120), "…") : target)}");
                }

                facts.Report(RuleIds.SourceRemoteCode,
                    $"{name} maps classes to the repository's own Python code (auto_map: {string.Join("; ", entries)}); transformers runs it with trust_remote_code=True."
                    + (otherRepo ? " Some entries name code in another repository (repo--module.Class)." : ""),
                    path);
            }

            if (root.TryGetProperty("trust_remote_code", out JsonElement trust) && trust.ValueKind == JsonValueKind.True)
            {
                facts.Report(RuleIds.SourceRemoteCode, $"{name} sets trust_remote_code to true.", path);
            }
        }
        catch (JsonException e)
        {
            facts.Evidence.Add($"Config: {name} is not valid JSON ({e.Message})");
        }
    }
}
