using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using static ModelSecurity.Tests.Protobuf;

namespace ModelSecurity.Tests;

/// <summary>ONNX ModelProto fixtures, hand-encoded (onnx.proto field numbers).</summary>
internal static class OnnxBuilder
{
    public static byte[] Model(byte[] graph, params (string Domain, int Version)[] opsets) => Concat(
        Varint(1, 8),
        Text(2, "pytorch"),
        Text(3, "2.3.0"),
        Message(7, graph),
        Concat(opsets.Select(o => Message(8, Text(1, o.Domain), Varint(2, (ulong)o.Version))).ToArray()),
        Message(14, Text(1, "license"), Text(2, "mit")));

    public static byte[] Model(byte[] graph) => Model(graph, (string.Empty, 17));

    public static byte[] Graph(params byte[][] fields) => Concat(new[] { Text(2, "main_graph") }.Concat(fields).ToArray());

    /// <summary>A NodeProto (1 input, 2 output, 3 name, 4 op_type, 7 domain, 5 attributes).</summary>
    public static byte[] Node(string op, string name = "n", string domain = "", params byte[][] attributes) =>
        Message(1, Concat(new[] { Text(1, "x"), Text(2, "y"), Text(3, name), Text(4, op), domain.Length > 0 ? Text(7, domain) : Array.Empty<byte>() }.Concat(attributes.Select(a => Message(5, a))).ToArray()));

    /// <summary>A TensorProto's fields: 1 dims, 2 data_type, 8 name, 9 raw_data / 13 external_data + 14 data_location.</summary>
    public static byte[] Tensor(string name, string? location = null, int rawBytes = 16) => location is null
        ? Concat(Varint(1, (ulong)(rawBytes / 4)), Varint(2, 1), Text(8, name), Bytes(9, new byte[rawBytes]))
        : Concat(Varint(1, 4), Varint(2, 1), Text(8, name), Message(13, Text(1, "location"), Text(2, location)), Message(13, Text(1, "offset"), Text(2, "0")), Varint(14, 1));

    public static byte[] Initializer(string name, string? location = null, int rawBytes = 16) => Message(5, Tensor(name, location, rawBytes));

    /// <summary>ValueInfoProto for a float tensor of the given shape (dim_value or dim_param).</summary>
    public static byte[] Input(int field, string name, params object[] dims) => Message(
        field,
        Text(1, name),
        Message(2, Message(1, Varint(1, 1), Message(2, dims.Select(d => d is string s ? Message(1, Text(2, s)) : Message(1, Varint(1, Convert.ToUInt64(d, System.Globalization.CultureInfo.InvariantCulture)))).ToArray()))));

    public static byte[] Benign() => Model(Graph(
        Node("Relu", "relu"),
        Initializer("w"),
        Input(11, "x", "batch", 3),
        Input(12, "y", "batch", 3)));
}

/// <summary>TensorFlow SavedModel / GraphDef fixtures (tensorflow/core/framework/*.proto field numbers).</summary>
internal static class TensorFlowBuilder
{
    /// <summary>A NodeDef (1 name, 2 op, 3 input, 5 attr).</summary>
    public static byte[] Node(string name, string op, string[]? inputs = null, params (string Key, byte[] Value)[] attrs) => Concat(
        new[] { Text(1, name), Text(2, op) }
            .Concat((inputs ?? Array.Empty<string>()).Select(i => Text(3, i)))
            .Concat(attrs.Select(a => Message(5, Text(1, a.Key), Bytes(2, a.Value))))
            .ToArray());

    /// <summary>A Const node holding one string (AttrValue.tensor: dtype DT_STRING, string_val).</summary>
    public static byte[] StringConst(string name, string value) =>
        Node(name, "Const", null, ("dtype", Varint(6, 7)), ("value", Message(8, Varint(1, 7), Message(2), Text(8, value))));

    public static (string, byte[]) StringAttr(string key, string value) => (key, Text(2, value));

    public static byte[] Function(string name, params byte[][] nodes) =>
        Concat(new[] { Message(1, Text(1, name)) }.Concat(nodes.Select(n => Bytes(3, n))).ToArray());

