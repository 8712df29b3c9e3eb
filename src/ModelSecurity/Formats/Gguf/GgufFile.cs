using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using ModelSecurity.Analysis;

namespace ModelSecurity.Formats.Gguf;

/// <summary>GGUF metadata value types (<c>enum gguf_type</c> in ggml's <c>gguf.h</c>).</summary>
internal enum GgufType : uint
{
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
}

/// <summary>One metadata entry. Scalars and strings (their first bytes) keep their value; arrays keep their element type and count.</summary>
internal sealed record GgufKeyValue(string Key, GgufType Type, object? Value, long Offset, GgufType? ElementType = null, long Count = 0);

/// <summary>One tensor info: name, dimensions, ggml type and data offset. Elements/Bytes are null when they overflow or the type is unknown.</summary>
internal sealed record GgufTensorInfo(string Name, long[] Dimensions, int Type, ulong DataOffset, long? Elements, long? Bytes, long InfoOffset);

/// <summary>Something ggml would refuse, or that breaks the structure, at a byte offset of the file.</summary>
internal sealed record GgufIssue(string RuleId, long Offset, string Message);

/// <summary>
/// A bounded, header-only GGUF reader: the key/value area and the tensor infos, read in chunks with
/// every length checked against the bytes left and fixed caps before anything is allocated, and every
/// sanity limit of ggml's <c>gguf.cpp</c> applied. Tensor data is never read. Reading stops at the
/// first structural break (an MS-GGUF-001 issue), keeping everything read before it.
/// GGUF v1 (32-bit counts and lengths) is read and checked in full, then reported as MS-GGUF-001:
/// ggml no longer loads it, so no current loader reads the file the way it is checked here.
/// String values are decoded leniently (invalid UTF-8 becomes U+FFFD); only keys are held to text rules.
/// </summary>
internal sealed class GgufFile
{
    /// <summary>Longest string ggml accepts (GGUF_MAX_STRING_LENGTH).</summary>
    public const long MaxStringLength = 1L << 30;

    /// <summary>Most array elements ggml accepts (GGUF_MAX_ARRAY_ELEMENTS).</summary>
    public const long MaxArrayElements = 1L << 30;

    /// <summary>Most bytes of the key/value area read before the file is called hostile.</summary>
    public const long MaxMetadataBytes = 256L * 1024 * 1024;

    /// <summary>Most key/value entries accepted (real models have a few dozen).</summary>
    public const long MaxKeyCount = 1L << 20;

    /// <summary>Most tensors accepted (the largest real models have tens of thousands).</summary>
    public const long MaxTensorCount = 1L << 20;

    /// <summary>Bytes of any one string's text kept in memory.</summary>
    public const int MaxKeptString = 1024 * 1024;

    /// <summary>Longest key kept; the spec allows 65,535 bytes.</summary>
    public const int MaxKeyLength = 65535;

    /// <summary>ggml's GGML_MAX_NAME: tensor names must be shorter.</summary>
    public const int MaxTensorName = 64;

    private const int MaxIssuesPerKind = 10;
    private const uint DefaultAlignment = 32;
    private const int MaxZeroPadding = 64 * 1024;
    private const int MaxKeptTensors = 1 << 16;
    private const long MaxKeptChars = 16L * 1024 * 1024;
    private const int MinKeptChars = 256;

    private long _expected;
    private bool _contiguous = true;
    private long _dataEnd;
    private (string Name, long Size, ulong Offset, long At) _dataEndTensor = (string.Empty, 0, 0, 0);
    private long _keptChars;
    private readonly Dictionary<string, int> _issueKinds = new(StringComparer.Ordinal);
    private readonly Cursor _cursor;
    private CancellationToken _token;

    private GgufFile(ModelFileSource source)
    {
        _cursor = new Cursor(source);
    }

    public uint Version { get; private set; }

    public bool BigEndian { get; private set; }

    /// <summary>Tensor count declared in the header (-1 when not read).</summary>
    public long DeclaredTensorCount { get; private set; } = -1;

