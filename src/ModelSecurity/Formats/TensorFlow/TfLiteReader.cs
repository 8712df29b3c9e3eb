using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using ModelSecurity.Analysis;

namespace ModelSecurity.Formats.TensorFlow;

/// <summary>
/// TensorFlow Lite models (tensorflow/lite/schema/schema.fbs): a FlatBuffer whose root Model table
/// gives the schema version, the operator codes, subgraphs, buffers, description and metadata
/// names. Only those tables are read, each with its offsets checked; buffer contents (the weights)
/// are never touched. Custom operators need kernels the host application registers.
/// </summary>
internal sealed class TfLiteReader : IModelReader
{
    private const int CustomBuiltinCode = 32;
    private const int MaxOperatorCodes = 10_000;
    private const int MaxListed = 32;

    /// <summary>Custom operators whose kernels ship inside TFLite's own op resolver.</summary>
    private static readonly HashSet<string> ShippedCustomOps = new(StringComparer.Ordinal)
    {
        "TFLite_Detection_PostProcess", "Mfcc", "AudioSpectrogram",
    };

    public void Read(ReadContext context)
    {
        var buffer = new FlatBuffer(context.Source);
        try
        {
            ReadModel(context, buffer);
        }
        catch (InvalidDataException e)
        {
            context.Report(RuleIds.TensorFlowMalformed, $"The TFLite FlatBuffer is malformed: {e.Message}. TFLite's verifier would refuse it.");
        }
    }

    private static void ReadModel(ReadContext context, FlatBuffer fb)
    {
        long model = fb.Root();
        uint version = fb.FieldUInt32(model, 0);
        long codes = fb.FieldVector(model, 1, out uint codeCount);
        fb.FieldVector(model, 2, out uint subgraphCount);
        string? description = fb.FieldString(model, 3);
        fb.FieldVector(model, 4, out uint bufferCount);
        long metadata = fb.FieldVector(model, 6, out uint metadataCount);
        if (codeCount > MaxOperatorCodes)
        {
            throw new InvalidDataException($"{codeCount:N0} operator codes is more than any model has");
        }

        var builtins = new SortedSet<int>();
        var custom = new List<string>();
        var known = new SortedSet<string>(StringComparer.Ordinal);
        for (uint i = 0; i < codeCount; i++)
        {
            long code = fb.VectorTable(codes, i);
            int deprecated = (sbyte)fb.FieldByte(code, 0);
            int builtin = Math.Max(deprecated, fb.FieldInt32(code, 3));
            if (builtin != CustomBuiltinCode)
            {
                builtins.Add(builtin);
                continue;
            }

            string name = fb.FieldString(code, 1) ?? string.Empty;
            if (name.StartsWith("Flex", StringComparison.Ordinal))
            {
                known.Add(name);
            }
            else if (!ShippedCustomOps.Contains(name))
            {
                custom.Add(name.Length == 0 ? "(unnamed)" : name);
            }
            else
            {
                known.Add(name);
            }
        }

        var metadataNames = new List<string>();
        for (uint i = 0; i < Math.Min(metadataCount, MaxListed); i++)
        {
            metadataNames.Add(fb.FieldString(fb.VectorTable(metadata, i), 0) ?? string.Empty);
        }

        ReportOps(context, custom, known);
        if (context.Member is null)
        {
            var m = context.Scan.Metadata;
            m["TFLiteSchemaVersion"] = (long)version;
            if (!string.IsNullOrEmpty(description))
            {
                m["Description"] = description.Length > 256 ? string.Concat(description.AsSpan(0, 256), "…") : description;
            }

            m["SubgraphCount"] = (long)subgraphCount;
            m["BufferCount"] = (long)bufferCount;
            m["BuiltinOperatorCodes"] = builtins.ToArray();
            if (custom.Count + known.Count > 0)
            {
                m["CustomOperators"] = custom.Concat(known).Distinct(StringComparer.Ordinal).Take(MaxListed).ToArray();
            }

            if (metadataNames.Count > 0)
            {
                m["MetadataNames"] = metadataNames.ToArray();
            }
        }
    }