    /// <summary>GraphDef: nodes (1), library functions (2 → 1), versions (4).</summary>
    public static byte[] GraphDef(byte[][] nodes, params byte[][] functions) => Concat(
        nodes.Select(n => Bytes(1, n))
            .Concat(functions.Length == 0 ? Array.Empty<byte[]>() : new[] { Message(2, functions.Select(f => Bytes(1, f)).ToArray()) })
            .Append(Message(4, Varint(1, 1645)))
            .ToArray());

    public static byte[] SavedModel(byte[] graphDef) => Concat(
        Varint(1, 1),
        Message(2, Message(1, Text(4, "serve"), Text(5, "2.15.0")), Bytes(2, graphDef), Message(5, Text(1, "serving_default"))));

    /// <summary>The checkpoint functions every TF2 SavedModel has: the prefix comes from the caller.</summary>
    public static byte[][] SaverFunctions() => new[]
    {
        Function(
            "__inference__traced_save_42",
            Node("ShardedFilename", "ShardedFilename", new[] { "file_prefix" }),
            StringConst("SaveV2/tensor_names", "w/.ATTRIBUTES/VARIABLE_VALUE"),
            Node("SaveV2", "SaveV2", new[] { "ShardedFilename:filename:0", "SaveV2/tensor_names:output:0" }),
            Node("MergeV2Checkpoints", "MergeV2Checkpoints", new[] { "MergeV2Checkpoints/checkpoint_prefixes:output:0", "file_prefix" })),
        Function(
            "__inference__traced_restore_57",
            Node("RestoreV2", "RestoreV2", new[] { "file_prefix", "RestoreV2/tensor_names:output:0" })),
    };

    public static byte[] BenignSavedModel() => SavedModel(GraphDef(
        new[] { Node("x", "Placeholder"), Node("w", "VarHandleOp"), Node("y", "MatMul", new[] { "x", "w" }) },
        SaverFunctions()));

    /// <summary>A LevelDB-style table as variables.index is written: data block, metaindex block, index block, footer.</summary>
    public static byte[] CheckpointIndex(params string[] tensors)
    {
        var file = new List<byte>();
        (long Offset, long Size) WriteBlock(IEnumerable<(string Key, byte[] Value)> entries)
        {
            var block = new List<byte>();
            foreach ((string key, byte[] value) in entries)
            {
                byte[] k = Encoding.UTF8.GetBytes(key);
                block.Add(0);
                block.AddRange(RawVarint((ulong)k.Length));
                block.AddRange(RawVarint((ulong)value.Length));
                block.AddRange(k);
                block.AddRange(value);
            }

            block.AddRange(new byte[4]); // restart offset 0
            block.AddRange(BitConverter.GetBytes(1u)); // one restart
            long offset = file.Count;
            file.AddRange(block);
            file.AddRange(new byte[5]); // trailer: no compression, CRC (not checked)
            return (offset, block.Count);
        }

        var data = WriteBlock(new[] { (string.Empty, new byte[] { 0x08, 0x01 }) }.Concat(tensors.Order(StringComparer.Ordinal).Select(t => (t, new byte[] { 0x08, 0x01 }))));
        var meta = WriteBlock(Array.Empty<(string, byte[])>());
        var index = WriteBlock(new[] { ("~", RawVarint((ulong)data.Offset).Concat(RawVarint((ulong)data.Size)).ToArray()) });
        var footer = new List<byte>();
        footer.AddRange(RawVarint((ulong)meta.Offset));
        footer.AddRange(RawVarint((ulong)meta.Size));
        footer.AddRange(RawVarint((ulong)index.Offset));
        footer.AddRange(RawVarint((ulong)index.Size));
        footer.AddRange(new byte[40 - footer.Count]);
        footer.AddRange(new byte[] { 0x57, 0xFB, 0x80, 0x8B, 0x24, 0x75, 0x47, 0xDB });
        file.AddRange(footer);
        return file.ToArray();
    }

