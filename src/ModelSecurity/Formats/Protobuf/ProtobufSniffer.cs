using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace ModelSecurity.Formats.Protobuf;

/// <summary>
/// Protobuf model files have no magic, so the first 64 KiB must parse as a message whose field
/// numbers and wire types fit one schema: ONNX <c>ModelProto</c>, Core ML <c>Model</c>, TensorFlow
/// <c>SavedModel</c>, <c>GraphDef</c>, <c>FingerprintDef</c> or Keras <c>SavedMetadata</c>.
/// </summary>
internal sealed class ProtobufSniffer : IFormatSniffer
{
    private const int MaxFields = 100_000;

    // ModelProto fields (onnx.proto): ir_version, producer_name/version, domain, model_version,
    // doc_string, graph, opset_import, metadata_props, training_info, functions, configuration.
    private static readonly HashSet<int> OnnxFields = new() { 1, 2, 3, 4, 5, 6, 7, 8, 14, 20, 25, 26 };
    private static readonly HashSet<int> OnnxStringFields = new() { 2, 3, 4, 6, 7, 8, 14, 20, 25, 26 };

    public FormatMatch? Sniff(SniffContext context)
    {
        byte[] head = context.Head;
        if (head.Length < 2)
        {
            return null;
        }

        List<ProtobufField>? fields = ProtobufWire.TryReadMessage(head, context.Length, MaxFields, out _);
        if (fields is null || fields.Count == 0)
        {
            return null;
        }

        return ClassifyOnnx(head, fields)
            ?? ClassifyCoreMl(fields)
            ?? ClassifyFingerprint(fields)
            ?? ClassifySavedModel(fields)
            ?? ClassifyNodeList(head, fields);
    }

    private static FormatMatch? ClassifyOnnx(byte[] head, List<ProtobufField> fields)
    {
        ProtobufField first = fields[0];
        if (first.Number != 1 || !first.IsVarint || first.Value is 0 or > 20 || fields.Count < 2)
        {
            return null;
        }

        // A SavedModel (1 schema version, 2 meta graph) has the same wire shape; its field 2 is a message, not a name.
        if (fields.Any(f => f.Number == 2 && !IsText(head, f)))
        {
            return null;
        }

        foreach (ProtobufField field in fields)
        {
            if (!OnnxFields.Contains(field.Number) || (OnnxStringFields.Contains(field.Number) != field.IsLengthDelimited))
            {
                return null;
            }
        }

        return new FormatMatch(ModelFormat.Onnx, $"ONNX model (IR version {first.Value})", FormatMatch.Item("OnnxIrVersion", (long)first.Value));
    }

    private static FormatMatch? ClassifyCoreMl(List<ProtobufField> fields)
    {
        // Model: 1 specificationVersion, 2 description, then one model type at field 200 or above.
        ProtobufField first = fields[0];
        bool versioned = first.Number == 1 && first.IsVarint && first.Value is >= 1 and <= 30;
        return versioned && fields.Any(f => f.Number >= 200 && f.IsLengthDelimited) && fields.All(f => f.Number is 1 or 2 or 10 or >= 200)
            ? new FormatMatch(ModelFormat.CoreML, $"Core ML model (specification version {first.Value})", FormatMatch.Item("CoreMLSpecificationVersion", (long)first.Value))
            : null;
    }

    private static FormatMatch? ClassifyFingerprint(List<ProtobufField> fields)
    {
        // FingerprintDef: five uint64 hashes (1-5) and a VersionDef (6).
        bool shape = fields.All(f => (f.Number is >= 1 and <= 5 && f.IsVarint) || (f.Number == 6 && f.IsLengthDelimited));
        return shape && fields.Count(f => f.IsVarint) >= 3
            ? new FormatMatch(ModelFormat.TensorFlowMetadata, "TensorFlow SavedModel fingerprint (fingerprint.pb)", FormatMatch.Item("TensorFlowFile", "Fingerprint"))
            : null;
    }

