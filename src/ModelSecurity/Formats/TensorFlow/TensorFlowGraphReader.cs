using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using ModelSecurity.Analysis;
using ModelSecurity.Formats.Protobuf;

namespace ModelSecurity.Formats.TensorFlow;

/// <summary>
/// TensorFlow graphs in protobuf: a SavedModel's <c>saved_model.pb</c> (SavedModel → MetaGraphDef →
/// GraphDef) and bare GraphDef files (frozen graphs). Every NodeDef of the graph and of its function
/// library is graded by <see cref="TensorFlowGraph"/>; constant tensors are read only when they hold
/// strings (paths), and their numeric content (the weights of a frozen graph) is skipped unread.
/// </summary>
internal sealed class TensorFlowGraphReader : IModelReader
{
    private const int MaxStrings = 8;
    private const int MaxStringBytes = 1024;
    private const int DtString = 7;
    private const int MaxKerasMetadataBytes = 32 * 1024 * 1024;

    public void Read(ReadContext context)
    {
        var graph = new TensorFlowGraph(context);
        var info = new SavedModelInfo();
        var reader = new ProtobufReader(context.Source, 0, context.Source.Length);
        try
        {
            string? missing;
            if (context.Format == ModelFormat.TensorFlowSavedModel)
            {
                ReadSavedModel(reader, graph, info);
                missing = info.MetaGraphs == 0 ? "The SavedModel holds no MetaGraph, so there is nothing to load"
                    : info.GraphDefs < info.MetaGraphs ? "A MetaGraph of the SavedModel has no graph, which TensorFlow always writes: the file is damaged or is not a SavedModel"
                    : null;
            }
            else
            {
                // TensorFlow writes GraphDef fields in number order, versions (4) last: without it the file was cut short or hand-made.
                missing = ReadGraphDef(reader, graph) ? null : "The GraphDef has no versions field, which TensorFlow writes last in every graph: the file looks cut short";
            }

            if (missing is not null)
            {
                context.Report(RuleIds.TensorFlowMalformed, missing + ".");
            }
        }
        catch (ProtobufFormatException e)
        {
            context.Report(RuleIds.TensorFlowMalformed, $"The TensorFlow protobuf is malformed: {e.Reason} (byte {e.Offset:N0}); TensorFlow would refuse it, and what follows was not checked.", $"byte {e.Offset}");
        }

        CheckKeras(context, info);
        graph.Finish();
        if (context.Member is null)
        {
            var metadata = context.Scan.Metadata;
            if (info.SchemaVersion is not null)
            {
                metadata["SavedModelSchemaVersion"] = (long)info.SchemaVersion.Value;
                metadata["MetaGraphTags"] = info.Tags.Distinct(StringComparer.Ordinal).ToArray();
                metadata["SignatureNames"] = info.Signatures.ToArray();
            }

            if (info.Version is not null)
            {
                metadata["TensorFlowVersion"] = info.Version;
            }

            metadata["NodeCount"] = graph.NodeCount;
            metadata["FunctionCount"] = graph.FunctionCount;
            metadata["Operators"] = graph.Ops.ToArray();
            metadata["CheckpointOps"] = graph.CheckpointOps;
        }
    }

    private static void ReadSavedModel(ProtobufReader r, TensorFlowGraph graph, SavedModelInfo info)
    {
        while (r.TryReadTag(out int field, out int wire))
        {
            if (field == 1 && wire == ProtobufWire.Varint)
            {
                info.SchemaVersion = r.ReadVarint();
            }
            else if (field == 2 && wire == ProtobufWire.LengthDelimited)
            {
                info.MetaGraphs++;
                r.ReadMessage(() => ReadMetaGraph(r, graph, info));
            }
            else
            {
                r.Skip(wire);
            }
        }
    }

    /// <summary>MetaGraphDef: 1 meta_info_def (4 tags, 5 tensorflow_version), 2 graph_def, 5 signature_def (map: 1 key).</summary>
    private static void ReadMetaGraph(ProtobufReader r, TensorFlowGraph graph, SavedModelInfo info)
    {
        r.ReadFields((f, w) =>
        {
            if (w != ProtobufWire.LengthDelimited)
            {
                return false;
            }

            switch (f)
            {
                case 1:
                    return r.ReadMessage(() => r.ReadFields((mf, mw) =>
                    {
                        if (mw != ProtobufWire.LengthDelimited)
                        {
                            return false;
                        }

                        if (mf == 4 && info.Tags.Count < 16)
                        {
                            info.Tags.Add(r.ReadString(64));
                            return true;
                        }

                        if (mf == 5)
                        {
                            info.Version = r.ReadString(64);
                            return true;
                        }

                        return false;
                    }));
                case 2:
                    info.GraphDefs++;
                    return r.ReadMessage(() => ReadGraphDef(r, graph));
                case 7:
                    return r.ReadMessage(() => ReadObjectGraph(r, info));
                case 5:
                    return r.ReadMessage(() => r.ReadFields((sf, sw) =>
                    {
                        if (sf == 1 && sw == ProtobufWire.LengthDelimited && info.Signatures.Count < 32)
                        {
                            info.Signatures.Add(r.ReadString(128));
                            return true;
                        }

                        return false;
                    }));
                default:
                    return false;
            }
        });
    }

