using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Text;
using ModelSecurity.Formats.Zip;

namespace ModelSecurity.Tests;

/// <summary>
/// Writes zip archives byte by byte, including the hostile ones no normal writer makes: names that
/// differ between the local header and the central directory, flag bits, wrong CRCs and sizes,
/// duplicate and overlapping members, prepended and appended bytes, ZIP64 records, data descriptors,
/// and members whose data is a sparse hole (a multi-gigabyte file that costs nothing on disk).
/// Every value a header holds is computed from the member unless an override says otherwise.
/// </summary>
/// <example>
/// <code>
/// var zip = new ZipBuilder();
/// zip.Add("archive/data.pkl", pickle).LocalName = "archive/datap.kl";
/// zip.Add("archive/data/0", weights, ZipBuilder.Deflated).Crc = 0;
/// byte[] bytes = zip.Build();
/// </code>
/// </example>
internal sealed class ZipBuilder
{
    public const ushort Stored = 0;
    public const ushort Deflated = 8;

    private const uint LocalHeaderSignature = 0x04034b50;
    private const uint CentralHeaderSignature = 0x02014b50;
    private const uint EndSignature = 0x06054b50;
    private const uint Zip64LocatorSignature = 0x07064b50;
    private const uint Zip64EndSignature = 0x06064b50;
    private const uint DataDescriptorSignature = 0x08074b50;

    private readonly List<ZipBuilderMember> _members = new();

    /// <summary>Members in the order their local headers are written (and listed in the directory).</summary>
    public IReadOnlyList<ZipBuilderMember> Members => _members;

    /// <summary>Bytes written before the zip (a polyglot prefix or a self-extractor stub).</summary>
    public byte[] Prefix { get; set; } = Array.Empty<byte>();

    /// <summary>
    /// False (default): offsets count from the end of <see cref="Prefix"/>, as when a zip is appended to
    /// other data. True: offsets are absolute, as <c>zip -A</c> and self-extractors write them.
    /// </summary>
    public bool PrefixCountedInOffsets { get; set; }

    /// <summary>Align each member's data like PyTorch (64): a local "FB" extra field of 'Z' padding. 0 = no padding.</summary>
    public int DataAlignment { get; set; }

    /// <summary>Bytes between the last member and the central directory.</summary>
    public byte[] BeforeDirectory { get; set; } = Array.Empty<byte>();

    /// <summary>Bytes between the central directory and the end records.</summary>
    public byte[] AfterDirectory { get; set; } = Array.Empty<byte>();

    /// <summary>The end record's comment.</summary>
    public byte[] Comment { get; set; } = Array.Empty<byte>();

    /// <summary>Comment length written in the end record, when it should lie.</summary>
    public ushort? CommentLength { get; set; }

    /// <summary>Bytes after the end record and its comment.</summary>
    public byte[] Trailer { get; set; } = Array.Empty<byte>();

    /// <summary>False: no central directory entries are written (the end record then counts none unless overridden).</summary>
    public bool WriteCentralDirectory { get; set; } = true;

    /// <summary>False: no end records at all (a truncated zip).</summary>
    public bool WriteEndRecord { get; set; } = true;

    /// <summary>Write a ZIP64 end record and locator (also done automatically when counts or offsets need them).</summary>
    public bool Zip64 { get; set; }

    /// <summary>With ZIP64 end records: put 0xFFFF / 0xFFFFFFFF in the classic end record (true) or the real, truncated values.</summary>
    public bool SaturateEndRecord { get; set; } = true;

    /// <summary>Entry count written in the end records instead of the real one.</summary>
    public long? EntryCountOverride { get; set; }

    /// <summary>Central directory size written in the end records instead of the real one.</summary>
    public long? DirectorySizeOverride { get; set; }

    /// <summary>Central directory offset (relative to the archive start) written in the end records.</summary>
    public long? DirectoryOffsetOverride { get; set; }

    /// <summary>Offset of the ZIP64 end record written in the locator instead of the real one.</summary>
    public long? Zip64RecordOffsetOverride { get; set; }