    /// <summary>Key/value count declared in the header (-1 when not read).</summary>
    public long DeclaredKeyCount { get; private set; } = -1;

    public List<GgufKeyValue> KeyValues { get; } = new();

    /// <summary>The first 65,536 tensor infos (every one is checked).</summary>
    public List<GgufTensorInfo> Tensors { get; } = new();

    public List<GgufIssue> Issues { get; } = new();

    /// <summary>The chat templates in file order: <c>tokenizer.chat_template</c> and <c>tokenizer.chat_template.&lt;name&gt;</c> (text up to 1 MiB each).</summary>
    public List<(string Key, string Text)> ChatTemplates { get; } = new();

    /// <summary>Lowercase hex SHA-256 of all of <c>tokenizer.chat_template</c>'s bytes, when present.</summary>
    public string? ChatTemplateSha256 { get; private set; }

    public uint Alignment { get; private set; } = DefaultAlignment;

    /// <summary>Where tensor data starts, when the tensor infos were all read.</summary>
    public long? DataOffset { get; private set; }

    /// <summary>True when reading stopped at a structural break.</summary>
    public bool Broken { get; private set; }

    /// <summary>Sum of the tensors' element counts (those that did not overflow).</summary>
    public long ParameterCount { get; private set; }

    public long FileLength => _cursor.Length;

    /// <summary>Value of a key read whole (scalars and kept strings), or null.</summary>
    public object? Get(string key)
    {
        foreach (GgufKeyValue kv in KeyValues)
        {
            if (kv.Key == key)
            {
                return kv.Value;
            }
        }

        return null;
    }

    public static GgufFile Parse(ModelFileSource source, CancellationToken cancellationToken = default)
    {
        var file = new GgufFile(source) { _token = cancellationToken };
        try
        {
            file.ParseAll();
        }
        catch (BreakException)
        {
            file.Broken = true;
        }

        return file;
    }

    private void ParseAll()
    {
        Cursor c = _cursor;
        if (c.Length < 4 || c.ReadU32Raw() != 0x46554747)
        {
            Break(0, "the file does not start with the GGUF magic");
        }

        if (c.Remaining < 4)
        {
            Break(c.Position, $"the file ends at byte {c.Length:N0}, before the version field");
        }

        uint raw = c.ReadU32Raw();
        if ((raw & 0xFFFF) == 0 && raw != 0)
        {
            BigEndian = true;
            c.BigEndian = true;
            raw = BinaryPrimitives.ReverseEndianness(raw);
        }

        Version = raw;
        if (raw is 0 or > 3)
        {
            Break(4, $"version {raw} is not one ggml reads (1 to 3)");
        }

        bool v1 = raw == 1;
        long tensorCount = ReadCount(v1, "tensor count");
        long keyCount = ReadCount(v1, "key/value count");
        DeclaredTensorCount = tensorCount;
        DeclaredKeyCount = keyCount;
        if (keyCount > MaxKeyCount || keyCount * (v1 ? 9 : 13) > c.Remaining)
        {
            Hostile(16, "count", $"the header declares {keyCount:N0} key/value entries, more than the {c.Remaining:N0} bytes left can hold (or over the cap of {MaxKeyCount:N0}): readers that allocate from it fail or overflow (CVE-2024-23605)");
            throw new BreakException();
        }

        if (tensorCount > MaxTensorCount || tensorCount * (v1 ? 20 : 24) > c.Remaining)
        {
            Hostile(8, "count", $"the header declares {tensorCount:N0} tensors, more than the {c.Remaining:N0} bytes left can hold (or over the cap of {MaxTensorCount:N0}): readers that allocate from it fail or overflow (CVE-2024-21836)");
            throw new BreakException();
        }

        long kvStart = c.Position;
        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < keyCount; i++)
        {
            _token.ThrowIfCancellationRequested();
            ReadKeyValue(v1, keys);
            if (c.Position - kvStart > MaxMetadataBytes)
            {
                Hostile(c.Position, "count", $"the key/value area passes {MaxMetadataBytes:N0} bytes at entry {i:N0}; reading stopped there");
                throw new BreakException();
            }
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < tensorCount; i++)
        {
            _token.ThrowIfCancellationRequested();
            ReadTensorInfo(v1, names);
        }

