using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using ModelSecurity.Analysis;

namespace ModelSecurity.Reporting;

/// <summary>Which cmdlet's result an item came from.</summary>
internal enum ReportKind
{
    Scan,
    Hash,
    Source,
    Signature,
    Policy,
    Sandbox,
    Inventory,
    McpServer,
}

/// <summary>What a report says of one result: passed, failed, errored (could not judge), or skipped (no reference).</summary>
internal enum ReportOutcome
{
    Passed,
    Failed,
    Error,
    Skipped,
}

/// <summary>One finding as reports show it; rule ids outside the catalogue are kept with their own title.</summary>
internal sealed record ReportFinding(string RuleId, FindingSeverity Severity, string Title, string Detail, string? Location, IReadOnlyList<string> References);

/// <summary>
/// One piped result, read by property name so live objects, objects back from <c>Start-Job</c> or
/// <c>Invoke-Command</c> (deserialised, enums as names or numbers) and hand-made objects all report
/// the same way.
/// </summary>
internal sealed class ReportItem
{
    private ReportItem(ReportKind kind, string path, string status, ReportOutcome outcome)
    {
        Kind = kind;
        Path = path;
        Status = status;
        Outcome = outcome;
    }

    public ReportKind Kind { get; }

    public string Path { get; }

    /// <summary>The result's own word for its state: a verdict, a hash status, a trust level, …</summary>
    public string Status { get; }

    public ReportOutcome Outcome { get; }

    public List<ReportFinding> Findings { get; } = new();

    /// <summary>Facts worth showing (format, hash, publisher, licence, …), in display order.</summary>
    public OrderedDictionary Facts { get; } = new(StringComparer.Ordinal);

    /// <summary>Reads a piped object; null (with the reason) when it is not a ModelSecurity result.</summary>
    public static ReportItem? From(object? input, out string? reason)
    {
        reason = null;
        if (input is null)
        {
            reason = "the input is null";
            return null;
        }

        PSObject value = input as PSObject ?? PSObject.AsPSObject(input);
        string? path = Text(value, "Path");
        if (string.IsNullOrEmpty(path) && Has(value, "Backend") && Has(value, "ExitCode"))
        {
            // A sandbox run is reported under the model it ran against, else the program it ran.
            path = Enumerate(Property(value, "ModelPath")).Select(p => Convert.ToString(p, CultureInfo.InvariantCulture)).FirstOrDefault(p => !string.IsNullOrEmpty(p))
                ?? Text(value, "Program");
        }

        if (string.IsNullOrEmpty(path))
        {
            reason = "it has no Path property";
            return null;
        }

        if (Has(value, "Verdict") && Has(value, "Findings") && Has(value, "Client") && Has(value, "Server"))
        {
            return FromMcpServer(value, path!);
        }

        if (Has(value, "Verdict") && Has(value, "Findings"))
        {
            return FromScan(value, path!);
        }

        if (Has(value, "Compliant") && Has(value, "Violations"))
        {
            return FromPolicy(value, path!);
        }

        if (Has(value, "SignaturePath") && Has(value, "Status"))
        {
            return FromSignature(value, path!);
        }

        if (Has(value, "Algorithm") && Has(value, "Hash") && Has(value, "Status"))
        {
            return FromHash(value, path!);
        }

        if (Has(value, "TrustLevel"))
        {
            return FromSource(value, path!);
        }

        if (Has(value, "Backend") && Has(value, "ExitCode"))
        {
            return FromSandbox(value, path!);
        }

        if (Has(value, "Ecosystem"))
        {
            var item = new ReportItem(ReportKind.Inventory, path!, "Found", ReportOutcome.Passed);
            Copy(value, item, "Ecosystem", "Name", "Revision", "Format", "Length", "ContentAddress", "LastWriteTime");
            return item;
        }

        reason = "it is not a result of a ModelSecurity cmdlet (no Verdict, Status, TrustLevel, Compliant or Ecosystem property)";
        return null;
    }