    /// <summary>After <see cref="Build"/>: absolute offset of the central directory.</summary>
    public long DirectoryOffset { get; private set; }

    /// <summary>After <see cref="Build"/>: absolute offset of the classic end record.</summary>
    public long EndRecordOffset { get; private set; }

    /// <summary>After <see cref="Build"/>: absolute offset of the ZIP64 end record, or -1.</summary>
    public long Zip64RecordOffset { get; private set; } = -1;

    /// <summary>A zip of stored members, as a one-liner.</summary>
    public static byte[] StoredZip(params (string Name, byte[] Content)[] members)
    {
        var zip = new ZipBuilder();
        foreach ((string name, byte[] content) in members)
        {
            zip.Add(name, content);
        }

        return zip.Build();
    }

    /// <summary>Raw deflate (no zlib header), as zip stores it.</summary>
    public static byte[] Deflate(byte[] content, CompressionLevel level = CompressionLevel.Optimal)
    {
        using var buffer = new MemoryStream();
        using (var deflate = new DeflateStream(buffer, level, leaveOpen: true))
        {
            deflate.Write(content, 0, content.Length);
        }

        return buffer.ToArray();
    }

    public static void PatchUInt16(byte[] bytes, long offset, ushort value) =>
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(checked((int)offset)), value);

    public static void PatchUInt32(byte[] bytes, long offset, uint value) =>
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(checked((int)offset)), value);

    public ZipBuilderMember Add(string name, byte[] content, ushort method = Stored) =>
        Add(new ZipBuilderMember(name, content, method));

    public ZipBuilderMember Add(ZipBuilderMember member)
    {
        _members.Add(member);
        return member;
    }

    /// <summary>A directory entry ("name/", no data).</summary>
    public ZipBuilderMember AddDirectory(string name) =>
        Add(name.EndsWith('/') ? name : name + "/", Array.Empty<byte>());

    public byte[] Build()
    {
        using var buffer = new MemoryStream();
        WriteTo(buffer);
        return buffer.ToArray();
    }

    /// <summary>
    /// Writes the zip at the stream's current position. Members with <see cref="ZipBuilderMember.ZeroFill"/>
    /// are skipped over with a seek, so a <see cref="FileStream"/> gets a sparse hole there.
    /// </summary>
    public void WriteTo(Stream stream)
    {
        long origin = stream.Position;
        Write(stream, Prefix);
        long archiveStart = PrefixCountedInOffsets ? origin : origin + Prefix.Length;

        foreach (ZipBuilderMember member in _members)
        {
            if (member.SharesLocalHeaderOf is not null)
            {
                continue;
            }

            Write(stream, member.Gap);
            WriteLocal(stream, member);
        }

        Write(stream, BeforeDirectory);
        DirectoryOffset = stream.Position;
        int written = 0;
        if (WriteCentralDirectory)
        {
            foreach (ZipBuilderMember member in _members)
            {
                if (member.InCentralDirectory)
                {
                    WriteCentral(stream, member, archiveStart);
                    written++;
                }
            }
        }

        long directorySize = stream.Position - DirectoryOffset;
        Write(stream, AfterDirectory);
        if (!WriteEndRecord)
        {
            return;
        }

        long count = EntryCountOverride ?? written;
        long size = DirectorySizeOverride ?? directorySize;
        long offset = DirectoryOffsetOverride ?? DirectoryOffset - archiveStart;
        bool zip64 = Zip64 || count >= 0xFFFF || size >= uint.MaxValue || offset >= uint.MaxValue;
        Zip64RecordOffset = -1;
        if (zip64)
        {
            Zip64RecordOffset = stream.Position;
            var record = new byte[56];
            Span<byte> r = record;
            BinaryPrimitives.WriteUInt32LittleEndian(r, Zip64EndSignature);
            BinaryPrimitives.WriteUInt64LittleEndian(r[4..], 44);
            BinaryPrimitives.WriteUInt16LittleEndian(r[12..], 45);
            BinaryPrimitives.WriteUInt16LittleEndian(r[14..], 45);
            BinaryPrimitives.WriteUInt64LittleEndian(r[24..], (ulong)count);
            BinaryPrimitives.WriteUInt64LittleEndian(r[32..], (ulong)count);
            BinaryPrimitives.WriteUInt64LittleEndian(r[40..], (ulong)size);
            BinaryPrimitives.WriteUInt64LittleEndian(r[48..], (ulong)offset);
            Write(stream, record);

            var locator = new byte[20];
            BinaryPrimitives.WriteUInt32LittleEndian(locator, Zip64LocatorSignature);
            BinaryPrimitives.WriteUInt64LittleEndian(locator.AsSpan(8), (ulong)(Zip64RecordOffsetOverride ?? Zip64RecordOffset - archiveStart));
            BinaryPrimitives.WriteUInt32LittleEndian(locator.AsSpan(16), 1);
            Write(stream, locator);
        }

        EndRecordOffset = stream.Position;
        bool saturate = zip64 && SaturateEndRecord;
        var end = new byte[22];
        BinaryPrimitives.WriteUInt32LittleEndian(end, EndSignature);
        ushort count16 = saturate || count >= 0xFFFF ? (ushort)0xFFFF : (ushort)count;
        BinaryPrimitives.WriteUInt16LittleEndian(end.AsSpan(8), count16);
        BinaryPrimitives.WriteUInt16LittleEndian(end.AsSpan(10), count16);
        BinaryPrimitives.WriteUInt32LittleEndian(end.AsSpan(12), Saturate32(size, saturate));
        BinaryPrimitives.WriteUInt32LittleEndian(end.AsSpan(16), Saturate32(offset, saturate));
        BinaryPrimitives.WriteUInt16LittleEndian(end.AsSpan(20), CommentLength ?? (ushort)Comment.Length);
        Write(stream, end);
        Write(stream, Comment);
        Write(stream, Trailer);
    }

    private void WriteLocal(Stream stream, ZipBuilderMember member)
    {
        member.LocalHeaderOffset = stream.Position;
        byte[] data = member.Data();
        long compressed = member.ZeroFill > 0 ? member.ZeroFill : data.Length;
        long uncompressed = member.ContentLength;
        bool descriptor = member.DataDescriptor;
        bool zip64 = member.Zip64 || compressed >= uint.MaxValue || uncompressed >= uint.MaxValue;

        long localCompressed = member.LocalCompressedSize ?? member.CompressedSize ?? (descriptor ? 0 : compressed);
        long localUncompressed = member.LocalUncompressedSize ?? member.UncompressedSize ?? (descriptor ? 0 : uncompressed);
        uint localCrc = member.LocalCrc ?? member.Crc ?? (descriptor ? 0 : member.ComputeCrc());

        byte[] name = member.LocalNameBytes ?? (member.LocalName is null ? member.CentralNameBytes() : Encoding.UTF8.GetBytes(member.LocalName));
        using var extra = new MemoryStream();
        if (zip64)
        {
            Span<byte> field = stackalloc byte[20];
            BinaryPrimitives.WriteUInt16LittleEndian(field, 0x0001);
            BinaryPrimitives.WriteUInt16LittleEndian(field[2..], 16);
            BinaryPrimitives.WriteUInt64LittleEndian(field[4..], (ulong)localUncompressed);
            BinaryPrimitives.WriteUInt64LittleEndian(field[12..], (ulong)localCompressed);
            extra.Write(field);
        }

        extra.Write(member.LocalExtra);
        if (DataAlignment > 0)
        {
            // PyTorch's writer pads with an "FB" field so that each record's data starts on a 64-byte boundary.
            long start = stream.Position + 30 + name.Length + extra.Length + 4;
            int padding = (int)((DataAlignment - (start % DataAlignment)) % DataAlignment);
            extra.Write(new byte[] { (byte)'F', (byte)'B', (byte)padding, (byte)(padding >> 8) });
            extra.Write(Encoding.ASCII.GetBytes(new string('Z', padding)));
        }

        var header = new byte[30];
        BinaryPrimitives.WriteUInt32LittleEndian(header, LocalHeaderSignature);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(4), zip64 ? (ushort)45 : (ushort)20);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(6), member.LocalFlags ?? member.EffectiveFlags);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), member.LocalMethod ?? member.Method);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(10), member.Time);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(12), member.Date);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(14), localCrc);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(18), Saturate32(localCompressed, zip64));
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(22), Saturate32(localUncompressed, zip64));
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(26), (ushort)name.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(28), (ushort)extra.Length);
        Write(stream, header);
        Write(stream, name);
        Write(stream, extra.ToArray());

        member.DataOffset = stream.Position;
        if (member.ZeroFill > 0)
        {
            stream.Seek(member.ZeroFill, SeekOrigin.Current);
            if (stream.Position > stream.Length)
            {
                stream.SetLength(stream.Position);
            }
        }
        else
        {
            Write(stream, data);
        }

        if (descriptor)
        {
            if (member.DescriptorBytes is not null)
            {
                Write(stream, member.DescriptorBytes);
            }
            else
            {
                using var d = new MemoryStream();
                Span<byte> value = stackalloc byte[8];
                if (member.DescriptorSignature)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(value, DataDescriptorSignature);
                    d.Write(value[..4]);
                }

                BinaryPrimitives.WriteUInt32LittleEndian(value, member.Crc ?? member.ComputeCrc());
                d.Write(value[..4]);
                int width = zip64 ? 8 : 4;
                foreach (long size in new[] { member.CompressedSize ?? compressed, member.UncompressedSize ?? uncompressed })
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(value, (ulong)size);
                    d.Write(value[..width]);
                }

                Write(stream, d.ToArray());
            }
        }
    }

    private static void WriteCentral(Stream stream, ZipBuilderMember member, long archiveStart)
    {
        ZipBuilderMember owner = member.SharesLocalHeaderOf ?? member;
        member.CentralHeaderOffset = stream.Position;
        long compressed = member.CompressedSize ?? (owner.ZeroFill > 0 ? owner.ZeroFill : owner.Data().Length);
        long uncompressed = member.UncompressedSize ?? owner.ContentLength;
        long offset = member.LocalHeaderOffsetOverride ?? owner.LocalHeaderOffset - archiveStart;
        bool zip64 = member.Zip64 || compressed >= uint.MaxValue || uncompressed >= uint.MaxValue || offset >= uint.MaxValue;

        byte[] name = member.CentralNameBytes();
        using var extra = new MemoryStream();
        if (zip64)
        {
            Span<byte> field = stackalloc byte[28];
            BinaryPrimitives.WriteUInt16LittleEndian(field, 0x0001);
            BinaryPrimitives.WriteUInt16LittleEndian(field[2..], 24);
            BinaryPrimitives.WriteUInt64LittleEndian(field[4..], (ulong)uncompressed);
            BinaryPrimitives.WriteUInt64LittleEndian(field[12..], (ulong)compressed);
            BinaryPrimitives.WriteUInt64LittleEndian(field[20..], (ulong)offset);
            extra.Write(field);
        }

        extra.Write(member.CentralExtra);

        var header = new byte[46];
        BinaryPrimitives.WriteUInt32LittleEndian(header, CentralHeaderSignature);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(4), member.VersionMadeBy);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(6), zip64 ? (ushort)45 : (ushort)20);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), member.EffectiveFlags);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(10), member.Method);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(12), member.Time);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(14), member.Date);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(16), member.Crc ?? owner.ComputeCrc());
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(20), Saturate32(compressed, zip64));
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(24), Saturate32(uncompressed, zip64));
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(28), (ushort)name.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(30), (ushort)extra.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(32), (ushort)member.Comment.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(38), member.ExternalAttributes);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(42), Saturate32(offset, zip64));
        Write(stream, header);
        Write(stream, name);
        Write(stream, extra.ToArray());
        Write(stream, member.Comment);
    }

    private static uint Saturate32(long value, bool saturate) =>
        saturate || value >= uint.MaxValue ? uint.MaxValue : (uint)value;

    private static void Write(Stream stream, byte[] bytes) => stream.Write(bytes, 0, bytes.Length);
}

