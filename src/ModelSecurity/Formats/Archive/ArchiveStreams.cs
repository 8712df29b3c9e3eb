using System;
using System.IO;

namespace ModelSecurity.Formats.Archive;

/// <summary>
/// A stream that is only read, front to back: the decoding wrappers below need only Read, and every
/// other member says so.
/// </summary>
internal abstract class ForwardReadStream : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>Reads at most a fixed number of bytes from a decoder, so one member never reads into the next.</summary>
internal sealed class LimitedReadStream : ForwardReadStream
{
    private readonly Stream _inner;
    private long _remaining;

    public LimitedReadStream(Stream inner, long limit)
    {
        _inner = inner;
        _remaining = Math.Max(0, limit);
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        if (_remaining <= 0)
        {
            return 0;
        }

        int read = _inner.Read(buffer, offset, (int)Math.Min(count, _remaining));
        _remaining -= Math.Max(read, 0);
        return read;
    }

}

/// <summary>
/// Gives a decoder its compressed input and stops it when it keeps reading after the input ended: a
/// decoder that is fed nothing (a range decoder reads 0xFF past the end) can otherwise turn a few
/// bytes into tens of megabytes of invented output before the ratio check stops it.
/// </summary>
internal sealed class EndOfInputGuardStream : ForwardReadStream
{
    // Reads allowed at the end: decoders probe once or twice before they notice.
    private const int MaxReadsAtEnd = 16;

    private readonly Stream _inner;
    private int _readsAtEnd;

    public EndOfInputGuardStream(Stream inner)
    {
        _inner = inner;
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        int read = _inner.Read(buffer, offset, count);
        if (read <= 0 && count > 0 && ++_readsAtEnd > MaxReadsAtEnd)
        {
            throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, "the compressed data ends before the stream does (truncated)");
        }

        return read;
    }

    public override int ReadByte()
    {
        int value = _inner.ReadByte();
        if (value < 0 && ++_readsAtEnd > MaxReadsAtEnd)
        {
            throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, "the compressed data ends before the stream does (truncated)");
        }

        return value;
    }

}

/// <summary>7-Zip's Delta filter, decoding: each byte is stored as its difference from the byte <c>distance</c> back.</summary>
internal sealed class DeltaDecoderStream : ForwardReadStream
{
    private readonly Stream _inner;
    private readonly int _distance;
    private readonly byte[] _history = new byte[256];
    private int _position;

    public DeltaDecoderStream(Stream inner, int distance)
    {
        _inner = inner;
        _distance = distance;
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        int read = _inner.Read(buffer, offset, count);
        for (int i = offset; i < offset + read; i++)
        {
            byte value = (byte)(buffer[i] + _history[(_position - _distance) & 0xFF]);
            buffer[i] = value;
            _history[_position & 0xFF] = value;
            _position++;
        }

        return read;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
