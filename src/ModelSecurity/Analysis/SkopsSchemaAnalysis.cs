using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;

namespace ModelSecurity.Analysis;

/// <summary>
/// The <c>schema.json</c> of a skops file: a tree of nodes, each naming the loader that rebuilds it
/// (<c>__loader__</c>) and the type or function it stands for (<c>__module__</c>, <c>__class__</c>).
/// Every reference is checked against skops' default trusted types (builtins containers and
/// scalars, numpy, scipy.sparse, scikit-learn); the node gadgets behind CVE-2025-54412
/// (OperatorFuncNode) and CVE-2025-54413 (MethodNode) and names on the denylist are Malicious;
/// other types are Suspicious; classes of the loading program (<c>__main__</c>) are noted.
/// </summary>
internal static class SkopsSchemaAnalysis
{
    /// <summary>Largest schema analysed, in bytes.</summary>
    public const int MaxBytes = 64 * 1024 * 1024;

    /// <summary>Deepest node nesting walked.</summary>
    public const int MaxDepth = 200;

    /// <summary>JSON values walked before giving up.</summary>
    public const int MaxNodes = 4_000_000;

    // The loaders skops 0.x defines (skops/io/_general.py, _numpy.py, _scipy.py, _sklearn.py).
    private static readonly HashSet<string> KnownLoaders = new(StringComparer.Ordinal)
    {
        "ObjectNode", "DictNode", "ListNode", "TupleNode", "SetNode", "JsonNode", "TypeNode", "FunctionNode", "MethodNode",
        "OperatorFuncNode", "PartialNode", "SliceNode", "BytesNode", "BytearrayNode", "NdArrayNode", "MaskedArrayNode",
        "RandomStateNode", "RandomGeneratorNode", "SparseMatrixNode", "ReduceNode", "TreeNode", "SGDNode", "BSplineNode",
        "LossNode", "DefaultDictNode", "OrderedDictNode", "_DictWithDeprecatedKeysNode", "UnsupportedTypeNode", "ComplexNode",
    };

    private static readonly HashSet<string> TrustedBuiltins = new(StringComparer.Ordinal)
    {
        "dict", "list", "tuple", "set", "frozenset", "str", "int", "float", "bool", "complex", "bytes", "bytearray", "slice",
        "NoneType", "object", "range", "type",
    };

    private static readonly HashSet<string> TrustedCollections = new(StringComparer.Ordinal) { "OrderedDict", "defaultdict", "Counter", "deque" };

    // operator functions that reach attributes, items or calls: the CVE-2025-54412 gadgets.
    private static readonly HashSet<string> OperatorGadgets = new(StringComparer.Ordinal)
    {
        "attrgetter", "methodcaller", "itemgetter", "call", "getitem", "setitem", "delitem", "index", "iconcat",
    };

    // Methods that write or read files, or run things, when a MethodNode binds them (CVE-2025-54413).
    private static readonly HashSet<string> DangerousMethods = new(StringComparer.Ordinal)
    {
        "tofile", "dump", "dumps", "load", "loads", "save", "savez", "system", "popen", "spawn", "exec", "eval", "open",
        "write", "write_text", "write_bytes", "read_text", "read_bytes", "unlink", "remove", "rmtree", "run", "call", "import_module",
    };

    // Package functions that read, write or download files.
    private static readonly string[] FileFunctions =
    {
        "sklearn.datasets", "scipy.io", "scipy.weave", "numpy.lib.format", "numpy.ctypeslib", "numpy.testing", "numpy.distutils",
    };

