using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;

namespace ModelSecurity.Formats.Archive;

/// <summary>
/// LZ4 frames (the format of <c>lz4.frame</c>, which joblib uses), one after another as python-lz4's
/// reader takes them, with skippable frames passed over. The block format is small enough that an own
/// decoder is simpler than a dependency, and it writes straight into a <see cref="BoundedOutput"/>.
/// Checksums (header, block, content) and the declared content size are verified.
/// </summary>
internal static class Lz4FrameDecoder
{
    private const uint FrameMagic = 0x184D2204;
    private const uint SkippableMagicMask = 0xFFFFFFF0;
    private const uint SkippableMagic = 0x184D2A50;
    private const int WindowSize = 64 * 1024;

    /// <summary>Decodes every frame from the stream's position; anomalies are added, failures thrown as <see cref="CompressedDataException"/>.</summary>
    public static void Decode(Stream input, BoundedOutput output, List<ArchiveAnomaly> anomalies, CancellationToken cancellationToken)
    {
        var word = new byte[8];
        bool first = true;
        while (!output.Stopped)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long frameStart = input.Position;
            int read = ReadFully(input, word, 4);
            if (read == 0 && !first)
            {
                return;
            }

            uint magic = read == 4 ? ReadUInt32(word, 0) : 0;
            if ((magic & SkippableMagicMask) == SkippableMagic)
            {
                if (ReadFully(input, word, 4) != 4)
                {
                    throw Truncated("a skippable LZ4 frame's size");
                }

                long skip = ReadUInt32(word, 0);
                if (input.Position + skip > input.Length)
                {
                    throw Truncated("a skippable LZ4 frame");
                }

                input.Position += skip;
                first = false;
                continue;
            }

            if (magic != FrameMagic)
            {
                if (first)
                {
                    throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, "the data does not start with an LZ4 frame");
                }

                anomalies.Add(new ArchiveAnomaly(
                    ArchiveAnomalyKind.DataOutsideEntries,
                    null,
                    $"{input.Length - frameStart:N0} bytes after the last LZ4 frame (at offset {frameStart:N0}) are not a frame; python-lz4 fails there after decoding the frames before"));
                return;
            }