        CheckData(tensorCount);
        if (v1)
        {
            Issues.Add(new GgufIssue(RuleIds.GgufMalformed, 4, "GGUF version 1 at byte 4: current ggml refuses it (\"GGUFv1 is no longer supported\"), so no current loader reads this file; it was checked as a v1 file."));
        }
    }

    private long ReadCount(bool v1, string what)
    {
        long offset = _cursor.Position;
        if (_cursor.Remaining < (v1 ? 4 : 8))
        {
            Break(offset, $"the file ends at byte {_cursor.Length:N0}, inside the {what}");
        }

        long value = v1 ? _cursor.ReadU32() : (long)_cursor.ReadU64();
        if (value < 0)
        {
            Hostile(offset, "count", $"the {what} is negative as ggml reads it (int64 {value})");
            throw new BreakException();
        }

        return value;
    }

    private void ReadKeyValue(bool v1, HashSet<string> keys)
    {
        Cursor c = _cursor;
        long offset = c.Position;
        string key = ReadString(v1, MaxKeyLength, "key", null, out long keyLength);
        if (keyLength == 0)
        {
            Hostile(offset, "key", "an empty key, which ggml refuses");
        }
        else if (keyLength > MaxKeyLength)
        {
            Break(offset, $"a key of {keyLength:N0} bytes, longer than the 65,535 the spec allows (keys are short names)");
        }

        foreach (char ch in key)
        {
            if (ch < 0x20 || ch == 0x7F || ch == '\uFFFD')
            {
                Issues.Add(new GgufIssue(RuleIds.GgufMalformed, offset, $"The key at byte {offset:N0} holds control characters or bytes that are not UTF-8; keys are ASCII names."));
                break;
            }
        }

        if (keyLength > 0 && !keys.Add(key))
        {
            Hostile(offset, "duplicate", $"the key '{Shorten(key)}' appears twice, which ggml refuses; readers disagree on which value wins");
        }

        long typeOffset = c.Position;
        GgufType type = ReadType(typeOffset, key);
        long valueOffset = c.Position;
        if (type == GgufType.Array)
        {
            GgufType element = ReadType(c.Position, key);
            if (element == GgufType.Array)
            {
                Hostile(valueOffset, "nested", $"the array '{Shorten(key)}' holds arrays: ggml refuses nested arrays and recursive readers (gguf-py) exhaust their stack on deep nesting; reading stopped there");
                throw new BreakException();
            }

            long countOffset = c.Position;
            if (c.Remaining < (v1 ? 4 : 8))
            {
                Break(countOffset, $"the file ends inside the length of array '{Shorten(key)}'");
            }

            long n = v1 ? c.ReadU32() : (long)c.ReadU64();
            int size = element == GgufType.String ? (v1 ? 4 : 8) : ScalarSize(element);
            if (n < 0 || n > c.Remaining / size)
            {
                Break(countOffset, $"the array '{Shorten(key)}' declares {(ulong)n:N0} elements of {element}, more than the {c.Remaining:N0} bytes left hold (CVE-2024-21825)");
            }

            if (n > MaxArrayElements)
            {
                Hostile(countOffset, "count", $"the array '{Shorten(key)}' declares {n:N0} elements, over ggml's limit of 2^30 (CVE-2024-21825)");
                throw new BreakException();
            }

            if (element == GgufType.String)
            {
                for (long i = 0; i < n; i++)
                {
                    if ((i & 0xFFF) == 0)
                    {
                        _token.ThrowIfCancellationRequested();
                    }

                    SkipString(v1, key);
                }
            }
            else if (element == GgufType.Bool)
            {
                CheckBools(n, key);
            }
            else
            {
                c.Skip(n * size);
            }

            KeyValues.Add(new GgufKeyValue(key, type, null, offset, element, n));
            return;
        }

        object? value;
        if (type == GgufType.String)
        {
            bool template = key == "tokenizer.chat_template" || key.StartsWith("tokenizer.chat_template.", StringComparison.Ordinal);
            using IncrementalHash? hash = key == "tokenizer.chat_template" ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
            string text = ReadString(v1, MaxKeptString, key, hash, out _);
            if (hash is not null)
            {
                ChatTemplateSha256 = Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
            }

            if (template)
            {
                ChatTemplates.Add((key, text));
            }

            value = text;
        }
        else
        {
            int size = ScalarSize(type);
            if (c.Remaining < size)
            {
                Break(valueOffset, $"the file ends inside the value of '{Shorten(key)}'");
            }

            value = type switch
            {
                GgufType.UInt8 => (object)c.ReadU8(),
                GgufType.Int8 => (object)(sbyte)c.ReadU8(),
                GgufType.UInt16 => (object)c.ReadU16(),
                GgufType.Int16 => (object)(short)c.ReadU16(),
                GgufType.UInt32 => (object)c.ReadU32(),
                GgufType.Int32 => (object)(int)c.ReadU32(),
                GgufType.Float32 => (object)BitConverter.Int32BitsToSingle((int)c.ReadU32()),
                GgufType.Bool => (object)c.ReadU8(),
                GgufType.UInt64 => (object)c.ReadU64(),
                GgufType.Int64 => (object)(long)c.ReadU64(),
                _ => (object)BitConverter.Int64BitsToDouble((long)c.ReadU64()),
            };
            if (type == GgufType.Bool)
            {
                byte b = (byte)value;
                if (b > 1)
                {
                    Hostile(valueOffset, "bool", $"the BOOL '{Shorten(key)}' holds {b}, not 0 or 1");
                }

                value = b != 0;
            }
        }

        if (key == "general.alignment")
        {
            if (type != GgufType.UInt32)
            {
                Hostile(typeOffset, "alignment", $"general.alignment is {type}, not UINT32 as ggml requires");
            }
            else if ((uint)value! is uint a && (a == 0 || (a & (a - 1)) != 0))
            {
                Hostile(valueOffset, "alignment", $"general.alignment is {a}, not a non-zero power of two as ggml requires");
            }
            else
            {
                Alignment = (uint)value!;
            }
        }

        KeyValues.Add(new GgufKeyValue(key, type, value, offset));
    }

    private GgufType ReadType(long offset, string key)
    {
        if (_cursor.Remaining < 4)
        {
            Break(offset, $"the file ends inside the type of '{Shorten(key)}'");
        }

        uint type = _cursor.ReadU32();
        if (type > (uint)GgufType.Float64)
        {
            Break(offset, $"the value type {type} of '{Shorten(key)}' is not a GGUF type (0 to 12)");
        }

        return (GgufType)type;
    }

    private void CheckBools(long n, string key)
    {
        long start = _cursor.Position;
        long left = n;
        while (left > 0)
        {
            int take = (int)Math.Min(left, Cursor.ChunkSize);
            ReadOnlySpan<byte> span = _cursor.Take(take);
            for (int i = 0; i < span.Length; i++)
            {
                if (span[i] > 1)
                {
                    long at = start + (n - left) + i;
                    Hostile(at, "bool", $"an element of the BOOL array '{Shorten(key)}' holds {span[i]}, not 0 or 1");
                    _cursor.Skip(left - take);
                    return;
                }
            }

            left -= take;
        }
    }

    /// <summary>Reads a string, keeping at most <paramref name="keep"/> bytes of text; hashes all of it when asked.</summary>
    private string ReadString(bool v1, int keep, string what, IncrementalHash? hash, out long length)
    {
        Cursor c = _cursor;
        long offset = c.Position;
        if (c.Remaining < (v1 ? 4 : 8))
        {
            Break(offset, $"the file ends inside the length of a string ({Shorten(what)})");
        }

        length = v1 ? c.ReadU32() : (long)c.ReadU64();
        if (length < 0 || length > c.Remaining)
        {
            Break(offset, $"a string ({Shorten(what)}) declares {(ulong)length:N0} bytes but only {c.Remaining:N0} are left");
        }

        if (length > MaxStringLength)
        {
            Hostile(offset, "count", $"a string ({Shorten(what)}) declares {length:N0} bytes, over ggml's limit of 1 GiB (CVE-2024-23496)");
            throw new BreakException();
        }

        // Text kept across all strings is capped: past the budget only a short prefix of each is kept.
        int kept = (int)Math.Min(length, Math.Max(Math.Min(keep, MinKeptChars), Math.Min(keep, MaxKeptChars - _keptChars)));
        _keptChars += kept;
        ReadOnlySpan<byte> head = c.Take(kept);
        string text = Encoding.UTF8.GetString(head);
        if (hash is null)
        {
            c.Skip(length - kept);
        }
        else
        {
            hash.AppendData(head);
            for (long left = length - kept; left > 0;)
            {
                int take = (int)Math.Min(left, Cursor.ChunkSize);
                hash.AppendData(c.Take(take));
                left -= take;
            }
        }

        return text;
    }

    private void SkipString(bool v1, string key)
    {
        Cursor c = _cursor;
        long offset = c.Position;
        if (c.Remaining < (v1 ? 4 : 8))
        {
            Break(offset, $"the file ends inside an element of the string array '{Shorten(key)}'");
        }

        long length = v1 ? c.ReadU32() : (long)c.ReadU64();
        if (length < 0 || length > c.Remaining)
        {
            Break(offset, $"an element of the string array '{Shorten(key)}' declares {(ulong)length:N0} bytes but only {c.Remaining:N0} are left");
        }

        if (length > MaxStringLength)
        {
            Hostile(offset, "count", $"an element of '{Shorten(key)}' declares {length:N0} bytes, over ggml's limit of 1 GiB (CVE-2024-23496)");
            throw new BreakException();
        }

        c.Skip(length);
    }

    private void ReadTensorInfo(bool v1, HashSet<string> names)
    {
        Cursor c = _cursor;
        long offset = c.Position;
        string name = ReadString(v1, 1024, "tensor name", null, out long nameLength);
        if (nameLength >= MaxTensorName)
        {
            Hostile(offset, "name", $"the tensor name '{Shorten(name)}' is {nameLength:N0} bytes; ggml allows at most 63 (GGML_MAX_NAME)");
        }

        if (!names.Add(name))
        {
            Hostile(offset, "duplicate", $"the tensor name '{Shorten(name)}' appears twice, which ggml refuses");
        }

        long dimsOffset = c.Position;
        if (c.Remaining < 4)
        {
            Break(dimsOffset, $"the file ends inside tensor '{Shorten(name)}'");
        }

        uint nDims = c.ReadU32();
        if (nDims > 4)
        {
            Hostile(dimsOffset, "dims", $"tensor '{Shorten(name)}' declares {nDims:N0} dimensions; ggml allows 4 and readers with a fixed ne[4] overflow the heap (CVE-2024-21802); reading stopped there");
            throw new BreakException();
        }

        int dimSize = v1 ? 4 : 8;
        if (c.Remaining < (nDims * dimSize) + 4 + 8)
        {
            Break(dimsOffset, $"the file ends inside tensor '{Shorten(name)}'");
        }

        var dims = new long[nDims];
        long? elements = 1;
        for (int j = 0; j < nDims; j++)
        {
            long dimOffset = c.Position;
            dims[j] = v1 ? c.ReadU32() : (long)c.ReadU64();
            if (dims[j] < 0)
            {
                Hostile(dimOffset, "dims", $"dimension {j} of tensor '{Shorten(name)}' is negative ({dims[j]})");
                elements = null;
            }
            else if (elements is long e && dims[j] != 0 && e > long.MaxValue / dims[j])
            {
                Hostile(dimOffset, "overflow", $"the dimensions of tensor '{Shorten(name)}' ({string.Join(" x ", dims[..(j + 1)])}) multiply past 2^63: size computations overflow (CVE-2026-33298)");
                elements = null;
            }
            else if (elements is long e2)
            {
                elements = e2 * dims[j];
            }
        }

        long typeOffset = c.Position;
        int type = (int)c.ReadU32();
        ulong dataOffset = c.ReadU64();
        long? bytes = null;
        (int Block, int Size) = GgmlTypes.Of(type);
        if (Block == 0)
        {
            Hostile(typeOffset, "type", $"tensor '{Shorten(name)}' has ggml type {type}, which is unknown or removed");
        }
        else if (nDims > 0 && dims[0] % Block != 0)
        {
            Hostile(dimsOffset, "block", $"tensor '{Shorten(name)}' has {dims[0]:N0} values per row, not a multiple of the {GgmlTypes.Name(type)} block size {Block}");
        }
        else if (elements is long count)
        {
            long blocks = count / Block;
            if (blocks > long.MaxValue / Size)
            {
                Hostile(dimsOffset, "overflow", $"tensor '{Shorten(name)}' would take more than 2^63 bytes: size computations overflow");
            }
            else
            {
                bytes = blocks * Size;
            }
        }

        if (elements is long counted)
        {
            ParameterCount = counted > long.MaxValue - ParameterCount ? long.MaxValue : ParameterCount + counted;
        }

        CheckOffset(name, dataOffset, bytes, offset);
        if (Tensors.Count < MaxKeptTensors)
        {
            Tensors.Add(new GgufTensorInfo(name, dims, type, dataOffset, elements, bytes, offset));
        }
    }

    /// <summary>Checks one tensor's data offset in info order, as gguf.cpp does: aligned, and packed right after the one before.</summary>
    private void CheckOffset(string name, ulong dataOffset, long? bytes, long at)
    {
        if (dataOffset % Alignment != 0)
        {
            Hostile(at, "offset", $"tensor '{Shorten(name)}' starts at data offset {dataOffset:N0}, not a multiple of the alignment {Alignment}");
        }

        if (_contiguous && dataOffset != (ulong)_expected)
        {
            string how = dataOffset < (ulong)_expected ? "overlapping the tensor before it" : "leaving a gap";
            Hostile(at, "offset", $"tensor '{Shorten(name)}' has data offset {dataOffset:N0}, expected {_expected:N0} ({how}); ggml refuses tensors that are not packed in order");
            _contiguous = false;
        }

        if (bytes is not long size)
        {
            _contiguous = false;
            return;
        }

        if (dataOffset > (ulong)(long.MaxValue - size))
        {
            Hostile(at, "outside", $"tensor '{Shorten(name)}' ({size:N0} bytes at data offset {dataOffset:N0}) ends past 2^63");
            _contiguous = false;
            return;
        }

        long end = (long)dataOffset + size;
        if (end > _dataEnd)
        {
            _dataEnd = end;
            _dataEndTensor = (name, size, dataOffset, at);
        }

        if (_contiguous)
        {
            long? next = Align(_expected + size);
            _contiguous = next is not null;
            _expected = next ?? 0;
        }
    }

    private void CheckData(long tensorCount)
    {
        long pos = _cursor.Position;
        long length = _cursor.Length;
        if (tensorCount == 0)
        {
            DataOffset = pos;
            long tail = length - pos;
            if (tail > 0 && Align(pos) is long aligned && length > aligned && !IsZeroPadding(pos))
            {
                Hostile(pos, "trailing", $"{tail:N0} bytes follow the header of a file with no tensors: appended data no loader reads");
            }

            return;
        }

        long dataStart = Align(pos) ?? long.MaxValue;
        if (dataStart > length)
        {
            Break(pos, $"the tensor data should start at byte {dataStart:N0}, past the end of the file ({length:N0} bytes)");
        }

        DataOffset = dataStart;
        if (_dataEnd > length - dataStart)
        {
            (string name, long size, ulong offset, long at) = _dataEndTensor;
            Hostile(at, "outside", $"tensor '{Shorten(name)}' ({size:N0} bytes at data offset {offset:N0}, file byte {(decimal)dataStart + offset:N0}) ends past the end of the file ({length:N0} bytes): readers that trust it read out of bounds (CVE-2026-7482)");
            return;
        }

        long last = dataStart + _dataEnd;
        long allowed = Align(last) ?? last;
        if (Issues.TrueForAll(i => i.RuleId != RuleIds.GgufHostileHeader) && length > allowed && !IsZeroPadding(last))
        {
            Hostile(last, "trailing", $"{length - last:N0} bytes follow the last tensor's data at byte {last:N0}: appended data no loader reads (a polyglot or hidden payload)");
        }
    }

    /// <summary>True when the bytes from <paramref name="start"/> to the end are a short run of zeros (padding, not a payload).</summary>
    private bool IsZeroPadding(long start)
    {
        long tail = _cursor.Length - start;
        if (tail > MaxZeroPadding)
        {
            return false;
        }

        _cursor.Seek(start);
        return !_cursor.Take((int)tail).ContainsAnyExcept((byte)0);
    }

    private long? Align(long x)
    {
        long r = x % Alignment;
        if (r == 0)
        {
            return x;
        }

        long add = Alignment - r;
        return x > long.MaxValue - add ? null : x + add;
    }

    private void Hostile(long offset, string kind, string message)
    {
        _issueKinds.TryGetValue(kind, out int seen);
        _issueKinds[kind] = seen + 1;
        if (seen < MaxIssuesPerKind)
        {
            Issues.Add(new GgufIssue(RuleIds.GgufHostileHeader, offset, $"At byte {offset:N0}: {message}."));
        }
        else if (seen == MaxIssuesPerKind)
        {
            Issues.Add(new GgufIssue(RuleIds.GgufHostileHeader, offset, $"At byte {offset:N0}: more issues of the same kind follow; only the first {MaxIssuesPerKind} are listed."));
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void Break(long offset, string message)
    {
        Issues.Add(new GgufIssue(RuleIds.GgufMalformed, offset, $"The structure breaks at byte {offset:N0}: {message}. Nothing after it was checked."));
        throw new BreakException();
    }

    private static int ScalarSize(GgufType type) => type switch
    {
        GgufType.UInt8 or GgufType.Int8 or GgufType.Bool => 1,
        GgufType.UInt16 or GgufType.Int16 => 2,
        GgufType.UInt32 or GgufType.Int32 or GgufType.Float32 => 4,
        _ => 8,
    };

    private static string Shorten(string text) =>
        text.Length <= 80 ? text : string.Concat(text.AsSpan(0, 80), "…");

    private sealed class BreakException : Exception
    {
    }

    /// <summary>Chunked forward reads over the source with the file's byte order.</summary>
    private sealed class Cursor
    {
        public const int ChunkSize = 64 * 1024;

        private readonly ModelFileSource _source;
        private byte[] _buffer = Array.Empty<byte>();
        private long _bufferStart;
        private int _bufferLength;

        public Cursor(ModelFileSource source)
        {
            _source = source;
            Length = source.Length;
        }

        public long Length { get; }

        public long Position { get; private set; }

        public long Remaining => Length - Position;

        public bool BigEndian { get; set; }

        /// <summary>Returns the next <paramref name="count"/> bytes (the caller has checked they exist; at most 1 MiB).</summary>
        public ReadOnlySpan<byte> Take(int count)
        {
            long within = Position - _bufferStart;
            if (within < 0 || within + count > _bufferLength)
            {
                Fill(count);
                within = 0;
            }

            Position += count;
            return _buffer.AsSpan((int)within, count);
        }

        public void Skip(long count) => Position += count;

        public void Seek(long position) => Position = position;

        public byte ReadU8() => Take(1)[0];

        public ushort ReadU16() => BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(Take(2)) : BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

        public uint ReadU32() => BigEndian ? BinaryPrimitives.ReadUInt32BigEndian(Take(4)) : BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

        public uint ReadU32Raw() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

        public ulong ReadU64() => BigEndian ? BinaryPrimitives.ReadUInt64BigEndian(Take(8)) : BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

        private void Fill(int count)
        {
            int want = (int)Math.Min(Math.Max(count, ChunkSize), Remaining);
            if (_buffer.Length < want)
            {
                _buffer = new byte[want];
            }

            int read = _source.ReadAt(Position, _buffer, 0, want);
            if (read < count)
            {
                throw new System.IO.EndOfStreamException($"The file ended at byte {Position + read:N0}, before the {Length:N0} bytes it had when it was opened.");
            }

            _bufferStart = Position;
            _bufferLength = read;
        }
    }
}

/// <summary>ggml tensor types: block size and bytes per block (gguf-py <c>GGML_QUANT_SIZES</c>), and <c>general.file_type</c> names.</summary>
internal static class GgmlTypes
{
    private static readonly (string Name, int Block, int Size)[] Table = Build();

    public static (int Block, int Size) Of(int type) =>
        type >= 0 && type < Table.Length ? (Table[type].Block, Table[type].Size) : (0, 0);

    public static string Name(int type) =>
        type >= 0 && type < Table.Length && Table[type].Block != 0 ? Table[type].Name : type.ToString(CultureInfo.InvariantCulture);

    public static string? FileTypeName(long fileType) => fileType switch
    {
        0 => "ALL_F32", 1 => "MOSTLY_F16", 2 => "Q4_0", 3 => "Q4_1", 4 => "Q4_1_SOME_F16", 7 => "Q8_0", 8 => "Q5_0", 9 => "Q5_1",
        10 => "Q2_K", 11 => "Q3_K_S", 12 => "Q3_K_M", 13 => "Q3_K_L", 14 => "Q4_K_S", 15 => "Q4_K_M", 16 => "Q5_K_S",
        17 => "Q5_K_M", 18 => "Q6_K", 19 => "IQ2_XXS", 20 => "IQ2_XS", 21 => "Q2_K_S", 22 => "IQ3_XS", 23 => "IQ3_XXS",
        24 => "IQ1_S", 25 => "IQ4_NL", 26 => "IQ3_S", 27 => "IQ3_M", 28 => "IQ2_S", 29 => "IQ2_M", 30 => "IQ4_XS",
        31 => "IQ1_M", 32 => "BF16", 36 => "TQ1_0", 37 => "TQ2_0", 38 => "MXFP4_MOE", 39 => "NVFP4", 40 => "Q1_0",
        1024 => "GUESSED",
        _ => null,
    };

    private static (string, int, int)[] Build()
    {
        var t = new (string, int, int)[42];
        void Set(int i, string name, int block, int size) => t[i] = (name, block, size);
        Set(0, "F32", 1, 4); Set(1, "F16", 1, 2); Set(2, "Q4_0", 32, 18); Set(3, "Q4_1", 32, 20);
        Set(6, "Q5_0", 32, 22); Set(7, "Q5_1", 32, 24); Set(8, "Q8_0", 32, 34); Set(9, "Q8_1", 32, 40);
        Set(10, "Q2_K", 256, 84); Set(11, "Q3_K", 256, 110); Set(12, "Q4_K", 256, 144); Set(13, "Q5_K", 256, 176);
        Set(14, "Q6_K", 256, 210); Set(15, "Q8_K", 256, 292); Set(16, "IQ2_XXS", 256, 66); Set(17, "IQ2_XS", 256, 74);
        Set(18, "IQ3_XXS", 256, 98); Set(19, "IQ1_S", 256, 50); Set(20, "IQ4_NL", 32, 18); Set(21, "IQ3_S", 256, 110);
        Set(22, "IQ2_S", 256, 82); Set(23, "IQ4_XS", 256, 136); Set(24, "I8", 1, 1); Set(25, "I16", 1, 2);
        Set(26, "I32", 1, 4); Set(27, "I64", 1, 8); Set(28, "F64", 1, 8); Set(29, "IQ1_M", 256, 56);
        Set(30, "BF16", 1, 2); Set(34, "TQ1_0", 256, 54); Set(35, "TQ2_0", 256, 66); Set(39, "MXFP4", 32, 17);
        Set(40, "NVFP4", 64, 36); Set(41, "Q1_0", 128, 18);
        return t;
    }
}
