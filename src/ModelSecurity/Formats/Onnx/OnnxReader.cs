using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ModelSecurity.Analysis;
using ModelSecurity.Formats.Protobuf;

namespace ModelSecurity.Formats.Onnx;

/// <summary>
/// ONNX models (onnx/onnx <c>onnx.proto</c>): the <c>ModelProto</c> is walked field by field straight
/// from the file — graph, nodes, subgraphs in attributes (If/Loop/Scan bodies), training graphs and
/// model-local functions — and every <c>TensorProto</c>'s payload (raw_data, float_data...) is passed
/// over without being read. Reports <c>external_data</c> locations that leave the model's folder,
/// operators no standard runtime has, and the model's metadata.
/// </summary>
internal sealed class OnnxReader : IModelReader
{
    private const int MaxListed = 32;
    private const int MaxDistinctOperators = 10_000;
    private const int MaxLocationFindings = 20;

    public void Read(ReadContext context)
    {
        var model = new OnnxModel(context);
        var reader = new ProtobufReader(context.Source, 0, context.Source.Length);
        bool complete = true;
        try
        {
            model.ReadModel(reader);
        }
        catch (ProtobufFormatException e)
        {
            complete = false;
            context.Report(RuleIds.OnnxMalformed, $"The ONNX protobuf is malformed: {e.Reason} (byte {e.Offset:N0}); onnx and ONNX Runtime would refuse it, and what follows was not checked.", $"byte {e.Offset}");
        }

        model.Finish(complete);
    }

    private sealed class OnnxModel
    {
        private readonly ReadContext _context;
        private readonly Dictionary<(string Domain, string Op), (string Node, int Count)> _operators = new();
        private readonly HashSet<(string Domain, string Name)> _functions = new();
        private readonly List<string> _opsets = new();
        private readonly List<string> _metadataKeys = new();
        private readonly SortedSet<string> _externalFiles = new(StringComparer.Ordinal);
        private readonly List<string> _inputs = new();
        private readonly List<string> _outputs = new();
        private readonly string? _folder;
        private int _locationFindings;
        private long _nodes;
        private long _initializers;
        private string? _producer;
        private string? _producerVersion;
        private string? _graphName;
        private long _docLength;
        private ulong? _modelVersion;
        private string? _domain;
        private ulong _irVersion;
        private bool _hasGraph;

        public OnnxModel(ReadContext context)
        {
            _context = context;
            _folder = context.Member is null && context.Scan.FilePath is not null ? Path.GetDirectoryName(context.Scan.FilePath) : null;
        }

        public void ReadModel(ProtobufReader r)
        {
            while (r.TryReadTag(out int field, out int wire))
            {
                switch (field, wire)
                {
                    case (1, ProtobufWire.Varint):
                        _irVersion = r.ReadVarint();
                        break;
                    case (2, ProtobufWire.LengthDelimited):
                        _producer = r.ReadString(256);
                        break;
                    case (3, ProtobufWire.LengthDelimited):
                        _producerVersion = r.ReadString(256);
                        break;
                    case (4, ProtobufWire.LengthDelimited):
                        _domain = r.ReadString(256);
                        break;
                    case (5, ProtobufWire.Varint):
                        _modelVersion = r.ReadVarint();
                        break;
                    case (6, ProtobufWire.LengthDelimited):
                        _docLength = r.ReadLength();
                        r.SkipBytes(_docLength);
                        break;
                    case (7, ProtobufWire.LengthDelimited):
                        _hasGraph = true;
                        r.ReadMessage(() => ReadGraph(r, "graph", top: true));
                        break;
                    case (8, ProtobufWire.LengthDelimited):
                        r.ReadMessage(() => _opsets.Add(ReadOpset(r)));
                        break;
                    case (14, ProtobufWire.LengthDelimited):
                        r.ReadMessage(() => ReadMetadataEntry(r));
                        break;
                    case (20, ProtobufWire.LengthDelimited):
                        // TrainingInfoProto: 1 initialization, 2 algorithm (graphs).
                        r.ReadMessage(() => r.ReadFields((f, w) => f is 1 or 2 && w == ProtobufWire.LengthDelimited
                            ? r.ReadMessage(() => ReadGraph(r, f == 1 ? "training_info.initialization" : "training_info.algorithm", top: false))
                            : false));
                        break;
                    case (25, ProtobufWire.LengthDelimited):
                        r.ReadMessage(() => ReadFunction(r));
                        break;
                    default:
                        r.Skip(wire);
                        break;
                }
            }
        }

