using System;
using System.Collections.Generic;
using System.Text;

namespace ModelSecurity.Formats.Archive;

/// <summary>
/// The parsed header of a 7z archive (7zFormat.txt): pack streams, folders (coder chains) and their
/// sub-streams, and the file list. Every count is checked against a cap and against the bytes left
/// in the header before anything is allocated from it.
/// </summary>
internal sealed class SevenZipHeader
{
    public const int MaxFiles = 100_000;
    public const int MaxFolders = 100_000;
    public const int MaxPackStreams = 100_000;
    public const int MaxCoders = 64;
    public const int MaxCoderStreams = 64;

    private const byte KEnd = 0x00;
    private const byte KHeader = 0x01;
    private const byte KArchiveProperties = 0x02;
    private const byte KAdditionalStreamsInfo = 0x03;
    private const byte KMainStreamsInfo = 0x04;
    private const byte KFilesInfo = 0x05;
    private const byte KPackInfo = 0x06;
    private const byte KUnpackInfo = 0x07;
    private const byte KSubStreamsInfo = 0x08;
    private const byte KSize = 0x09;
    private const byte KCrc = 0x0A;
    private const byte KFolder = 0x0B;
    private const byte KCodersUnpackSize = 0x0C;
    private const byte KNumUnpackStream = 0x0D;
    private const byte KEmptyStream = 0x0E;
    private const byte KEmptyFile = 0x0F;
    private const byte KAnti = 0x10;
    private const byte KName = 0x11;
    private const byte KWinAttributes = 0x15;
    private const byte KEncodedHeader = 0x17;

    public SevenZipStreams Streams { get; private set; } = new();

    public List<SevenZipFile> Files { get; } = new();

    /// <summary>True when the header is a kEncodedHeader: <see cref="Streams"/> then describes the packed header, not members.</summary>
    public bool IsEncoded { get; private set; }

    /// <summary>Parses a plain or encoded header; throws <see cref="CompressedDataException"/> on bad or over-limit structure.</summary>
    public static SevenZipHeader Parse(byte[] data)
    {
        var reader = new Reader(data);
        var header = new SevenZipHeader();
        byte id = reader.ReadByte();
        if (id == KEncodedHeader)
        {
            header.IsEncoded = true;
            header.Streams = ReadStreamsInfo(reader);
            return header;
        }

        if (id != KHeader)
        {
            throw Corrupt($"the header starts with property {id}, not kHeader or kEncodedHeader");
        }

        id = reader.ReadByte();
        if (id == KArchiveProperties)
        {
            while (reader.ReadByte() != KEnd)
            {
                reader.Skip(reader.ReadNumber());
            }

            id = reader.ReadByte();
        }

        if (id == KAdditionalStreamsInfo)
        {
            // Used by no current writer; read to stay in step, then ignored.
            ReadStreamsInfo(reader);
            id = reader.ReadByte();
        }

        if (id == KMainStreamsInfo)
        {
            header.Streams = ReadStreamsInfo(reader);
            id = reader.ReadByte();
        }

        if (id == KFilesInfo)
        {
            header.ReadFilesInfo(reader);
            id = reader.ReadByte();
        }

        if (id != KEnd)
        {
            throw Corrupt($"unexpected property {id} at the end of the header");
        }

        return header;
    }

