using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace ModelSecurity.Analysis;

/// <summary>What the policy says about one imported name.</summary>
internal enum PickleDecisionKind
{
    /// <summary>On a built-in allowlist pack (exact module and name).</summary>
    Allowed,

    /// <summary>Allowed by the user (<c>-AllowGlobal</c> or a policy file).</summary>
    UserAllowed,

    /// <summary>Not on any allowlist: default deny.</summary>
    NotAllowlisted,

    /// <summary>On the denylist.</summary>
    Denied,

    /// <summary>Walks a dunder attribute (<c>__builtins__</c>, <c>__globals__</c>, <c>__subclasses__</c>...).</summary>
    Dunder,
}

/// <summary>A denylist entry: one module (and its submodules when <c>*</c>), the names, why, and where it is known from.</summary>
internal sealed class PickleDenyEntry
{
    public PickleDenyEntry(string module, IReadOnlyCollection<string> names, string category, IReadOnlyList<string> references, IReadOnlyList<string> sources)
    {
        Module = module;
        Names = new HashSet<string>(names, StringComparer.Ordinal);
        Category = category;
        References = references;
        Sources = sources;
    }

    public string Module { get; }

    public HashSet<string> Names { get; }

    public bool WholeModule => Names.Contains("*");

    /// <summary>CodeExecution, CommandExecution, NativeCode, FileSystem, Network, ProcessControl, UniversalResolver, NestedDeserialisation.</summary>
    public string Category { get; }

    public IReadOnlyList<string> References { get; }

    public IReadOnlyList<string> Sources { get; }

    /// <summary>Gravity for choosing between several matches: running code outranks touching files.</summary>
    public int Rank => Category switch
    {
        "CodeExecution" or "CommandExecution" or "NativeCode" => 3,
        "UniversalResolver" or "NestedDeserialisation" => 2,
        _ => 1,
    };

    /// <summary>The rule a match of this entry reports.</summary>
    public string RuleId => Category switch
    {
        "UniversalResolver" => RuleIds.PickleResolver,
        "NestedDeserialisation" => RuleIds.PickleNestedLoader,
        "FileSystem" or "Network" or "ProcessControl" => RuleIds.PickleSideEffect,
        _ => RuleIds.PickleCodeExecution,
    };
}

/// <summary>The policy's answer for one import, with the evidence.</summary>
internal sealed class PickleDecision
{
    public PickleDecision(PickleDecisionKind kind, string? pack = null, PickleDenyEntry? entry = null, string? matchedAs = null)
    {
        Kind = kind;
        Pack = pack;
        Entry = entry;
        MatchedAs = matchedAs;
    }

    public PickleDecisionKind Kind { get; }

    /// <summary>The allowlist pack that allowed it.</summary>
    public string? Pack { get; }

    /// <summary>The denylist entry that matched.</summary>
    public PickleDenyEntry? Entry { get; }

    /// <summary>What the name resolved to when it matched through an attribute walk (<c>pathlib</c> + <c>os.system</c> is <c>os.system</c>).</summary>
    public string? MatchedAs { get; }
}

/// <summary>
/// Default-deny policy for pickle imports, from the embedded <c>Data/pickle-policy.json</c>: exact
/// <c>(module, name)</c> allowlist packs, a graded denylist with provenance, and rules for dunder
/// names and attribute walks. Users can add exact names to the allowlist; nothing they add lifts a
/// denylist entry or a dunder walk, and nothing is trusted because of where a file came from.
/// </summary>
internal sealed class PicklePolicy
{
    private const string ResourceName = "ModelSecurity.Data.pickle-policy.json";

    private static readonly Lazy<PolicyData> BuiltIn = new(LoadBuiltIn);

    private readonly HashSet<string> _userAllowed;

    private PicklePolicy(HashSet<string> userAllowed)
    {
        _userAllowed = userAllowed;
    }

    /// <summary>The built-in policy with no user additions.</summary>
    public static PicklePolicy Default { get; } = new(new HashSet<string>(StringComparer.Ordinal));

    /// <summary>Built-in pack names and their descriptions.</summary>
    public static IReadOnlyDictionary<string, string> Packs => BuiltIn.Value.PackDescriptions;