    /// <summary>
    /// SavedObjectGraph: 1 nodes (SavedObject: 4 user_object → SavedUserObject: 1 identifier, 3 metadata).
    /// Keras layers are user objects whose identifier starts with <c>_tf_keras_</c>; before TensorFlow 2.5
    /// their config (Lambda code included) was the deprecated metadata string, later keras_metadata.pb.
    /// </summary>
    private static void ReadObjectGraph(ProtobufReader r, SavedModelInfo info) =>
        r.ReadFields((f, w) =>
        {
            if (f != 1 || w != ProtobufWire.LengthDelimited)
            {
                return false;
            }

            return r.ReadMessage(() => r.ReadFields((of, ow) =>
            {
                if (of != 4 || ow != ProtobufWire.LengthDelimited)
                {
                    return false;
                }

                return r.ReadMessage(() => r.ReadFields((uf, uw) =>
                {
                    if (uw != ProtobufWire.LengthDelimited)
                    {
                        return false;
                    }

                    if (uf == 1)
                    {
                        string identifier = r.ReadString(256);
                        if (identifier.StartsWith("_tf_keras_", StringComparison.Ordinal))
                        {
                            info.KerasObjects++;
                        }

                        return true;
                    }

                    if (uf == 3 && info.KerasMetadataBytes < MaxKerasMetadataBytes)
                    {
                        string metadata = r.ReadString(MaxKerasMetadataBytes);
                        info.KerasMetadataBytes += metadata.Length;
                        if (metadata.Length > 0)
                        {
                            info.KerasMetadata.Add(metadata);
                        }

                        return true;
                    }

                    return false;
                }));
            }));
        });

    /// <summary>
    /// Keras revives the layers of a Keras SavedModel from their configs: in saved_model.pb (before
    /// TensorFlow 2.5) or in keras_metadata.pb beside it. Both are analysed; a Keras SavedModel on disk
    /// without either is incomplete, since what Keras would run cannot be known.
    /// </summary>
    private static void CheckKeras(ReadContext context, SavedModelInfo info)
    {
        for (int i = 0; i < info.KerasMetadata.Count; i++)
        {
            Analysis.KerasConfigAnalysis.Analyze(context, info.KerasMetadata[i], $"object graph Keras metadata {i}");
        }

        if (info.KerasObjects == 0 || info.KerasMetadata.Count > 0 || context.Member is not null || context.Scan.FilePath is null)
        {
            return;
        }

        string sibling = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(context.Scan.FilePath) ?? ".", "keras_metadata.pb");
        var file = new System.IO.FileInfo(sibling);
        if (!file.Exists)
        {
            context.Report(
                RuleIds.SavedModelIncomplete,
                $"The SavedModel holds {info.KerasObjects:N0} Keras objects, whose configs (Lambda code included) Keras reads from keras_metadata.pb beside saved_model.pb, and that file is not there. What keras.models.load_model would run was not checked; scan the whole SavedModel folder.");
            return;
        }

        if (file.Length > MaxKerasMetadataBytes || !context.TryReserve(file.Length, "keras_metadata.pb"))
        {
            context.Report(RuleIds.SavedModelIncomplete, $"keras_metadata.pb beside this SavedModel is {file.Length:N0} bytes, more than this version reads, so the Keras configs were not checked.");
            return;
        }

        byte[] bytes;
        try
        {
            bytes = System.IO.File.ReadAllBytes(sibling);
        }
        catch (Exception e) when (e is System.IO.IOException or UnauthorizedAccessException)
        {
            context.Report(RuleIds.SavedModelIncomplete, $"keras_metadata.pb beside this SavedModel could not be read ({e.Message}), so the Keras configs were not checked.");
            return;
        }