    private static ReportItem FromScan(PSObject value, string path)
    {
        string verdict = Text(value, "Verdict") ?? "Inconclusive";
        if (int.TryParse(verdict, NumberStyles.None, CultureInfo.InvariantCulture, out int number))
        {
            // An enum that travelled as its number (remoting into a session without the module).
            verdict = Enum.GetName(typeof(ScanVerdict), number) ?? "Inconclusive";
        }

        ReportOutcome outcome = verdict switch
        {
            "Clean" => ReportOutcome.Passed,
            "Suspicious" or "Malicious" => ReportOutcome.Failed,
            _ => ReportOutcome.Error,
        };
        var item = new ReportItem(ReportKind.Scan, path, verdict, outcome);
        Copy(value, item, "Format", "Length", "BytesRead");
        // A deserialised Metadata is a PSObject around the (still ordered) dictionary.
        if ((Property(value, "Metadata") is PSObject { BaseObject: IDictionary inner } ? inner : Property(value, "Metadata")) is IDictionary metadata)
        {
            foreach (DictionaryEntry entry in metadata)
            {
                string key = "Metadata." + Convert.ToString(entry.Key, CultureInfo.InvariantCulture);
                if (!item.Facts.Contains(key) && item.Facts.Count < 200)
                {
                    item.Facts[key] = Display(entry.Value);
                }
            }
        }

        AddFindings(value, item, "Findings");
        return item;
    }

    // Test-McpServer: one result per server, several per configuration file, so the server's name joins the path.
    private static ReportItem FromMcpServer(PSObject value, string path)
    {
        ReportItem scan = FromScan(value, path + "#" + (Text(value, "Name") ?? string.Empty));
        var item = new ReportItem(ReportKind.McpServer, scan.Path, scan.Status, scan.Outcome);
        item.Findings.AddRange(scan.Findings);
        Copy(value, item, "Client", "Name", "Package", "RequestedVersion", "LockedVersion");
        return item;
    }

    private static ReportItem FromHash(PSObject value, string path)
    {
        string status = Text(value, "Status") ?? "NoReference";
        ReportOutcome outcome = status switch
        {
            "Match" => ReportOutcome.Passed,
            "NoReference" => ReportOutcome.Skipped,
            _ => ReportOutcome.Failed,
        };
        var item = new ReportItem(ReportKind.Hash, path, status, outcome);
        Copy(value, item, "Algorithm", "Hash", "Expected", "ExpectedSource", "Length", "FromCache", "Detail");
        string expected = $"{Text(value, "Expected") ?? "(none)"} from {Text(value, "ExpectedSource") ?? "(none)"}";
        switch (status)
        {
            case "Match":
                break;
            case "NoReference":
                item.Findings.Add(Catalogued(RuleIds.HashNoReference, $"No published or pinned {Text(value, "Algorithm")} value was found for this file; it was hashed but not verified."));
                break;
            case "Mismatch":
                item.Findings.Add(Catalogued(RuleIds.HashMismatch, $"{Text(value, "Algorithm")} is {Text(value, "Hash")}, expected {expected}."));
                break;
            case "Unlisted":
                item.Findings.Add(Catalogued(RuleIds.HashFileUnlisted, Text(value, "Detail") ?? "The file is in the pinned folder but not in its manifest."));
                break;
            default:
                item.Findings.Add(Catalogued(RuleIds.HashFileMissing, Text(value, "Detail") ?? $"Status {status}: expected {expected}."));
                break;
        }

        return item;
    }

    private static ReportItem FromSource(PSObject value, string path)
    {
        string trust = Text(value, "TrustLevel") ?? "Unknown";
        string? lookalike = Text(value, "LookalikeOf");
        var item = new ReportItem(ReportKind.Source, path, trust, ReportOutcome.Passed);
        Copy(value, item, "Name", "Ecosystem", "Publisher", "Repository", "Revision", "Tag", "License", "BaseModel", "TrustLevel", "TrustReason", "LookalikeOf");
        AddFindings(value, item, "Findings");
        bool failed = lookalike is not null || trust == "Blocked" || item.Findings.Any(f => f.Severity >= FindingSeverity.Medium);
        return failed ? item.With(ReportOutcome.Failed) : item;
    }

    private static ReportItem FromSignature(PSObject value, string path)
    {
        string status = Text(value, "Status") ?? "Error";
        ReportOutcome outcome = status switch
        {
            "Valid" => ReportOutcome.Passed,
            "Unverified" => ReportOutcome.Skipped,
            "Invalid" => ReportOutcome.Failed,
            _ => ReportOutcome.Error,
        };
        var item = new ReportItem(ReportKind.Signature, path, status, outcome);
        Copy(value, item, "SignaturePath", "Signer", "Method", "Reason");
        string reason = Text(value, "Reason") ?? status;
        if (status == "Invalid" || outcome == ReportOutcome.Error)
        {
            item.Findings.Add(Catalogued(RuleIds.SignatureInvalid, reason));
        }
        else if (status == "Unverified")
        {
            item.Findings.Add(Catalogued(RuleIds.SignatureUnverified, reason));
        }

        return item;
    }