    private static void ReportOps(ReadContext context, List<string> custom, SortedSet<string> known)
    {
        foreach (string op in known)
        {
            // Select TensorFlow ops run TensorFlow's own kernels: graded like the op in a graph.
            string tfOp = op.StartsWith("Flex", StringComparison.Ordinal) ? op.Substring(4) : op;
            OpRisk risk = TensorFlowOps.Risk(tfOp);
            if (risk == OpRisk.Code)
            {
                context.Report(RuleIds.TensorFlowCodeOp, $"The TensorFlow select op {op} calls a Python function when the model runs.", $"operator code \"{op}\"");
            }
            else if (risk == OpRisk.FileOrNetwork)
            {
                context.Report(RuleIds.TensorFlowFileOp, $"The TensorFlow select op {op} reaches files or the network when the model runs.", $"operator code \"{op}\"");
            }
        }

        if (custom.Count > 0)
        {
            context.Report(
                RuleIds.CustomOperatorNeedsHostCode,
                $"The model uses {custom.Count} custom operator(s) whose kernels are not part of TFLite: {string.Join(", ", custom.Distinct(StringComparer.Ordinal).Take(MaxListed))}. The application must register code for them.",
                "operator_codes");
        }
    }

    /// <summary>Bounded reads of FlatBuffer tables: every offset is checked against the file before it is followed.</summary>
    private sealed class FlatBuffer
    {
        private readonly ModelFileSource _source;

        public FlatBuffer(ModelFileSource source)
        {
            _source = source;
        }

        public long Root() => Offset(0, "root table");

        public byte FieldByte(long table, int field)
        {
            long at = Field(table, field);
            return at < 0 ? (byte)0 : Bytes(at, 1)[0];
        }

        public int FieldInt32(long table, int field)
        {
            long at = Field(table, field);
            return at < 0 ? 0 : BitConverter.ToInt32(Bytes(at, 4), 0);
        }

        public uint FieldUInt32(long table, int field) => unchecked((uint)FieldInt32(table, field));

        public string? FieldString(long table, int field)
        {
            long at = Field(table, field);
            if (at < 0)
            {
                return null;
            }

            long start = Offset(at, "string");
            uint length = BitConverter.ToUInt32(Bytes(start, 4), 0);
            if (length > _source.Length - start - 4)
            {
                throw new InvalidDataException($"a string at byte {start:N0} claims {length:N0} bytes past the end of the file");
            }

            byte[] text = Bytes(start + 4, (int)Math.Min(length, 4096));
            return Encoding.UTF8.GetString(text);
        }

        /// <summary>The start of a vector field's elements (its count in <paramref name="count"/>), or -1 when absent.</summary>
        public long FieldVector(long table, int field, out uint count)
        {
            count = 0;
            long at = Field(table, field);
            if (at < 0)
            {
                return -1;
            }

            long start = Offset(at, "vector");
            count = BitConverter.ToUInt32(Bytes(start, 4), 0);
            if ((long)count * 4 > _source.Length - start - 4)
            {
                throw new InvalidDataException($"a vector at byte {start:N0} claims {count:N0} elements past the end of the file");
            }

            return start + 4;
        }

        public long VectorTable(long elements, uint index) => Offset(elements + (4L * index), "table");

        /// <summary>The file offset of a table's field, or -1 when the field is absent (its default applies).</summary>
        private long Field(long table, int field)
        {
            int vtableDelta = BitConverter.ToInt32(Bytes(table, 4), 0);
            long vtable = table - vtableDelta;
            Check(vtable, 4, "vtable");
            byte[] head = Bytes(vtable, 4);
            int vtableSize = BitConverter.ToUInt16(head, 0);
            int tableSize = BitConverter.ToUInt16(head, 2);
            int slot = 4 + (2 * field);
            if (vtableSize < 4 || vtableSize % 2 != 0)
            {
                throw new InvalidDataException($"the vtable at byte {vtable:N0} has an impossible size {vtableSize}");
            }

            if (slot + 2 > vtableSize)
            {
                return -1;
            }

            int offset = BitConverter.ToUInt16(Bytes(vtable + slot, 2), 0);
            if (offset == 0)
            {
                return -1;
            }

            if (offset >= tableSize)
            {
                throw new InvalidDataException($"field {field} of the table at byte {table:N0} lies outside the table");
            }

            return table + offset;
        }

        private long Offset(long at, string what)
        {
            uint relative = BitConverter.ToUInt32(Bytes(at, 4), 0);
            long target = at + relative;
            Check(target, 4, what);
            return target;
        }

        private byte[] Bytes(long at, int count)
        {
            Check(at, count, "field");
            return _source.ReadBlock(at, count);
        }

        private void Check(long at, long count, string what)
        {
            if (at < 0 || count < 0 || at > _source.Length - count)
            {
                throw new InvalidDataException($"a {what} at byte {at:N0} lies outside the file");
            }
        }
    }
}