/// <summary>
/// One member for <see cref="ZipBuilder"/>: its content and every header field a test may want to falsify.
/// Null overrides mean "the true value".
/// </summary>
internal sealed class ZipBuilderMember
{
    public ZipBuilderMember(string name, byte[] content, ushort method = ZipBuilder.Stored)
    {
        Name = name;
        Content = content;
        Method = method;
    }

    /// <summary>The name in the central directory (and the local header unless <see cref="LocalName"/> is set).</summary>
    public string Name { get; set; }

    /// <summary>Raw central-directory name bytes instead of <see cref="Name"/> (for non-UTF-8 names).</summary>
    public byte[]? NameBytes { get; set; }

    /// <summary>A different name in the local header (CVE-2025-1944).</summary>
    public string? LocalName { get; set; }

    /// <summary>Raw local-header name bytes, instead of <see cref="LocalName"/>.</summary>
    public byte[]? LocalNameBytes { get; set; }

    /// <summary>The uncompressed content.</summary>
    public byte[] Content { get; set; }

    /// <summary>
    /// A stored member of this many zero bytes that are never written: the builder seeks over them,
    /// leaving a sparse hole in a file. The CRC is then <see cref="Crc"/> or 0 (not computed).
    /// </summary>
    public long ZeroFill { get; set; }

