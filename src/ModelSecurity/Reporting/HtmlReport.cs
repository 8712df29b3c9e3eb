using System;
using System.Collections;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;

namespace ModelSecurity.Reporting;

/// <summary>
/// A single-file HTML report for people: summary counts, one row per file with its verdict, hash,
/// source and findings, and a detail section per file. Everything from the files (names, metadata,
/// finding details) is HTML-encoded, and a content security policy forbids scripts, remote content and
/// forms, so a hostile model cannot turn the report against its reader.
/// </summary>
internal static class HtmlReport
{
    private const string Style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1b1f24;background:#fff}
        h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:2rem 0 .5rem}
        .meta{color:#57606a;font-size:.9rem}
        .cards{display:flex;flex-wrap:wrap;gap:.75rem;margin:1rem 0}
        .card{border:1px solid #d0d7de;border-radius:8px;padding:.6rem 1rem;min-width:7rem}
        .card b{display:block;font-size:1.5rem}
        table{border-collapse:collapse;width:100%;font-size:.9rem}
        th,td{border-bottom:1px solid #d0d7de;padding:.4rem .5rem;text-align:left;vertical-align:top}
        th{background:#f6f8fa}td.path{font-family:ui-monospace,monospace;word-break:break-all}
        .badge{display:inline-block;border-radius:1rem;padding:.05rem .55rem;font-size:.8rem;font-weight:600;white-space:nowrap}
        .Passed{background:#dafbe1;color:#116329}.Failed{background:#ffebe9;color:#a40e26}
        .Error{background:#fff8c5;color:#7d4e00}.Skipped{background:#eaeef2;color:#424a53}
        .sev-Critical,.sev-High{color:#a40e26;font-weight:600}.sev-Medium{color:#7d4e00}.sev-Low,.sev-Info{color:#57606a}
        details{border:1px solid #d0d7de;border-radius:8px;margin:.5rem 0;padding:.4rem .8rem}
        summary{cursor:pointer;font-family:ui-monospace,monospace;word-break:break-all}
        dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;font-size:.85rem}
        dt{color:#57606a}dd{margin:0;word-break:break-all}
        """;

    public static void Write(ReportSet set, Stream output)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        html.Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'\">");
        html.Append("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">");
        html.Append("<meta name=\"referrer\" content=\"no-referrer\">");
        html.Append("<title>ModelSecurity report</title><style>").Append(Style).Append("</style></head><body>\n");
        html.Append("<h1>ModelSecurity report</h1><p class=\"meta\">")
            .Append(E($"{set.Models.Count} file(s), {set.Items.Count} result(s); generated {set.Generated.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC by ModelSecurity {ReportSet.ToolVersion}"))
            .Append("</p>\n<div class=\"cards\">");
        Card(html, "Files", set.Models.Count, null);
        Card(html, "Passed", set.Models.Count(m => m.Outcome == ReportOutcome.Passed), "Passed");
        Card(html, "Failed", set.Models.Count(m => m.Outcome == ReportOutcome.Failed), "Failed");
        Card(html, "Not judged", set.Models.Count(m => m.Outcome == ReportOutcome.Error), "Error");
        Card(html, "Not verified", set.Models.Count(m => m.Outcome == ReportOutcome.Skipped), "Skipped");
        foreach (var group in set.Items.Where(i => i.Kind == ReportKind.Scan).GroupBy(i => i.Status).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            Card(html, "Scan: " + group.Key, group.Count(), null);
        }

        foreach (var group in set.Items.Where(i => i.Kind == ReportKind.Hash).GroupBy(i => i.Status).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            Card(html, "Hash: " + group.Key, group.Count(), null);
        }

        html.Append("</div>\n<h2>Files</h2><table><thead><tr><th>Outcome</th><th>File</th><th>Format</th><th>Scan</th><th>Hash</th><th>Source</th><th>Findings</th></tr></thead><tbody>\n");
        foreach (ReportModel model in set.Models.OrderBy(m => Rank(m.Outcome)).ThenBy(m => m.Path, StringComparer.Ordinal))
        {
            string source = model.Of(ReportKind.Source) is { } s
                ? $"{s.Facts["Name"] ?? s.Facts["Publisher"]} ({s.Status})" + (s.Facts["LookalikeOf"] is string like ? $" imitates {like}" : "")
                : "";
            html.Append("<tr><td>").Append(Badge(model.Outcome)).Append("</td><td class=\"path\">").Append(E(model.Path))
                .Append("</td><td>").Append(E(model.Fact("Format"))).Append("</td><td>").Append(E(model.Of(ReportKind.Scan)?.Status))
                .Append("</td><td>").Append(E(model.Of(ReportKind.Hash)?.Status)).Append("</td><td>").Append(E(source))
                .Append("</td><td>").Append(model.Findings.Count().ToString(CultureInfo.InvariantCulture)).Append("</td></tr>\n");
        }

        html.Append("</tbody></table>\n<h2>Details</h2>\n");
        foreach (ReportModel model in set.Models.OrderBy(m => Rank(m.Outcome)).ThenBy(m => m.Path, StringComparer.Ordinal))
        {
            html.Append(model.Outcome is ReportOutcome.Failed or ReportOutcome.Error ? "<details open>" : "<details>")
                .Append("<summary>").Append(Badge(model.Outcome)).Append(' ').Append(E(model.Path)).Append("</summary>\n");
            foreach (ReportItem item in model.Results)
            {
                html.Append("<h3>").Append(E(JUnitReport.SuiteName(item.Kind))).Append(": ").Append(E(item.Status)).Append("</h3><dl>");
                foreach (DictionaryEntry fact in item.Facts)
                {
                    html.Append("<dt>").Append(E((string)fact.Key)).Append("</dt><dd>").Append(E(Shorten(fact.Value as string))).Append("</dd>");
                }

                html.Append("</dl>\n");
                if (item.Findings.Count > 0)
                {
                    html.Append("<table><thead><tr><th>Rule</th><th>Severity</th><th>Finding</th><th>Where</th></tr></thead><tbody>");
                    foreach (ReportFinding finding in item.Findings)
                    {
                        html.Append("<tr><td>").Append(E(finding.RuleId)).Append("</td><td class=\"sev-").Append(finding.Severity).Append("\">").Append(finding.Severity)
                            .Append("</td><td><b>").Append(E(finding.Title)).Append("</b><br>").Append(E(Shorten(finding.Detail)));
                        if (finding.References.Count > 0)
                        {
                            html.Append("<br><span class=\"meta\">").Append(E(string.Join(", ", finding.References))).Append("</span>");
                        }

                        html.Append("</td><td class=\"path\">").Append(E(finding.Location)).Append("</td></tr>");
                    }

                    html.Append("</tbody></table>\n");
                }
            }

            html.Append("</details>\n");
        }

        html.Append("</body></html>\n");
        byte[] bytes = new UTF8Encoding(false).GetBytes(html.ToString());
        output.Write(bytes, 0, bytes.Length);
    }

    private static void Card(StringBuilder html, string label, int count, string? outcome) =>
        html.Append("<div class=\"card").Append(outcome is null ? "" : " " + outcome).Append("\"><b>").Append(count.ToString(CultureInfo.InvariantCulture)).Append("</b>").Append(E(label)).Append("</div>");

    private static string Badge(ReportOutcome outcome) =>
        $"<span class=\"badge {outcome}\">{outcome switch { ReportOutcome.Error => "Not judged", ReportOutcome.Skipped => "Not verified", _ => outcome.ToString() }}</span>";

    private static int Rank(ReportOutcome outcome) => outcome switch
    {
        ReportOutcome.Failed => 0,
        ReportOutcome.Error => 1,
        ReportOutcome.Skipped => 2,
        _ => 3,
    };

    private static string Shorten(string? text) => text is null ? "" : text.Length > 4000 ? string.Concat(text.AsSpan(0, 4000), "…") : text;

    /// <summary>HTML-encodes text, including characters XML cannot carry.</summary>
    private static string E(string? text) => WebUtility.HtmlEncode(ReportSet.XmlSafe(text));
}
