using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Threading;

namespace ModelSecurity.Formats.Archive;

/// <summary>
/// A strict RFC 1951 (deflate) decoder. The framework's DeflateStream ends quietly on a truncated
/// stream and hides where a stream ended; this one says whether the end-of-stream block was reached,
/// knows exactly how many input bytes it used (gzip members and trailers follow), and writes into a
/// <see cref="BoundedOutput"/>, whose buffer is the LZ77 window.
/// </summary>
internal static class Inflater
{
    private const int MaxCodeBits = 15;
    private const int MaxLengthCodes = 286;
    private const int MaxDistanceCodes = 30;
    private const int FixedLengthCodes = 288;
    private const int WindowSize = 32 * 1024;

    private static readonly ushort[] LengthBase = { 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258 };
    private static readonly byte[] LengthExtra = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
    private static readonly ushort[] DistanceBase = { 1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577 };
    private static readonly byte[] DistanceExtra = { 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };
    private static readonly byte[] CodeLengthOrder = { 16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15 };

    private static readonly Lazy<(Huffman Lengths, Huffman Distances)> FixedCodes = new(BuildFixedCodes);

    /// <summary>
    /// Decodes one deflate stream into <paramref name="output"/>. Returns true at its final block's end,
    /// false when the output's bounds stopped it; throws <see cref="CompressedDataException"/> when the
    /// data is truncated or invalid (the output keeps what was decoded).
    /// </summary>
    public static bool Inflate(BitReader input, BoundedOutput output, CancellationToken cancellationToken)
    {
        // Back-references may reach only into this stream's output, not an earlier gzip member's.
        int streamStart = output.Count;
        var lengths = new Huffman();
        var distances = new Huffman();
        bool final;
        do
        {
            cancellationToken.ThrowIfCancellationRequested();
            final = input.Bits(1) == 1;
            int type = (int)input.Bits(2);
            bool more = type switch
            {
                0 => Stored(input, output),
                1 => Codes(input, output, FixedCodes.Value.Lengths, FixedCodes.Value.Distances, streamStart),
                2 => Dynamic(input, output, lengths, distances, streamStart),
                _ => throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, "a deflate block has the reserved type 3"),
            };
            if (!more)
            {
                return false;
            }
        }
        while (!final);