        private static string ReadOpset(ProtobufReader r)
        {
            string domain = string.Empty;
            ulong version = 0;
            r.ReadFields((f, w) =>
            {
                if (f == 1 && w == ProtobufWire.LengthDelimited)
                {
                    domain = r.ReadString(256);
                    return true;
                }

                if (f == 2 && w == ProtobufWire.Varint)
                {
                    version = r.ReadVarint();
                    return true;
                }

                return false;
            });
            return $"{OnnxOperators.DomainName(domain)}={version}";
        }

        private void ReadMetadataEntry(ProtobufReader r)
        {
            r.ReadFields((f, w) =>
            {
                if (f == 1 && w == ProtobufWire.LengthDelimited)
                {
                    if (_metadataKeys.Count < MaxListed)
                    {
                        _metadataKeys.Add(r.ReadString(128));
                        return true;
                    }
                }

                return false;
            });
        }

        private void ReadFunction(ProtobufReader r)
        {
            // FunctionProto: 1 name, 7 node, 10 domain.
            string name = string.Empty;
            string domain = string.Empty;
            r.ReadFields((f, w) =>
            {
                switch (f, w)
                {
                    case (1, ProtobufWire.LengthDelimited):
                        name = r.ReadString(256);
                        return true;
                    case (10, ProtobufWire.LengthDelimited):
                        domain = r.ReadString(256);
                        return true;
                    case (7, ProtobufWire.LengthDelimited):
                        return r.ReadMessage(() => ReadNode(r, "function"));
                    default:
                        return false;
                }
            });
            _functions.Add((domain, name));
        }

        private void ReadGraph(ProtobufReader r, string where, bool top)
        {
            // GraphProto: 1 node, 2 name, 5 initializer, 15 sparse_initializer, 10 doc_string, 11 input, 12 output.
            r.ReadFields((f, w) =>
            {
                if (w != ProtobufWire.LengthDelimited)
                {
                    return false;
                }

                switch (f)
                {
                    case 1:
                        return r.ReadMessage(() => ReadNode(r, where));
                    case 2 when top:
                        _graphName = r.ReadString(256);
                        return true;
                    case 5:
                        if (top)
                        {
                            _initializers++;
                        }

                        return r.ReadMessage(() => ReadTensor(r, $"{where}.initializer"));
                    case 15:
                        if (top)
                        {
                            _initializers++;
                        }

                        // SparseTensorProto: 1 values, 2 indices (tensors).
                        return r.ReadMessage(() => r.ReadFields((sf, sw) => sf is 1 or 2 && sw == ProtobufWire.LengthDelimited
                            ? r.ReadMessage(() => ReadTensor(r, $"{where}.sparse_initializer"))
                            : false));
                    case 11 when top:
                        return r.ReadMessage(() => AddValueInfo(r, _inputs));
                    case 12 when top:
                        return r.ReadMessage(() => AddValueInfo(r, _outputs));
                    default:
                        return false;
                }
            });
        }