    /// <summary>Compression method written in both headers (0 stored, 8 deflate; others store <see cref="RawData"/> or the content).</summary>
    public ushort Method { get; set; }

    /// <summary>A different method in the local header.</summary>
    public ushort? LocalMethod { get; set; }

    /// <summary>Deflate level for method 8.</summary>
    public CompressionLevel Level { get; set; } = CompressionLevel.Optimal;

    /// <summary>The data bytes written, instead of the stored or deflated content (sizes follow it unless overridden).</summary>
    public byte[]? RawData { get; set; }

    /// <summary>General-purpose flags (see <see cref="EffectiveFlags"/> for the bits added automatically).</summary>
    public ushort Flags { get; set; }

    /// <summary>Different flags in the local header.</summary>
    public ushort? LocalFlags { get; set; }

    /// <summary>CRC-32 written in the directory (and local header, descriptor) instead of the true one.</summary>
    public uint? Crc { get; set; }

    /// <summary>A different CRC-32 in the local header.</summary>
    public uint? LocalCrc { get; set; }

    /// <summary>Compressed size written instead of the true one (local header too, unless overridden there).</summary>
    public long? CompressedSize { get; set; }

    /// <summary>Uncompressed size written instead of the true one (local header too, unless overridden there).</summary>
    public long? UncompressedSize { get; set; }

