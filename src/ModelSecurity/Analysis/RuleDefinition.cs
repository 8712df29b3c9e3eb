using System.Collections.Generic;

namespace ModelSecurity.Analysis;

/// <summary>One entry of the rule catalogue (<c>Data/rules.json</c>).</summary>
public sealed class RuleDefinition
{
    internal RuleDefinition(
        string id,
        FindingSeverity severity,
        ScanVerdict verdict,
        string title,
        string description,
        IReadOnlyList<string> references)
    {
        Id = id;
        Severity = severity;
        Verdict = verdict;
        Title = title;
        Description = description;
        References = references;
    }

    /// <summary>Stable id, such as <c>MS-FMT-005</c>.</summary>
    public string Id { get; }

    /// <summary>Severity of every finding of this rule.</summary>
    public FindingSeverity Severity { get; }

    /// <summary>The verdict a finding of this rule forces on its file at the least.</summary>
    public ScanVerdict Verdict { get; }

    /// <summary>One-line title.</summary>
    public string Title { get; }

    /// <summary>Why the rule exists and what to do about a finding.</summary>
    public string Description { get; }

    /// <summary>CVE / GHSA ids and other public references.</summary>
    public IReadOnlyList<string> References { get; }
}
