using System;
using System.Collections.Generic;
using System.Linq;

namespace ModelSecurity.Analysis;

/// <summary>One thing a reader found in a file, identified by a stable rule id from the catalogue.</summary>
public sealed class ModelFinding
{
    internal ModelFinding(RuleDefinition rule, string detail, string? location, IEnumerable<string>? extraReferences = null)
    {
        RuleId = rule.Id;
        Severity = rule.Severity;
        Title = rule.Title;
        Detail = detail;
        Location = location;
        References = extraReferences is null ? rule.References : rule.References.Concat(extraReferences).Distinct(StringComparer.Ordinal).ToArray();
        Verdict = rule.Verdict;
    }

    /// <summary>Stable rule id, such as <c>MS-FMT-005</c>; see about_ModelSecurity for the catalogue.</summary>
    public string RuleId { get; }

    /// <summary>How serious the finding is.</summary>
    public FindingSeverity Severity { get; }

    /// <summary>One-line title of the rule.</summary>
    public string Title { get; }

    /// <summary>What was seen in this file.</summary>
    public string Detail { get; }

    /// <summary>Where in the file: a zip member, byte offset, tensor or key name; null for the whole file.</summary>
    public string? Location { get; }

    /// <summary>CVE and GHSA ids, or other public references, behind the rule.</summary>
    public IReadOnlyList<string> References { get; }

    /// <summary>The verdict this finding forces on its file at the least (Clean when it only informs).</summary>
    internal ScanVerdict Verdict { get; }

    /// <inheritdoc />
    public override string ToString() => Location is null
        ? $"{RuleId} [{Severity}] {Title}: {Detail}"
        : $"{RuleId} [{Severity}] {Title} at {Location}: {Detail}";
}