    private static SevenZipStreams ReadStreamsInfo(Reader reader)
    {
        var streams = new SevenZipStreams();
        byte id = reader.ReadByte();
        if (id == KPackInfo)
        {
            streams.PackPosition = reader.ReadSize("pack position");
            int count = reader.ReadCount(MaxPackStreams, "pack streams", 1);
            streams.PackSizes = new long[count];
            id = reader.ReadByte();
            if (id == KSize)
            {
                for (int i = 0; i < count; i++)
                {
                    streams.PackSizes[i] = reader.ReadSize("pack size");
                }

                id = reader.ReadByte();
            }

            if (id == KCrc)
            {
                ReadDigests(reader, count);
                id = reader.ReadByte();
            }

            Expect(id, KEnd, "pack info");
            id = reader.ReadByte();
        }

        if (id == KUnpackInfo)
        {
            Expect(reader.ReadByte(), KFolder, "unpack info");
            int count = reader.ReadCount(MaxFolders, "folders", 2);
            if (reader.ReadByte() != 0)
            {
                throw Unsupported("folders stored outside the header (External)");
            }

            int packIndex = 0;
            for (int i = 0; i < count; i++)
            {
                SevenZipFolder folder = ReadFolder(reader);
                folder.FirstPackStream = packIndex;
                packIndex += folder.PackedStreams.Length;
                streams.Folders.Add(folder);
            }

            if (packIndex > streams.PackSizes.Length)
            {
                throw Corrupt($"the folders use {packIndex} pack streams but the archive has {streams.PackSizes.Length}");
            }

            Expect(reader.ReadByte(), KCodersUnpackSize, "unpack info");
            foreach (SevenZipFolder folder in streams.Folders)
            {
                for (int j = 0; j < folder.UnpackSizes.Length; j++)
                {
                    folder.UnpackSizes[j] = reader.ReadSize("unpack size");
                }
            }

            id = reader.ReadByte();
            if (id == KCrc)
            {
                uint?[] crcs = ReadDigests(reader, count);
                for (int i = 0; i < count; i++)
                {
                    streams.Folders[i].Crc = crcs[i];
                }

                id = reader.ReadByte();
            }

            Expect(id, KEnd, "unpack info");
            id = reader.ReadByte();
        }

        if (id == KSubStreamsInfo)
        {
            ReadSubStreamsInfo(reader, streams);
            id = reader.ReadByte();
        }
        else
        {
            foreach (SevenZipFolder folder in streams.Folders)
            {
                streams.SubStreams.Add(new SevenZipSubStream(folder, 0, folder.UnpackSize, folder.Crc));
            }
        }

        Expect(id, KEnd, "streams info");
        return streams;
    }

    private static SevenZipFolder ReadFolder(Reader reader)
    {
        var folder = new SevenZipFolder();
        int coderCount = reader.ReadCount(MaxCoders, "coders in a folder", 1);
        if (coderCount == 0)
        {
            throw Corrupt("a folder has no coders");
        }

        int inTotal = 0;
        int outTotal = 0;
        for (int i = 0; i < coderCount; i++)
        {
            byte flags = reader.ReadByte();
            if ((flags & 0xC0) != 0)
            {
                throw Unsupported("alternative coder methods");
            }

            byte[] id = reader.ReadBytes(flags & 0x0F);
            int inStreams = 1;
            int outStreams = 1;
            if ((flags & 0x10) != 0)
            {
                inStreams = reader.ReadCount(MaxCoderStreams, "coder input streams", 0);
                outStreams = reader.ReadCount(MaxCoderStreams, "coder output streams", 0);
            }

            byte[] properties = (flags & 0x20) != 0 ? reader.ReadBytes(reader.ReadCount(reader.Remaining, "coder properties", 1)) : Array.Empty<byte>();
            folder.Coders.Add(new SevenZipCoder(id, inStreams, outStreams, properties));
            inTotal += inStreams;
            outTotal += outStreams;
        }

        if (outTotal == 0 || inTotal > MaxCoderStreams || outTotal > MaxCoderStreams)
        {
            throw Corrupt("a folder's coders have an impossible number of streams");
        }

        for (int i = 0; i < outTotal - 1; i++)
        {
            int inIndex = reader.ReadCount(inTotal - 1, "bind pair input", 0);
            int outIndex = reader.ReadCount(outTotal - 1, "bind pair output", 0);
            folder.BindPairs.Add((inIndex, outIndex));
        }

        int packed = inTotal - (outTotal - 1);
        if (packed < 1)
        {
            throw Corrupt("a folder has no packed input stream");
        }

        folder.PackedStreams = new int[packed];
        if (packed == 1)
        {
            int unbound = -1;
            for (int i = 0; i < inTotal && unbound < 0; i++)
            {
                if (!folder.BindPairs.Exists(p => p.In == i))
                {
                    unbound = i;
                }
            }

            folder.PackedStreams[0] = unbound >= 0 ? unbound : throw Corrupt("every input stream of a folder is bound");
        }
        else
        {
            for (int i = 0; i < packed; i++)
            {
                folder.PackedStreams[i] = reader.ReadCount(inTotal - 1, "packed stream index", 0);
            }
        }

        folder.UnpackSizes = new long[outTotal];
        return folder;
    }

