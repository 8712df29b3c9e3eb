using System;
using System.Collections.Generic;
using System.Linq;
using ModelSecurity.Analysis;

namespace ModelSecurity.Formats.TensorFlow;

/// <summary>One op of a graph or function, with what the grading needs: inputs and string attributes.</summary>
internal sealed record TensorFlowNode(string Name, string Op, IReadOnlyList<string> Inputs, IReadOnlyList<string> StringAttributes);

/// <summary>
/// Grades the ops of a TensorFlow graph, whichever encoding it came in (binary SavedModel, GraphDef,
/// or the JSON form of a SavedModel). Nodes arrive one scope at a time (the top-level graph, then
/// each library function); a scope is judged when it ends, because an op's file-name input is a
/// Const that may come before or after it.
/// </summary>
internal sealed class TensorFlowGraph
{
    private const int MaxFindings = 50;
    private const int MaxConstsPerScope = 50_000;
    private const int MaxPendingPerScope = 10_000;
    private const int MaxDistinctOps = 2_000;
    private const int MaxShownTargets = 4;

    private readonly ReadContext _context;
    private readonly Dictionary<string, IReadOnlyList<string>> _consts = new(StringComparer.Ordinal);
    private readonly List<TensorFlowNode> _pending = new();
    private readonly SortedDictionary<string, long> _ops = new(StringComparer.Ordinal);
    private int _findings;
    private int _suppressed;

    public TensorFlowGraph(ReadContext context)
    {
        _context = context;
    }

    public long NodeCount { get; private set; }

    public long FunctionCount { get; private set; }

    /// <summary>Checkpoint ops found where every SavedModel has them, with the caller's path.</summary>
    public long CheckpointOps { get; private set; }

    public IEnumerable<string> Ops => _ops.Keys;

    /// <summary>Records a Const's string values, so ops that take it as a path can show it.</summary>
    public void AddConst(string name, IReadOnlyList<string> values)
    {
        if (_consts.Count < MaxConstsPerScope)
        {
            _consts[name] = values;
        }
    }

    public void AddNode(TensorFlowNode node)
    {
        NodeCount++;
        if (_ops.TryGetValue(node.Op, out long count))
        {
            _ops[node.Op] = count + 1;
        }
        else if (_ops.Count < MaxDistinctOps)
        {
            _ops[node.Op] = 1;
        }

        bool printsToFile = node.Op == "PrintV2" && node.StringAttributes.Any(s => s.StartsWith("file://", StringComparison.OrdinalIgnoreCase));
        if ((TensorFlowOps.Risk(node.Op) != OpRisk.None || printsToFile) && _pending.Count < MaxPendingPerScope)
        {
            _pending.Add(node);
        }
    }

    /// <summary>Judges the ops of the scope just read: <paramref name="function"/> is its function's name, "" for the top-level graph.</summary>
    public void EndScope(string function)
    {
        if (function.Length > 0)
        {
            FunctionCount++;
        }

        foreach (TensorFlowNode node in _pending)
        {
            Judge(function, node);
        }

        _pending.Clear();
        _consts.Clear();
    }

    /// <summary>Reports what was held back after the finding limit.</summary>
    public void Finish()
    {
        if (_suppressed > 0)
        {
            _context.Report(RuleIds.TensorFlowFileOp, $"{_suppressed:N0} more ops that reach files, the network or Python were found and not listed one by one.");
        }
    }

    private void Judge(string function, TensorFlowNode node)
    {
        var targets = new List<string>();
        foreach (string input in node.Inputs)
        {
            if (input.StartsWith('^'))
            {
                continue;
            }

            int colon = input.IndexOf(':', StringComparison.Ordinal);
            string source = colon < 0 ? input : input.Substring(0, colon);
            if (_consts.TryGetValue(source, out IReadOnlyList<string>? values))
            {
                targets.AddRange(values);
            }
        }

        targets.AddRange(node.StringAttributes);
        // Paths have no line breaks: strings with control characters are contents (tensor names, file bodies), not targets.
        string[] aimed = targets.Where(t => t.All(c => c >= ' ') && (ReferencedPath.Escape(t) is not null || ReferencedPath.IsRemote(t))).Distinct(StringComparer.Ordinal).ToArray();
        string location = function.Length == 0 ? $"node \"{node.Name}\"" : $"function {function}, node \"{node.Name}\"";
        OpRisk risk = TensorFlowOps.Risk(node.Op);
        if (risk == OpRisk.Code)
        {
            Report(RuleIds.TensorFlowCodeOp, $"Op {node.Op} calls a Python function when the graph runs{With(targets)}.", location);
            return;
        }

        if (aimed.Length > 0)
        {
            Report(RuleIds.TensorFlowFileOpTargeted, $"Op {node.Op} is aimed at {string.Join(", ", aimed.Take(MaxShownTargets).Select(Quote))}: a fixed path outside the model or a remote address.", location);
            return;
        }

        if (TensorFlowOps.IsCheckpointOp(node.Op) && TensorFlowOps.IsSaverScope(function, node.Name))
        {
            CheckpointOps++;
            return;
        }

        if (TensorFlowOps.IsAssetReader(node.Op))
        {
            return;
        }

        Report(RuleIds.TensorFlowFileOp, $"Op {node.Op} {What(node.Op)} when the graph runs{With(targets)}.", location);
    }

    private void Report(string rule, string detail, string location)
    {
        if (_findings++ < MaxFindings)
        {
            _context.Report(rule, detail, location);
        }
        else
        {
            _suppressed++;
        }
    }

    private static string What(string op) => op switch
    {
        _ when op.StartsWith("Debug", StringComparison.Ordinal) => "sends tensors to its debug URLs",
        "PrintV2" => "prints to a file",
        "WriteFile" or "Save" or "SaveSlices" or "SaveV2" or "MergeV2Checkpoints" or "SaveDataset" or "SaveDatasetV2" or "DistributedSave"
            or "CreateSummaryFileWriter" or "CreateSummaryDbWriter" => "writes files",
        "MatchingFiles" => "lists files matching a pattern",
        _ when op.StartsWith("DataService", StringComparison.Ordinal) || op.StartsWith("RegisterDataset", StringComparison.Ordinal) => "talks to a tf.data service over the network",
        _ => "reads files",
    };

    private static string With(List<string> targets) =>
        targets.Count == 0 ? string.Empty : $" (given {string.Join(", ", targets.Distinct(StringComparer.Ordinal).Take(MaxShownTargets).Select(Quote))})";

    private static string Quote(string value)
    {
        string shown = value.Length > 120 ? string.Concat(value.AsSpan(0, 120), "…") : value;
        return "\"" + shown.Replace("\0", "\\0", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) + "\"";
    }
}