        private void ReadNode(ProtobufReader r, string where)
        {
            // NodeProto: 3 name, 4 op_type, 5 attribute, 7 domain.
            string name = string.Empty;
            string op = string.Empty;
            string domain = string.Empty;
            if (where == "graph")
            {
                _nodes++;
            }

            r.ReadFields((f, w) =>
            {
                switch (f, w)
                {
                    case (3, ProtobufWire.LengthDelimited):
                        name = r.ReadString(256);
                        return true;
                    case (4, ProtobufWire.LengthDelimited):
                        op = r.ReadString(256);
                        return true;
                    case (7, ProtobufWire.LengthDelimited):
                        domain = r.ReadString(256);
                        return true;
                    case (5, ProtobufWire.LengthDelimited):
                        return r.ReadMessage(() => ReadAttribute(r, $"{where}/{(name.Length > 0 ? name : op)}"));
                    default:
                        return false;
                }
            });

            var key = (domain, op);
            if (_operators.TryGetValue(key, out var seen))
            {
                _operators[key] = (seen.Node, seen.Count + 1);
            }
            else if (_operators.Count < MaxDistinctOperators)
            {
                _operators[key] = (name.Length > 0 ? name : $"{where} ({op})", 1);
            }
        }

        private void ReadAttribute(ProtobufReader r, string node)
        {
            // AttributeProto: 5 t, 6 g, 10 tensors, 11 graphs, 22 sparse_tensor, 23 sparse_tensors.
            r.ReadFields((f, w) =>
            {
                if (w != ProtobufWire.LengthDelimited)
                {
                    return false;
                }

                switch (f)
                {
                    case 5 or 10:
                        return r.ReadMessage(() => ReadTensor(r, node));
                    case 6 or 11:
                        return r.ReadMessage(() => ReadGraph(r, $"{node}/subgraph", top: false));
                    case 22 or 23:
                        return r.ReadMessage(() => r.ReadFields((sf, sw) => sf is 1 or 2 && sw == ProtobufWire.LengthDelimited
                            ? r.ReadMessage(() => ReadTensor(r, node))
                            : false));
                    default:
                        return false;
                }
            });
        }

        private void ReadTensor(ProtobufReader r, string where)
        {
            // TensorProto: 8 name, 13 external_data (1 key, 2 value). Payload fields are skipped unread.
            string name = string.Empty;
            string? location = null;
            r.ReadFields((f, w) =>
            {
                if (f == 8 && w == ProtobufWire.LengthDelimited)
                {
                    name = r.ReadString(256);
                    return true;
                }

                if (f == 13 && w == ProtobufWire.LengthDelimited)
                {
                    return r.ReadMessage(() =>
                    {
                        string key = string.Empty;
                        string value = string.Empty;
                        r.ReadFields((ef, ew) =>
                        {
                            if (ef == 1 && ew == ProtobufWire.LengthDelimited)
                            {
                                key = r.ReadString(64);
                                return true;
                            }

                            if (ef == 2 && ew == ProtobufWire.LengthDelimited)
                            {
                                value = r.ReadString(4096);
                                return true;
                            }

                            return false;
                        });
                        if (key == "location")
                        {
                            location = value;
                        }
                    });
                }

                return false;
            });

            if (location is not null)
            {
                CheckLocation(location, $"{where} tensor \"{name}\"");
            }
        }

        private void CheckLocation(string location, string where)
        {
            string shown = location.Replace("\0", "\\0", StringComparison.Ordinal);
            string? escape = ReferencedPath.Escape(location);
            if (escape is null && _folder is not null)
            {
                escape = ReferencedPath.EscapeThroughLinks(_folder, location);
            }

            if (escape is null)
            {
                if (_externalFiles.Count < MaxListed)
                {
                    _externalFiles.Add(shown);
                }

                return;
            }

            if (_locationFindings++ < MaxLocationFindings)
            {
                _context.Report(
                    RuleIds.OnnxExternalDataEscape,
                    $"The external data location \"{shown}\" leaves the model's folder: {escape}. onnx.load and ONNX Runtime read (and onnx's save writes) that file as the tensor's bytes.",
                    where);
            }
        }

