using System;
using System.Collections.Generic;
using System.Linq;
using ModelSecurity.Analysis;

namespace ModelSecurity.Governance;

/// <summary>One way a file breaks a policy.</summary>
public sealed class ModelPolicyViolation
{
    internal ModelPolicyViolation(string ruleId, string rule, string detail)
    {
        RuleId = ruleId;
        Rule = rule;
        Detail = detail;
    }

    /// <summary>The stable rule id (MS-POL-…), explained in the rule catalogue (about_ModelSecurity).</summary>
    public string RuleId { get; }

    /// <summary>The policy rule, by its short name (ApprovedModel, PinnedRevision, Hash, Publisher, Format, Licence, Verdict, Signature, ModelCard, Community).</summary>
    public string Rule { get; }

    /// <summary>What was found, against what the policy asks.</summary>
    public string Detail { get; }

    /// <inheritdoc />
    public override string ToString() => $"{RuleId} {Rule}: {Detail}";
}

/// <summary>What <c>Test-ModelPolicy</c> reports for one file.</summary>
public sealed class ModelPolicyResult : IModelFileReference
{
    internal ModelPolicyResult(string path, string policy, string? policyPath, IReadOnlyList<ModelPolicyViolation> violations, IReadOnlyList<string> advice, IReadOnlyList<string> checks)
    {
        Path = path;
        Policy = policy;
        PolicyPath = policyPath;
        Violations = violations;
        Advice = advice;
        Checks = checks;
    }

    /// <summary>Full path of the file.</summary>
    public string Path { get; }

    /// <summary>File name, for tables.</summary>
    public string Name => System.IO.Path.GetFileName(Path);

    /// <summary>True only when the file breaks no rule of the policy.</summary>
    public bool Compliant => Violations.Count == 0;

    /// <summary>Each rule the file breaks, with the detail; empty when compliant.</summary>
    public IReadOnlyList<ModelPolicyViolation> Violations { get; }

    /// <summary>Advice that is not a rule (run it in a sandbox first, …).</summary>
    public IReadOnlyList<string> Advice { get; }

    /// <summary>What was checked and what each check found, one line per rule ("Verdict: Clean (Test-ModelFile)").</summary>
    public IReadOnlyList<string> Checks { get; }

    /// <summary>The policy's name: its file name, or "standard download checklist".</summary>
    public string Policy { get; }

    /// <summary>Full path of the policy file; null for the standard download checklist.</summary>
    public string? PolicyPath { get; }

    /// <inheritdoc />
    public override string ToString() => $"{(Compliant ? "Compliant" : "NotCompliant")} {Path}";
}