    private static void ReadSubStreamsInfo(Reader reader, SevenZipStreams streams)
    {
        var counts = new int[streams.Folders.Count];
        for (int i = 0; i < counts.Length; i++)
        {
            counts[i] = 1;
        }

        byte id = reader.ReadByte();
        if (id == KNumUnpackStream)
        {
            long total = 0;
            for (int i = 0; i < counts.Length; i++)
            {
                counts[i] = reader.ReadCount(MaxFiles, "sub-streams in a folder", 0);
                total += counts[i];
                if (total > MaxFiles)
                {
                    throw new CompressedDataException(ArchiveAnomalyKind.Truncated, $"the archive has more than {MaxFiles:N0} data streams; it was not listed");
                }
            }

            id = reader.ReadByte();
        }

        bool sizesGiven = id == KSize;
        for (int i = 0; i < counts.Length; i++)
        {
            SevenZipFolder folder = streams.Folders[i];
            folder.SubStreamCount = counts[i];
            if (counts[i] == 0)
            {
                continue;
            }

            long offset = 0;
            for (int j = 0; j < counts[i] - 1; j++)
            {
                long size = sizesGiven ? reader.ReadSize("sub-stream size") : 0;
                if (size > folder.UnpackSize - offset)
                {
                    throw Corrupt("a folder's sub-streams are larger than the folder");
                }

                streams.SubStreams.Add(new SevenZipSubStream(folder, offset, size, null));
                offset += size;
            }

            streams.SubStreams.Add(new SevenZipSubStream(folder, offset, folder.UnpackSize - offset, counts[i] == 1 ? folder.Crc : null));
        }

        if (sizesGiven)
        {
            id = reader.ReadByte();
        }

        while (id != KEnd)
        {
            if (id == KCrc)
            {
                // Digests for the streams whose CRC the folder does not already give.
                var unknown = streams.SubStreams.FindAll(s => !(s.Folder.SubStreamCount == 1 && s.Folder.Crc is not null));
                uint?[] crcs = ReadDigests(reader, unknown.Count);
                for (int i = 0; i < unknown.Count; i++)
                {
                    unknown[i].Crc = crcs[i];
                }
            }
            else
            {
                reader.Skip(reader.ReadNumber());
            }

            id = reader.ReadByte();
        }
    }

