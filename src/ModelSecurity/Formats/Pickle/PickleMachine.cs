using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;

namespace ModelSecurity.Formats.Pickle;

/// <summary>How many pickles a stream holds, as the loader that reads it sees it.</summary>
internal enum PickleStreamMode
{
    /// <summary>One pickle, then any further pickles that follow (loaders reading several objects run them all).</summary>
    Stream,

    /// <summary>A legacy PyTorch file: exactly five pickles, then raw storage bytes that are never unpickled.</summary>
    TorchLegacy,
}

/// <summary>Resource limits for one run; past them the run stops with a <see cref="PickleEventKind.LimitReached"/> event.</summary>
internal sealed class PickleLimits
{
    public static readonly PickleLimits Default = new();

    public long MaxOperations { get; init; } = 50_000_000;

    public int MaxStack { get; init; } = 4_000_000;

    public int MaxMemo { get; init; } = 2_000_000;

    public int MaxMarks { get; init; } = 1_000_000;

    public int MaxPickles { get; init; } = 10_000;

    public int MaxLine { get; init; } = 1024 * 1024;

    /// <summary>Nested pickles inside joblib object arrays.</summary>
    public int MaxDepth { get; init; } = 16;
}

/// <summary>
/// A static, symbolic unpickler that follows CPython's <c>_pickle</c> opcode by opcode for protocols
/// 0-5 (stack and mark stack split as in C, memo, FRAME, Python 2 renames) and records every import,
/// call and oddity. It never imports or calls anything: a call yields a value that remembers what was
/// called. Joblib's NumPy array wrappers are followed like <c>joblib.load</c> does (inline array data
/// is stepped over, object arrays are a nested pickle).
/// </summary>
internal sealed class PickleMachine
{
    /// <summary>Longest string kept as text (names, keys); longer payloads are kept by offset.</summary>
    public const int MaxTextLength = 4096;

    private static readonly Encoding Latin1 = Encoding.GetEncoding("ISO-8859-1");
    private static readonly Encoding StrictUtf8 = new UTF8Encoding(false, true);

    private readonly PickleInput _input;
    private readonly PickleLimits _limits;
    private readonly CancellationToken _token;
    private readonly PickleTrace _trace;
    private readonly HashSet<(string, string)> _seenImports = new();

    private PickleMachine(PickleInput input, PickleTrace trace, PickleLimits limits, CancellationToken token)
    {
        _input = input;
        _trace = trace;
        _limits = limits;
        _token = token;
    }

    /// <summary>Runs every pickle in <paramref name="source"/>[start, end) and returns what they do.</summary>
    public static PickleTrace Run(
        ModelFileSource source,
        long start,
        long end,
        PickleStreamMode mode,
        PickleLimits? limits,
        CancellationToken cancellationToken)
    {
        var trace = new PickleTrace();
        var input = new PickleInput(source, start, end);
        var machine = new PickleMachine(input, trace, limits ?? PickleLimits.Default, cancellationToken);
        machine.RunStream(mode);
        trace.EndOffset = input.Position;
        return trace;
    }

    private void RunStream(PickleStreamMode mode)
    {
        while (true)
        {
            long pickleStart = _input.Position;
            if (_trace.Pickles >= _limits.MaxPickles)
            {
                Event(PickleEventKind.LimitReached, pickleStart, $"more than {_limits.MaxPickles:N0} pickles in one stream; the rest was not analysed");
                _trace.Complete = false;
                return;
            }

            if (_trace.Pickles > 0 && mode == PickleStreamMode.Stream)
            {
                Event(PickleEventKind.AdditionalPickle, pickleStart, $"pickle #{_trace.Pickles + 1} starts at byte {pickleStart:N0}; loaders that read several objects (torch.load's legacy path, joblib, repeated pickle.load) run it");
            }

            _trace.Pickles++;
            var frame = new Frame(this, depth: 0);
            PickleValue? result = frame.Run();
            if (result is null)
            {
                _trace.Complete = false;
                return;
            }

            if (mode == PickleStreamMode.TorchLegacy && _trace.Pickles == 5)
            {
                // What follows is raw storage data read with f.read, never unpickled.
                return;
            }

            if (_input.AtEnd)
            {
                return;
            }

            if (mode == PickleStreamMode.TorchLegacy)
            {
                continue;
            }

            if (!NextLooksLikePickle())
            {
                Event(PickleEventKind.TrailingBytes, _input.Position, $"{_input.Remaining:N0} bytes after the last pickle are not a pickle");
                return;
            }
        }
    }

    private bool NextLooksLikePickle()
    {
        long position = _input.Position;
        byte[] head = _input.Source.ReadBlock(position, (int)Math.Min(_input.Remaining, 64 * 1024));
        if (head.Length >= 2 && head[0] == PickleOpcodes.Proto && head[1] <= 5)
        {
            return true;
        }

        return PickleSniffer.LooksLikeUnframedPickle(head, head.Length == _input.Remaining);
    }

    private void Event(PickleEventKind kind, long offset, string detail, PickleValue? value = null) =>
        _trace.Events.Add(new PickleEvent(kind, offset, detail, value));

    /// <summary>Signals that the pickle cannot go on (what the C unpickler raises).</summary>
    private sealed class PickleBreakException : Exception
    {
        public PickleBreakException(PickleEventKind kind, string message)
            : base(message)
        {
            Kind = kind;
        }

        public PickleEventKind Kind { get; }
    }

    /// <summary>The state of one <c>pickle.load</c> call: stack, marks, memo and protocol.</summary>
    private sealed class Frame
    {
        private readonly PickleMachine _m;
        private readonly PickleInput _in;
        private readonly int _depth;
        private readonly List<PickleValue> _stack = new();
        private readonly List<int> _marks = new();
        private readonly Dictionary<long, PickleValue> _memo = new();
        private int _proto;
        private long _frameEnd = -1;
        private long _opStart;
        private byte _op;
        private bool _firstOp = true;

