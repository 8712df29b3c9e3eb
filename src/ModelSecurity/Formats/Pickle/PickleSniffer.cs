using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;

namespace ModelSecurity.Formats.Pickle;

/// <summary>
/// Pickle streams. Protocol 2+ starts with PROTO; protocols 0 and 1 have no magic (CVE-2025-10155
/// hid them under <c>.bin</c>), so those are recognised by stepping through opcodes: the bytes are a
/// pickle when they reach STOP, or when they open with GLOBAL/INST the way a "broken" pickle whose
/// payload runs before the parse error does (nullifAI). Legacy PyTorch files are told apart by their
/// magic-number pickle, joblib dumps by joblib's array wrapper class.
/// </summary>
internal sealed class PickleSniffer : IFormatSniffer
{
    // pickle of 0x1950a86a20f9469cfc6c (torch.serialization MAGIC_NUMBER), protocol 2.
    private static readonly byte[] TorchLegacyMagic =
    {
        0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19,
    };

    private static readonly byte[] JoblibMarker = Encoding.ASCII.GetBytes("joblib.numpy_pickle");

    private const int MaxLineLength = 4096;

    public FormatMatch? Sniff(SniffContext context)
    {
        byte[] head = context.Head;
        if (context.StartsWith(TorchLegacyMagic))
        {
            return new FormatMatch(ModelFormat.PyTorchLegacy, "legacy PyTorch checkpoint (pickle stream)", FormatMatch.Item("PickleProtocol", 2));
        }

        int protocol;
        // After PROTO must come an opcode: a SafeTensors header of 128 or 640 bytes starts "80 00 00" / "80 02 00".
        if (head.Length >= 2 && head[0] == PickleOpcodes.Proto && head[1] <= 5
            && (head.Length == 2 || PickleOpcodes.ArgumentOf(head[2]) != PickleArgument.Invalid))
        {
            protocol = head[1];
        }
        else if (LooksLikeUnframedPickle(head, context.HeadIsWholeFile))
        {
            // Protocols 0 and 1 share opcodes and carry no marker; only the reader can tell them apart.
            protocol = -1;
        }
        else
        {
            return null;
        }

        bool joblib = head.AsSpan().IndexOf(JoblibMarker) >= 0;
        string protocolText = protocol < 0 ? "protocol 0/1" : $"protocol {protocol}";
        return new FormatMatch(
            joblib ? ModelFormat.Joblib : ModelFormat.Pickle,
            joblib ? $"joblib dump (pickle {protocolText})" : $"pickle {protocolText}",
            FormatMatch.Item("PickleProtocol", protocol < 0 ? "0/1" : protocol.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    /// <summary>
    /// Steps through opcodes, counting stack items and memo keys but not interpreting values. True when
    /// the walk reaches STOP, or when the stream opens with a well-formed GLOBAL/INST (a broken pickle
    /// still runs what came before the break).
    /// </summary>
    internal static bool LooksLikeUnframedPickle(byte[] data, bool isWholeFile)
    {
        int pos = 0;
        int ops = 0;
        bool opensWithImport = false;
        var stack = new StackShape();
        while (pos < data.Length)
        {
            byte op = data[pos];
            PickleArgument argument = PickleOpcodes.ArgumentOf(op);
            if (argument == PickleArgument.Invalid || op == PickleOpcodes.Proto)
            {
                return opensWithImport;
            }

            int next = Skip(data, pos, op, argument);
            if (next < 0)
            {
                // Ran past the bytes we hold: a pickle longer than the head is still a pickle if it opened like one.
                return opensWithImport || (!isWholeFile && ops >= 8);
            }

            // The unpickler stops at a stack underflow or an unknown memo key: text that merely spells
            // opcodes ("her would." is BINGET, LONG_BINPUT, LIST, DICT, STOP) fails here within a few bytes.
            if (!stack.Apply(data, pos, op))
            {
                return opensWithImport;
            }

            if (op == PickleOpcodes.Global || op == PickleOpcodes.Inst)
            {
                // CPython imports at once, so a line that names no module ends the load (text like "(c) 2024 ...").
                if (!IsImportName(data, pos + 1))
                {
                    return opensWithImport;
                }

                opensWithImport |= ops == 0;
            }

            ops++;
            if (op == PickleOpcodes.Stop)
            {
                return ops >= 2 || opensWithImport;
            }

            pos = next;
        }

        // The head ran out mid-stream: a long run of valid opcodes is a pickle bigger than the head.
        return opensWithImport || (!isWholeFile && ops >= 8);
    }

    private static long MemoKey(byte[] data, int pos, byte op)
    {
        switch ((char)op)
        {
            case 'q':
            case 'h':
                return data[pos + 1];
            case 'r':
            case 'j':
                return BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(pos + 1));
            default:
                // PUT and GET: a decimal line (Skip has checked it fits); anything else is a ValueError in CPython.
                long key = 0;
                int i = pos + 1;
                for (; i < data.Length && data[i] is >= (byte)'0' and <= (byte)'9' && key < int.MaxValue; i++)
                {
                    key = (key * 10) + (data[i] - '0');
                }

                return i > pos + 1 && i < data.Length && data[i] is (byte)'\n' or (byte)'\r' ? key : -1;
        }
    }

    private static int Skip(byte[] data, int pos, byte op, PickleArgument argument)
    {
        int start = pos + 1;
        switch (argument)
        {
            case PickleArgument.None:
                return start;
            case PickleArgument.Line:
                int end = LineEnd(data, start);
                return end < 0 || !LineFits(data, op, start, end) ? -1 : end + 1;
            case PickleArgument.TwoLines:
                int first = LineEnd(data, start);
                int second = first < 0 ? -1 : LineEnd(data, first + 1);
                return second < 0 ? -1 : second + 1;
            case PickleArgument.Fixed:
                int fixedEnd = start + PickleOpcodes.FixedSize(op);
                return fixedEnd <= data.Length ? fixedEnd : -1;
            case PickleArgument.Length1:
                return start < data.Length && start + 1 + data[start] <= data.Length ? start + 1 + data[start] : -1;
            case PickleArgument.Length4:
                if (start + 4 > data.Length)
                {
                    return -1;
                }

                long length4 = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(start));
                return length4 >= 0 && start + 4 + length4 <= data.Length ? (int)(start + 4 + length4) : -1;
            case PickleArgument.Length8:
                if (start + 8 > data.Length)
                {
                    return -1;
                }

                ulong length8 = BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(start));
                return length8 <= (ulong)(data.Length - start - 8) ? start + 8 + (int)length8 : -1;
            default:
                return -1;
        }
    }

