using System;

namespace ModelSecurity.Formats.TensorFlow;

/// <summary>
/// TensorFlow files with a fixed marker: TFLite FlatBuffers ("TFL3" at offset 4) and checkpoint
/// indexes (<c>variables.index</c>: a LevelDB table whose last 8 bytes are its magic number).
/// SavedModel and GraphDef protobufs are recognised by <see cref="Protobuf.ProtobufSniffer"/>.
/// </summary>
internal sealed class TensorFlowSniffer : IFormatSniffer
{
    private static readonly byte[] TableMagic = { 0x57, 0xFB, 0x80, 0x8B, 0x24, 0x75, 0x47, 0xDB };

    public FormatMatch? Sniff(SniffContext context)
    {
        byte[] head = context.Head;
        if (head.Length >= 8 && head[4] == (byte)'T' && head[5] == (byte)'F' && head[6] == (byte)'L' && head[7] == (byte)'3')
        {
            return new FormatMatch(ModelFormat.TFLite, "TensorFlow Lite model");
        }

        // LevelDB table footer: 40 bytes of block handles and padding, then the magic.
        if (context.Length >= 40 + TableMagic.Length)
        {
            byte[] tail = context.Tail;
            if (tail.Length >= TableMagic.Length && tail.AsSpan(tail.Length - TableMagic.Length).SequenceEqual(TableMagic))
            {
                return new FormatMatch(ModelFormat.TensorFlowMetadata, "TensorFlow checkpoint index (variables.index)", FormatMatch.Item("TensorFlowFile", "CheckpointIndex"));
            }
        }

        return null;
    }
}