        public Frame(PickleMachine machine, int depth)
        {
            _m = machine;
            _in = machine._input;
            _depth = depth;
        }

        private int Fence => _marks.Count == 0 ? 0 : _marks[_marks.Count - 1];

        /// <summary>Runs to STOP; returns the result, or null when the pickle broke (the event says why).</summary>
        public PickleValue? Run()
        {
            try
            {
                while (true)
                {
                    _opStart = _in.Position;
                    int next = _in.ReadByte();
                    if (next < 0)
                    {
                        throw Break(PickleEventKind.Truncated, "the data ends before STOP (pickle data was truncated)");
                    }

                    _op = (byte)next;
                    if (++_m._trace.Operations > _m._limits.MaxOperations)
                    {
                        throw Break(PickleEventKind.LimitReached, $"more than {_m._limits.MaxOperations:N0} opcodes; the rest was not analysed");
                    }

                    if ((_m._trace.Operations & 0xFFFF) == 0)
                    {
                        _m._token.ThrowIfCancellationRequested();
                    }

                    PickleValue? result = Step();
                    CheckFrame();
                    _firstOp = false;
                    if (result is not null)
                    {
                        return result;
                    }
                }
            }
            catch (PickleBreakException e)
            {
                _m.Event(e.Kind, _opStart, e.Message);
                return null;
            }
        }

        private static PickleBreakException Break(PickleEventKind kind, string message) => new(kind, message);

        private PickleBreakException Malformed(string message) =>
            new(PickleEventKind.Malformed, $"{OpName(_op)} at byte {_opStart:N0}: {message}");

        private void CheckFrame()
        {
            if (_frameEnd < 0)
            {
                return;
            }

            if (_in.Position == _frameEnd)
            {
                _frameEnd = -1;
            }
            else if (_in.Position > _frameEnd)
            {
                _m.Event(
                    PickleEventKind.FrameDivergence,
                    _opStart,
                    $"{OpName(_op)} at byte {_opStart:N0} runs {_in.Position - _frameEnd:N0} bytes past the end of its FRAME (byte {_frameEnd:N0}): CPython's C unpickler reads on, pickle.py and scanners built on it stop, so they see different opcodes");
                _frameEnd = -1;
            }
        }