            DecodeFrame(input, output, anomalies, word);
            first = false;
        }
    }

    private static void DecodeFrame(Stream input, BoundedOutput output, List<ArchiveAnomaly> anomalies, byte[] word)
    {
        var descriptor = new byte[15];
        if (ReadFully(input, descriptor, 2) != 2)
        {
            throw Truncated("an LZ4 frame descriptor");
        }

        byte flags = descriptor[0];
        byte blockDescriptor = descriptor[1];
        if ((flags >> 6) != 1)
        {
            throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, $"an LZ4 frame has version {flags >> 6} (only 1 exists)");
        }

        bool independentBlocks = (flags & 0x20) != 0;
        bool blockChecksums = (flags & 0x10) != 0;
        bool contentSizePresent = (flags & 0x08) != 0;
        bool contentChecksum = (flags & 0x04) != 0;
        bool dictionary = (flags & 0x01) != 0;
        int blockSizeCode = (blockDescriptor >> 4) & 0x7;
        if ((flags & 0x02) != 0 || (blockDescriptor & 0x8F) != 0 || blockSizeCode < 4)
        {
            throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, "an LZ4 frame descriptor has reserved bits set or an invalid block size");
        }

        int descriptorLength = 2 + (contentSizePresent ? 8 : 0) + (dictionary ? 4 : 0);
        if (ReadFully(input, descriptor, 2, descriptorLength - 2 + 1) != descriptorLength - 2 + 1)
        {
            throw Truncated("an LZ4 frame descriptor");
        }

        byte headerChecksum = (byte)((Checksums.XxHash32(descriptor, 0, descriptorLength) >> 8) & 0xFF);
        if (headerChecksum != descriptor[descriptorLength])
        {
            throw new CompressedDataException(ArchiveAnomalyKind.CrcMismatch, "an LZ4 frame descriptor's checksum does not match");
        }

        long? contentSize = contentSizePresent ? (long)ReadUInt64(descriptor, 2) : null;
        if (dictionary)
        {
            // The content needs an external dictionary that the file does not carry.
            throw new CompressedDataException(ArchiveAnomalyKind.UnsupportedMethod, "an LZ4 frame needs an external dictionary (DictID), so it was not decoded");
        }

        int maxBlockSize = 1 << (8 + (2 * blockSizeCode));
        var block = new byte[Math.Min(maxBlockSize, (int)Math.Min(int.MaxValue, input.Length - input.Position))];
        int frameStart = output.Count;
        while (true)
        {
            if (ReadFully(input, word, 4) != 4)
            {
                throw Truncated("an LZ4 block size");
            }

            uint sizeWord = ReadUInt32(word, 0);
            if (sizeWord == 0)
            {
                break;
            }

            bool stored = (sizeWord & 0x80000000) != 0;
            int size = (int)(sizeWord & 0x7FFFFFFF);
            if (size > maxBlockSize)
            {
                throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, $"an LZ4 block of {size:N0} bytes is larger than the frame's {maxBlockSize:N0}-byte blocks");
            }

            if (size > block.Length || ReadFully(input, block, size) != size)
            {
                throw Truncated("an LZ4 block");
            }

            if (blockChecksums)
            {
                if (ReadFully(input, word, 4) != 4)
                {
                    throw Truncated("an LZ4 block checksum");
                }

                if (ReadUInt32(word, 0) != Checksums.XxHash32(block, 0, size))
                {
                    anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.CrcMismatch, null, $"an LZ4 block checksum does not match (block at output offset {output.Count:N0})"));
                }
            }

            int windowStart = independentBlocks ? output.Count : Math.Max(frameStart, output.Count - WindowSize);
            bool more = stored ? output.Append(block, 0, size) : DecodeBlock(block, size, output, windowStart);
            if (!more)
            {
                return;
            }
        }

        if (contentChecksum)
        {
            if (ReadFully(input, word, 4) != 4)
            {
                throw Truncated("an LZ4 content checksum");
            }

            if (ReadUInt32(word, 0) != Checksums.XxHash32(output.Buffer, frameStart, output.Count - frameStart))
            {
                anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.CrcMismatch, null, "an LZ4 frame's content checksum does not match its decoded data"));
            }
        }

        if (contentSize is long declared && declared != output.Count - frameStart)
        {
            anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.SizeMismatch, null, $"an LZ4 frame declares {declared:N0} bytes of content but decodes to {output.Count - frameStart:N0}"));
        }
    }

    // One LZ4 block: sequences of literals then a match; the last sequence has literals only.
    private static bool DecodeBlock(byte[] block, int size, BoundedOutput output, int windowStart)
    {
        int ip = 0;
        while (ip < size)
        {
            int token = block[ip++];
            int literals = token >> 4;
            if (literals == 15)
            {
                literals += ReadLength(block, ref ip, size);
            }

            if (literals > size - ip)
            {
                throw BadBlock("its literals run past the block");
            }

            if (!output.Append(block, ip, literals))
            {
                return false;
            }

            ip += literals;
            if (ip == size)
            {
                break;
            }

            if (size - ip < 2)
            {
                throw BadBlock("a match offset is cut off");
            }

            int offset = block[ip] | (block[ip + 1] << 8);
            ip += 2;
            int matchLength = token & 0xF;
            if (matchLength == 15)
            {
                matchLength += ReadLength(block, ref ip, size);
            }

            matchLength += 4;
            if (offset == 0 || offset > output.Count - windowStart)
            {
                throw BadBlock("a match points before the start of the data");
            }

            if (!output.CopyMatch(offset, matchLength))
            {
                return false;
            }
        }

        return true;
    }

    private static int ReadLength(byte[] block, ref int ip, int size)
    {
        int length = 0;
        int b;
        do
        {
            if (ip >= size)
            {
                throw BadBlock("a length runs past the block");
            }

            b = block[ip++];
            length += b;
        }
        while (b == 255);

        // At most 255 per byte of a block of at most 4 MiB: no overflow.
        return length;
    }

    private static CompressedDataException BadBlock(string why) =>
        new(ArchiveAnomalyKind.Corrupt, $"an LZ4 block is corrupt: {why}");

    private static CompressedDataException Truncated(string what) =>
        new(ArchiveAnomalyKind.Corrupt, $"the LZ4 data ends inside {what} (truncated)");

    private static int ReadFully(Stream input, byte[] buffer, int count) => ReadFully(input, buffer, 0, count);

    private static int ReadFully(Stream input, byte[] buffer, int offset, int count)
    {
        int total = 0;
        while (total < count)
        {
            int n = input.Read(buffer, offset + total, count - total);
            if (n <= 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }

    private static uint ReadUInt32(byte[] data, int offset) =>
        (uint)(data[offset] | (data[offset + 1] << 8) | (data[offset + 2] << 16) | (data[offset + 3] << 24));

    private static ulong ReadUInt64(byte[] data, int offset) =>
        ReadUInt32(data, offset) | ((ulong)ReadUInt32(data, offset + 4) << 32);
}