    /// <summary>Every denylist entry.</summary>
    public static IReadOnlyList<PickleDenyEntry> DenyEntries => BuiltIn.Value.Deny;

    /// <summary>Names the user allowed, as "module.name".</summary>
    public IReadOnlyCollection<string> UserAllowed => _userAllowed;

    /// <summary>
    /// The policy with extra allowed names. Each is "module.name" (the last dot splits) or
    /// "module:name" (for dotted attribute names).
    /// </summary>
    /// <exception cref="ArgumentException">A name is empty or not of that form.</exception>
    public static PicklePolicy WithAllowed(IEnumerable<string> names)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (string raw in names)
        {
            set.Add(NormaliseUserName(raw));
        }

        return set.Count == 0 ? Default : new PicklePolicy(set);
    }

    /// <summary>Reads the pickle part of a policy file: <c>{"pickle": {"allowGlobals": ["module.name", ...]}}</c>.</summary>
    /// <exception cref="InvalidDataException">The file is not valid JSON of that shape.</exception>
    public static IReadOnlyList<string> ReadAllowedGlobals(string json, string fileName)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            var result = new List<string>();
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"The policy file '{fileName}' must hold a JSON object.");
            }

            if (document.RootElement.TryGetProperty("pickle", out JsonElement pickle)
                && pickle.ValueKind == JsonValueKind.Object
                && pickle.TryGetProperty("allowGlobals", out JsonElement allow))
            {
                if (allow.ValueKind != JsonValueKind.Array)
                {
                    throw new InvalidDataException($"In the policy file '{fileName}', pickle.allowGlobals must be an array of \"module.name\" strings.");
                }

                foreach (JsonElement item in allow.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String)
                    {
                        throw new InvalidDataException($"In the policy file '{fileName}', pickle.allowGlobals holds a {item.ValueKind} where a \"module.name\" string is expected.");
                    }

                    result.Add(item.GetString()!);
                }
            }

            return result;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The policy file '{fileName}' is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>Judges one import (module after the Python 2 renames, name possibly dotted).</summary>
    public PickleDecision Decide(string module, string name)
    {
        PolicyData data = BuiltIn.Value;
        string qualified = module + "." + name;
        string[] nameParts = name.Split('.');

        // A dunder step reaches interpreter internals (__builtins__, __globals__, __subclasses__...).
        if (nameParts.Any(IsDunder) || module.Split('.').Any(p => IsDunder(p) && p is not "__main__"))
        {
            return new PickleDecision(PickleDecisionKind.Dunder);
        }

        if (data.Allowed.TryGetValue(qualified, out string? pack))
        {
            return new PickleDecision(PickleDecisionKind.Allowed, pack);
        }

        // Every reading of the name is checked; the gravest match explains it (shutil.os.system is os.system, not shutil).
        PickleDenyEntry? best = null;
        string? bestName = null;
        foreach ((string candidateModule, string candidateName) in Candidates(module, nameParts))
        {
            PickleDenyEntry? entry = MatchDeny(data, candidateModule, candidateName);
            if (entry is not null && (best is null || entry.Rank > best.Rank))
            {
                best = entry;
                bestName = candidateModule + "." + candidateName;
            }
        }

        if (best is not null)
        {
            return new PickleDecision(PickleDecisionKind.Denied, entry: best, matchedAs: bestName == qualified ? null : bestName);
        }

        if (_userAllowed.Contains(qualified))
        {
            return new PickleDecision(PickleDecisionKind.UserAllowed);
        }

        return new PickleDecision(PickleDecisionKind.NotAllowlisted);
    }

    private static string NormaliseUserName(string raw)
    {
        string text = raw?.Trim() ?? string.Empty;
        int colon = text.IndexOf(':');
        if (colon > 0 && colon < text.Length - 1)
        {
            return string.Concat(text.AsSpan(0, colon), ".", text.AsSpan(colon + 1));
        }

        int dot = text.LastIndexOf('.');
        if (colon >= 0 || dot <= 0 || dot == text.Length - 1 || text.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException($"'{raw}' is not a pickle global: write it as 'module.name' (for example 'collections.OrderedDict') or 'module:dotted.name'.");
        }

        return text;
    }

    private static bool IsDunder(string part) => part.Length > 4 && part.StartsWith("__", StringComparison.Ordinal) && part.EndsWith("__", StringComparison.Ordinal);

    /// <summary>
    /// Every (module, name) the import could amount to: the direct attribute, attribute walks down the
    /// name (proto 4 dotted names), and name components read as a module path (a module that imports
    /// <c>os</c> exposes <c>os.system</c> as <c>x.os.system</c>), longest first.
    /// </summary>
    private static IEnumerable<(string Module, string Name)> Candidates(string module, string[] parts)
    {
        if (parts.Length > 1)
        {
            yield return (module, string.Join(".", parts));
        }

        yield return (module, parts[0]);
        for (int j = 1; j < parts.Length && j < 16; j++)
        {
            yield return (module + "." + string.Join(".", parts, 0, j), parts[j]);
        }

        for (int i = 0; i < parts.Length - 1 && i < 16; i++)
        {
            for (int j = i + 1; j < parts.Length && j < 16; j++)
            {
                yield return (string.Join(".", parts, i, j - i), parts[j]);
                if (j + 1 < parts.Length)
                {
                    // "Class.method" entries (trace.Trace.run) under a module reached through the walk.
                    yield return (string.Join(".", parts, i, j - i), string.Join(".", parts, j, parts.Length - j));
                }
            }
        }
    }

    private static PickleDenyEntry? MatchDeny(PolicyData data, string module, string name)
    {
        if (data.DenyByModule.TryGetValue(module, out List<PickleDenyEntry>? entries))
        {
            foreach (PickleDenyEntry entry in entries)
            {
                if (entry.WholeModule || entry.Names.Contains(name))
                {
                    return entry;
                }
            }
        }

        // A whole-module entry covers its submodules (asyncio covers asyncio.unix_events: CVE-2025-10157).
        string parent = module;
        int dot;
        while ((dot = parent.LastIndexOf('.')) > 0)
        {
            parent = parent.Substring(0, dot);
            if (data.DenyByModule.TryGetValue(parent, out entries))
            {
                PickleDenyEntry? whole = entries.FirstOrDefault(e => e.WholeModule);
                if (whole is not null)
                {
                    return whole;
                }
            }
        }

        return null;
    }

    private static PolicyData LoadBuiltIn()
    {
        using Stream stream = typeof(PicklePolicy).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Embedded resource '{ResourceName}' is missing.");
        using JsonDocument document = JsonDocument.Parse(stream);
        var data = new PolicyData();
        foreach (JsonProperty pack in document.RootElement.GetProperty("allow").EnumerateObject())
        {
            data.PackDescriptions[pack.Name] = pack.Value.GetProperty("description").GetString()!;
            foreach (JsonElement item in pack.Value.GetProperty("globals").EnumerateArray())
            {
                data.Allowed[item.GetString()!] = pack.Name;
            }
        }

        foreach (JsonElement item in document.RootElement.GetProperty("deny").EnumerateArray())
        {
            var entry = new PickleDenyEntry(
                item.GetProperty("module").GetString()!,
                item.GetProperty("names").EnumerateArray().Select(n => n.GetString()!).ToArray(),
                item.GetProperty("category").GetString()!,
                item.GetProperty("references").EnumerateArray().Select(n => n.GetString()!).ToArray(),
                item.GetProperty("sources").EnumerateArray().Select(n => n.GetString()!).ToArray());
            data.Deny.Add(entry);
            if (!data.DenyByModule.TryGetValue(entry.Module, out List<PickleDenyEntry>? list))
            {
                data.DenyByModule[entry.Module] = list = new List<PickleDenyEntry>();
            }

            list.Add(entry);
        }

        return data;
    }

    private sealed class PolicyData
    {
        public Dictionary<string, string> Allowed { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, string> PackDescriptions { get; } = new(StringComparer.Ordinal);

        public List<PickleDenyEntry> Deny { get; } = new();

        public Dictionary<string, List<PickleDenyEntry>> DenyByModule { get; } = new(StringComparer.Ordinal);
    }
}
