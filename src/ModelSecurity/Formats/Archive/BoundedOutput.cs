using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace ModelSecurity.Formats.Archive;

/// <summary>
/// Where decoders write: a buffer that grows only as output is produced, refuses bytes past its
/// limit, and stops when the output outgrows the compressed input consumed by more than
/// <see cref="MaxRatio"/>:1 (once past <see cref="RatioFloor"/>). Checked while streaming, never after.
/// </summary>
internal sealed class BoundedOutput
{
    /// <summary>The largest byte array the runtime allows (a little under 2 GiB).</summary>
    public const int MaxArrayLength = 0x7FFFFFC7;

    public const int MaxRatio = 1000;

    /// <summary>
    /// Output below this is never a bomb: zero-filled arrays legitimately compress past 1000:1 (deflate
    /// about 1030:1, bzip2 and xz far more), so the ratio only cuts a stream short once it is this big.
    /// </summary>
    public const long RatioFloor = 64L * 1024 * 1024;

    // How often (in output bytes) the ratio and the cancellation token are looked at.
    private const int CheckInterval = 256 * 1024;
    private const int InitialCapacity = 64 * 1024;

    private readonly int _limit;
    private readonly Func<long> _inputConsumed;
    private readonly CancellationToken _cancellationToken;
    private byte[] _buffer;
    private int _count;

    // The next count at which Append leaves its fast path: the capacity, the limit or a check.
    private int _slowAt;
    private long _nextCheck;

    public BoundedOutput(long limit, Func<long> inputConsumed, CancellationToken cancellationToken)
    {
        _limit = (int)Math.Max(0, Math.Min(limit, MaxArrayLength));
        _inputConsumed = inputConsumed;
        _cancellationToken = cancellationToken;
        _buffer = new byte[Math.Min(_limit, InitialCapacity)];
        _nextCheck = CheckInterval;
        UpdateSlowAt();
    }

    public int Count => _count;

    /// <summary>The bytes so far; valid up to <see cref="Count"/>, for back-references.</summary>
    public byte[] Buffer => _buffer;

    /// <summary>More output was offered than the limit allows.</summary>
    public bool LimitReached { get; private set; }

    /// <summary>The output outgrew the input by more than <see cref="MaxRatio"/>:1.</summary>
    public bool RatioExceeded { get; private set; }

    /// <summary>True once either bound stopped the output: decoders stop at the first refused byte.</summary>
    public bool Stopped => LimitReached || RatioExceeded;

    /// <summary>The compressed bytes consumed when the ratio stopped the output.</summary>
    public long InputAtRatioStop { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Append(byte value)
    {
        if (_count >= _slowAt && !MakeRoom(1))
        {
            return false;
        }

        _buffer[_count++] = value;
        return true;
    }

    /// <summary>Appends what fits; false when a bound refused some of it.</summary>
    public bool Append(byte[] source, int offset, int count)
    {
        while (count > 0)
        {
            if (_count >= _slowAt && !MakeRoom(1))
            {
                return false;
            }

            int n = Math.Min(count, _slowAt - _count);
            System.Buffer.BlockCopy(source, offset, _buffer, _count, n);
            _count += n;
            offset += n;
            count -= n;
        }

        return true;
    }

    /// <summary>Copies <paramref name="length"/> bytes from <paramref name="distance"/> back (LZ77); the caller checked the distance.</summary>
    public bool CopyMatch(int distance, int length)
    {
        while (length > 0)
        {
            if (_count >= _slowAt && !MakeRoom(1))
            {
                return false;
            }

            int n = Math.Min(length, _slowAt - _count);
            int from = _count - distance;
            if (distance >= n)
            {
                System.Buffer.BlockCopy(_buffer, from, _buffer, _count, n);
            }
            else
            {
                // Overlapping: the match repeats bytes it is writing.
                for (int i = 0; i < n; i++)
                {
                    _buffer[_count + i] = _buffer[from + i];
                }
            }

            _count += n;
            length -= n;
        }

        return true;
    }

    public byte[] ToArray()
    {
        if (_count == _buffer.Length)
        {
            return _buffer;
        }

        var result = new byte[_count];
        System.Buffer.BlockCopy(_buffer, 0, result, 0, _count);
        return result;
    }

    // The slow path: checks, then grows the buffer; false when a bound stops the output.
    private bool MakeRoom(int needed)
    {
        if (Stopped)
        {
            return false;
        }

        if (_count >= _nextCheck)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            _nextCheck = _count + (long)CheckInterval;
            long input = _inputConsumed();
            if (_count >= RatioFloor && _count > (long)MaxRatio * Math.Max(input, 1))
            {
                RatioExceeded = true;
                InputAtRatioStop = input;
                return false;
            }
        }

        if (_count + (long)needed > _limit)
        {
            LimitReached = true;
            return false;
        }

        if (_count + needed > _buffer.Length)
        {
            long grown = Math.Min(_limit, Math.Max(_count + (long)needed, (long)_buffer.Length * 2));
            Array.Resize(ref _buffer, (int)grown);
        }

        UpdateSlowAt();
        return true;
    }

    private void UpdateSlowAt() => _slowAt = (int)Math.Min(Math.Min(_buffer.Length, _limit), _nextCheck);
}
