using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Xml;

namespace ModelSecurity.Reporting;

/// <summary>
/// JUnit XML for CI test tabs: a test suite per cmdlet, a test case per result. Failed results are
/// failures, results that could not be judged (Inconclusive, signature errors) are errors, results with
/// nothing to verify against (NoReference, keyless signatures) are skipped.
/// </summary>
internal static class JUnitReport
{
    public static void Write(ReportSet set, Stream output)
    {
        var settings = new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false) };
        using XmlWriter xml = XmlWriter.Create(output, settings);
        xml.WriteStartDocument();
        xml.WriteStartElement("testsuites");
        xml.WriteAttributeString("name", ReportSet.ToolName);
        WriteCounts(xml, set.Items.Count, set.Count(ReportOutcome.Failed), set.Count(ReportOutcome.Error), set.Count(ReportOutcome.Skipped));
        foreach (var suite in set.Items.GroupBy(i => i.Kind).OrderBy(g => g.Key))
        {
            xml.WriteStartElement("testsuite");
            xml.WriteAttributeString("name", SuiteName(suite.Key));
            xml.WriteAttributeString("timestamp", set.Generated.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture));
            WriteCounts(xml, suite.Count(), suite.Count(i => i.Outcome == ReportOutcome.Failed), suite.Count(i => i.Outcome == ReportOutcome.Error), suite.Count(i => i.Outcome == ReportOutcome.Skipped));
            foreach (ReportItem item in suite)
            {
                xml.WriteStartElement("testcase");
                xml.WriteAttributeString("classname", $"{ReportSet.ToolName}.{item.Kind}");
                xml.WriteAttributeString("name", ReportSet.XmlSafe(item.Path));
                xml.WriteAttributeString("time", "0");
                string? element = item.Outcome switch
                {
                    ReportOutcome.Failed => "failure",
                    ReportOutcome.Error => "error",
                    ReportOutcome.Skipped => "skipped",
                    _ => null,
                };
                if (element is not null)
                {
                    xml.WriteStartElement(element);
                    string first = item.Findings.Count > 0 ? $"{item.Findings[0].RuleId} {item.Findings[0].Title}" : item.Status;
                    xml.WriteAttributeString("message", ReportSet.XmlSafe($"{item.Status}: {first}" + (item.Findings.Count > 1 ? $" (+{item.Findings.Count - 1} more)" : "")));
                    if (element != "skipped")
                    {
                        xml.WriteAttributeString("type", item.Status);
                        xml.WriteString(ReportSet.XmlSafe(string.Join("\n", item.Findings.Select(f =>
                            $"{f.RuleId} [{f.Severity}] {f.Title}{(f.Location is null ? "" : " at " + f.Location)}: {f.Detail}"))));
                    }

                    xml.WriteEndElement();
                }

                xml.WriteEndElement();
            }

            xml.WriteEndElement();
        }

        xml.WriteEndElement();
        xml.WriteEndDocument();
    }

    private static void WriteCounts(XmlWriter xml, int tests, int failures, int errors, int skipped)
    {
        xml.WriteAttributeString("tests", tests.ToString(CultureInfo.InvariantCulture));
        xml.WriteAttributeString("failures", failures.ToString(CultureInfo.InvariantCulture));
        xml.WriteAttributeString("errors", errors.ToString(CultureInfo.InvariantCulture));
        xml.WriteAttributeString("skipped", skipped.ToString(CultureInfo.InvariantCulture));
        xml.WriteAttributeString("time", "0");
    }

    /// <summary>The cmdlet whose results a suite holds.</summary>
    internal static string SuiteName(ReportKind kind) => kind switch
    {
        ReportKind.Scan => "Test-ModelFile",
        ReportKind.Hash => "Confirm-ModelHash",
        ReportKind.Source => "Get-ModelSource",
        ReportKind.Signature => "Confirm-ModelSignature",
        ReportKind.Policy => "Test-ModelPolicy",
        ReportKind.Sandbox => "Invoke-ModelSandbox",
        ReportKind.McpServer => "Test-McpServer",
        _ => "Get-ModelInventory",
    };
}
