using System;
using System.IO;

namespace ModelSecurity.Formats;

/// <summary>
/// A read-only, seekable window of a <see cref="ModelFileSource"/> as a <see cref="Stream"/>, for
/// decoders that want one. Reads go through the source (so they are counted) in blocks of at most
/// <see cref="BufferSize"/> (or the size given), because decoders often ask for a byte at a time.
/// </summary>
internal sealed class ModelFileSourceStream : Stream
{
    public const int BufferSize = 64 * 1024;

    private readonly ModelFileSource _source;
    private readonly long _start;
    private readonly long _length;
    private readonly int _bufferSize;
    private byte[]? _buffer;
    private long _bufferStart;
    private int _bufferCount;
    private long _position;

    /// <summary>The window from <paramref name="start"/> for <paramref name="length"/> bytes (to the end of the file when null).</summary>
    public ModelFileSourceStream(ModelFileSource source, long start = 0, long? length = null, int bufferSize = BufferSize)
    {
        _bufferSize = bufferSize > 0 ? bufferSize : throw new ArgumentOutOfRangeException(nameof(bufferSize));
        _source = source ?? throw new ArgumentNullException(nameof(source));
        if (start < 0 || start > source.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(start));
        }

        long available = source.Length - start;
        if (length is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(length));
        }

        _start = start;
        _length = Math.Min(length ?? available, available);
    }

    /// <summary>True once reading the file failed: an I/O error of the file, not of the data in it.</summary>
    public bool SourceFailed { get; private set; }

    /// <summary>The furthest position (relative to the window) any read has reached: what a decoder consumed.</summary>
    public long HighWaterMark { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        ArgumentNullException.ThrowIfNull(buffer);

        if (offset < 0 || count < 0 || count > buffer.Length - offset)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        int total = 0;
        while (total < count && _position < _length)
        {
            if (!Fill())
            {
                break;
            }

            int index = (int)(_position - _bufferStart);
            int n = Math.Min(count - total, _bufferCount - index);
            Buffer.BlockCopy(_buffer!, index, buffer, offset + total, n);
            total += n;
            Advance(n);
        }

        return total;
    }

    public override int ReadByte()
    {
        if (_position >= _length || !Fill())
        {
            return -1;
        }

        byte value = _buffer![(int)(_position - _bufferStart)];
        Advance(1);
        return value;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        long target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => _length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        if (target < 0)
        {
            throw new IOException("An attempt was made to move the position before the beginning of the stream.");
        }

        _position = target;
        return target;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    // Makes the buffer hold the byte at the position; false at the end of the window.
    private bool Fill()
    {
        if (_buffer is not null && _position >= _bufferStart && _position < _bufferStart + _bufferCount)
        {
            return true;
        }

        int want = (int)Math.Min(_bufferSize, _length - _position);
        if (want <= 0)
        {
            return false;
        }

        _buffer ??= new byte[(int)Math.Min(_bufferSize, Math.Max(_length, 1))];
        int read;
        try
        {
            read = _source.ReadAt(_start + _position, _buffer, 0, want);
        }
        catch (IOException)
        {
            SourceFailed = true;
            throw;
        }

        if (read != want)
        {
            SourceFailed = true;
            // The same failure ModelFileSource.ReadBlock reports: the file changed under the scan.
            throw new EndOfStreamException(
                $"The file ended at byte {_start + _position + read:N0}, before the {_source.Length:N0} bytes it had when it was opened.");
        }

        _bufferStart = _position;
        _bufferCount = read;
        return true;
    }

    private void Advance(int count)
    {
        _position += count;
        if (_position > HighWaterMark)
        {
            HighWaterMark = _position;
        }
    }
}