    private static ReportItem FromPolicy(PSObject value, string path)
    {
        bool compliant = Property(value, "Compliant") is bool b ? b : string.Equals(Text(value, "Compliant"), "True", StringComparison.OrdinalIgnoreCase);
        var item = new ReportItem(ReportKind.Policy, path, compliant ? "Compliant" : "NotCompliant", compliant ? ReportOutcome.Passed : ReportOutcome.Failed);
        Copy(value, item, "PolicyPath");
        foreach (object? violation in Enumerate(Property(value, "Violations")))
        {
            PSObject v = PSObject.AsPSObject(violation!);
            string rule = Text(v, "RuleId") ?? Text(v, "Rule") ?? "policy";
            string detail = Text(v, "Detail") ?? v.ToString();
            item.Findings.Add(RuleCatalogue.TryGet(rule) is { } known
                ? new ReportFinding(known.Id, known.Severity, known.Title, detail, null, known.References)
                : new ReportFinding(rule, FindingSeverity.High, "Policy violation: " + rule, detail, null, Array.Empty<string>()));
        }

        return item;
    }

    private static ReportItem FromSandbox(PSObject value, string path)
    {
        bool timedOut = string.Equals(Text(value, "TimedOut"), "True", StringComparison.OrdinalIgnoreCase);
        string exit = Text(value, "ExitCode") ?? "";
        var leaks = Enumerate(Property(value, "CanaryLeaks")).Select(d => Convert.ToString(d, CultureInfo.InvariantCulture)).Where(d => !string.IsNullOrEmpty(d)).ToList();
        string status = leaks.Count > 0 ? "DecoyLeaked" : timedOut ? "TimedOut" : exit == "0" ? "Exited" : "Failed";
        var item = new ReportItem(ReportKind.Sandbox, path, status, status == "Exited" ? ReportOutcome.Passed : ReportOutcome.Failed);
        Copy(value, item, "Program", "Backend", "CommandLine", "ExitCode", "TimedOut", "Duration", "Network", "Weakened", "CanaryLeaks");
        if (leaks.Count > 0)
        {
            item.Findings.Add(Catalogued(RuleIds.SandboxDecoyLeaked, $"Decoy credentials given to the sandbox came back out: {string.Join(", ", leaks)}."));
        }

        return item;
    }

    private ReportItem With(ReportOutcome outcome)
    {
        var copy = new ReportItem(Kind, Path, Status, outcome);
        copy.Findings.AddRange(Findings);
        foreach (DictionaryEntry fact in Facts)
        {
            copy.Facts[fact.Key] = fact.Value;
        }

        return copy;
    }

    private static void AddFindings(PSObject value, ReportItem item, string property)
    {
        foreach (object? finding in Enumerate(Property(value, property)))
        {
            if (finding is string text)
            {
                item.Findings.Add(ParseFindingText(text));
                continue;
            }

            PSObject f = PSObject.AsPSObject(finding!);
            string ruleId = Text(f, "RuleId") ?? "MS-GEN-003";
            item.Findings.Add(new ReportFinding(ruleId, ParseSeverity(Text(f, "Severity")), Text(f, "Title") ?? Title(ruleId), Text(f, "Detail") ?? "", Text(f, "Location"),
                Enumerate(Property(f, "References")).Select(r => Convert.ToString(r, CultureInfo.InvariantCulture) ?? "").Where(r => r.Length > 0).ToArray()));
        }
    }