    /// <summary>Analyses a skops schema, reporting at <paramref name="location"/>.</summary>
    public static void Analyze(ReadContext context, byte[] json, string location)
    {
        if (json.Length > MaxBytes)
        {
            context.Report(RuleIds.SkopsSchemaUnreadable, $"The schema is {json.Length:N0} bytes, more than the {MaxBytes:N0} analysed.", string.IsNullOrEmpty(location) ? null : location);
            return;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = MaxDepth + 8 });
        }
        catch (JsonException e)
        {
            context.Report(RuleIds.SkopsSchemaUnreadable, $"The schema is not valid JSON (or nests deeper than {MaxDepth}): {e.Message}", string.IsNullOrEmpty(location) ? null : location);
            return;
        }

        using (document)
        {
            try
            {
                var walker = new Walker(context, location);
                walker.Visit(document.RootElement, "$", 0);
                walker.Finish(document.RootElement);
            }
            catch (InvalidOperationException e)
            {
                // JsonDocument checks a string's UTF-8 only when it is read.
                context.Report(RuleIds.SkopsSchemaUnreadable, $"The schema holds text that is not valid UTF-8: {e.Message}", string.IsNullOrEmpty(location) ? null : location);
            }
        }
    }

    /// <summary>True when the JSON's root object looks like a skops schema node.</summary>
    public static bool LooksLikeSchema(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("__loader__", out _) && (root.TryGetProperty("__class__", out _) || root.TryGetProperty("_skops_version", out _));

    private sealed class Walker
    {
        private readonly ReadContext _context;
        private readonly string _location;
        private readonly CappedFindings _findings;
        private int _nodes;
        private int _objects;
        private bool _stopped;

        public Walker(ReadContext context, string location)
        {
            _context = context;
            _location = location;
            _findings = new CappedFindings(context);
        }

        public void Visit(JsonElement element, string path, int depth)
        {
            if (_stopped)
            {
                return;
            }

            if (++_nodes > MaxNodes || depth > MaxDepth)
            {
                _stopped = true;
                _context.Report(RuleIds.SkopsSchemaUnreadable, _nodes > MaxNodes ? $"The schema has more than {MaxNodes:N0} values; the rest was not checked." : $"The schema nests deeper than {MaxDepth}; the rest was not checked.", At(path));
                return;
            }

            _context.CancellationToken.ThrowIfCancellationRequested();
            if (element.ValueKind == JsonValueKind.Object)
            {
                if (element.TryGetProperty("__loader__", out JsonElement loader) && loader.ValueKind == JsonValueKind.String)
                {
                    _objects++;
                    Inspect(element, loader.GetString()!, path);
                }

                foreach (JsonProperty property in element.EnumerateObject())
                {
                    Visit(property.Value, $"{path}.{property.Name}", depth + 1);
                }
            }
            else if (element.ValueKind == JsonValueKind.Array)
            {
                int index = 0;
                foreach (JsonElement item in element.EnumerateArray())
                {
                    Visit(item, $"{path}[{index++}]", depth + 1);
                }
            }
        }

        public void Finish(JsonElement root)
        {
            _findings.Flush("finding(s) of this kind in the schema", string.IsNullOrEmpty(_location) ? null : _location);

            var metadata = _context.Scan.Metadata;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            if (String(root, "__module__") is { } module && String(root, "__class__") is { } cls && !metadata.Contains("SkopsClass"))
            {
                metadata["SkopsClass"] = PythonReferences.Clip($"{module}.{cls}");
            }

            if (String(root, "_skops_version") is { } version && !metadata.Contains("SkopsVersion"))
            {
                metadata["SkopsVersion"] = PythonReferences.Clip(version, 40);
            }

            if (root.TryGetProperty("protocol", out JsonElement protocol) && protocol.ValueKind == JsonValueKind.Number && !metadata.Contains("SkopsProtocol"))
            {
                metadata["SkopsProtocol"] = protocol.GetRawText();
            }

            if (!metadata.Contains("SkopsNodeCount"))
            {
                metadata["SkopsNodeCount"] = _objects;
            }
        }

        private void Inspect(JsonElement node, string loader, string path)
        {
            string module = String(node, "__module__") ?? string.Empty;
            string cls = String(node, "__class__") ?? string.Empty;
            string type = module.Length == 0 ? cls : $"{module}.{cls}";
            if (!KnownLoaders.Contains(loader))
            {
                Report(RuleIds.SkopsUntrusted, $"The node loader '{PythonReferences.Clip(loader)}' (for {PythonReferences.Clip(type)}) is not one skops defines.", path);
                return;
            }

            switch (loader)
            {
                case "OperatorFuncNode":
                    InspectOperator(node, cls, path);
                    return;
                case "MethodNode":
                    InspectMethod(node, type, path);
                    return;
                case "PartialNode" when module == "functools" && cls == "partial":
                    // The partial's function is a node of its own, judged when it is visited.
                    return;
                case "JsonNode" when module == "builtins":
                    return;
            }

            if (module.Length == 0 && cls.Length == 0)
            {
                return;
            }

            if (module == "__main__")
            {
                Report(RuleIds.SkopsProgramType, $"{loader} rebuilds {PythonReferences.Clip(type)}, a class the loading program must define; skops asks for it to be trusted explicitly.", path);
                return;
            }

            if (PythonReferences.Danger(module, cls, out IReadOnlyList<string> refs) is { } why)
            {
                Report(RuleIds.SkopsDangerous, $"{loader} names {PythonReferences.Clip(type)}: {why}.", path, refs);
                return;
            }

            if (FileFunctions.Any(p => PythonReferences.InPackage(module, p)))
            {
                Report(RuleIds.SkopsDangerous, $"{loader} names {PythonReferences.Clip(type)}, which reads, writes or downloads files.", path);
                return;
            }

            if (!IsTrusted(module, cls))
            {
                Report(RuleIds.SkopsUntrusted, $"{loader} names {PythonReferences.Clip(type)}, outside skops' default trusted types: loading it needs trusted=[...] and imports {PythonReferences.Root(module)}.", path);
            }
        }

        private void InspectOperator(JsonElement node, string cls, string path)
        {
            // The function's name is in __class__ (operator.add is {"__module__": "_operator", "__class__": "add"}) or in content.
            string name = cls.Length > 0 ? cls : String(node, "content") ?? string.Empty;
            if (OperatorGadgets.Contains(name) || name.StartsWith("__", StringComparison.Ordinal) || name.Length == 0)
            {
                Report(RuleIds.SkopsDangerous, $"An OperatorFuncNode rebuilds operator.{PythonReferences.Clip(name)}, which reaches attributes, items or calls chosen by the file (CVE-2025-54412).", path);
                return;
            }

            Report(RuleIds.SkopsUntrusted, $"An OperatorFuncNode rebuilds operator.{PythonReferences.Clip(name)}; operator functions are not default trusted since the CVE-2025-54412 fix.", path);
        }

        private void InspectMethod(JsonElement node, string type, string path)
        {
            string? method = null;
            if (node.TryGetProperty("content", out JsonElement content) && content.ValueKind == JsonValueKind.Object)
            {
                method = String(content, "func") ?? String(content, "name");
            }

            method ??= string.Empty;
            if (method.StartsWith('_') || DangerousMethods.Contains(method) || method.Length == 0)
            {
                Report(RuleIds.SkopsDangerous, $"A MethodNode binds the method '{PythonReferences.Clip(method)}' of {PythonReferences.Clip(type)}: attribute access chosen by the file reaches private or dunder members, files or calls (CVE-2025-54413).", path);
                return;
            }

            Report(RuleIds.SkopsUntrusted, $"A MethodNode binds the method '{PythonReferences.Clip(method)}' of {PythonReferences.Clip(type)}; which methods a model may call is not checked by skops before 0.13 (CVE-2025-54413).", path);
        }

        private static bool IsTrusted(string module, string cls)
        {
            string root = PythonReferences.Root(module);
            return root switch
            {
                "builtins" => TrustedBuiltins.Contains(cls),
                "collections" => TrustedCollections.Contains(cls),
                "sklearn" or "numpy" => true,
                "scipy" => PythonReferences.InPackage(module, "scipy.sparse") || PythonReferences.InPackage(module, "scipy.special") || PythonReferences.InPackage(module, "scipy.interpolate"),
                _ => false,
            };
        }

        private string At(string path) => string.IsNullOrEmpty(_location) ? path : $"{_location}, {path}";

        private void Report(string rule, string detail, string path, IEnumerable<string>? references = null)
        {
            _findings.Report(rule, detail, At(path), references);
        }

        private static string? String(JsonElement obj, string name) =>
            obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }
}