    public long? LocalCompressedSize { get; set; }

    public long? LocalUncompressedSize { get; set; }

    /// <summary>Set flag bit 3: zero CRC and sizes in the local header, a data descriptor after the data.</summary>
    public bool DataDescriptor { get; set; }

    /// <summary>Start the data descriptor with its optional signature.</summary>
    public bool DescriptorSignature { get; set; } = true;

    /// <summary>The data descriptor bytes written, instead of the computed ones.</summary>
    public byte[]? DescriptorBytes { get; set; }

    /// <summary>Write ZIP64 extra fields (and saturated 32-bit fields) even when the values are small.</summary>
    public bool Zip64 { get; set; }

    public byte[] LocalExtra { get; set; } = Array.Empty<byte>();

    public byte[] CentralExtra { get; set; } = Array.Empty<byte>();

    public byte[] Comment { get; set; } = Array.Empty<byte>();

    /// <summary>"Version made by": high byte 3 = Unix (then <see cref="ExternalAttributes"/> holds the mode in its high 16 bits).</summary>
    public ushort VersionMadeBy { get; set; } = 20;

    public uint ExternalAttributes { get; set; }

    /// <summary>DOS time and date (default 1980-01-01 00:00).</summary>
    public ushort Time { get; set; }

    public ushort Date { get; set; } = 0x21;

