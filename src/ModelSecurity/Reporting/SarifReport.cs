using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using ModelSecurity.Analysis;

namespace ModelSecurity.Reporting;

/// <summary>
/// SARIF 2.1.0 (OASIS) for code-scanning UIs: one run, the rules the findings use with their
/// catalogue metadata (title, description, references, default level, security-severity), and one
/// result per finding located at its file (and the place inside it as a logical location).
/// </summary>
internal static class SarifReport
{
    private static readonly char[] WordSeparators = { ' ', '-', '/', '(', ')', ',', '.', ':', '\'', '"' };

    public const string SchemaUri = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

    public static void Write(ReportSet set, Stream output)
    {
        IReadOnlyList<ReportFinding> rules = set.DistinctRules();
        var ruleIndex = rules.Select((r, i) => (r.RuleId, i)).ToDictionary(p => p.RuleId, p => p.i, StringComparer.Ordinal);
        var artifacts = set.Models.Select(m => m.Path).ToList();
        var artifactIndex = artifacts.Select((p, i) => (p, i)).ToDictionary(p => p.p, p => p.i, StringComparer.Ordinal);

        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("$schema", SchemaUri);
        json.WriteString("version", "2.1.0");
        json.WriteStartArray("runs");
        json.WriteStartObject();

        json.WriteStartObject("tool");
        json.WriteStartObject("driver");
        json.WriteString("name", ReportSet.ToolName);
        json.WriteString("version", ReportSet.ToolVersion);
        json.WriteString("semanticVersion", ReportSet.ToolVersion);
        json.WriteStartArray("rules");
        foreach (ReportFinding rule in rules)
        {
            WriteRule(json, rule);
        }

        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndObject();

        json.WriteStartArray("invocations");
        json.WriteStartObject();
        json.WriteBoolean("executionSuccessful", true);
        json.WriteString("endTimeUtc", set.Generated.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
        json.WriteEndObject();
        json.WriteEndArray();

        json.WriteStartArray("artifacts");
        foreach (ReportModel model in set.Models)
        {
            json.WriteStartObject();
            json.WriteStartObject("location");
            json.WriteString("uri", FileUri(model.Path));
            json.WriteEndObject();
            if (model.Fact("Length") is string length && long.TryParse(length, NumberStyles.None, CultureInfo.InvariantCulture, out long bytes))
            {
                json.WriteNumber("length", bytes);
            }

            if (model.Of(ReportKind.Hash) is { } hash && hash.Facts["Hash"] is string hex && hash.Facts["Algorithm"] is string algorithm)
            {
                json.WriteStartObject("hashes");
                json.WriteString(algorithm.Replace("SHA", "sha-", StringComparison.OrdinalIgnoreCase), hex);
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();

        json.WriteStartArray("results");
        foreach (ReportItem item in set.Items)
        {
            foreach (ReportFinding finding in item.Findings)
            {
                json.WriteStartObject();
                json.WriteString("ruleId", finding.RuleId);
                json.WriteNumber("ruleIndex", ruleIndex[finding.RuleId]);
                json.WriteString("level", Level(finding.Severity));
                json.WriteStartObject("message");
                json.WriteString("text", $"{finding.Title}: {finding.Detail}");
                json.WriteEndObject();
                json.WriteStartArray("locations");
                json.WriteStartObject();
                json.WriteStartObject("physicalLocation");
                json.WriteStartObject("artifactLocation");
                json.WriteString("uri", FileUri(item.Path));
                json.WriteNumber("index", artifactIndex[item.Path]);
                json.WriteEndObject();
                json.WriteEndObject();
                if (finding.Location is not null)
                {
                    json.WriteStartArray("logicalLocations");
                    json.WriteStartObject();
                    json.WriteString("fullyQualifiedName", finding.Location);
                    json.WriteString("kind", "member");
                    json.WriteEndObject();
                    json.WriteEndArray();
                }

                json.WriteEndObject();
                json.WriteEndArray();
                json.WriteStartObject("partialFingerprints");
                json.WriteString("modelSecurity/v1", Fingerprint(item, finding));
                json.WriteEndObject();
                json.WriteStartObject("properties");
                json.WriteString("kind", item.Kind.ToString());
                json.WriteString("status", item.Status);
                json.WriteString("severity", finding.Severity.ToString());
                json.WriteEndObject();
                json.WriteEndObject();
            }
        }

        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteRule(Utf8JsonWriter json, ReportFinding rule)
    {
        RuleDefinition? known = RuleCatalogue.TryGet(rule.RuleId);
        json.WriteStartObject();
        json.WriteString("id", rule.RuleId);
        json.WriteString("name", Name(known?.Title ?? rule.Title));
        json.WriteStartObject("shortDescription");
        json.WriteString("text", known?.Title ?? rule.Title);
        json.WriteEndObject();
        json.WriteStartObject("fullDescription");
        json.WriteString("text", known?.Description ?? rule.Title);
        json.WriteEndObject();
        json.WriteStartObject("help");
        IReadOnlyList<string> references = known?.References ?? rule.References;
        json.WriteString("text", (known?.Description ?? rule.Title) + (references.Count > 0 ? " References: " + string.Join(", ", references) + "." : ""));
        json.WriteEndObject();
        json.WriteStartObject("defaultConfiguration");
        json.WriteString("level", Level(known?.Severity ?? rule.Severity));
        json.WriteEndObject();
        json.WriteStartObject("properties");
        json.WriteStartArray("tags");
        json.WriteStringValue("security");
        json.WriteStringValue("ai-model");
        json.WriteEndArray();
        if (SecuritySeverity(known?.Severity ?? rule.Severity) is string score)
        {
            json.WriteString("security-severity", score);
        }

        json.WriteString("precision", "high");
        if (references.Count > 0)
        {
            json.WriteStartArray("references");
            foreach (string reference in references)
            {
                json.WriteStringValue(reference);
            }

            json.WriteEndArray();
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>SARIF levels: High and Critical are errors, Medium warnings, Low and Info notes.</summary>
    internal static string Level(FindingSeverity severity) => severity switch
    {
        FindingSeverity.Critical or FindingSeverity.High => "error",
        FindingSeverity.Medium => "warning",
        _ => "note",
    };

    /// <summary>The CVSS-like score GitHub code scanning sorts security results by (none for Info).</summary>
    private static string? SecuritySeverity(FindingSeverity severity) => severity switch
    {
        FindingSeverity.Critical => "9.5",
        FindingSeverity.High => "8.0",
        FindingSeverity.Medium => "5.5",
        FindingSeverity.Low => "3.0",
        _ => null,
    };

    /// <summary>A rule title as a PascalCase identifier ("Pickle imports a dangerous global" → PickleImportsADangerousGlobal).</summary>
    private static string Name(string title) =>
        string.Concat(title.Split(WordSeparators, StringSplitOptions.RemoveEmptyEntries)
            .Select(w => char.ToUpperInvariant(w[0]) + w.Substring(1)));

    internal static string FileUri(string path)
    {
        try
        {
            return System.IO.Path.IsPathFullyQualified(path) ? new Uri(path).AbsoluteUri : Uri.EscapeDataString(path.Replace('\\', '/')).Replace("%2F", "/", StringComparison.Ordinal);
        }
        catch (UriFormatException)
        {
            return Uri.EscapeDataString(path);
        }
    }

    private static string Fingerprint(ReportItem item, ReportFinding finding)
    {
        byte[] data = System.Text.Encoding.UTF8.GetBytes($"{finding.RuleId}\n{item.Path}\n{finding.Location}\n{finding.Detail}");
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(data), 0, 16).ToLowerInvariant();
    }
}