    private static FormatMatch? ClassifySavedModel(List<ProtobufField> fields)
    {
        // SavedModel: 1 saved_model_schema_version, 2 meta_graphs.
        bool shape = fields.All(f => (f.Number == 1 && f.IsVarint) || (f.Number == 2 && f.IsLengthDelimited));
        return shape && fields.Any(f => f.Number == 2)
            ? new FormatMatch(ModelFormat.TensorFlowSavedModel, "TensorFlow SavedModel", FormatMatch.Item("MetaGraphCount", fields.Count(f => f.Number == 2)))
            : null;
    }

    private static FormatMatch? ClassifyNodeList(byte[] head, List<ProtobufField> fields)
    {
        // GraphDef: 1 node (repeated), 2 library, 3 version, 4 versions. Keras SavedMetadata: 1 nodes only.
        bool shape = fields.All(f => (f.Number is 1 or 2 or 4 && f.IsLengthDelimited) || (f.Number == 3 && f.IsVarint));
        ProtobufField node = fields.FirstOrDefault(f => f.Number == 1);
        if (!shape || node.Number != 1 || node.Offset >= head.Length)
        {
            return null;
        }

        // Inner fields' offsets count from the start of the node's payload, not of the file.
        byte[] payload = head.AsSpan(node.Offset, (int)Math.Min(node.Length, head.Length - node.Offset)).ToArray();
        List<ProtobufField>? inner = ProtobufWire.TryReadMessage(payload, node.Length, 1000, out _);
        if (inner is null)
        {
            return null;
        }

        // SavedObject in keras_metadata.pb: 4 identifier ("_tf_keras_..."), 5 metadata (JSON).
        if (inner.Any(f => f.Number == 4 && f.IsLengthDelimited && StartsWith(payload, f, "_tf_keras"))
            || inner.Any(f => f.Number == 5 && f.IsLengthDelimited && StartsWith(payload, f, "{")))
        {
            return new FormatMatch(ModelFormat.TensorFlowMetadata, "Keras SavedModel metadata (keras_metadata.pb)", FormatMatch.Item("TensorFlowFile", "KerasMetadata"));
        }

        // NodeDef: 1 name, 2 op (an identifier such as "Const" or "ReadFile").
        ProtobufField op = inner.FirstOrDefault(f => f.Number == 2 && f.IsLengthDelimited);
        return op.Number == 2 && IsIdentifier(payload, op)
            ? new FormatMatch(ModelFormat.TensorFlowGraphDef, "TensorFlow GraphDef", FormatMatch.Item("FirstOp", Encoding.ASCII.GetString(payload, op.Offset, (int)op.Length)))
            : null;
    }

    private static bool StartsWith(byte[] buffer, ProtobufField field, string prefix) =>
        field.Length >= prefix.Length
        && field.Offset + prefix.Length <= buffer.Length
        && Encoding.ASCII.GetString(buffer, field.Offset, prefix.Length) == prefix;

    private static bool IsText(byte[] buffer, ProtobufField field)
    {
        int end = (int)Math.Min(Math.Min(field.Offset + field.Length, buffer.Length), field.Offset + 256L);
        for (int i = field.Offset; i < end; i++)
        {
            if (buffer[i] < (byte)' ' && buffer[i] != (byte)'\t')
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsIdentifier(byte[] buffer, ProtobufField field)
    {
        if (field.Length is < 1 or > 128 || field.Offset + field.Length > buffer.Length)
        {
            return false;
        }

        for (int i = field.Offset; i < field.Offset + field.Length; i++)
        {
            byte b = buffer[i];
            bool ok = b is >= (byte)'A' and <= (byte)'Z' or >= (byte)'a' and <= (byte)'z' or (byte)'_'
                || (i > field.Offset && b is >= (byte)'0' and <= (byte)'9' or (byte)'>' or (byte)'.');
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }
}
