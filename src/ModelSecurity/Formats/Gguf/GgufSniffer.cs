using System;
using System.Buffers.Binary;

namespace ModelSecurity.Formats.Gguf;

/// <summary>GGUF (any version, either byte order) and the legacy GGML/GGMF/GGJT/GGLA files before it.</summary>
internal sealed class GgufSniffer : IFormatSniffer
{
    public FormatMatch? Sniff(SniffContext context)
    {
        byte[] head = context.Head;
        if (head.Length < 4)
        {
            return null;
        }

        if (head[0] == (byte)'G' && head[1] == (byte)'G' && head[2] == (byte)'U' && head[3] == (byte)'F')
        {
            if (head.Length < 8)
            {
                return new FormatMatch(ModelFormat.Gguf, "GGUF (truncated before the version)");
            }

            uint version = BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(4));
            // A big-endian file reads as 0x0N000000 here (ggml's own check: low 16 bits zero).
            bool bigEndian = (version & 0xFFFF) == 0 && version != 0;
            if (bigEndian)
            {
                version = BinaryPrimitives.ReverseEndianness(version);
            }

            return new FormatMatch(
                ModelFormat.Gguf,
                bigEndian ? $"GGUF v{version} big-endian" : $"GGUF v{version}",
                FormatMatch.Item("GgufVersion", version),
                FormatMatch.Item("ByteOrder", bigEndian ? "BigEndian" : "LittleEndian"));
        }

        // Legacy magics are uint32 little-endian words, so the letters appear reversed on disk.
        string? legacy = BinaryPrimitives.ReadUInt32LittleEndian(head) switch
        {
            0x67676d6c => "ggml",
            0x67676d66 => "ggmf",
            0x67676a74 => "ggjt",
            0x67676c61 => "ggla",
            _ => null,
        };
        return legacy is null
            ? null
            : new FormatMatch(ModelFormat.Ggml, $"legacy {legacy} file (before GGUF)", FormatMatch.Item("GgmlMagic", legacy));
    }
}