    private static byte[] RawVarint(ulong value)
    {
        var bytes = new List<byte>();
        do
        {
            byte b = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value == 0 ? b : (byte)(b | 0x80));
        }
        while (value != 0);
        return bytes.ToArray();
    }
}

/// <summary>TFLite FlatBuffers, laid out forward: each table's vtable just before it, children after.</summary>
internal static class TfLiteBuilder
{
    /// <summary>A model with schema version 3, the given operator codes (a name means a custom op), a description and buffers.</summary>
    public static byte[] Model(string description, int buffers, params object[] operatorCodes)
    {
        var writer = new FlatWriter();
        writer.Bytes(new byte[4]);
        writer.Bytes(Encoding.ASCII.GetBytes("TFL3"));
        int model = writer.Table(
            FlatWriter.Scalar(3),
            FlatWriter.Child(() => writer.Vector(operatorCodes.Select(code => (Func<int>)(() => code is string name
                ? writer.Table(FlatWriter.Scalar(32), FlatWriter.Child(() => writer.String(name)), FlatWriter.Scalar(1), FlatWriter.Scalar(32))
                : writer.Table(FlatWriter.Scalar((int)code), null, FlatWriter.Scalar(1), FlatWriter.Scalar((int)code)))).ToArray())),
            FlatWriter.Child(() => writer.Vector(new Func<int>[] { () => writer.Table(FlatWriter.Scalar(0)) })),
            FlatWriter.Child(() => writer.String(description)),
            FlatWriter.Child(() => writer.Vector(Enumerable.Range(0, buffers).Select(_ => (Func<int>)(() => writer.Table(FlatWriter.Scalar(0)))).ToArray())));
        writer.Patch(0, model);
        writer.Flush();
        return writer.ToArray();
    }

    /// <summary>A field: a scalar value, or a child object written later and referenced by offset.</summary>
    internal sealed record Field(int? Value, Func<int>? Child);

    private sealed class FlatWriter
    {
        private readonly List<byte> _bytes = new();
        private readonly Queue<(int At, Func<int> Write)> _pending = new();

        public static Field Scalar(int value) => new(value, null);

        public static Field Child(Func<int> write) => new(null, write);

        public void Bytes(byte[] bytes) => _bytes.AddRange(bytes);

        /// <summary>Writes a vtable and its table; returns the table's position. Null fields are absent.</summary>
        public int Table(params Field?[] fields)
        {
            int vtable = _bytes.Count;
            U16(4 + (2 * fields.Length));
            U16(4 + (4 * fields.Length));
            for (int i = 0; i < fields.Length; i++)
            {
                U16(fields[i] is null ? 0 : 4 + (4 * i));
            }

            int table = _bytes.Count;
            I32(table - vtable);
            foreach (Field? field in fields)
            {
                if (field?.Child is not null)
                {
                    _pending.Enqueue((_bytes.Count, field.Child));
                }

                I32(field?.Value ?? 0);
            }

            return table;
        }

        public int Vector(Func<int>[] items)
        {
            int start = _bytes.Count;
            I32(items.Length);
            foreach (Func<int> item in items)
            {
                _pending.Enqueue((_bytes.Count, item));
                I32(0);
            }

            return start;
        }

        public int String(string text)
        {
            int start = _bytes.Count;
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            I32(bytes.Length);
            _bytes.AddRange(bytes);
            _bytes.Add(0);
            while (_bytes.Count % 4 != 0)
            {
                _bytes.Add(0);
            }

            return start;
        }

        public void Flush()
        {
            while (_pending.Count > 0)
            {
                (int at, Func<int> write) = _pending.Dequeue();
                Patch(at, write());
            }
        }

        public void Patch(int at, int target)
        {
            byte[] value = BitConverter.GetBytes(target - at);
            for (int i = 0; i < 4; i++)
            {
                _bytes[at + i] = value[i];
            }
        }

        public byte[] ToArray() => _bytes.ToArray();

        private void U16(int value) => _bytes.AddRange(BitConverter.GetBytes((ushort)value));

        private void I32(int value) => _bytes.AddRange(BitConverter.GetBytes(value));
    }
}
