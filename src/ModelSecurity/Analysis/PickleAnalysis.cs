using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ModelSecurity.Formats.Pickle;

namespace ModelSecurity.Analysis;

/// <summary>
/// Runs the static pickle machine over a byte range and turns what it saw into findings: every
/// import judged by the <see cref="PicklePolicy"/>, calls whose target is unknown, state written into
/// imported objects, stream desynchronisation, breaks and limits, and pickles hidden in byte strings
/// (scanned in turn).
/// </summary>
internal static class PickleAnalysis
{
    /// <summary>Findings of one rule reported one by one per pickle stream before they are summarised.</summary>
    private const int MaxFindingsPerRule = 8;

    /// <summary>Pickles inside byte strings inside pickles...</summary>
    private const int MaxEmbeddedDepth = 4;

    private static readonly HashSet<string> ContainerClasses = new(StringComparer.Ordinal)
    {
        "collections.OrderedDict", "collections.Counter", "collections.defaultdict", "collections.deque",
        "builtins.dict", "builtins.list", "builtins.set", "builtins.bytearray",
    };

    /// <summary>Allowlisted functions that call one of their arguments: the argument must be an imported name too.</summary>
    private static readonly Dictionary<string, int> CallThrough = new(StringComparer.Ordinal)
    {
        ["torch._tensor._rebuild_from_type_v2"] = 0,
        ["copyreg._reconstructor"] = 1,
    };

    /// <summary>Options for one stream.</summary>
    internal sealed class StreamOptions
    {
        /// <summary>Where the pickle sits inside the content ("array data"), prefixed to locations.</summary>
        public string? Location { get; init; }

        /// <summary>PyTorch resolves persistent ids (storages); plain pickle.load refuses them.</summary>
        public bool PersistentIdsExpected { get; init; }

        public PickleStreamMode Mode { get; init; } = PickleStreamMode.Stream;
    }

    /// <summary>Analyses the pickle stream in [start, end) of the context's content and reports on it.</summary>
    public static PickleTrace Analyse(ReadContext context, long start, long end, StreamOptions? options = null) =>
        Analyse(context, start, end, options ?? new StreamOptions(), embeddedDepth: 0);

    private static PickleTrace Analyse(ReadContext context, long start, long end, StreamOptions options, int embeddedDepth)
    {
        PickleTrace trace = PickleMachine.Run(context.Source, start, end, options.Mode, context.Limits.Pickle, context.CancellationToken);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        void Report(string ruleId, string detail, long offset, string opcode, IEnumerable<string>? references = null)
        {
            counts.TryGetValue(ruleId, out int count);
            counts[ruleId] = count + 1;
            if (count < MaxFindingsPerRule)
            {
                context.Report(ruleId, detail, Location(options.Location, offset, opcode), references);
            }
        }

        foreach (PickleImport import in trace.Imports)
        {
            context.Scan.AddGlobal(import.QualifiedName);
            JudgeImport(context, import, Report);
        }

        var seen = new EventState(trace);
        foreach (PickleEvent e in trace.Events)
        {
            ReportEvent(context, e, options, seen, Report, embeddedDepth);
        }

        foreach (PickleValue call in trace.Calls)
        {
            CheckCallThrough(call, Report);
        }

        foreach (KeyValuePair<string, int> pair in counts.Where(p => p.Value > MaxFindingsPerRule))
        {
            context.Report(
                pair.Key,
                $"{pair.Value - MaxFindingsPerRule:N0} more findings of this rule in the same pickle stream are not listed one by one.",
                options.Location);
        }

        return trace;
    }

    private static void JudgeImport(ReadContext context, PickleImport import, Action<string, string, long, string, IEnumerable<string>?> report)
    {
        string name = import.QualifiedName;
        string written = import.WrittenAs is null ? string.Empty : $" (written as {import.WrittenAs}, which Python 3 unpicklers rename)";
        PickleDecision decision = context.Scan.Options.Policy.Decide(import.Module, import.Name);
        switch (decision.Kind)
        {
            case PickleDecisionKind.Dunder:
                report(RuleIds.PickleDunder, $"Imports {name}{written}: the name walks a dunder attribute.", import.Offset, import.Opcode, null);
                break;
            case PickleDecisionKind.Denied:
                PickleDenyEntry entry = decision.Entry!;
                string via = decision.MatchedAs is null ? string.Empty : $", reached as {decision.MatchedAs} through an attribute walk";
                string listed = entry.WholeModule ? $"the whole {entry.Module} module" : decision.MatchedAs ?? name;
                string sources = entry.Sources.Count == 0 ? string.Empty : $"; also listed by {string.Join(", ", entry.Sources)}";
                report(
                    entry.RuleId,
                    $"Imports {name}{written}{via}. Denylist: {listed} ({Category(entry.Category)}){sources}.",
                    import.Offset,
                    import.Opcode,
                    entry.References);
                break;
            case PickleDecisionKind.NotAllowlisted:
                report(
                    RuleIds.PickleNotAllowlisted,
                    $"Imports {name}{written}, which is on no allowlist. To accept it: -AllowGlobal '{name}'.",
                    import.Offset,
                    import.Opcode,
                    null);
                break;
            default:
                break;
        }
    }