    private void ReadFilesInfo(Reader reader)
    {
        int count = reader.ReadCount(int.MaxValue, "files", 0);
        if (count > MaxFiles)
        {
            throw new CompressedDataException(ArchiveAnomalyKind.Truncated, $"the archive declares {count:N0} members, more than the {MaxFiles:N0} limit; it was not listed");
        }

        bool[]? emptyStream = null;
        bool[]? emptyFile = null;
        bool[]? anti = null;
        string[]? names = null;
        uint?[]? attributes = null;
        int emptyCount = 0;
        while (true)
        {
            byte id = reader.ReadByte();
            if (id == KEnd)
            {
                break;
            }

            long size = reader.ReadSize("property size");
            var property = reader.Slice(size);
            switch (id)
            {
                case KEmptyStream:
                    emptyStream = property.ReadBitVector(count);
                    emptyCount = Array.FindAll(emptyStream, b => b).Length;
                    break;
                case KEmptyFile:
                    emptyFile = property.ReadBitVector(emptyCount);
                    break;
                case KAnti:
                    anti = property.ReadBitVector(emptyCount);
                    break;
                case KName:
                    if (property.ReadByte() != 0)
                    {
                        throw Unsupported("file names stored outside the header (External)");
                    }

                    names = property.ReadNames(count);
                    break;
                case KWinAttributes:
                    bool[] defined = property.ReadDefinedVector(count);
                    if (property.ReadByte() != 0)
                    {
                        throw Unsupported("attributes stored outside the header (External)");
                    }

                    attributes = new uint?[count];
                    for (int i = 0; i < count; i++)
                    {
                        attributes[i] = defined[i] ? property.ReadUInt32() : null;
                    }

                    break;
                default:
                    // Times, start positions, padding: not needed to read members.
                    break;
            }
        }

        int emptyIndex = 0;
        for (int i = 0; i < count; i++)
        {
            bool hasStream = emptyStream is null || !emptyStream[i];
            bool isEmptyFile = false;
            bool isAnti = false;
            if (!hasStream)
            {
                isEmptyFile = emptyFile is not null && emptyFile[emptyIndex];
                isAnti = anti is not null && anti[emptyIndex];
                emptyIndex++;
            }

            // FILE_ATTRIBUTE_DIRECTORY, or an empty stream that is not an empty file.
            bool isDirectory = attributes?[i] is uint a ? (a & 0x10) != 0 : !hasStream && !isEmptyFile;
            Files.Add(new SevenZipFile(names?[i] ?? string.Empty, hasStream, isDirectory && !hasStream, isAnti, attributes?[i]));
        }
    }

    private static uint?[] ReadDigests(Reader reader, int count)
    {
        bool[] defined = reader.ReadDefinedVector(count);
        var crcs = new uint?[count];
        for (int i = 0; i < count; i++)
        {
            crcs[i] = defined[i] ? reader.ReadUInt32() : null;
        }

        return crcs;
    }

    private static void Expect(byte id, byte expected, string where)
    {
        if (id != expected)
        {
            throw Corrupt($"unexpected property {id} in {where} (expected {expected})");
        }
    }

    private static CompressedDataException Corrupt(string message) => new(ArchiveAnomalyKind.Corrupt, $"the 7z header is corrupt: {message}");

    private static CompressedDataException Unsupported(string what) => new(ArchiveAnomalyKind.UnsupportedMethod, $"the 7z header uses {what}, which this reader does not support");

    /// <summary>Bounds-checked reads over the header bytes.</summary>
    private sealed class Reader
    {
        private readonly byte[] _data;
        private readonly int _end;
        private int _position;

        public Reader(byte[] data)
            : this(data, 0, data.Length)
        {
        }

        private Reader(byte[] data, int start, int end)
        {
            _data = data;
            _position = start;
            _end = end;
        }

        public int Remaining => _end - _position;

        public byte ReadByte() => _position < _end ? _data[_position++] : throw Corrupt("it ends too early");

        /// <summary>7z's variable-length number: the first byte's leading one bits count the bytes that follow.</summary>
        public ulong ReadNumber()
        {
            byte first = ReadByte();
            byte mask = 0x80;
            ulong value = 0;
            for (int i = 0; i < 8; i++)
            {
                if ((first & mask) == 0)
                {
                    ulong high = (ulong)(first & (mask - 1));
                    return value | (high << (8 * i));
                }

                value |= (ulong)ReadByte() << (8 * i);
                mask >>= 1;
            }

            return value;
        }

        public long ReadSize(string what)
        {
            ulong value = ReadNumber();
            return value <= long.MaxValue ? (long)value : throw Corrupt($"a {what} is out of range");
        }