    private static int LineEnd(byte[] data, int start)
    {
        int limit = Math.Min(data.Length, start + MaxLineLength);
        for (int i = start; i < limit; i++)
        {
            if (data[i] == (byte)'\n')
            {
                return i;
            }
        }

        return -1;
    }

    // Text lines must parse the way CPython parses them, or the unpickler stops there.
    private static bool LineFits(byte[] data, byte op, int start, int end)
    {
        ReadOnlySpan<byte> line = data.AsSpan(start, end - start);
        switch ((char)op)
        {
            case 'I':
            case 'L':
            case 'p':
            case 'g':
                foreach (byte b in line)
                {
                    if (!(b is >= (byte)'0' and <= (byte)'9' or (byte)'-' or (byte)'L' or (byte)'\r'))
                    {
                        return false;
                    }
                }

                return line.Length > 0;
            case 'S':
                return line.Length >= 2 && (line[0] == (byte)'\'' || line[0] == (byte)'"');
            default:
                return true;
        }
    }

    private static bool IsImportName(byte[] data, int start)
    {
        int moduleEnd = LineEnd(data, start);
        if (moduleEnd <= start)
        {
            return false;
        }

        // A dotted name: identifiers separated by single dots ("nto." or "a..b" cannot be imported).
        int component = start;
        for (int i = start; i < moduleEnd; i++)
        {
            byte b = data[i];
            bool ok = b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or (byte)'_'
                || (i > component && b is >= (byte)'0' and <= (byte)'9' or (byte)'.');
            if (!ok)
            {
                return false;
            }

            component = b == (byte)'.' ? i + 1 : component;
        }

        if (component == moduleEnd)
        {
            return false;
        }

        int nameEnd = LineEnd(data, moduleEnd + 1);
        if (nameEnd <= moduleEnd + 1)
        {
            // The name line may be cut off by the end of a broken pickle; what is there must not be whitespace.
            return nameEnd < 0 && moduleEnd + 1 < data.Length && data[moduleEnd + 1] > (byte)' ';
        }

        for (int i = moduleEnd + 1; i < nameEnd; i++)
        {
            if (data[i] <= (byte)' ')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>How many items sit above each MARK, and which memo keys exist: what CPython checks first.</summary>
    private sealed class StackShape
    {
        private readonly List<int> _frames = new() { 0 };
        private readonly HashSet<long> _memo = new();

        private int Top
        {
            get => _frames[_frames.Count - 1];
            set => _frames[_frames.Count - 1] = value;
        }

        public bool Apply(byte[] data, int pos, byte op)
        {
            switch ((char)op)
            {
                case '(':
                    _frames.Add(0);
                    return true;
                case '.':
                    return Top >= 1;
                case '0':
                    // POP takes an item, or the topmost mark when nothing is above it.
                    return Top > 0 ? Pop(1) : PopMark();
                case '1':
                    return PopMark();
                case 'd':
                case 'l':
                case 't':
                case 'i':
                case (char)0x91:
                    return PopMark() && Push(1);
                case 'o':
                    return Top >= 1 && PopMark() && Push(1);
                case 'e':
                case 'u':
                case (char)0x90:
                    // APPENDS, SETITEMS, ADDITEMS add to the container below the mark.
                    return PopMark() && Top >= 1;
                case 'p':
                case 'q':
                case 'r':
                    long key = MemoKey(data, pos, op);
                    _memo.Add(key);
                    return key >= 0 && Top >= 1;
                case (char)0x94:
                    _memo.Add(_memo.Count);
                    return Top >= 1;
                case 'g':
                case 'h':
                case 'j':
                    return _memo.Contains(MemoKey(data, pos, op)) && Push(1);
                case '2':
                    return Pop(1) && Push(2);
                case 'Q':
                case (char)0x85:
                case (char)0x98:
                    return Pop(1) && Push(1);
                case 'R':
                case 'b':
                case 'a':
                case (char)0x81:
                case (char)0x86:
                case (char)0x93:
                    return Pop(2) && Push(1);
                case 's':
                case (char)0x87:
                case (char)0x92:
                    return Pop(3) && Push(1);
                case (char)0x95:
                    return true;
                default:
                    // Every other opcode pushes one value (constants, strings, GLOBAL, GET, EXT).
                    return Push(1);
            }
        }

        private bool Push(int count)
        {
            Top += count;
            return true;
        }

        private bool Pop(int count)
        {
            if (Top < count)
            {
                return false;
            }

            Top -= count;
            return true;
        }

        private bool PopMark()
        {
            if (_frames.Count < 2)
            {
                return false;
            }

            _frames.RemoveAt(_frames.Count - 1);
            return true;
        }
    }
}
