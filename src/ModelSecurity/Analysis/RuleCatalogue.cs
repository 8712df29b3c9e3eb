using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace ModelSecurity.Analysis;

/// <summary>
/// Every finding the module can report, loaded once from the embedded <c>Data/rules.json</c>.
/// The help topic about_ModelSecurity and report writers are generated from the same file.
/// </summary>
public static class RuleCatalogue
{
    private const string ResourceName = "ModelSecurity.Data.rules.json";

    private static readonly Lazy<Dictionary<string, RuleDefinition>> Rules = new(Load);

    /// <summary>All rules, ordered by id.</summary>
    public static IReadOnlyList<RuleDefinition> All => Rules.Value.Values.OrderBy(r => r.Id, StringComparer.Ordinal).ToList();

    /// <summary>The rule with this id.</summary>
    /// <exception cref="KeyNotFoundException">The id is not in the catalogue (a bug in the module).</exception>
    public static RuleDefinition Get(string ruleId) =>
        Rules.Value.TryGetValue(ruleId, out RuleDefinition? rule)
            ? rule
            : throw new KeyNotFoundException($"Rule '{ruleId}' is not in the rule catalogue.");

    /// <summary>The rule with this id, or null when it is not in the catalogue.</summary>
    public static RuleDefinition? TryGet(string ruleId) => Rules.Value.TryGetValue(ruleId, out RuleDefinition? rule) ? rule : null;

    /// <summary>Makes a finding of rule <paramref name="ruleId"/>.</summary>
    internal static ModelFinding Finding(string ruleId, string detail, string? location = null, IEnumerable<string>? extraReferences = null) =>
        new(Get(ruleId), detail, location, extraReferences);

    private static Dictionary<string, RuleDefinition> Load()
    {
        using Stream stream = typeof(RuleCatalogue).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Embedded resource '{ResourceName}' is missing.");
        using JsonDocument document = JsonDocument.Parse(stream);
        var rules = new Dictionary<string, RuleDefinition>(StringComparer.Ordinal);
        foreach (JsonElement entry in document.RootElement.GetProperty("rules").EnumerateArray())
        {
            string id = entry.GetProperty("id").GetString()!;
            var rule = new RuleDefinition(
                id,
                ParseEnum<FindingSeverity>(entry.GetProperty("severity").GetString()!),
                ParseEnum<ScanVerdict>(entry.GetProperty("verdict").GetString()!),
                entry.GetProperty("title").GetString()!,
                entry.GetProperty("description").GetString()!,
                entry.TryGetProperty("references", out JsonElement refs)
                    ? refs.EnumerateArray().Select(r => r.GetString()!).ToArray()
                    : Array.Empty<string>());
            rules.Add(id, rule);
        }

        return rules;
    }

    private static T ParseEnum<T>(string value)
        where T : struct => (T)Enum.Parse(typeof(T), value, ignoreCase: false);
}