        private PickleValue? Step()
        {
            switch (_op)
            {
                case (byte)'(':
                    if (_marks.Count >= _m._limits.MaxMarks)
                    {
                        throw Break(PickleEventKind.LimitReached, $"more than {_m._limits.MaxMarks:N0} open MARKs");
                    }

                    _marks.Add(_stack.Count);
                    return null;
                case (byte)'.':
                    return Pop();
                case (byte)'0':
                    PopOp();
                    return null;
                case (byte)'1':
                    PopMark();
                    return null;
                case (byte)'2':
                    Push(Top());
                    return null;
                case (byte)'F':
                    Push(ParseFloat(Line()));
                    return null;
                case (byte)'G':
                    {
                        byte[] b = Exact(8);
                        Push(new PickleValue(PickleValueKind.Float, _opStart) { Int = BinaryPrimitives.ReadInt64BigEndian(b) });
                        return null;
                    }

                case (byte)'I':
                    Push(ParseIntLine(Line(), allowBool: true));
                    return null;
                case (byte)'J':
                    Push(Int(BinaryPrimitives.ReadInt32LittleEndian(Exact(4))));
                    return null;
                case (byte)'K':
                    Push(Int(Exact(1)[0]));
                    return null;
                case (byte)'M':
                    Push(Int(BinaryPrimitives.ReadUInt16LittleEndian(Exact(2))));
                    return null;
                case (byte)'L':
                    Push(ParseIntLine(Line(), allowBool: false));
                    return null;
                case 0x8A:
                    Push(Long(Exact(1)[0]));
                    return null;
                case 0x8B:
                    {
                        int n = BinaryPrimitives.ReadInt32LittleEndian(Exact(4));
                        if (n < 0)
                        {
                            throw Malformed("LONG pickle has negative byte count");
                        }

                        Push(Long(n));
                        return null;
                    }

                case (byte)'N':
                    Push(PickleValue.NoneValue);
                    return null;
                case 0x88:
                    Push(PickleValue.True);
                    return null;
                case 0x89:
                    Push(PickleValue.False);
                    return null;
                case (byte)'S':
                    Push(ParseQuotedString(Line()));
                    return null;
                case (byte)'T':
                    {
                        int n = BinaryPrimitives.ReadInt32LittleEndian(Exact(4));
                        if (n < 0)
                        {
                            throw Malformed("BINSTRING pickle has negative byte count");
                        }

                        Push(Payload(PickleValueKind.Str, n, Latin1));
                        return null;
                    }

                case (byte)'U':
                    Push(Payload(PickleValueKind.Str, Exact(1)[0], Latin1));
                    return null;
                case (byte)'V':
                    {
                        byte[] line = Line();
                        string text = DecodeRawUnicodeEscape(line);
                        Push(Inspect(new PickleValue(PickleValueKind.Str, _opStart) { Text = text, Length = line.Length }, text));
                        return null;
                    }

                case (byte)'X':
                    Push(Payload(PickleValueKind.Str, BinaryPrimitives.ReadUInt32LittleEndian(Exact(4)), StrictUtf8));
                    return null;
                case 0x8C:
                    Push(Payload(PickleValueKind.Str, Exact(1)[0], StrictUtf8));
                    return null;
                case 0x8D:
                    Push(Payload(PickleValueKind.Str, (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(Exact(8)), long.MaxValue), StrictUtf8));
                    return null;
                case (byte)'B':
                    Push(Payload(PickleValueKind.Bytes, BinaryPrimitives.ReadUInt32LittleEndian(Exact(4)), null));
                    return null;
                case (byte)'C':
                    Push(Payload(PickleValueKind.Bytes, Exact(1)[0], null));
                    return null;
                case 0x8E:
                case 0x96:
                    Push(Payload(PickleValueKind.Bytes, (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(Exact(8)), long.MaxValue), null));
                    return null;
                case (byte)')':
                    Push(Container(PickleValueKind.Tuple, new List<PickleValue>()));
                    return null;
                case (byte)'t':
                    Push(Container(PickleValueKind.Tuple, PopMark()));
                    return null;
                case 0x85:
                case 0x86:
                case 0x87:
                    {
                        int n = _op - 0x84;
                        var items = PopN(n);
                        Push(Container(PickleValueKind.Tuple, items));
                        return null;
                    }

                case (byte)']':
                    Push(Container(PickleValueKind.List, new List<PickleValue>()));
                    return null;
                case (byte)'l':
                    Push(Container(PickleValueKind.List, PopMark()));
                    return null;
                case (byte)'}':
                    Push(Container(PickleValueKind.Dict, new List<PickleValue>()));
                    return null;
                case (byte)'d':
                    {
                        List<PickleValue> items = PopMark();
                        if (items.Count % 2 != 0)
                        {
                            throw Malformed("odd number of items for DICT");
                        }

                        Push(Container(PickleValueKind.Dict, items));
                        return null;
                    }

                case 0x8F:
                    Push(Container(PickleValueKind.Set, new List<PickleValue>()));
                    return null;
                case 0x91:
                    Push(Container(PickleValueKind.FrozenSet, PopMark()));
                    return null;
                case (byte)'a':
                    {
                        PickleValue value = Pop();
                        AddTo(Top(), PickleValueKind.List, new List<PickleValue> { value }, "APPEND");
                        return null;
                    }

                case (byte)'e':
                    {
                        List<PickleValue> items = PopMark();
                        AddTo(Top(), PickleValueKind.List, items, "APPENDS");
                        return null;
                    }

                case (byte)'s':
                    {
                        PickleValue value = Pop();
                        PickleValue key = Pop();
                        AddTo(Top(), PickleValueKind.Dict, new List<PickleValue> { key, value }, "SETITEM");
                        return null;
                    }

                case (byte)'u':
                    {
                        List<PickleValue> items = PopMark();
                        if (items.Count % 2 != 0)
                        {
                            throw Malformed("odd number of items for SETITEMS");
                        }

                        AddTo(Top(), PickleValueKind.Dict, items, "SETITEMS");
                        return null;
                    }

                case 0x90:
                    {
                        List<PickleValue> items = PopMark();
                        AddTo(Top(), PickleValueKind.Set, items, "ADDITEMS");
                        return null;
                    }

                case (byte)'c':
                    {
                        string module = Utf8Line("GLOBAL");
                        string name = Utf8Line("GLOBAL");
                        Push(FindClass(module, name, "GLOBAL"));
                        return null;
                    }

                case 0x93:
                    {
                        PickleValue name = Pop();
                        PickleValue module = Pop();
                        Push(StackGlobal(module, name));
                        return null;
                    }

                case (byte)'i':
                    {
                        string module = Utf8Line("INST");
                        string name = Utf8Line("INST");
                        PickleValue cls = FindClass(module, name, "INST");
                        List<PickleValue> args = PopMark();
                        Push(Call(cls, Container(PickleValueKind.Tuple, args)));
                        return null;
                    }

                case (byte)'o':
                    {
                        List<PickleValue> items = PopMark();
                        if (items.Count < 1)
                        {
                            throw Malformed("unpickling stack underflow (OBJ without a class)");
                        }

                        PickleValue cls = items[0];
                        items.RemoveAt(0);
                        Push(Call(cls, Container(PickleValueKind.Tuple, items)));
                        return null;
                    }

                case (byte)'R':
                    {
                        PickleValue args = Pop();
                        PickleValue callable = Pop();
                        Push(Call(callable, args));
                        return null;
                    }

                case 0x81:
                    {
                        PickleValue args = Pop();
                        PickleValue cls = Pop();
                        Push(Call(cls, args));
                        return null;
                    }

                case 0x92:
                    {
                        // cls.__new__(cls, *args, **kwargs): the keyword arguments are data like the others.
                        Pop();
                        PickleValue args = Pop();
                        PickleValue cls = Pop();
                        Push(Call(cls, args));
                        return null;
                    }

                case (byte)'b':
                    Build(Pop());
                    return null;
                case (byte)'P':
                    {
                        byte[] line = Line();
                        PersistentLoad(new PickleValue(PickleValueKind.Str, _opStart) { Text = Latin1.GetString(line), Length = line.Length });
                        return null;
                    }

                case (byte)'Q':
                    PersistentLoad(Pop());
                    return null;
                case (byte)'p':
                    MemoPut(ParseIndex(Line(), "PUT"));
                    return null;
                case (byte)'q':
                    MemoPut(Exact(1)[0]);
                    return null;
                case (byte)'r':
                    MemoPut(BinaryPrimitives.ReadUInt32LittleEndian(Exact(4)));
                    return null;
                case 0x94:
                    MemoPut(_memo.Count);
                    return null;
                case (byte)'g':
                    MemoGet(ParseIndex(Line(), "GET"));
                    return null;
                case (byte)'h':
                    MemoGet(Exact(1)[0]);
                    return null;
                case (byte)'j':
                    MemoGet(BinaryPrimitives.ReadUInt32LittleEndian(Exact(4)));
                    return null;
                case 0x82:
                    Extension(Exact(1)[0]);
                    return null;
                case 0x83:
                    Extension(BinaryPrimitives.ReadUInt16LittleEndian(Exact(2)));
                    return null;
                case 0x84:
                    Extension(BinaryPrimitives.ReadInt32LittleEndian(Exact(4)));
                    return null;
                case 0x80:
                    {
                        int proto = Exact(1)[0];
                        if (proto > 5)
                        {
                            throw Malformed($"unsupported pickle protocol: {proto}");
                        }

                        if (!_firstOp)
                        {
                            _m.Event(PickleEventKind.ProtoMidStream, _opStart, $"PROTO {proto} at byte {_opStart:N0} after the pickle began (protocol {_proto}): a switch that changes how names are mapped");
                        }

                        _proto = proto;
                        _m._trace.Protocol = Math.Max(_m._trace.Protocol, proto);
                        return null;
                    }

                case 0x95:
                    {
                        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(Exact(8));
                        if (_frameEnd >= 0 && _in.Position < _frameEnd)
                        {
                            _m.Event(PickleEventKind.FrameDivergence, _opStart, $"FRAME at byte {_opStart:N0} starts {_frameEnd - _in.Position:N0} bytes before the previous frame ends: pickle.py refuses this, the C unpickler accepts it");
                        }

                        if (length > (ulong)_in.Remaining)
                        {
                            // The C unpickler stops here; pickle.py reads the short frame and goes on, so both are followed.
                            _m.Event(PickleEventKind.FrameDivergence, _opStart, $"FRAME at byte {_opStart:N0} declares {length:N0} bytes but only {_in.Remaining:N0} remain: CPython's C unpickler stops, pickle.py runs what is there");
                            length = (ulong)_in.Remaining;
                        }

                        _frameEnd = _in.Position + (long)length;
                        if (length == 0)
                        {
                            _frameEnd = -1;
                        }

                        return null;
                    }

                case 0x97:
                    _m.Event(PickleEventKind.OutOfBandBuffer, _opStart, $"NEXT_BUFFER at byte {_opStart:N0}: the pickle expects out-of-band buffers (pickle.load without buffers= refuses it)");
                    Push(new PickleValue(PickleValueKind.Buffer, _opStart));
                    return null;
                case 0x98:
                    Top();
                    return null;
                default:
                    throw Malformed($"invalid load key, 0x{_op:X2}");
            }
        }

