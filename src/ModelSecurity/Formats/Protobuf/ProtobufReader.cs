using System;
using System.IO;
using System.Text;

namespace ModelSecurity.Formats.Protobuf;

/// <summary>A protobuf message that is not well-formed: where, and why.</summary>
internal sealed class ProtobufFormatException : Exception
{
    public ProtobufFormatException(long offset, string reason)
        : base($"{reason} at byte {offset:N0}")
    {
        Offset = offset;
        Reason = reason;
    }

    public long Offset { get; }

    public string Reason { get; }
}

/// <summary>
/// Walks a protobuf message in a file without loading it: bytes come from the
/// <see cref="ModelFileSource"/> in small blocks, and fields a reader does not want (tensor payloads)
/// are skipped by moving the position, so they are never read. Every length is checked against the
/// end of the enclosing message, and nesting is limited.
/// </summary>
internal sealed class ProtobufReader
{
    public const int DefaultMaxDepth = 100;
    private const int BlockSize = 8 * 1024;

    // After a skip, reads start small and double while parsing runs on, so the header that follows a
    // skipped payload costs a few hundred bytes, not a block of the next payload.
    private const int FirstReadAfterSkip = 256;

    private readonly ModelFileSource _source;
    private readonly long _end;
    private readonly byte[] _block = new byte[BlockSize];
    private long _blockStart = -1;
    private int _blockCount;
    private int _nextRead = BlockSize;

    public ProtobufReader(ModelFileSource source, long start, long end, int maxDepth = DefaultMaxDepth)
    {
        _source = source;
        Position = start;
        _end = Math.Min(end, source.Length);
        Limit = _end;
        MaxDepth = maxDepth;
    }

    /// <summary>File offset of the next byte.</summary>
    public long Position { get; private set; }

    /// <summary>End of the message being read.</summary>
    public long Limit { get; private set; }

    /// <summary>Messages entered and not yet left.</summary>
    public int Depth { get; private set; }

    public int MaxDepth { get; }

    public bool AtEnd => Position >= Limit;

    /// <summary>Reads the next field's tag; false at the end of the current message.</summary>
    public bool TryReadTag(out int field, out int wireType)
    {
        field = 0;
        wireType = 0;
        if (AtEnd)
        {
            return false;
        }

        long at = Position;
        ulong tag = ReadVarint();
        wireType = (int)(tag & 7);
        ulong number = tag >> 3;
        if (number == 0 || number > 536_870_911)
        {
            throw new ProtobufFormatException(at, $"field number {number} is out of range");
        }

        if (wireType is 3 or 4 or 6 or 7)
        {
            throw new ProtobufFormatException(at, $"wire type {wireType} is not used by this format");
        }

        field = (int)number;
        return true;
    }

    public ulong ReadVarint()
    {
        long at = Position;
        ulong value = 0;
        for (int i = 0, shift = 0; i < 10; i++, shift += 7)
        {
            byte b = ReadByte();
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                if (i == 9 && b > 1)
                {
                    break;
                }

                return value;
            }
        }

        throw new ProtobufFormatException(at, "a varint is longer than 10 bytes");
    }

    public ulong ReadFixed(int size)
    {
        ulong value = 0;
        for (int i = 0; i < size; i++)
        {
            value |= (ulong)ReadByte() << (8 * i);
        }

        return value;
    }

    /// <summary>Reads a length prefix and checks it against the end of the current message.</summary>
    public long ReadLength()
    {
        long at = Position;
        ulong length = ReadVarint();
        if (length > (ulong)(Limit - Position))
        {
            throw new ProtobufFormatException(at, $"a field claims {length:N0} bytes but its message has {Limit - Position:N0} left");
        }

        return (long)length;
    }

    /// <summary>Skips a field's value; length-delimited payloads are passed over without reading them.</summary>
    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case ProtobufWire.Varint:
                ReadVarint();
                break;
            case ProtobufWire.Fixed64:
                Advance(8);
                break;
            case ProtobufWire.Fixed32:
                Advance(4);
                break;
            default:
                Advance(ReadLength());
                break;
        }
    }

    /// <summary>Reads a length-delimited value as text, keeping at most <paramref name="maxBytes"/> bytes (the rest is skipped).</summary>
    public string ReadString(int maxBytes = 4096)
    {
        byte[] bytes = ReadBytes(maxBytes, out _);
        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>Reads a length-delimited value, keeping at most <paramref name="maxBytes"/> bytes.</summary>
    public byte[] ReadBytes(int maxBytes, out long fullLength)
    {
        fullLength = ReadLength();
        int keep = (int)Math.Min(fullLength, maxBytes);
        byte[] bytes = new byte[keep];
        for (int i = 0; i < keep; i++)
        {
            bytes[i] = ReadByte();
        }

        Advance(fullLength - keep);
        return bytes;
    }

    /// <summary>Enters a length-delimited field as a message; returns the outer limit to hand to <see cref="Leave"/>.</summary>
    public long Enter()
    {
        if (Depth >= MaxDepth)
        {
            throw new ProtobufFormatException(Position, $"messages are nested more than {MaxDepth} deep");
        }

        long length = ReadLength();
        long outer = Limit;
        Limit = Position + length;
        Depth++;
        return outer;
    }

    /// <summary>Skips what remains of the entered message and returns to its parent.</summary>
    public void Leave(long outerLimit)
    {
        Position = Limit;
        Limit = outerLimit;
        Depth--;
    }

    /// <summary>Reads every field of the current message: <paramref name="handle"/> reads those it wants (and returns true); the rest are skipped.</summary>
    public void ReadFields(Func<int, int, bool> handle)
    {
        while (TryReadTag(out int field, out int wire))
        {
            if (!handle(field, wire))
            {
                Skip(wire);
            }
        }
    }

    /// <summary>Enters a length-delimited field as a message, reads it with <paramref name="read"/>, and leaves it; returns true.</summary>
    public bool ReadMessage(Action read)
    {
        long outer = Enter();
        read();
        Leave(outer);
        return true;
    }

    /// <summary>Passes over <paramref name="count"/> bytes of the current message without reading them.</summary>
    public void SkipBytes(long count) => Advance(count);

    private void Advance(long count)
    {
        if (count < 0 || count > Limit - Position)
        {
            throw new ProtobufFormatException(Position, $"a field runs {count:N0} bytes past the end of its message");
        }

        Position += count;
        if (Position >= _blockStart + _blockCount)
        {
            _nextRead = FirstReadAfterSkip;
        }
    }

    private byte ReadByte()
    {
        if (Position >= Limit)
        {
            throw new ProtobufFormatException(Position, Limit >= _end ? "the file ends inside a field" : "a field runs past the end of its message");
        }

        long index = Position - _blockStart;
        if (_blockStart < 0 || index < 0 || index >= _blockCount)
        {
            _blockStart = Position;
            _blockCount = _source.ReadAt(Position, _block, 0, (int)Math.Min(_nextRead, _end - Position));
            _nextRead = Math.Min(_nextRead * 2, BlockSize);
            if (_blockCount == 0)
            {
                throw new ProtobufFormatException(Position, "the file ends inside a field");
            }

            index = 0;
        }

        Position++;
        return _block[index];
    }
}
