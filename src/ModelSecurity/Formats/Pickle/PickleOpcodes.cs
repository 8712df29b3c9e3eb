namespace ModelSecurity.Formats.Pickle;

/// <summary>How an opcode's argument is laid out in the stream (CPython <c>pickletools</c>).</summary>
internal enum PickleArgument
{
    /// <summary>Not an opcode of any protocol.</summary>
    Invalid = 0,

    /// <summary>No argument bytes.</summary>
    None,

    /// <summary>One text line ending in <c>\n</c>.</summary>
    Line,

    /// <summary>Two text lines (GLOBAL, INST: module then name).</summary>
    TwoLines,

    /// <summary>A fixed number of bytes (<see cref="PickleOpcodes.FixedSize"/>).</summary>
    Fixed,

    /// <summary>A 1-byte length, then that many bytes.</summary>
    Length1,

    /// <summary>A 4-byte little-endian length, then that many bytes.</summary>
    Length4,

    /// <summary>An 8-byte little-endian length, then that many bytes.</summary>
    Length8,
}

/// <summary>The opcodes of pickle protocols 0-5 and how to step over each one.</summary>
internal static class PickleOpcodes
{
    public const byte Mark = (byte)'(';
    public const byte Stop = (byte)'.';
    public const byte Global = (byte)'c';
    public const byte Inst = (byte)'i';
    public const byte Proto = 0x80;
    public const byte Reduce = (byte)'R';
    public const byte StackGlobal = 0x93;

    private static readonly PickleArgument[] Arguments = BuildArguments();
    private static readonly byte[] FixedSizes = BuildFixedSizes();

    public static PickleArgument ArgumentOf(byte opcode) => Arguments[opcode];

    /// <summary>Argument size of a <see cref="PickleArgument.Fixed"/> opcode.</summary>
    public static int FixedSize(byte opcode) => FixedSizes[opcode];

    private static PickleArgument[] BuildArguments()
    {
        var table = new PickleArgument[256];
        foreach (char c in "(.012NRbadeo}l]stu)Q")
        {
            table[c] = PickleArgument.None;
        }

        foreach (byte b in new byte[] { 0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8F, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98 })
        {
            table[b] = PickleArgument.None;
        }

        foreach (char c in "ILFSVPpg")
        {
            table[c] = PickleArgument.Line;
        }

        table['c'] = PickleArgument.TwoLines;
        table['i'] = PickleArgument.TwoLines;

        foreach (char c in "JKMGqrhj")
        {
            table[c] = PickleArgument.Fixed;
        }

        foreach (byte b in new byte[] { 0x80, 0x82, 0x83, 0x84, 0x95 })
        {
            table[b] = PickleArgument.Fixed;
        }

        table['U'] = PickleArgument.Length1;
        table['C'] = PickleArgument.Length1;
        table[0x8C] = PickleArgument.Length1; // SHORT_BINUNICODE
        table[0x8A] = PickleArgument.Length1; // LONG1
        table['T'] = PickleArgument.Length4;  // BINSTRING
        table['X'] = PickleArgument.Length4;  // BINUNICODE
        table['B'] = PickleArgument.Length4;  // BINBYTES
        table[0x8B] = PickleArgument.Length4; // LONG4
        table[0x8D] = PickleArgument.Length8; // BINUNICODE8
        table[0x8E] = PickleArgument.Length8; // BINBYTES8
        table[0x96] = PickleArgument.Length8; // BYTEARRAY8
        return table;
    }

    private static byte[] BuildFixedSizes()
    {
        var sizes = new byte[256];
        sizes['J'] = 4; // BININT
        sizes['K'] = 1; // BININT1
        sizes['M'] = 2; // BININT2
        sizes['G'] = 8; // BINFLOAT
        sizes['q'] = 1; // BINPUT
        sizes['r'] = 4; // LONG_BINPUT
        sizes['h'] = 1; // BINGET
        sizes['j'] = 4; // LONG_BINGET
        sizes[0x80] = 1; // PROTO
        sizes[0x82] = 1; // EXT1
        sizes[0x83] = 2; // EXT2
        sizes[0x84] = 4; // EXT4
        sizes[0x95] = 8; // FRAME
        return sizes;
    }
}