        private void Push(PickleValue value)
        {
            if (_stack.Count >= _m._limits.MaxStack)
            {
                throw Break(PickleEventKind.LimitReached, $"more than {_m._limits.MaxStack:N0} values on the stack");
            }

            _stack.Add(value);
        }

        private PickleValue Pop()
        {
            if (_stack.Count <= Fence)
            {
                throw Malformed("unpickling stack underflow");
            }

            PickleValue value = _stack[_stack.Count - 1];
            _stack.RemoveAt(_stack.Count - 1);
            return value;
        }

        private PickleValue Top()
        {
            if (_stack.Count <= Fence)
            {
                throw Malformed("unpickling stack underflow");
            }

            return _stack[_stack.Count - 1];
        }

        private List<PickleValue> PopN(int n)
        {
            if (_stack.Count - Fence < n)
            {
                throw Malformed("unpickling stack underflow");
            }

            List<PickleValue> items = _stack.GetRange(_stack.Count - n, n);
            _stack.RemoveRange(_stack.Count - n, n);
            return items;
        }

        private void PopOp()
        {
            // C's load_pop: with nothing above the top mark, POP discards the mark itself.
            if (_marks.Count > 0 && _marks[_marks.Count - 1] == _stack.Count)
            {
                _marks.RemoveAt(_marks.Count - 1);
            }
            else
            {
                Pop();
            }
        }

        private List<PickleValue> PopMark()
        {
            if (_marks.Count == 0)
            {
                throw Malformed("could not find MARK");
            }

            int mark = _marks[_marks.Count - 1];
            _marks.RemoveAt(_marks.Count - 1);
            List<PickleValue> items = _stack.GetRange(mark, _stack.Count - mark);
            _stack.RemoveRange(mark, _stack.Count - mark);
            return items;
        }

        private byte[] Exact(int count) =>
            _in.ReadExact(count) ?? throw Break(PickleEventKind.Truncated, $"{OpName(_op)} at byte {_opStart:N0}: the data ends inside its argument");

        private byte[] Line()
        {
            byte[]? line = _in.ReadLine(_m._limits.MaxLine);
            if (line is null)
            {
                throw _in.Remaining > _m._limits.MaxLine
                    ? Break(PickleEventKind.LimitReached, $"{OpName(_op)} at byte {_opStart:N0}: a text argument longer than {_m._limits.MaxLine:N0} bytes")
                    : Break(PickleEventKind.Truncated, $"{OpName(_op)} at byte {_opStart:N0}: the data ends before the end of its line");
            }

            return line;
        }

        private string Utf8Line(string opcode)
        {
            byte[] line = Line();
            try
            {
                return StrictUtf8.GetString(line);
            }
            catch (DecoderFallbackException)
            {
                throw Malformed($"{opcode} name is not UTF-8");
            }
        }

        private PickleValue Int(long value) => new(PickleValueKind.Int, _opStart) { Int = value };