        private static void AddValueInfo(ProtobufReader r, List<string> into)
        {
            // ValueInfoProto: 1 name, 2 type (TypeProto 1 tensor_type: 1 elem_type, 2 shape: 1 dim (1 dim_value, 2 dim_param)).
            string name = string.Empty;
            string type = "?";
            r.ReadFields((f, w) =>
            {
                if (f == 1 && w == ProtobufWire.LengthDelimited)
                {
                    name = r.ReadString(128);
                    return true;
                }

                if (f == 2 && w == ProtobufWire.LengthDelimited)
                {
                    return r.ReadMessage(() => type = ReadType(r));
                }

                return false;
            });
            if (into.Count < MaxListed)
            {
                into.Add($"{name}: {type}");
            }
        }

        private static string ReadType(ProtobufReader r)
        {
            string type = "?";
            r.ReadFields((f, w) =>
            {
                if (f == 1 && w == ProtobufWire.LengthDelimited)
                {
                    return r.ReadMessage(() =>
                    {
                        string element = "?";
                        var dims = new List<string>();
                        bool shaped = false;
                        r.ReadFields((tf, tw) =>
                        {
                            if (tf == 1 && tw == ProtobufWire.Varint)
                            {
                                element = ElementType(r.ReadVarint());
                                return true;
                            }

                            if (tf == 2 && tw == ProtobufWire.LengthDelimited)
                            {
                                shaped = true;
                                return r.ReadMessage(() => r.ReadFields((sf, sw) => sf == 1 && sw == ProtobufWire.LengthDelimited
                                    ? r.ReadMessage(() => dims.Add(ReadDimension(r)))
                                    : false));
                            }

                            return false;
                        });
                        type = shaped ? $"{element}[{string.Join(",", dims.Take(8))}{(dims.Count > 8 ? ",…" : string.Empty)}]" : element;
                    });
                }

                if (f is 4 or 5 or 8 or 9)
                {
                    type = f switch { 4 => "sequence", 5 => "map", 8 => "sparse tensor", _ => "optional" };
                }

                return false;
            });
            return type;
        }

        private static string ReadDimension(ProtobufReader r)
        {
            string dim = "?";
            r.ReadFields((f, w) =>
            {
                if (f == 1 && w == ProtobufWire.Varint)
                {
                    dim = ((long)r.ReadVarint()).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    return true;
                }

                if (f == 2 && w == ProtobufWire.LengthDelimited)
                {
                    dim = r.ReadString(64);
                    return true;
                }

                return false;
            });
            return dim;
        }

        private static string ElementType(ulong code) => code switch
        {
            1 => "float32", 2 => "uint8", 3 => "int8", 4 => "uint16", 5 => "int16", 6 => "int32", 7 => "int64",
            8 => "string", 9 => "bool", 10 => "float16", 11 => "float64", 12 => "uint32", 13 => "uint64",
            14 => "complex64", 15 => "complex128", 16 => "bfloat16", 17 => "float8e4m3fn", 18 => "float8e4m3fnuz",
            19 => "float8e5m2", 20 => "float8e5m2fnuz", 21 => "uint4", 22 => "int4", 23 => "float4e2m1",
            _ => $"type{code}",
        };


