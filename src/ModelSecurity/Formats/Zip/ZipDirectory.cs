using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;

namespace ModelSecurity.Formats.Zip;

/// <summary>
/// The member names of a zip, read from the central directory (what PyTorch's miniz reader uses),
/// or from the local headers when no central directory can be found. Bounded: it reads at most
/// <see cref="MaxDirectoryBytes"/> of directory and <see cref="MaxEntries"/> names.
/// </summary>
internal sealed class ZipDirectory
{
    public const int MaxEntries = 100_000;
    public const int MaxDirectoryBytes = 16 * 1024 * 1024;

    private const uint LocalHeaderSignature = 0x04034b50;
    private const uint CentralHeaderSignature = 0x02014b50;
    private const uint EndOfCentralDirectorySignature = 0x06054b50;
    private const uint Zip64LocatorSignature = 0x07064b50;
    private const uint Zip64EndSignature = 0x06064b50;

    private ZipDirectory(IReadOnlyList<string> names, bool fromCentralDirectory, bool complete, long archiveStart)
    {
        Names = names;
        FromCentralDirectory = fromCentralDirectory;
        Complete = complete;
        ArchiveStart = archiveStart;
    }

    /// <summary>Member names in directory order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>False when the names came from walking local headers (no usable central directory).</summary>
    public bool FromCentralDirectory { get; }

    /// <summary>False when a limit stopped the listing before its end.</summary>
    public bool Complete { get; }

    /// <summary>Offset of the first byte the zip's offsets count from (non-zero when data is prepended).</summary>
    public long ArchiveStart { get; }

    public static bool StartsWithLocalHeader(byte[] head) =>
        head.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(head) == LocalHeaderSignature;

    /// <summary>True when the head is an empty zip (only an end record).</summary>
    public static bool IsEmptyArchive(byte[] head) =>
        head.Length >= 22 && BinaryPrimitives.ReadUInt32LittleEndian(head) == EndOfCentralDirectorySignature;

    /// <summary>Lists the archive's members, or returns null when the bytes hold no zip structure at all.</summary>
    public static ZipDirectory? TryRead(SniffContext context)
    {
        ZipDirectory? central = TryReadCentral(context);
        if (central is not null)
        {
            return central;
        }

        return StartsWithLocalHeader(context.Head) ? ReadLocalHeaders(context) : null;
    }

    private static ZipDirectory? TryReadCentral(SniffContext context)
    {
        byte[] tail = context.Tail;
        int eocd = -1;
        for (int i = tail.Length - 22; i >= 0; i--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(i)) == EndOfCentralDirectorySignature)
            {
                int commentLength = BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(i + 20));
                if (i + 22 + commentLength <= tail.Length)
                {
                    eocd = i;
                    break;
                }
            }
        }

        if (eocd < 0)
        {
            return null;
        }

        long eocdOffset = context.TailOffset + eocd;
        long entryCount = BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(eocd + 10));
        long directorySize = BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(eocd + 12));
        long directoryOffset = BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(eocd + 16));

        // ZIP64: a locator just before the EOCD points at the ZIP64 end record with 64-bit fields.
        if (eocd >= 20 && BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(eocd - 20)) == Zip64LocatorSignature)
        {
            long zip64EndOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(tail.AsSpan(eocd - 20 + 8));
            byte[] zip64End = context.Source.ReadBlock(zip64EndOffset, 56);
            if (zip64End.Length == 56 && BinaryPrimitives.ReadUInt32LittleEndian(zip64End) == Zip64EndSignature)
            {
                entryCount = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(zip64End.AsSpan(32)), long.MaxValue);
                directorySize = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(zip64End.AsSpan(40)), long.MaxValue);
                directoryOffset = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(zip64End.AsSpan(48)), long.MaxValue);
            }
        }

        // Data prepended to the zip (a polyglot or a self-extractor) shifts every offset; the directory
        // ends where the EOCD starts, so the shift is what is left over.
        long archiveStart = eocdOffset - directorySize - directoryOffset;
        if (archiveStart < 0 || directorySize < 0)
        {
            archiveStart = 0;
        }

        long readFrom = archiveStart + directoryOffset;
        if (readFrom < 0 || readFrom > eocdOffset)
        {
            return null;
        }

        int toRead = (int)Math.Min(Math.Min(directorySize, eocdOffset - readFrom), MaxDirectoryBytes);
        byte[] directory = context.Source.ReadBlock(readFrom, toRead);
        var names = new List<string>();
        int pos = 0;
        while (pos + 46 <= directory.Length && names.Count < MaxEntries && names.Count < entryCount)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(directory.AsSpan(pos)) != CentralHeaderSignature)
            {
                break;
            }

            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(directory.AsSpan(pos + 8));
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(directory.AsSpan(pos + 28));
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(directory.AsSpan(pos + 30));
            int commentLength = BinaryPrimitives.ReadUInt16LittleEndian(directory.AsSpan(pos + 32));
            if (pos + 46 + nameLength > directory.Length)
            {
                break;
            }

            names.Add(DecodeName(directory.AsSpan(pos + 46, nameLength), flags));
            pos += 46 + nameLength + extraLength + commentLength;
        }

        if (names.Count == 0 && entryCount > 0)
        {
            return null;
        }

        return new ZipDirectory(names, fromCentralDirectory: true, complete: names.Count == entryCount, archiveStart);
    }

    private static ZipDirectory ReadLocalHeaders(SniffContext context)
    {
        var names = new List<string>();
        long offset = 0;
        bool complete = false;
        while (names.Count < 1000)
        {
            byte[] header = context.Source.ReadBlock(offset, 30);
            if (header.Length < 30 || BinaryPrimitives.ReadUInt32LittleEndian(header) != LocalHeaderSignature)
            {
                complete = header.Length < 4 || BinaryPrimitives.ReadUInt32LittleEndian(header) == CentralHeaderSignature;
                break;
            }

            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(6));
            long compressedSize = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(18));
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(26));
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(28));
            byte[] name = context.Source.ReadBlock(offset + 30, nameLength);
            names.Add(DecodeName(name, flags));

            // Sizes live in a data descriptor after the data when bit 3 is set: the walk cannot skip it.
            if ((flags & 0x0008) != 0)
            {
                break;
            }

            offset += 30 + nameLength + extraLength + compressedSize;
        }

        return new ZipDirectory(names, fromCentralDirectory: false, complete, archiveStart: 0);
    }

    private static string DecodeName(ReadOnlySpan<byte> bytes, ushort flags)
    {
        // Bit 11 marks UTF-8 names; without it the name is CP437, which agrees with ASCII for real model zips.
        Encoding encoding = (flags & 0x0800) != 0 ? Encoding.UTF8 : Encoding.GetEncoding("ISO-8859-1");
        return encoding.GetString(bytes.ToArray());
    }
}