        context.ScanNested("keras_metadata.pb", bytes);
    }

    /// <summary>GraphDef: 1 node, 2 library (FunctionDefLibrary: 1 function), 4 versions. True when versions was present.</summary>
    private static bool ReadGraphDef(ProtobufReader r, TensorFlowGraph graph)
    {
        bool versions = false;
        r.ReadFields((f, w) =>
        {
            versions |= f == 4;
            if (f == 1 && w == ProtobufWire.LengthDelimited)
            {
                return r.ReadMessage(() => ReadNode(r, graph));
            }

            if (f == 2 && w == ProtobufWire.LengthDelimited)
            {
                // Top-level nodes are judged before the library: a scope per function.
                graph.EndScope(string.Empty);
                return r.ReadMessage(() => r.ReadFields((lf, lw) => lf == 1 && lw == ProtobufWire.LengthDelimited && r.ReadMessage(() => ReadFunction(r, graph))));
            }

            return false;
        });
        graph.EndScope(string.Empty);
        return versions;
    }

    /// <summary>FunctionDef: 1 signature (OpDef: 1 name), 3 node_def.</summary>
    private static void ReadFunction(ProtobufReader r, TensorFlowGraph graph)
    {
        string name = "?";
        r.ReadFields((f, w) =>
        {
            if (f == 1 && w == ProtobufWire.LengthDelimited)
            {
                return r.ReadMessage(() => r.ReadFields((sf, sw) =>
                {
                    if (sf == 1 && sw == ProtobufWire.LengthDelimited)
                    {
                        name = r.ReadString(256);
                        return true;
                    }

                    return false;
                }));
            }

            return f == 3 && w == ProtobufWire.LengthDelimited && r.ReadMessage(() => ReadNode(r, graph));
        });
        graph.EndScope(name.Length == 0 ? "?" : name);
    }

    /// <summary>NodeDef: 1 name, 2 op, 3 input, 5 attr (map entry: 1 key, 2 AttrValue).</summary>
    private static void ReadNode(ProtobufReader r, TensorFlowGraph graph)
    {
        string name = string.Empty;
        string op = string.Empty;
        var inputs = new List<string>();
        var strings = new List<string>();
        List<string>? constStrings = null;
        r.ReadFields((f, w) =>
        {
            if (w != ProtobufWire.LengthDelimited)
            {
                return false;
            }

            switch (f)
            {
                case 1:
                    name = r.ReadString(512);
                    return true;
                case 2:
                    op = r.ReadString(256);
                    return true;
                case 3:
                    if (inputs.Count < 64)
                    {
                        inputs.Add(r.ReadString(512));
                        return true;
                    }

                    return false;
                case 5:
                    return r.ReadMessage(() =>
                    {
                        string key = string.Empty;
                        r.ReadFields((af, aw) =>
                        {
                            if (af == 1 && aw == ProtobufWire.LengthDelimited)
                            {
                                key = r.ReadString(128);
                                return true;
                            }

                            // Keys precede values on the wire; internal attributes ("_output_shapes"...) are skipped.
                            if (af == 2 && aw == ProtobufWire.LengthDelimited && !key.StartsWith('_'))
                            {
                                return r.ReadMessage(() => ReadAttrValue(r, strings, ref constStrings));
                            }

                            return false;
                        });
                    });
                default:
                    return false;
            }
        });

        if (op == "Const" && constStrings is { Count: > 0 })
        {
            graph.AddConst(name, constStrings);
        }

        graph.AddNode(new TensorFlowNode(name, op, inputs, strings));
    }

    /// <summary>AttrValue: 1 list (ListValue: 2 s), 2 s, 8 tensor (TensorProto: 1 dtype, 8 string_val).</summary>
    private static void ReadAttrValue(ProtobufReader r, List<string> strings, ref List<string>? constStrings)
    {
        List<string>? tensorStrings = null;
        r.ReadFields((f, w) =>
        {
            if (w != ProtobufWire.LengthDelimited)
            {
                return false;
            }

            switch (f)
            {
                case 2:
                    AddString(r, strings);
                    return true;
                case 1:
                    return r.ReadMessage(() => r.ReadFields((lf, lw) =>
                    {
                        if (lf == 2 && lw == ProtobufWire.LengthDelimited)
                        {
                            AddString(r, strings);
                            return true;
                        }

                        return false;
                    }));
                case 8:
                    return r.ReadMessage(() => tensorStrings = ReadStringTensor(r));
                default:
                    return false;
            }
        });

        if (tensorStrings is not null)
        {
            constStrings = tensorStrings;
        }
    }

    private static List<string>? ReadStringTensor(ProtobufReader r)
    {
        ulong dtype = 0;
        var values = new List<string>();
        r.ReadFields((f, w) =>
        {
            if (f == 1 && w == ProtobufWire.Varint)
            {
                dtype = r.ReadVarint();
                return true;
            }

            if (f == 8 && w == ProtobufWire.LengthDelimited)
            {
                AddString(r, values);
                return true;
            }

            // tensor_content (4) and the numeric value lists are weights: skipped unread.
            return false;
        });
        return dtype == DtString && values.Count > 0 ? values : null;
    }

    private static void AddString(ProtobufReader r, List<string> into)
    {
        if (into.Count >= MaxStrings)
        {
            r.Skip(ProtobufWire.LengthDelimited);
            return;
        }

        byte[] bytes = r.ReadBytes(MaxStringBytes, out _);
        into.Add(Encoding.UTF8.GetString(bytes));
    }


    private sealed class SavedModelInfo
    {
        public ulong? SchemaVersion { get; set; }

        public List<string> Tags { get; } = new();

        public List<string> Signatures { get; } = new();

        public string? Version { get; set; }

        public int MetaGraphs { get; set; }

        public int GraphDefs { get; set; }

        public int KerasObjects { get; set; }

        public List<string> KerasMetadata { get; } = new();

        public long KerasMetadataBytes { get; set; }
    }
}