        public void Finish(bool complete)
        {
            // protobuf has no end marker: a file cut between two fields parses. onnx.checker and ONNX
            // Runtime refuse a model without a graph, or (IR 3 and later) without an opset import.
            if (complete && !_hasGraph)
            {
                _context.Report(RuleIds.OnnxMalformed, "The model has no graph: ONNX loaders refuse it. A file cut short looks like this.");
            }
            else if (complete && _irVersion >= 3 && _opsets.Count == 0)
            {
                _context.Report(RuleIds.OnnxMalformed, "The model imports no operator set (IR version 3 and later require one): ONNX loaders refuse it. A file cut short looks like this.");
            }

            ReportOperators();
            if (_context.Member is not null)
            {
                return;
            }

            var metadata = _context.Scan.Metadata;
            Set("ProducerName", _producer);
            Set("ProducerVersion", _producerVersion);
            Set("ModelDomain", _domain);
            if (_modelVersion is not null)
            {
                metadata["ModelVersion"] = (long)_modelVersion.Value;
            }

            metadata["OpsetImports"] = _opsets.ToArray();
            Set("GraphName", _graphName);
            metadata["Inputs"] = _inputs.ToArray();
            metadata["Outputs"] = _outputs.ToArray();
            metadata["NodeCount"] = _nodes;
            metadata["InitializerCount"] = _initializers;
            metadata["Operators"] = _operators.Keys
                .Select(k => k.Domain.Length == 0 ? k.Op : $"{k.Domain}:{k.Op}")
                .Order(StringComparer.Ordinal)
                .Take(200)
                .ToArray();
            if (_functions.Count > 0)
            {
                metadata["LocalFunctions"] = _functions.Select(f => $"{OnnxOperators.DomainName(f.Domain)}:{f.Name}").Order(StringComparer.Ordinal).Take(MaxListed).ToArray();
            }

            if (_metadataKeys.Count > 0)
            {
                metadata["MetadataPropsKeys"] = _metadataKeys.ToArray();
            }

            metadata["DocStringLength"] = _docLength;
            if (_externalFiles.Count > 0)
            {
                metadata["ExternalDataFiles"] = _externalFiles.ToArray();
                _context.Report(
                    RuleIds.OnnxExternalData,
                    $"Tensor data is kept in {_externalFiles.Count} file(s) beside the model: {string.Join(", ", _externalFiles)}. Those files must travel with the model and hold tensor bytes only.");
            }

            void Set(string key, string? value)
            {
                if (!string.IsNullOrEmpty(value))
                {
                    metadata[key] = value;
                }
            }
        }

        private void ReportOperators()
        {
            var custom = new List<string>();
            var contrib = new List<string>();
            string? firstNode = null;
            foreach (var ((domain, op), (node, count)) in _operators.OrderBy(p => p.Key.Domain, StringComparer.Ordinal).ThenBy(p => p.Key.Op, StringComparer.Ordinal))
            {
                if (_functions.Contains((domain, op)))
                {
                    continue;
                }

                IReadOnlySet<string>? standard = OnnxOperators.Standard(domain);
                string label = $"{OnnxOperators.DomainName(domain)}:{op}" + (count > 1 ? $" ×{count}" : string.Empty) + $" (node \"{node}\")";
                if (OnnxOperators.PythonCallbacks.Contains(op))
                {
                    custom.Add(label + " — calls back into Python");
                    firstNode ??= node;
                }
                else if (standard is not null && standard.Contains(op))
                {
                    continue;
                }
                else if (standard is null && OnnxOperators.RuntimeContribDomains.Contains(domain))
                {
                    contrib.Add($"{domain}:{op}");
                }
                else
                {
                    custom.Add(label + (standard is null ? string.Empty : " — not an operator of that standard domain"));
                    firstNode ??= node;
                }
            }

            if (custom.Count > 0)
            {
                _context.Report(
                    RuleIds.OnnxCustomOperator,
                    $"The graph uses {custom.Count} operator(s) no standard ONNX runtime implements: {string.Join("; ", custom.Take(MaxListed))}{(custom.Count > MaxListed ? $"; and {custom.Count - MaxListed} more" : string.Empty)}. Running them needs a custom operator library registered by the host (native code), or the model does not load.",
                    firstNode);
            }

            if (contrib.Count > 0)
            {
                _context.Report(
                    RuleIds.OnnxRuntimeContribOperator,
                    $"The graph uses ONNX Runtime contrib operators (built into ONNX Runtime, not into other runtimes): {string.Join(", ", contrib.Take(MaxListed))}{(contrib.Count > MaxListed ? $" and {contrib.Count - MaxListed} more" : string.Empty)}.");
            }
        }
    }
}