        private PickleValue Long(int byteCount)
        {
            byte[] bytes = byteCount <= 8 ? Exact(byteCount) : Array.Empty<byte>();
            if (byteCount > 8)
            {
                // A huge LONG is stepped over: its value cannot name anything.
                if (!_in.Skip(byteCount))
                {
                    throw Break(PickleEventKind.Truncated, $"{OpName(_op)} at byte {_opStart:N0}: the data ends inside a {byteCount:N0}-byte integer");
                }

                return new PickleValue(PickleValueKind.Int, _opStart) { IsBigInt = true };
            }

            long value = 0;
            for (int i = byteCount - 1; i >= 0; i--)
            {
                value = (value << 8) | bytes[i];
            }

            if (byteCount is > 0 and < 8 && (bytes[byteCount - 1] & 0x80) != 0)
            {
                value -= 1L << (8 * byteCount);
            }

            return Int(value);
        }

        private PickleValue ParseIntLine(byte[] line, bool allowBool)
        {
            string text = Latin1.GetString(line).Trim();
            if (allowBool && text == "00")
            {
                return PickleValue.False;
            }

            if (allowBool && text == "01")
            {
                return PickleValue.True;
            }

            if (text.EndsWith('L'))
            {
                text = text.Substring(0, text.Length - 1);
            }

            if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
            {
                return Int(value);
            }

            if (text.Length > 0 && IsDigits(text.TrimStart('-', '+')))
            {
                return new PickleValue(PickleValueKind.Int, _opStart) { IsBigInt = true };
            }

            throw Malformed($"invalid literal for int(): '{Shorten(text)}'");
        }

        private PickleValue ParseFloat(byte[] line)
        {
            string text = Latin1.GetString(line).Trim();
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
                && text is not ("nan" or "inf" or "-inf" or "NaN" or "Infinity" or "-Infinity"))
            {
                throw Malformed($"could not convert string to float: '{Shorten(text)}'");
            }

            return new PickleValue(PickleValueKind.Float, _opStart);
        }

