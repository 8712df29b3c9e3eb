using System.Collections;
using System.IO;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace ModelSecurity.Reporting;

/// <summary>
/// The module's own JSON report: a summary, then one entry per file with every result piped in for
/// it (scan, hash, source, signature, policy, sandbox, inventory), its facts and findings.
/// </summary>
internal static class JsonReport
{
    public const string FormatId = "modelsecurity-report/1";

    public static void Write(ReportSet set, Stream output)
    {
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        json.WriteStartObject();
        json.WriteString("format", FormatId);
        json.WriteStartObject("tool");
        json.WriteString("name", ReportSet.ToolName);
        json.WriteString("version", ReportSet.ToolVersion);
        json.WriteEndObject();
        json.WriteString("generated", set.Generated.ToUniversalTime().ToString("o", System.Globalization.CultureInfo.InvariantCulture));
        json.WriteStartObject("summary");
        json.WriteNumber("files", set.Models.Count);
        json.WriteNumber("results", set.Items.Count);
        foreach (ReportOutcome outcome in new[] { ReportOutcome.Passed, ReportOutcome.Failed, ReportOutcome.Error, ReportOutcome.Skipped })
        {
            json.WriteNumber(outcome.ToString().ToLowerInvariant(), set.Count(outcome));
        }

        json.WriteEndObject();
        json.WriteStartArray("files");
        foreach (ReportModel model in set.Models)
        {
            json.WriteStartObject();
            json.WriteString("path", model.Path);
            json.WriteString("outcome", model.Outcome.ToString());
            json.WriteStartArray("results");
            foreach (ReportItem item in model.Results)
            {
                json.WriteStartObject();
                json.WriteString("kind", item.Kind.ToString());
                json.WriteString("status", item.Status);
                json.WriteString("outcome", item.Outcome.ToString());
                json.WriteStartObject("facts");
                foreach (DictionaryEntry fact in item.Facts)
                {
                    json.WriteString((string)fact.Key, fact.Value as string);
                }

                json.WriteEndObject();
                json.WriteStartArray("findings");
                foreach (ReportFinding finding in item.Findings)
                {
                    json.WriteStartObject();
                    json.WriteString("ruleId", finding.RuleId);
                    json.WriteString("severity", finding.Severity.ToString());
                    json.WriteString("title", finding.Title);
                    json.WriteString("detail", finding.Detail);
                    if (finding.Location is not null)
                    {
                        json.WriteString("location", finding.Location);
                    }

                    json.WriteStartArray("references");
                    foreach (string reference in finding.References)
                    {
                        json.WriteStringValue(reference);
                    }

                    json.WriteEndArray();
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }
}
