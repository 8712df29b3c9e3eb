using System;

namespace ModelSecurity.Formats.Pickle;

/// <summary>
/// Forward reads over a window of a <see cref="ModelFileSource"/> in chunks, with skips that read
/// nothing: large byte payloads and joblib's inline array data are stepped over, not read.
/// </summary>
internal sealed class PickleInput
{
    private const int ChunkSize = 256 * 1024;

    private readonly ModelFileSource _source;
    private byte[] _buffer = Array.Empty<byte>();
    private long _bufferStart;

    public PickleInput(ModelFileSource source, long start, long end)
    {
        _source = source;
        Position = start;
        End = Math.Min(end, source.Length);
        _bufferStart = start;
    }

    public ModelFileSource Source => _source;

    /// <summary>Offset of the next byte to read.</summary>
    public long Position { get; set; }

    /// <summary>Offset just past the last readable byte.</summary>
    public long End { get; }

    public long Remaining => End - Position;

    public bool AtEnd => Position >= End;

    /// <summary>Next byte, or -1 at the end.</summary>
    public int ReadByte()
    {
        if (Position >= End)
        {
            return -1;
        }

        if (!Buffered(Position, 1))
        {
            Fill(Position, 1);
        }

        return _buffer[(int)(Position++ - _bufferStart)];
    }

    /// <summary>Peeks at the byte at <see cref="Position"/> without consuming it (-1 at the end).</summary>
    public int Peek()
    {
        int b = ReadByte();
        if (b >= 0)
        {
            Position--;
        }

        return b;
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes, or returns null when the window ends first.</summary>
    public byte[]? ReadExact(int count)
    {
        if (count < 0 || count > Remaining)
        {
            return null;
        }

        var result = new byte[count];
        if (count == 0)
        {
            return result;
        }

        if (count <= ChunkSize)
        {
            if (!Buffered(Position, count))
            {
                Fill(Position, count);
            }

            Buffer.BlockCopy(_buffer, (int)(Position - _bufferStart), result, 0, count);
        }
        else
        {
            int filled = _source.ReadAt(Position, result, 0, count);
            if (filled != count)
            {
                return null;
            }
        }

        Position += count;
        return result;
    }

    /// <summary>
    /// Reads a line ending in <c>\n</c> (the newline is consumed, not returned), or null when no newline
    /// comes within <paramref name="maxLength"/> bytes or before the end.
    /// </summary>
    public byte[]? ReadLine(int maxLength)
    {
        long start = Position;
        long limit = Math.Min(End, start + maxLength + 1L);
        for (long i = start; i < limit; i++)
        {
            if (!Buffered(i, 1))
            {
                Fill(i, 1);
            }

            if (_buffer[(int)(i - _bufferStart)] == (byte)'\n')
            {
                int length = (int)(i - start);
                Position = start;
                byte[] line = ReadExact(length)!;
                Position++;
                return line;
            }
        }

        return null;
    }

    /// <summary>Steps over <paramref name="count"/> bytes without reading them; false when the window ends first.</summary>
    public bool Skip(long count)
    {
        if (count < 0 || count > Remaining)
        {
            return false;
        }

        Position += count;
        return true;
    }

    private bool Buffered(long offset, int count) =>
        offset >= _bufferStart && offset + count <= _bufferStart + _buffer.Length;

    private void Fill(long offset, int count)
    {
        int size = (int)Math.Min(Math.Max(ChunkSize, count), End - offset);
        _buffer = _source.ReadBlock(offset, size);
        _bufferStart = offset;
    }
}