        return true;
    }

    private static bool Stored(BitReader input, BoundedOutput output)
    {
        input.AlignToByte();
        int length = (int)input.Bits(16);
        int complement = (int)input.Bits(16);
        if (length != (~complement & 0xFFFF))
        {
            throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, "a stored deflate block's length does not match its complement");
        }

        for (int i = 0; i < length; i++)
        {
            if (!output.Append((byte)input.Bits(8)))
            {
                return false;
            }
        }

        return true;
    }

    private static bool Dynamic(BitReader input, BoundedOutput output, Huffman lengthCode, Huffman distanceCode, int streamStart)
    {
        int lengthCount = (int)input.Bits(5) + 257;
        int distanceCount = (int)input.Bits(5) + 1;
        int codeLengthCount = (int)input.Bits(4) + 4;
        if (lengthCount > MaxLengthCodes || distanceCount > MaxDistanceCodes)
        {
            throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, "a dynamic deflate block declares too many codes");
        }

        var lengths = new byte[MaxLengthCodes + MaxDistanceCodes];
        for (int i = 0; i < codeLengthCount; i++)
        {
            lengths[CodeLengthOrder[i]] = (byte)input.Bits(3);
        }

        var codeLengthCode = new Huffman();
        if (codeLengthCode.Build(lengths, 0, 19) != 0)
        {
            throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, "a dynamic deflate block has an invalid code-length code");
        }

        Array.Clear(lengths, 0, 19);
        int index = 0;
        while (index < lengthCount + distanceCount)
        {
            int symbol = codeLengthCode.Decode(input);
            if (symbol < 16)
            {
                lengths[index++] = (byte)symbol;
                continue;
            }

            byte value = 0;
            int repeat;
            if (symbol == 16)
            {
                if (index == 0)
                {
                    throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, "a deflate length repeat has no previous length");
                }

                value = lengths[index - 1];
                repeat = 3 + (int)input.Bits(2);
            }
            else
            {
                repeat = symbol == 17 ? 3 + (int)input.Bits(3) : 11 + (int)input.Bits(7);
            }

            if (index + repeat > lengthCount + distanceCount)
            {
                throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, "deflate code lengths run past their count");
            }

            while (repeat-- > 0)
            {
                lengths[index++] = value;
            }
        }

        if (lengths[256] == 0)
        {
            throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, "a dynamic deflate block has no end-of-block code");
        }

        // An incomplete code is allowed only as a single one-bit code (zlib and puff agree).
        int left = lengthCode.Build(lengths, 0, lengthCount);
        if (left < 0 || (left > 0 && lengthCount - lengthCode.Count[0] != 1))
        {
            throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, "a dynamic deflate block has an invalid literal/length code");
        }

        left = distanceCode.Build(lengths, lengthCount, distanceCount);
        if (left < 0 || (left > 0 && distanceCount - distanceCode.Count[0] != 1))
        {
            throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, "a dynamic deflate block has an invalid distance code");
        }

        return Codes(input, output, lengthCode, distanceCode, streamStart);
    }

    private static bool Codes(BitReader input, BoundedOutput output, Huffman lengthCode, Huffman distanceCode, int streamStart)
    {
        while (true)
        {
            int symbol = lengthCode.Decode(input);
            if (symbol < 256)
            {
                if (!output.Append((byte)symbol))
                {
                    return false;
                }

                continue;
            }

            if (symbol == 256)
            {
                return true;
            }

            symbol -= 257;
            if (symbol >= LengthBase.Length)
            {
                throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, "a deflate stream uses an invalid length code");
            }

            int length = LengthBase[symbol] + (int)input.Bits(LengthExtra[symbol]);
            int distanceSymbol = distanceCode.Decode(input);
            if (distanceSymbol >= DistanceBase.Length)
            {
                throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, "a deflate stream uses an invalid distance code");
            }

            int distance = DistanceBase[distanceSymbol] + (int)input.Bits(DistanceExtra[distanceSymbol]);
            if (distance > output.Count - streamStart || distance > WindowSize)
            {
                throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, "a deflate back-reference points before the start of the data");
            }

            if (!output.CopyMatch(distance, length))
            {
                return false;
            }
        }
    }

    private static (Huffman, Huffman) BuildFixedCodes()
    {
        var lengths = new byte[FixedLengthCodes + MaxDistanceCodes];
        int i = 0;
        for (; i < 144; i++)
        {
            lengths[i] = 8;
        }

        for (; i < 256; i++)
        {
            lengths[i] = 9;
        }

        for (; i < 280; i++)
        {
            lengths[i] = 7;
        }

        for (; i < FixedLengthCodes; i++)
        {
            lengths[i] = 8;
        }

        for (; i < lengths.Length; i++)
        {
            lengths[i] = 5;
        }

        var lengthCode = new Huffman();
        lengthCode.Build(lengths, 0, FixedLengthCodes);
        var distanceCode = new Huffman();
        distanceCode.Build(lengths, FixedLengthCodes, MaxDistanceCodes);
        return (lengthCode, distanceCode);
    }

    /// <summary>A canonical Huffman code: a 10-bit lookup table, and counts and symbols for longer codes.</summary>
    private sealed class Huffman
    {
        private const int FastBits = 10;

        private readonly ushort[] _fast = new ushort[1 << FastBits];
        private readonly short[] _symbols = new short[FixedLengthCodes];

        public short[] Count { get; } = new short[MaxCodeBits + 1];

        /// <summary>Builds the code from code lengths; returns 0 when complete, &gt; 0 when incomplete, &lt; 0 when over-subscribed.</summary>
        public int Build(byte[] lengths, int offset, int n)
        {
            Array.Clear(Count, 0, Count.Length);
            Array.Clear(_fast, 0, _fast.Length);
            for (int symbol = 0; symbol < n; symbol++)
            {
                Count[lengths[offset + symbol]]++;
            }

            if (Count[0] == n)
            {
                return 0;
            }

            int left = 1;
            for (int len = 1; len <= MaxCodeBits; len++)
            {
                left <<= 1;
                left -= Count[len];
                if (left < 0)
                {
                    return left;
                }
            }

            var offsets = new short[MaxCodeBits + 2];
            var nextCode = new int[MaxCodeBits + 2];
            int code = 0;
            for (int len = 1; len <= MaxCodeBits; len++)
            {
                offsets[len + 1] = (short)(offsets[len] + Count[len]);
                code = (code + (len == 1 ? 0 : Count[len - 1])) << 1;
                nextCode[len] = code;
            }

            for (int symbol = 0; symbol < n; symbol++)
            {
                int len = lengths[offset + symbol];
                if (len == 0)
                {
                    continue;
                }

                _symbols[offsets[len]++] = (short)symbol;
                int assigned = nextCode[len]++;
                if (len <= FastBits)
                {
                    int reversed = Reverse(assigned, len);
                    for (int index = reversed; index < _fast.Length; index += 1 << len)
                    {
                        _fast[index] = (ushort)((symbol << 4) | len);
                    }
                }
            }

            return left;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Decode(BitReader input)
        {
            ulong bits = input.Peek(MaxCodeBits);
            ushort entry = _fast[(int)(bits & ((1 << FastBits) - 1))];
            if (entry != 0)
            {
                input.Skip(entry & 0xF);
                return entry >> 4;
            }

            return DecodeLong(input, bits);
        }

        // Codes longer than the table: walk the canonical code a bit at a time (as zlib's puff does).
        private int DecodeLong(BitReader input, ulong bits)
        {
            int code = 0;
            int first = 0;
            int index = 0;
            for (int len = 1; len <= MaxCodeBits; len++)
            {
                code |= (int)(bits & 1);
                bits >>= 1;
                int count = Count[len];
                if (code - count < first)
                {
                    input.Skip(len);
                    return _symbols[index + (code - first)];
                }

                index += count;
                first = (first + count) << 1;
                code <<= 1;
            }

            throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, "a deflate stream holds an invalid Huffman code");
        }

        private static int Reverse(int code, int length)
        {
            int result = 0;
            for (int i = 0; i < length; i++)
            {
                result = (result << 1) | (code & 1);
                code >>= 1;
            }

            return result;
        }
    }
}