    private static void ReportEvent(
        ReadContext context,
        PickleEvent e,
        StreamOptions options,
        EventState state,
        Action<string, string, long, string, IEnumerable<string>?> report,
        int embeddedDepth)
    {
        PickleTrace trace = state.Trace;
        switch (e.Kind)
        {
            case PickleEventKind.DynamicGlobal:
                report(RuleIds.PickleUnknownCallable, e.Detail + ".", e.Offset, "STACK_GLOBAL", null);
                break;
            case PickleEventKind.Extension:
                report(RuleIds.PickleUnknownCallable, e.Detail + ".", e.Offset, "EXT", null);
                break;
            case PickleEventKind.ComputedCall:
                report(RuleIds.PickleUnknownCallable, e.Detail + ".", e.Offset, "call", null);
                break;
            case PickleEventKind.BuildOnGlobal:
            case PickleEventKind.MutateGlobal:
                report(RuleIds.PickleMutatesGlobal, e.Detail + ".", e.Offset, e.Kind == PickleEventKind.BuildOnGlobal ? "BUILD" : "container opcode", null);
                break;
            case PickleEventKind.ContainerOpOnObject:
                PickleValue? target = e.Value;
                PickleValue? cls = target?.Constructor;
                if (cls is not null)
                {
                    PickleDecisionKind kind = context.Scan.Options.Policy.Decide(cls.Module!, cls.Name!).Kind;
                    if (ContainerClasses.Contains(cls.QualifiedName) || kind is not (PickleDecisionKind.Allowed or PickleDecisionKind.UserAllowed))
                    {
                        // A real mapping, or a class the import finding already reports.
                        break;
                    }
                }

                report(RuleIds.PickleContainerMisuse, e.Detail + ".", e.Offset, "container opcode", null);
                break;
            case PickleEventKind.FrameDivergence:
                report(RuleIds.PickleDesync, e.Detail + ".", e.Offset, "FRAME", null);
                break;
            case PickleEventKind.Malformed:
            case PickleEventKind.Truncated:
                string ran = trace.Imports.Count == 0
                    ? "No import ran before the break."
                    : $"Before the break the unpickler has already imported {string.Join(", ", trace.Imports.Take(6).Select(i => i.QualifiedName))}{(trace.Imports.Count > 6 ? ", ..." : string.Empty)}, reported separately.";
                report(RuleIds.PickleMalformed, $"{e.Detail}. {ran}", e.Offset, "stream", null);
                break;
            case PickleEventKind.LimitReached:
                report(RuleIds.PickleLimit, e.Detail + ".", e.Offset, "stream", null);
                break;
            case PickleEventKind.PersistentId:
                if (!options.PersistentIdsExpected && !state.PersistentIdReported)
                {
                    state.PersistentIdReported = true;
                    report(RuleIds.PickleOddity, e.Detail + ": pickle.load refuses persistent ids unless the loading program resolves them (PyTorch does for storages).", e.Offset, "PERSID", null);
                }

                break;
            case PickleEventKind.ProtoMidStream:
            case PickleEventKind.OutOfBandBuffer:
            case PickleEventKind.TrailingBytes:
                report(RuleIds.PickleOddity, e.Detail + ".", e.Offset, "stream", null);
                break;
            case PickleEventKind.AdditionalPickle:
                if (options.Mode == PickleStreamMode.Stream)
                {
                    report(RuleIds.PickleOddity, e.Detail + ".", e.Offset, "stream", null);
                }

                break;
            case PickleEventKind.CodeText:
                bool argument = e.Value is not null && state.CallArguments.Contains(e.Value);
                report(
                    argument ? RuleIds.PickleCodeArgument : RuleIds.PickleCodeInData,
                    argument ? $"{e.Detail}, passed as an argument to a call." : e.Detail + ".",
                    e.Offset,
                    "data",
                    null);
                break;
            case PickleEventKind.EmbeddedPickle when e.Encoding != "raw":
                report(RuleIds.PickleEmbedded, e.Detail + "; it was decoded and scanned as well.", e.Offset, "data", null);
                byte[]? decoded = DecodeEmbedded(context, e);
                if (decoded is not null && embeddedDepth < MaxEmbeddedDepth)
                {
                    context.ScanNested(Location(options.Location, e.Offset, e.Encoding + " pickle"), decoded);
                }

                break;
            case PickleEventKind.EmbeddedPickle:
                report(RuleIds.PickleEmbedded, e.Detail + "; it was scanned as well.", e.Offset, "bytes", null);
                if (embeddedDepth < MaxEmbeddedDepth && e.DataOffset >= 0)
                {
                    string where = Location(options.Location, e.Offset, "embedded pickle");
                    Analyse(
                        context,
                        e.DataOffset,
                        e.DataOffset + e.DataLength,
                        new StreamOptions { Location = where, PersistentIdsExpected = options.PersistentIdsExpected },
                        embeddedDepth + 1);
                }

                break;
            default:
                break;
        }
    }