        private long ParseIndex(byte[] line, string opcode)
        {
            string text = Latin1.GetString(line).Trim();
            if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long index))
            {
                throw Malformed($"invalid {opcode} index '{Shorten(text)}'");
            }

            if (index < 0)
            {
                throw Malformed($"negative {opcode} argument");
            }

            return index;
        }

        private PickleValue ParseQuotedString(byte[] line)
        {
            // pickle.py strips trailing whitespace, then demands matching quotes, then unescapes.
            int end = line.Length;
            while (end > 0 && line[end - 1] is (byte)'\r' or (byte)' ' or (byte)'\t')
            {
                end--;
            }

            if (end < 2 || line[0] != line[end - 1] || line[0] is not ((byte)'\'' or (byte)'"'))
            {
                throw Malformed("the STRING opcode argument must be quoted");
            }

            string text = UnescapeString(Latin1.GetString(line, 1, end - 2));
            return Inspect(new PickleValue(PickleValueKind.Str, _opStart) { Text = text, Length = text.Length }, text);
        }

        private PickleValue Payload(PickleValueKind kind, long length, Encoding? encoding)
        {
            if (length > _in.Remaining)
            {
                throw Break(PickleEventKind.Truncated, $"{OpName(_op)} at byte {_opStart:N0} declares {length:N0} bytes but only {_in.Remaining:N0} remain");
            }

            long dataOffset = _in.Position;
            var value = new PickleValue(kind, _opStart) { DataOffset = dataOffset, Length = length };
            int keep = (int)Math.Min(length, MaxTextLength);
            byte[] head = keep > 0 ? _in.ReadExact(keep)! : Array.Empty<byte>();
            _in.Skip(length - keep);
            if (encoding is not null)
            {
                try
                {
                    value.Text = encoding.GetString(head);
                }
                catch (DecoderFallbackException)
                {
                    // CPython raises UnicodeDecodeError here; a cut multi-byte character at the keep limit is not an error.
                    if (keep == length)
                    {
                        throw Malformed("string is not valid UTF-8");
                    }

                    value.Text = Encoding.UTF8.GetString(head);
                }
            }

            if (length >= PickleDataInspector.MinLength)
            {
                if (PickleDataInspector.IsPickleBytes(head, length))
                {
                    _m._trace.Events.Add(new PickleEvent(
                        PickleEventKind.EmbeddedPickle,
                        _opStart,
                        $"{OpName(_op)} at byte {_opStart:N0} holds {length:N0} bytes that are themselves a pickle",
                        value)
                    {
                        DataOffset = value.DataOffset,
                        DataLength = length,
                    });
                }
                else
                {
                    Inspect(value, value.Text ?? Latin1.GetString(head));
                }
            }

            return value;
        }

        /// <summary>Looks for encoded pickles and code in a string the pickle carries.</summary>
        private PickleValue Inspect(PickleValue value, string text)
        {
            if (text.Length < PickleDataInspector.MinLength)
            {
                return value;
            }

            if (value.DataOffset < 0 || _op is (byte)'X' or 0x8C or 0x8D)
            {
                // Text that spells pickle bytes one character per byte: pickle.loads(s.encode('latin1')).
                string head = text.Length <= MaxTextLength ? text : text.Substring(0, MaxTextLength);
                if (head.All(c => c <= '\u00FF') && PickleDataInspector.IsPickleBytes(Latin1.GetBytes(head), text.Length))
                {
                    _m._trace.Events.Add(new PickleEvent(
                        PickleEventKind.EmbeddedPickle,
                        _opStart,
                        $"{OpName(_op)} at byte {_opStart:N0} holds text whose characters are the bytes of a pickle",
                        value)
                    {
                        DataOffset = value.DataOffset,
                        DataLength = value.Length,
                        Encoding = "text",
                    });
                    return value;
                }
            }

            string? encoding = PickleDataInspector.EncodedPickle(text);
            if (encoding is not null)
            {
                _m._trace.Events.Add(new PickleEvent(
                    PickleEventKind.EmbeddedPickle,
                    _opStart,
                    $"{OpName(_op)} at byte {_opStart:N0} holds a {encoding}-encoded pickle ({value.Length:N0} characters)",
                    value)
                {
                    DataOffset = value.DataOffset,
                    DataLength = value.Length,
                    Encoding = encoding,
                });
                return value;
            }

            string? snippet = PickleDataInspector.CodeSnippet(text);
            if (snippet is not null)
            {
                _m.Event(PickleEventKind.CodeText, _opStart, $"{OpName(_op)} at byte {_opStart:N0} holds code: \"{Shorten(snippet, 80)}\"", value);
            }

            return value;
        }

        private PickleValue Container(PickleValueKind kind, List<PickleValue> items) =>
            new(kind, _opStart) { Items = items };

        private void AddTo(PickleValue target, PickleValueKind expected, List<PickleValue> items, string opcode)
        {
            if (target.Kind == expected && target.Items is not null)
            {
                target.Items.AddRange(items);
                return;
            }

            if (target.Kind == PickleValueKind.Global)
            {
                _m.Event(PickleEventKind.MutateGlobal, _opStart, $"{opcode} at byte {_opStart:N0} adds items to the imported object {target.QualifiedName}", target);
            }
            else if (target.Kind is PickleValueKind.Object or PickleValueKind.Unknown or PickleValueKind.Persistent or PickleValueKind.Extension)
            {
                if (target.Kind == PickleValueKind.Object && target.Items is null)
                {
                    // Mapping-like objects (OrderedDict...) keep their items so later lookups still work.
                    target.Items = new List<PickleValue>();
                }

                target.Items?.AddRange(items);
                _m.Event(PickleEventKind.ContainerOpOnObject, _opStart, $"{opcode} at byte {_opStart:N0} on {Describe(target)} calls its methods", target);
            }
            else
            {
                throw Malformed($"{opcode} on a {target.Kind}");
            }
        }

        private PickleValue FindClass(string module, string name, string opcode)
        {
            string? writtenAs = null;
            if (_proto < 3)
            {
                (string mappedModule, string mappedName) = CompatPickle.Map(module, name);
                if (mappedModule != module || mappedName != name)
                {
                    writtenAs = $"{module}.{name}";
                    module = mappedModule;
                    name = mappedName;
                }
            }

            if (_m._seenImports.Add((module, name)))
            {
                _m._trace.Imports.Add(new PickleImport(module, name, writtenAs, _opStart, opcode));
            }

            return new PickleValue(PickleValueKind.Global, _opStart) { Module = module, Name = name };
        }

        private PickleValue StackGlobal(PickleValue module, PickleValue name)
        {
            if (module.Kind == PickleValueKind.Str && name.Kind == PickleValueKind.Str && module.Text is not null && name.Text is not null
                && module.Length <= MaxTextLength && name.Length <= MaxTextLength)
            {
                return FindClass(module.Text, name.Text, "STACK_GLOBAL");
            }

            if (module.Kind is PickleValueKind.Str or PickleValueKind.Unknown or PickleValueKind.Object or PickleValueKind.Persistent or PickleValueKind.Extension
                && name.Kind is PickleValueKind.Str or PickleValueKind.Unknown or PickleValueKind.Object or PickleValueKind.Persistent or PickleValueKind.Extension)
            {
                _m.Event(
                    PickleEventKind.DynamicGlobal,
                    _opStart,
                    $"STACK_GLOBAL at byte {_opStart:N0} imports a name computed at load time (module {Describe(module)}, name {Describe(name)})");
                return new PickleValue(PickleValueKind.Global, _opStart) { Module = "?", Name = "?" };
            }

            throw Malformed("STACK_GLOBAL requires str");
        }

        private PickleValue Call(PickleValue callee, PickleValue args)
        {
            var result = new PickleValue(PickleValueKind.Object, _opStart) { Callee = callee, Arguments = args };
            _m._trace.Calls.Add(result);
            if (callee.Kind == PickleValueKind.Extension)
            {
                _m.Event(PickleEventKind.Extension, _opStart, $"{OpName(_op)} at byte {_opStart:N0} calls copyreg extension {callee.Code}, whose target cannot be known from the file", callee);
            }
            else if (callee.Kind != PickleValueKind.Global)
            {
                _m.Event(PickleEventKind.ComputedCall, _opStart, $"{OpName(_op)} at byte {_opStart:N0} calls {Describe(callee)}, not an imported name", callee);
            }

            return result;
        }

        private void Build(PickleValue state)
        {
            PickleValue target = Top();
            if (target.Kind == PickleValueKind.Global)
            {
                _m.Event(PickleEventKind.BuildOnGlobal, _opStart, $"BUILD at byte {_opStart:N0} writes state into the imported object {target.QualifiedName}", target);
                return;
            }

            target.State = state;
            if (target.Constructor is { } cls && cls.Module == "joblib.numpy_pickle" && cls.Name == "NumpyArrayWrapper")
            {
                ReadJoblibArray(state);
            }
        }

        private void PersistentLoad(PickleValue pid)
        {
            _m.Event(PickleEventKind.PersistentId, _opStart, $"{OpName(_op)} at byte {_opStart:N0} loads persistent id {Describe(pid)}", pid);
            Push(new PickleValue(PickleValueKind.Persistent, _opStart));
        }

        private void MemoPut(long index)
        {
            PickleValue value = Top();
            if (!_memo.ContainsKey(index) && _memo.Count >= _m._limits.MaxMemo)
            {
                throw Break(PickleEventKind.LimitReached, $"more than {_m._limits.MaxMemo:N0} memo entries");
            }

            _memo[index] = value;
        }

        private void MemoGet(long index)
        {
            if (!_memo.TryGetValue(index, out PickleValue? value))
            {
                throw Malformed($"Memo value not found at index {index}");
            }

            Push(value);
        }

        private void Extension(long code)
        {
            if (code <= 0)
            {
                throw Malformed("EXT specifies code <= 0");
            }

            // The copyreg registry is empty unless the loading program registered codes: CPython raises
            // "unregistered extension code" then. Either way the file alone does not say what it is.
            Push(new PickleValue(PickleValueKind.Extension, _opStart) { Code = code });
            _m.Event(PickleEventKind.Extension, _opStart, $"{OpName(_op)} at byte {_opStart:N0} fetches copyreg extension {code}, which names no module or function in the file");
        }

        private void ReadJoblibArray(PickleValue state)
        {
            // joblib's NumpyArrayWrapper.read_array: object arrays are a nested pickle.load on the same file;
            // other arrays are raw bytes (after an optional alignment pad) read straight from the file.
            PickleValue? dtype = state.Get("dtype");
            PickleValue? shape = state.Get("shape");
            (long itemSize, bool hasObject) = JoblibDtype(dtype);
            if (hasObject)
            {
                if (_depth >= _m._limits.MaxDepth)
                {
                    throw Break(PickleEventKind.LimitReached, $"joblib object arrays nested more than {_m._limits.MaxDepth} deep");
                }

                CheckFrame();
                long nestedStart = _in.Position;
                PickleValue? nested = new Frame(_m, _depth + 1).Run();
                if (nested is null)
                {
                    throw Break(PickleEventKind.Malformed, $"the nested pickle of a joblib object array (from byte {nestedStart:N0}) is broken");
                }

                return;
            }

            if (state.Get("numpy_array_alignment_bytes") is { Kind: PickleValueKind.Int })
            {
                int pad = _in.ReadByte();
                if (pad < 0 || !_in.Skip(pad))
                {
                    throw Break(PickleEventKind.Truncated, "the data ends inside a joblib array's alignment padding");
                }
            }

            long count = 1;
            if (shape is { Kind: PickleValueKind.Tuple, Items: { } dims })
            {
                foreach (PickleValue dim in dims)
                {
                    if (dim.Kind != PickleValueKind.Int || dim.IsBigInt || dim.Int < 0)
                    {
                        throw Malformed("joblib array shape is not a tuple of non-negative ints");
                    }

                    count = dim.Int == 0 ? 0 : (count > long.MaxValue / dim.Int ? -1 : count * dim.Int);
                    if (count < 0)
                    {
                        throw Malformed("joblib array shape overflows");
                    }
                }
            }
            else
            {
                throw Malformed("joblib array wrapper without a shape");
            }

            if (itemSize <= 0)
            {
                throw Malformed($"joblib array wrapper with an unknown dtype ({Describe(dtype)})");
            }

            if (count > 0 && itemSize > long.MaxValue / count)
            {
                throw Malformed("joblib array size overflows");
            }

            long bytes = count * itemSize;
            long dataStart = _in.Position;
            if (!_in.Skip(bytes))
            {
                throw Break(PickleEventKind.Truncated, $"a joblib array declares {bytes:N0} bytes at byte {dataStart:N0} but only {_in.Remaining:N0} remain");
            }

            // The raw data is not part of any frame the pickler wrote; reset so it is not taken for a divergence.
            _frameEnd = -1;
        }

        private static (long ItemSize, bool HasObject) JoblibDtype(PickleValue? dtype)
        {
            // numpy.dtype is pickled as REDUCE(numpy.dtype, (typestr, align, copy)) + BUILD((version, byteorder,
            // subarray, names, fields, elsize, alignment, flags)); flags bit 0 = NPY_ITEM_REFCOUNT (holds objects).
            if (dtype is not { Kind: PickleValueKind.Object, Arguments.Items: { Count: > 0 } args } || args[0].Text is not { } typestr)
            {
                return (-1, false);
            }

            bool hasObject = typestr.StartsWith('O');
            long elsize = -1;
            if (dtype.State is { Kind: PickleValueKind.Tuple, Items: { } state })
            {
                if (state.Count >= 8 && state[7].Kind == PickleValueKind.Int && (state[7].Int & 1) != 0)
                {
                    hasObject = true;
                }

                if (state.Count >= 6 && state[5].Kind == PickleValueKind.Int && state[5].Int > 0)
                {
                    elsize = state[5].Int;
                }
            }

            if (elsize > 0)
            {
                return (elsize, hasObject);
            }

            // A typestr is an optional byte order, a kind letter and a size: "<f8", "i8", "|b1", "<U10" (UCS-4).
            int first = 0;
            while (first < typestr.Length && !char.IsDigit(typestr[first]))
            {
                first++;
            }

            int end = first;
            while (end < typestr.Length && char.IsDigit(typestr[end]))
            {
                end++;
            }

            if (first > 0 && end > first && long.TryParse(typestr.AsSpan(first, end - first), NumberStyles.None, CultureInfo.InvariantCulture, out long size))
            {
                return (typestr[first - 1] == 'U' ? size * 4 : size, hasObject);
            }

            return (typestr is "?" or "b" or "B" ? 1 : -1, hasObject);
        }

        private static bool IsDigits(string text)
        {
            foreach (char c in text)
            {
                if (c is < '0' or > '9')
                {
                    return false;
                }
            }

            return text.Length > 0;
        }

        private static string Shorten(string text, int max = 40) => text.Length <= max ? text : string.Concat(text.AsSpan(0, max), "...");

        private static string Describe(PickleValue? value) => value?.Kind switch
        {
            null => "nothing",
            PickleValueKind.Str => value.Text is null ? "a string" : $"'{Shorten(value.Text)}'",
            PickleValueKind.Global => value.QualifiedName,
            PickleValueKind.Object => value.Callee?.Kind == PickleValueKind.Global ? $"the result of {value.Callee.QualifiedName}(...)" : "the result of a call",
            PickleValueKind.Extension => $"copyreg extension {value.Code}",
            PickleValueKind.Persistent => "a persistent object",
            _ => $"a {value.Kind.ToString().ToLowerInvariant()}",
        };

        private static string UnescapeString(string text)
        {
            if (text.IndexOf('\\') < 0)
            {
                return text;
            }

            var sb = new StringBuilder(text.Length);
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                if (c != '\\' || i + 1 >= text.Length)
                {
                    sb.Append(c);
                    continue;
                }

                char e = text[++i];
                switch (e)
                {
                    case 'n': sb.Append('\n'); break;
                    case 't': sb.Append('\t'); break;
                    case 'r': sb.Append('\r'); break;
                    case '0' or '1' or '2' or '3' or '4' or '5' or '6' or '7':
                        {
                            int value = 0;
                            int n = 0;
                            while (n < 3 && i < text.Length && text[i] is >= '0' and <= '7')
                            {
                                value = (value * 8) + (text[i] - '0');
                                i++;
                                n++;
                            }

                            i--;
                            sb.Append((char)(value & 0xFF));
                            break;
                        }

                    case 'x' when i + 2 < text.Length
                        && int.TryParse(text.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int hex):
                        sb.Append((char)hex);
                        i += 2;
                        break;
                    default:
                        if (e is not ('\\' or '\'' or '"'))
                        {
                            sb.Append('\\');
                        }

                        sb.Append(e);
                        break;
                }
            }

            return sb.ToString();
        }

        private static string DecodeRawUnicodeEscape(byte[] line)
        {
            string text = Latin1.GetString(line);
            if (text.IndexOf("\\u", StringComparison.Ordinal) < 0 && text.IndexOf("\\U", StringComparison.Ordinal) < 0)
            {
                return text;
            }

            var sb = new StringBuilder(text.Length);
            for (int i = 0; i < text.Length; i++)
            {
                if (text[i] == '\\' && i + 5 < text.Length + 0 && text[i + 1] == 'u'
                    && int.TryParse(text.AsSpan(i + 2, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int code))
                {
                    sb.Append((char)code);
                    i += 5;
                }
                else if (text[i] == '\\' && i + 9 < text.Length && text[i + 1] == 'U'
                    && int.TryParse(text.AsSpan(i + 2, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int wide)
                    && wide is >= 0 and <= 0x10FFFF)
                {
                    sb.Append(char.ConvertFromUtf32(wide));
                    i += 9;
                }
                else
                {
                    sb.Append(text[i]);
                }
            }

            return sb.ToString();
        }
    }

    /// <summary>The pickletools name of an opcode, for findings.</summary>
    internal static string OpName(byte op) => op switch
    {
        (byte)'(' => "MARK",
        (byte)'.' => "STOP",
        (byte)'0' => "POP",
        (byte)'1' => "POP_MARK",
        (byte)'2' => "DUP",
        (byte)'F' => "FLOAT",
        (byte)'I' => "INT",
        (byte)'J' => "BININT",
        (byte)'K' => "BININT1",
        (byte)'L' => "LONG",
        (byte)'M' => "BININT2",
        (byte)'N' => "NONE",
        (byte)'P' => "PERSID",
        (byte)'Q' => "BINPERSID",
        (byte)'R' => "REDUCE",
        (byte)'S' => "STRING",
        (byte)'T' => "BINSTRING",
        (byte)'U' => "SHORT_BINSTRING",
        (byte)'V' => "UNICODE",
        (byte)'X' => "BINUNICODE",
        (byte)'a' => "APPEND",
        (byte)'b' => "BUILD",
        (byte)'c' => "GLOBAL",
        (byte)'d' => "DICT",
        (byte)'}' => "EMPTY_DICT",
        (byte)'e' => "APPENDS",
        (byte)'g' => "GET",
        (byte)'h' => "BINGET",
        (byte)'i' => "INST",
        (byte)'j' => "LONG_BINGET",
        (byte)'l' => "LIST",
        (byte)']' => "EMPTY_LIST",
        (byte)'o' => "OBJ",
        (byte)'p' => "PUT",
        (byte)'q' => "BINPUT",
        (byte)'r' => "LONG_BINPUT",
        (byte)'s' => "SETITEM",
        (byte)'t' => "TUPLE",
        (byte)')' => "EMPTY_TUPLE",
        (byte)'u' => "SETITEMS",
        (byte)'G' => "BINFLOAT",
        (byte)'B' => "BINBYTES",
        (byte)'C' => "SHORT_BINBYTES",
        0x80 => "PROTO",
        0x81 => "NEWOBJ",
        0x82 => "EXT1",
        0x83 => "EXT2",
        0x84 => "EXT4",
        0x85 => "TUPLE1",
        0x86 => "TUPLE2",
        0x87 => "TUPLE3",
        0x88 => "NEWTRUE",
        0x89 => "NEWFALSE",
        0x8A => "LONG1",
        0x8B => "LONG4",
        0x8C => "SHORT_BINUNICODE",
        0x8D => "BINUNICODE8",
        0x8E => "BINBYTES8",
        0x8F => "EMPTY_SET",
        0x90 => "ADDITEMS",
        0x91 => "FROZENSET",
        0x92 => "NEWOBJ_EX",
        0x93 => "STACK_GLOBAL",
        0x94 => "MEMOIZE",
        0x95 => "FRAME",
        0x96 => "BYTEARRAY8",
        0x97 => "NEXT_BUFFER",
        0x98 => "READONLY_BUFFER",
        _ => $"opcode 0x{op:X2}",
    };
}