/// <summary>
/// Least-significant-bit-first bits over a stream (deflate's order), that knows exactly how many
/// input bytes it has used. Reading past the end yields zero bits until one of them is consumed,
/// which throws: a decoder may peek beyond the end, but never use what is not there.
/// </summary>
internal sealed class BitReader
{
    private readonly Stream _stream;
    private readonly byte[] _buffer = new byte[16 * 1024];
    private int _bufferPosition;
    private int _bufferCount;
    private bool _endOfStream;
    private long _fetched;
    private ulong _bits;
    private int _bitCount;
    private int _phantomBits;

    public BitReader(Stream stream)
    {
        _stream = stream;
    }

    /// <summary>Input bytes used so far, counting a partly used byte as used.</summary>
    public long BytesConsumed => _fetched - ((_bitCount - _phantomBits) / 8);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Peek(int count)
    {
        if (_bitCount < count)
        {
            Refill();
        }

        return _bits & ((1UL << count) - 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Skip(int count)
    {
        _bits >>= count;
        _bitCount -= count;
        if (_bitCount < _phantomBits)
        {
            throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, "the compressed stream ends before its end marker (truncated)");
        }
    }

    public uint Bits(int count)
    {
        if (count == 0)
        {
            return 0;
        }

        uint value = (uint)Peek(count);
        Skip(count);
        return value;
    }

    /// <summary>Drops the rest of a partly used byte.</summary>
    public void AlignToByte() => Skip((_bitCount - _phantomBits) % 8);

    /// <summary>The next whole byte after <see cref="AlignToByte"/>, or -1 at the end of the input.</summary>
    public int ReadAlignedByte()
    {
        if (_bitCount - _phantomBits >= 8)
        {
            int value = (int)(_bits & 0xFF);
            _bits >>= 8;
            _bitCount -= 8;
            return value;
        }

        if (_bitCount > _phantomBits || !NextByte(out byte b))
        {
            return -1;
        }

        _fetched++;
        return b;
    }

    private void Refill()
    {
        while (_bitCount <= 56)
        {
            if (NextByte(out byte b))
            {
                _bits |= (ulong)b << _bitCount;
                _fetched++;
            }
            else
            {
                _phantomBits += 8;
            }

            _bitCount += 8;
        }
    }

    private bool NextByte(out byte value)
    {
        if (_bufferPosition == _bufferCount)
        {
            if (_endOfStream || _phantomBits > 0)
            {
                value = 0;
                return false;
            }

            _bufferCount = _stream.Read(_buffer, 0, _buffer.Length);
            _bufferPosition = 0;
            if (_bufferCount <= 0)
            {
                _bufferCount = 0;
                _endOfStream = true;
                value = 0;
                return false;
            }
        }

        value = _buffer[_bufferPosition++];
        return true;
    }
}

/// <summary>Compressed data that is truncated or invalid; <see cref="Kind"/> is the anomaly to report.</summary>
internal sealed class CompressedDataException : Exception
{
    public CompressedDataException(ArchiveAnomalyKind kind, string message)
        : base(message)
    {
        Kind = kind;
    }

    public CompressedDataException()
    {
    }

    public CompressedDataException(string message)
        : base(message)
    {
    }

    public CompressedDataException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ArchiveAnomalyKind Kind { get; } = ArchiveAnomalyKind.Corrupt;
}
