using System;
using System.Collections.Generic;
using System.IO;

namespace ModelSecurity.Formats;

/// <summary>
/// Random-access reads over one model file that never read more than asked and count every byte,
/// so a result can say how much of a 70 GB file was touched.
/// </summary>
internal sealed class ModelFileSource : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _ownsStream;

    // Byte ranges read so far, sorted and disjoint: sniffers re-read what the head already holds.
    private readonly List<(long Start, long End)> _touched = new();

    public ModelFileSource(Stream stream, bool ownsStream = false)
    {
        if (!stream.CanSeek || !stream.CanRead)
        {
            throw new ArgumentException("The stream must be readable and seekable.", nameof(stream));
        }

        _stream = stream;
        _ownsStream = ownsStream;
        Length = stream.Length;
    }

    /// <summary>Length of the file when it was opened.</summary>
    public long Length { get; }

    /// <summary>Distinct bytes read so far (a range read twice counts once).</summary>
    public long BytesRead { get; private set; }

    public static ModelFileSource OpenFile(string path)
    {
        // Share everything: a scan must not block a download or a running model server.
        var stream = new FileStream(
            path,
            FileMode.Open,
            FileAccess.Read,
            FileShare.ReadWrite | FileShare.Delete,
            bufferSize: 1,
            FileOptions.RandomAccess);
        return new ModelFileSource(stream, ownsStream: true);
    }

    /// <summary>
    /// Reads up to <paramref name="maxCount"/> bytes at <paramref name="offset"/>, fewer only at the end
    /// of the file. Offsets outside the file give an empty array.
    /// </summary>
    public byte[] ReadBlock(long offset, int maxCount)
    {
        if (offset < 0 || offset >= Length || maxCount <= 0)
        {
            return Array.Empty<byte>();
        }

        int count = (int)Math.Min(maxCount, Length - offset);
        byte[] buffer = new byte[count];
        int filled = ReadAt(offset, buffer, 0, count);
        if (filled != count)
        {
            throw new EndOfStreamException(
                $"The file ended at byte {offset + filled:N0}, before the {Length:N0} bytes it had when it was opened.");
        }

        return buffer;
    }

    /// <summary>Reads into <paramref name="buffer"/>; returns the bytes read (short only at end of file).</summary>
    public int ReadAt(long offset, byte[] buffer, int index, int count)
    {
        _stream.Seek(offset, SeekOrigin.Begin);
        int total = 0;
        while (total < count)
        {
            int n = _stream.Read(buffer, index + total, count - total);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        Touch(offset, offset + total);
        return total;
    }

    private void Touch(long start, long end)
    {
        if (end <= start)
        {
            return;
        }

        // Binary search: a zip with 100,000 members makes as many reads.
        int first = 0;
        int high = _touched.Count;
        while (first < high)
        {
            int middle = (first + high) >> 1;
            if (_touched[middle].End < start)
            {
                first = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        int last = first;
        while (last < _touched.Count && _touched[last].Start <= end)
        {
            start = Math.Min(start, _touched[last].Start);
            end = Math.Max(end, _touched[last].End);
            BytesRead -= _touched[last].End - _touched[last].Start;
            last++;
        }

        _touched.RemoveRange(first, last - first);
        _touched.Insert(first, (start, end));
        BytesRead += end - start;
    }

    public void Dispose()
    {
        if (_ownsStream)
        {
            _stream.Dispose();
        }
    }
}