        /// <summary>A count, checked against <paramref name="max"/> and against the header bytes each item needs at least.</summary>
        public int ReadCount(int max, string what, int minBytesEach)
        {
            ulong value = ReadNumber();
            if (value > (ulong)max || (minBytesEach > 0 && value > (ulong)Remaining / (ulong)minBytesEach))
            {
                throw Corrupt($"{value:N0} {what} is more than the header can hold or the limit allows");
            }

            return (int)value;
        }

        public uint ReadUInt32()
        {
            if (Remaining < 4)
            {
                throw Corrupt("it ends too early");
            }

            uint value = (uint)(_data[_position] | (_data[_position + 1] << 8) | (_data[_position + 2] << 16) | (_data[_position + 3] << 24));
            _position += 4;
            return value;
        }

        public byte[] ReadBytes(int count)
        {
            if (count > Remaining)
            {
                throw Corrupt("it ends too early");
            }

            var bytes = new byte[count];
            Buffer.BlockCopy(_data, _position, bytes, 0, count);
            _position += count;
            return bytes;
        }

        public void Skip(ulong count)
        {
            if (count > (ulong)Remaining)
            {
                throw Corrupt("a property runs past the end of the header");
            }

            _position += (int)count;
        }

        /// <summary>The next <paramref name="size"/> bytes as their own reader; this one moves past them.</summary>
        public Reader Slice(long size)
        {
            if (size > Remaining)
            {
                throw Corrupt("a property runs past the end of the header");
            }

            var slice = new Reader(_data, _position, _position + (int)size);
            _position += (int)size;
            return slice;
        }

        public bool[] ReadBitVector(int count)
        {
            if ((count + 7) / 8 > Remaining)
            {
                throw Corrupt("a bit vector runs past the end of the header");
            }

            var bits = new bool[count];
            byte current = 0;
            for (int i = 0; i < count; i++)
            {
                if (i % 8 == 0)
                {
                    current = ReadByte();
                }

                bits[i] = (current & (0x80 >> (i % 8))) != 0;
            }

            return bits;
        }

        /// <summary>"All are defined" byte, else a bit vector.</summary>
        public bool[] ReadDefinedVector(int count)
        {
            if (ReadByte() == 0)
            {
                return ReadBitVector(count);
            }

            var all = new bool[count];
            for (int i = 0; i < count; i++)
            {
                all[i] = true;
            }

            return all;
        }

        /// <summary>UTF-16LE names, each ending in a NUL character.</summary>
        public string[] ReadNames(int count)
        {
            var names = new string[count];
            for (int i = 0; i < count; i++)
            {
                int start = _position;
                while (true)
                {
                    if (Remaining < 2)
                    {
                        throw Corrupt("a file name runs past the end of the header");
                    }

                    bool end = _data[_position] == 0 && _data[_position + 1] == 0;
                    _position += 2;
                    if (end)
                    {
                        break;
                    }
                }

                names[i] = Encoding.Unicode.GetString(_data, start, _position - 2 - start);
            }

            return names;
        }
    }
}

/// <summary>Where the pack streams are, the folders that decode them, and the sub-streams (members' data) in the folders.</summary>
internal sealed class SevenZipStreams
{
    /// <summary>Offset of the first pack stream, counted from the end of the 32-byte signature header.</summary>
    public long PackPosition { get; set; }

    public long[] PackSizes { get; set; } = Array.Empty<long>();

    public List<SevenZipFolder> Folders { get; } = new();

    /// <summary>Data streams in order; the n-th file with data owns the n-th sub-stream.</summary>
    public List<SevenZipSubStream> SubStreams { get; } = new();
}

/// <summary>One coder chain: coders, how their streams bind, which pack streams feed it, and its output sizes.</summary>
internal sealed class SevenZipFolder
{
    public List<SevenZipCoder> Coders { get; } = new();

    public List<(int In, int Out)> BindPairs { get; } = new();

    /// <summary>The coder input stream each of the folder's pack streams feeds.</summary>
    public int[] PackedStreams { get; set; } = Array.Empty<int>();

