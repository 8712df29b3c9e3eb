using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using ModelSecurity.Analysis;

namespace ModelSecurity.Reporting;

/// <summary>The results of one report, grouped by file, with the counts every format prints.</summary>
internal sealed class ReportSet
{
    public ReportSet(IEnumerable<ReportItem> items, DateTimeOffset generated)
    {
        Items = items.ToList();
        Generated = generated;
        StringComparer comparer = RuntimeInformation.IsOSPlatform(OSPlatform.Linux) ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase;
        Models = Items
            .GroupBy(i => i.Path, comparer)
            .Select(g => new ReportModel(g.Key, g.ToList()))
            .ToList();
    }

    public IReadOnlyList<ReportItem> Items { get; }

    /// <summary>One entry per file, in the order the files first arrived.</summary>
    public IReadOnlyList<ReportModel> Models { get; }

    public DateTimeOffset Generated { get; }

    public static string ToolName => "ModelSecurity";

    public static string ToolVersion { get; } =
        typeof(ReportSet).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(ReportSet).Assembly.GetName().Version?.ToString(3)
        ?? "0.0.0";

    public int Count(ReportOutcome outcome) => Items.Count(i => i.Outcome == outcome);

    /// <summary>Rules the findings use, catalogue rules first (ordered by id), then foreign ones.</summary>
    public IReadOnlyList<ReportFinding> DistinctRules() =>
        Items.SelectMany(i => i.Findings)
            .GroupBy(f => f.RuleId, StringComparer.Ordinal)
            .Select(g => g.First())
            .OrderBy(f => f.RuleId, StringComparer.Ordinal)
            .ToList();

    /// <summary>
    /// Text safe for XML 1.0: characters XML cannot carry (most C0 controls, lone surrogates, U+FFFE/F)
    /// become U+FFFD, so a hostile file name or metadata value cannot break a report.
    /// </summary>
    public static string XmlSafe(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        StringBuilder? builder = null;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            bool ok;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                builder?.Append(c).Append(text[i + 1]);
                i++;
                continue;
            }

            ok = c is '\t' or '\n' or '\r' || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD);
            if (!ok && builder is null)
            {
                builder = new StringBuilder(text.Length).Append(text, 0, i);
            }

            builder?.Append(ok ? c : '\uFFFD');
        }

        return builder?.ToString() ?? text;
    }

    /// <summary>The worst severity among findings, or null when there are none.</summary>
    public static FindingSeverity? Worst(IEnumerable<ReportFinding> findings) =>
        findings.Any() ? findings.Max(f => f.Severity) : null;
}

/// <summary>Everything reported of one file.</summary>
internal sealed class ReportModel
{
    public ReportModel(string path, IReadOnlyList<ReportItem> results)
    {
        Path = path;
        Results = results;
    }

    public string Path { get; }

    public IReadOnlyList<ReportItem> Results { get; }

    /// <summary>Failed beats Error beats Skipped beats Passed.</summary>
    public ReportOutcome Outcome =>
        Results.Any(r => r.Outcome == ReportOutcome.Failed) ? ReportOutcome.Failed
        : Results.Any(r => r.Outcome == ReportOutcome.Error) ? ReportOutcome.Error
        : Results.Any(r => r.Outcome == ReportOutcome.Skipped) ? ReportOutcome.Skipped
        : ReportOutcome.Passed;

    public ReportItem? Of(ReportKind kind) => Results.FirstOrDefault(r => r.Kind == kind);

    /// <summary>A fact from the first result that has it.</summary>
    public string? Fact(string name, params ReportKind[] kinds) =>
        Results.Where(r => kinds.Length == 0 || kinds.Contains(r.Kind)).Select(r => r.Facts[name] as string).FirstOrDefault(v => !string.IsNullOrEmpty(v));

    public IEnumerable<ReportFinding> Findings => Results.SelectMany(r => r.Findings);
}
