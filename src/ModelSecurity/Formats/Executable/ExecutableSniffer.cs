using System;
using System.Buffers.Binary;
using System.Text;

namespace ModelSecurity.Formats.Executable;

/// <summary>Native programs and scripts: APE/llamafile, ELF, PE, Mach-O and <c>#!</c> scripts.</summary>
internal sealed class ExecutableSniffer : IFormatSniffer
{
    // Actually Portable Executable openings (llamafile): "MZqFpD='", "jartsr='", "APEDBG='".
    private static readonly byte[][] ApeMagics =
    {
        Encoding.ASCII.GetBytes("MZqFpD='"),
        Encoding.ASCII.GetBytes("jartsr='"),
        Encoding.ASCII.GetBytes("APEDBG='"),
    };

    private static readonly byte[] Elf = { 0x7F, (byte)'E', (byte)'L', (byte)'F' };

    public FormatMatch? Sniff(SniffContext context)
    {
        foreach (byte[] magic in ApeMagics)
        {
            if (context.StartsWith(magic))
            {
                return new FormatMatch(ModelFormat.Llamafile, "Actually Portable Executable (llamafile runtime)");
            }
        }

        if (context.StartsWith(Elf))
        {
            return new FormatMatch(ModelFormat.Elf, DescribeElf(context.Head));
        }

        if (context.Head.Length >= 2 && context.Head[0] == (byte)'M' && context.Head[1] == (byte)'Z')
        {
            return new FormatMatch(ModelFormat.PE, HasPeSignature(context.Head) ? "Windows PE executable" : "DOS MZ executable");
        }

        if (context.Head.Length >= 8)
        {
            uint be = BinaryPrimitives.ReadUInt32BigEndian(context.Head);
            switch (be)
            {
                case 0xFEEDFACE:
                case 0xCEFAEDFE:
                    return new FormatMatch(ModelFormat.MachO, "Mach-O 32-bit executable");
                case 0xFEEDFACF:
                case 0xCFFAEDFE:
                    return new FormatMatch(ModelFormat.MachO, "Mach-O 64-bit executable");
                case 0xCAFEBABE:
                    // Shared with Java class files, whose next word is a version >= 45; a fat Mach-O has a small arch count.
                    uint archCount = BinaryPrimitives.ReadUInt32BigEndian(context.Head.AsSpan(4));
                    if (archCount is > 0 and < 32)
                    {
                        return new FormatMatch(ModelFormat.MachO, "Mach-O universal (fat) executable");
                    }

                    break;
            }
        }

        if (context.Head.Length >= 3 && context.Head[0] == (byte)'#' && context.Head[1] == (byte)'!')
        {
            return new FormatMatch(ModelFormat.Script, $"script for {Interpreter(context.Head)}");
        }

        return null;
    }

    private static string DescribeElf(byte[] head)
    {
        if (head.Length < 18)
        {
            return "ELF file";
        }

        string bits = head[4] == 2 ? "64-bit" : "32-bit";
        ushort type = head[5] == 2 ? BinaryPrimitives.ReadUInt16BigEndian(head.AsSpan(16)) : BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(16));
        string kind = type switch
        {
            1 => "relocatable object",
            2 => "executable",
            3 => "shared object or PIE executable",
            4 => "core dump",
            _ => "file",
        };
        return $"ELF {bits} {kind}";
    }

    private static bool HasPeSignature(byte[] head)
    {
        if (head.Length < 0x40)
        {
            return false;
        }

        int peOffset = BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(0x3C));
        return peOffset > 0 && peOffset <= head.Length - 4
            && head[peOffset] == (byte)'P' && head[peOffset + 1] == (byte)'E' && head[peOffset + 2] == 0 && head[peOffset + 3] == 0;
    }

    private static string Interpreter(byte[] head)
    {
        int end = Array.IndexOf(head, (byte)'\n');
        int length = Math.Min(end < 0 ? head.Length : end, 120) - 2;
        string line = Encoding.UTF8.GetString(head, 2, Math.Max(0, length)).Trim();
        return line.Length == 0 ? "an unnamed interpreter" : line;
    }
}