    /// <summary>
    /// A finding that was serialised too shallowly and arrived as its text,
    /// <c>"MS-PKL-001 [Critical] Title at location: detail"</c>: the rule id and severity lead it, and the
    /// catalogue's title tells where the location and detail begin.
    /// </summary>
    internal static ReportFinding ParseFindingText(string text)
    {
        int space = text.IndexOf(' ', StringComparison.Ordinal);
        string ruleId = space > 0 ? text.Substring(0, space) : text;
        RuleDefinition? rule = RuleCatalogue.TryGet(ruleId);
        if (rule is null)
        {
            return new ReportFinding(ruleId, FindingSeverity.Medium, ruleId, text, null, Array.Empty<string>());
        }

        string rest = text.Substring(space + 1);
        FindingSeverity severity = rule.Severity;
        int close = rest.IndexOf("] ", StringComparison.Ordinal);
        if (rest.StartsWith('[') && close > 0)
        {
            severity = ParseSeverity(rest.Substring(1, close - 1));
            rest = rest.Substring(close + 2);
        }

        string? location = null;
        string detail = rest;
        if (rest.StartsWith(rule.Title, StringComparison.Ordinal))
        {
            string tail = rest.Substring(rule.Title.Length);
            int colon = tail.IndexOf(": ", StringComparison.Ordinal);
            if (tail.StartsWith(" at ", StringComparison.Ordinal) && colon > 4)
            {
                location = tail.Substring(4, colon - 4);
            }

            detail = colon >= 0 ? tail.Substring(colon + 2) : tail;
        }

        return new ReportFinding(rule.Id, severity, rule.Title, detail, location, rule.References);
    }

    private static ReportFinding Catalogued(string ruleId, string detail)
    {
        RuleDefinition rule = RuleCatalogue.Get(ruleId);
        return new ReportFinding(rule.Id, rule.Severity, rule.Title, detail, null, rule.References);
    }

    private static string Title(string ruleId) => RuleCatalogue.TryGet(ruleId)?.Title ?? ruleId;

    private static FindingSeverity ParseSeverity(string? text) =>
        Enum.TryParse(text, ignoreCase: true, out FindingSeverity severity) && Enum.IsDefined(severity) ? severity : FindingSeverity.Medium;

    private static void Copy(PSObject value, ReportItem item, params string[] names)
    {
        foreach (string name in names)
        {
            object? raw = Property(value, name);
            if (raw is not null && Display(raw) is { Length: > 0 } text)
            {
                item.Facts[name] = text;
            }
        }
    }

    private static bool Has(PSObject value, string name) => value.Properties[name] is not null;

    private static object? Property(PSObject value, string name)
    {
        object? raw = value.Properties[name]?.Value;
        bool deserialised = raw is PSObject d && d.TypeNames.Count > 0 && d.TypeNames[0].StartsWith("Deserialized.", StringComparison.Ordinal);
        return raw is PSObject wrapped && wrapped.BaseObject is not PSCustomObject && !deserialised ? wrapped.BaseObject : raw;
    }

    private static string? Text(PSObject value, string name) => Property(value, name) is { } raw ? Display(raw) : null;

    private static IEnumerable<object?> Enumerate(object? value)
    {
        object? items = value is PSObject wrapped ? wrapped.BaseObject : value;
        return items switch
        {
            null or string => Enumerable.Empty<object?>(),
            IEnumerable list => list.Cast<object?>().Take(10_000).Select(e => e is PSObject p && p.BaseObject is string s ? s : e),
            _ => new[] { value },
        };
    }

    /// <summary>A value as reports print it (invariant culture, lists joined, times in ISO 8601).</summary>
    internal static string Display(object? value) => value switch
    {
        null => "",
        // A deserialised list or dictionary is joined like a live one; a deserialised enum (or other
        // value) keeps the text it had on the sending side.
        PSObject { BaseObject: IEnumerable and not string } ps => Display(ps.BaseObject),
        PSObject ps when ps.TypeNames.Count > 0 && ps.TypeNames[0].StartsWith("Deserialized.", StringComparison.Ordinal) => ps.ToString(),
        PSObject ps when ps.BaseObject is not PSCustomObject => Display(ps.BaseObject),
        string s => s,
        DateTime t => t.ToUniversalTime().ToString("o", CultureInfo.InvariantCulture),
        DateTimeOffset t => t.ToUniversalTime().ToString("o", CultureInfo.InvariantCulture),
        TimeSpan t => t.ToString("c", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        IDictionary d => string.Join("; ", d.Cast<DictionaryEntry>().Take(100).Select(e => $"{e.Key}={Display(e.Value)}")),
        IEnumerable e => string.Join(", ", e.Cast<object?>().Take(100).Select(Display)),
        _ => value.ToString() ?? "",
    };
}