    private static byte[]? DecodeEmbedded(ReadContext context, PickleEvent e)
    {
        PickleValue? value = e.Value;
        if (value?.Text is null)
        {
            return null;
        }

        string text = value.Text;
        if (value.DataOffset >= 0 && value.Length > text.Length)
        {
            // Only the start was kept as text; read the whole string (bounded) from the file.
            if (value.Length > context.Limits.MaxMemberBytes)
            {
                return null;
            }

            byte[] raw = context.Source.ReadBlock(value.DataOffset, (int)value.Length);
            text = e.Encoding == "text" ? System.Text.Encoding.UTF8.GetString(raw) : System.Text.Encoding.ASCII.GetString(raw);
        }

        if (e.Encoding == "text")
        {
            return text.All(c => c <= '\u00FF') ? System.Text.Encoding.GetEncoding("ISO-8859-1").GetBytes(text) : null;
        }

        return PickleDataInspector.Decode(text, e.Encoding);
    }

    /// <summary>What the event loop of one stream needs beyond the events themselves, built once.</summary>
    private sealed class EventState
    {
        private HashSet<PickleValue>? _callArguments;

        public EventState(PickleTrace trace)
        {
            Trace = trace;
        }

        public PickleTrace Trace { get; }

        public bool PersistentIdReported { get; set; }

        /// <summary>Every value passed to a call (by reference: a value is the one object the machine made).</summary>
        public HashSet<PickleValue> CallArguments => _callArguments ??= new HashSet<PickleValue>(
            Trace.Calls.SelectMany(c => c.Arguments?.Items ?? Enumerable.Empty<PickleValue>()),
            ReferenceEqualityComparer.Instance);
    }

    private static void CheckCallThrough(PickleValue call, Action<string, string, long, string, IEnumerable<string>?> report)
    {
        if (call.Callee is not { Kind: PickleValueKind.Global } callee || !CallThrough.TryGetValue(callee.QualifiedName, out int index))
        {
            return;
        }

        if (call.Arguments is { Kind: PickleValueKind.Tuple, Items: { } args } && args.Count > index && args[index].Kind == PickleValueKind.Global)
        {
            return;
        }

        report(
            RuleIds.PickleUnknownCallable,
            $"{callee.QualifiedName} calls its argument {index + 1}, which is not an imported name here, so what runs cannot be known.",
            call.Offset,
            "REDUCE",
            null);
    }

    private static string Location(string? prefix, long offset, string opcode)
    {
        string here = string.Format(CultureInfo.InvariantCulture, "byte {0} ({1})", offset, opcode);
        return prefix is null ? here : $"{prefix}, {here}";
    }

    private static string Category(string category) => category switch
    {
        "CodeExecution" => "runs Python code",
        "CommandExecution" => "runs commands or programs",
        "NativeCode" => "loads or calls native code",
        "FileSystem" => "reads or writes files",
        "Network" => "opens network connections",
        "ProcessControl" => "changes the running process",
        "UniversalResolver" => "resolves arbitrary names or calls",
        "NestedDeserialisation" => "deserialises more data",
        _ => category,
    };
}