    public int FirstPackStream { get; set; }

    /// <summary>Size of every coder output stream.</summary>
    public long[] UnpackSizes { get; set; } = Array.Empty<long>();

    public uint? Crc { get; set; }

    public int SubStreamCount { get; set; } = 1;

    /// <summary>The output stream no bind pair consumes: the folder's data.</summary>
    public int MainOutput
    {
        get
        {
            for (int i = 0; i < UnpackSizes.Length; i++)
            {
                if (!BindPairs.Exists(p => p.Out == i))
                {
                    return i;
                }
            }

            return -1;
        }
    }

    public long UnpackSize => MainOutput is int main and >= 0 ? UnpackSizes[main] : 0;

    public bool IsEncrypted => Coders.Exists(c => c.Method == SevenZipCoder.Aes);
}

/// <summary>One coder: its method id, stream counts and properties.</summary>
internal sealed class SevenZipCoder
{
    public const ulong Copy = 0x00;
    public const ulong Delta = 0x03;
    public const ulong Lzma2 = 0x21;
    public const ulong Lzma = 0x030101;
    public const ulong Ppmd = 0x030401;
    public const ulong Deflate = 0x040108;
    public const ulong Deflate64 = 0x040109;
    public const ulong Bzip2 = 0x040202;
    public const ulong Zstd = 0x04F71101;
    public const ulong Aes = 0x06F10701;
    public const ulong BcjX86 = 0x03030103;

    public SevenZipCoder(byte[] id, int inStreams, int outStreams, byte[] properties)
    {
        IdBytes = id;
        InStreams = inStreams;
        OutStreams = outStreams;
        Properties = properties;
        ulong method = 0;
        foreach (byte b in id)
        {
            method = (method << 8) | b;
        }

        Method = id.Length <= 8 ? method : ulong.MaxValue;
    }

    public byte[] IdBytes { get; }

    public ulong Method { get; }

    public int InStreams { get; }

    public int OutStreams { get; }

    public byte[] Properties { get; }

    public string Name => Method switch
    {
        Copy => "Copy",
        Delta => "Delta",
        Lzma2 => "LZMA2",
        Lzma => "LZMA",
        Ppmd => "PPMd",
        Deflate => "Deflate",
        Deflate64 => "Deflate64",
        Bzip2 => "BZip2",
        Zstd => "Zstandard",
        Aes => "7zAES",
        0x0303011B => "BCJ2",
        BcjX86 => "BCJ (x86)",
        0x03030205 => "PPC",
        0x03030401 => "IA64",
        0x03030501 => "ARM",
        0x03030701 => "ARMT",
        0x03030805 => "SPARC",
        0x0A => "ARM64",
        0x0B => "RISCV",
        _ => "method " + BitConverter.ToString(IdBytes),
    };
}

/// <summary>One member's data inside a folder's output.</summary>
internal sealed class SevenZipSubStream
{
    public SevenZipSubStream(SevenZipFolder folder, long offset, long size, uint? crc)
    {
        Folder = folder;
        Offset = offset;
        Size = size;
        Crc = crc;
    }

    public SevenZipFolder Folder { get; }

    /// <summary>Where the data starts in the folder's output (what must be decoded and skipped first).</summary>
    public long Offset { get; }

    public long Size { get; }

    public uint? Crc { get; set; }
}

/// <summary>One entry of the file list.</summary>
internal sealed class SevenZipFile
{
    public SevenZipFile(string name, bool hasStream, bool isDirectory, bool isAnti, uint? attributes)
    {
        Name = name;
        HasStream = hasStream;
        IsDirectory = isDirectory;
        IsAnti = isAnti;
        Attributes = attributes;
    }

    public string Name { get; }

    public bool HasStream { get; }

    public bool IsDirectory { get; }

    public bool IsAnti { get; }

    public uint? Attributes { get; }
}