    /// <summary>Bytes written before this member's local header (hidden data between members).</summary>
    public byte[] Gap { get; set; } = Array.Empty<byte>();

    /// <summary>False: the local header and data are written but the directory does not list the member.</summary>
    public bool InCentralDirectory { get; set; } = true;

    /// <summary>Write no local header or data: the directory entry points at this other member's.</summary>
    public ZipBuilderMember? SharesLocalHeaderOf { get; set; }

    /// <summary>The local header offset (relative to the archive start) written in the directory.</summary>
    public long? LocalHeaderOffsetOverride { get; set; }

    /// <summary>After building: absolute offset of the local header.</summary>
    public long LocalHeaderOffset { get; internal set; }

    /// <summary>After building: absolute offset of the data.</summary>
    public long DataOffset { get; internal set; }

    /// <summary>After building: absolute offset of the central-directory entry.</summary>
    public long CentralHeaderOffset { get; internal set; }

    internal long ContentLength => ZeroFill > 0 ? ZeroFill : Content.Length;

    /// <summary>The flags written: <see cref="Flags"/>, plus bit 3 for a data descriptor and bit 11 for a non-ASCII <see cref="Name"/>.</summary>
    internal ushort EffectiveFlags
    {
        get
        {
            int flags = Flags;
            flags |= DataDescriptor ? ZipEntry.DataDescriptorFlag : 0;
            flags |= NameBytes is null && !Ascii.IsValid(Name) ? ZipEntry.Utf8NameFlag : 0;
            return (ushort)flags;
        }
    }

    internal byte[] CentralNameBytes() => NameBytes ?? Encoding.UTF8.GetBytes(Name);

    internal uint ComputeCrc() => ZeroFill > 0 ? 0 : Crc32.Compute(Content);

    internal byte[] Data()
    {
        if (RawData is not null)
        {
            return RawData;
        }

        return Method == ZipBuilder.Deflated ? ZipBuilder.Deflate(Content, Level) : Content;
    }
}

/// <summary>
/// A seekable in-memory stream that stores only the pages written to, like a sparse file: seeking far
/// past the end and writing there costs one page, and unwritten bytes read as zeros. Lets
/// <see cref="ZipBuilder.WriteTo"/> make a multi-gigabyte archive in a few kilobytes, on any OS.
/// </summary>
internal sealed class SparseMemoryStream : Stream
{
    private const int PageSize = 64 * 1024;

    private readonly Dictionary<long, byte[]> _pages = new();
    private long _length;
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => true;

    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => _position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    /// <summary>Bytes of memory the written pages take.</summary>
    public long AllocatedBytes => (long)_pages.Count * PageSize;

    public override int Read(byte[] buffer, int offset, int count)
    {
        int total = (int)Math.Max(0, Math.Min(count, _length - _position));
        for (int done = 0; done < total;)
        {
            long page = (_position + done) / PageSize;
            int within = (int)((_position + done) % PageSize);
            int n = Math.Min(total - done, PageSize - within);
            if (_pages.TryGetValue(page, out byte[]? bytes))
            {
                Buffer.BlockCopy(bytes, within, buffer, offset + done, n);
            }
            else
            {
                Array.Clear(buffer, offset + done, n);
            }

            done += n;
        }

        _position += total;
        return total;
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        for (int done = 0; done < count;)
        {
            long page = (_position + done) / PageSize;
            int within = (int)((_position + done) % PageSize);
            int n = Math.Min(count - done, PageSize - within);
            if (!_pages.TryGetValue(page, out byte[]? bytes))
            {
                bytes = new byte[PageSize];
                _pages[page] = bytes;
            }

            Buffer.BlockCopy(buffer, offset + done, bytes, within, n);
            done += n;
        }

        _position += count;
        _length = Math.Max(_length, _position);
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => _length + offset,
        };
        return _position;
    }

    public override void SetLength(long value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        _length = value;
        _position = Math.Min(_position, value);
    }

    public override void Flush()
    {
    }
}
