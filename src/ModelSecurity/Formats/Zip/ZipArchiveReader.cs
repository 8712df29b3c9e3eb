using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Text;
using System.Threading;
using ModelSecurity.Formats.Archive;

namespace ModelSecurity.Formats.Zip;

/// <summary>
/// Reads a zip member by member the way the loaders do, without trusting any length: the central
/// directory is authoritative (PyTorch's miniz reader uses it, names included), each member's data
/// starts where its own local header says (offset + 30 + name + extra), and everything a strict reader
/// would object to is reported as an <see cref="ArchiveAnomaly"/> instead of thrown.
/// </summary>
/// <remarks>
/// Opening reads the end records, the central directory (at most <see cref="MaxDirectoryBytes"/>) and
/// each local header, never member data, so a multi-gigabyte checkpoint opens after a few kilobytes.
/// Member reads are bounded by the caller's limit and by a compression-bomb ratio.
/// Anomalies found while opening are in <see cref="Anomalies"/>; the reads add only what reading
/// itself finds (CRC, deflate errors, bombs, unsupported methods), so the two never repeat each other.
/// </remarks>
internal sealed class ZipArchiveReader
{
    /// <summary>Most members listed (and local headers inspected).</summary>
    public const int MaxEntries = 100_000;

    /// <summary>Most central-directory bytes read.</summary>
    public const int MaxDirectoryBytes = 64 * 1024 * 1024;

    /// <summary>Anomalies of one kind listed individually; the rest are counted in one summary.</summary>
    public const int MaxAnomaliesPerKind = 20;

    /// <summary>Inflated bytes after which the compression ratio is checked against <see cref="MaxRatio"/>.</summary>
    public const int BombCheckBytes = 1024 * 1024;

    /// <summary>
    /// Output-to-input ratio past which a stream is treated as a bomb. Deflate cannot exceed about
    /// 1032:1 (all-zero data reaches it), so this only catches what deflate cannot produce; the
    /// absolute output caps are what stop real bombs.
    /// </summary>
    public const int MaxRatio = 1100;

    private const uint LocalHeaderSignature = 0x04034b50;
    private const uint CentralHeaderSignature = 0x02014b50;
    private const uint EndSignature = 0x06054b50;
    private const uint Zip64LocatorSignature = 0x07064b50;
    private const uint Zip64EndSignature = 0x06064b50;
    private const uint DataDescriptorSignature = 0x08074b50;
    private const int LocalHeaderSize = 30;
    private const int CentralHeaderSize = 46;
    private const int EndSize = 22;
    private const int Zip64LocatorSize = 20;
    private const int Zip64EndSize = 56;
    private const int MaxCommentLength = 0xFFFF;
    private const int MaxArrayLength = 0x7FFFFFC7;
    private const int ReadChunk = 1024 * 1024;
    private const ushort MaskedHeadersFlag = 0x2000;

    // The upper half of code page 437, which zip names use unless flag bit 11 says UTF-8 (as CPython decodes them).
    private const string Cp437High =
        "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐" +
        "└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00A0";

    private readonly ModelFileSource _source;
    private readonly List<ZipEntry> _entries = new();
    private readonly AnomalyLog _log = new();

    // Central directory and end records, for overlap and coverage checks.
    private readonly List<Extent> _records = new();

    // False when a limit cut the listing short: bytes outside the listed members are then expected.
    private bool _listingComplete = true;

    private ZipArchiveReader(ModelFileSource source)
    {
        _source = source;
    }

    /// <summary>Members in central-directory order (local-header order when there is no usable directory).</summary>
    public IReadOnlyList<ZipEntry> Entries => _entries;

    /// <summary>Structural oddities found while opening.</summary>
    public IReadOnlyList<ArchiveAnomaly> Anomalies { get; private set; } = Array.Empty<ArchiveAnomaly>();

    /// <summary>True when <see cref="Entries"/> came from the central directory.</summary>
    public bool FromCentralDirectory { get; private set; }

    /// <summary>Bytes before the zip that its offsets do not count (data prepended to a finished zip).</summary>
    public long ArchiveStart { get; private set; }

    /// <summary>Opens the zip, or returns null when the bytes hold no zip structure (no end record, no local header at 0).</summary>
    public static ZipArchiveReader? Open(ModelFileSource source, CancellationToken cancellationToken)
    {
        var reader = new ZipArchiveReader(source);
        return reader.Load(cancellationToken) ? reader : null;
    }

    /// <summary>
    /// The first <paramref name="count"/> bytes of the member's content (fewer when it is shorter),
    /// reading only as much data as that needs. Empty when the content cannot be read.
    /// </summary>
    public byte[] ReadHead(ZipEntry entry, int count, ICollection<ArchiveAnomaly> anomalies) =>
        Read(entry, count, whole: false, anomalies, CancellationToken.None).Data;

    /// <summary>
    /// The member's content, at most <paramref name="maxBytes"/> of it. The CRC-32 is checked when the
    /// whole member was read; a mismatch is reported and the data still returned, as PyTorch ignores it.
    /// </summary>
    public ZipMemberData ReadAll(ZipEntry entry, long maxBytes, ICollection<ArchiveAnomaly> anomalies, CancellationToken cancellationToken) =>
        Read(entry, (int)Math.Max(0, Math.Min(maxBytes, MaxArrayLength)), whole: true, anomalies, cancellationToken);

    /// <summary>Decodes a zip name: UTF-8 when flag bit 11 is set, else code page 437.</summary>
    internal static string DecodeName(ReadOnlySpan<byte> bytes, ushort flags)
    {
        if ((flags & ZipEntry.Utf8NameFlag) != 0)
        {
            return Encoding.UTF8.GetString(bytes.ToArray());
        }

        char[] chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++)
        {
            byte b = bytes[i];
            chars[i] = b < 0x80 ? (char)b : Cp437High[b - 0x80];
        }

        return new string(chars);
    }

    private bool Load(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        EndRecord? end = FindEndRecord();
        string? unusable = null;
        List<CentralRecord>? records = end is null ? null : ReadCentralDirectory(end, cancellationToken, out unusable);
        if (records is not null)
        {
            FromCentralDirectory = true;
            InspectLocalHeaders(records, cancellationToken);
        }
        else if (ReadU32(0) == LocalHeaderSignature)
        {
            string why = unusable ?? "there is no end of central directory record (a truncated file?)";
            _log.Add(
                unusable is null ? ArchiveAnomalyKind.Truncated : ArchiveAnomalyKind.Corrupt,
                null,
                why + "; the members were listed by walking the local headers, and PyTorch's reader would refuse the file");
            WalkLocalHeaders(cancellationToken);
        }
        else if (end is null)
        {
            return false;
        }
        else
        {
            _log.Add(ArchiveAnomalyKind.Corrupt, null, unusable ?? "the central directory is unusable");
        }

        List<Extent> members = CheckMembers(cancellationToken);
        CheckNames();
        CheckOverlaps(members);
        CheckCoverage(members);
        Anomalies = _log.Complete();
        return true;
    }

    private EndRecord? FindEndRecord()
    {
        long length = _source.Length;
        int tailLength = (int)Math.Min(length, SniffContext.TailSize);
        long tailOffset = length - tailLength;
        byte[] tail = _source.ReadBlock(tailOffset, tailLength);

        // Like miniz: the last signature with room for a whole record after it, at most 64 KiB + 22 from
        // the end. The comment length is not checked (CPython's zipfile does not either).
        int lowest = Math.Max(0, tail.Length - (MaxCommentLength + EndSize));
        int found = -1;
        for (int i = tail.Length - EndSize; i >= lowest; i--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(i)) == EndSignature)
            {
                found = i;
                break;
            }
        }

        if (found < 0)
        {
            return null;
        }

        long offset = tailOffset + found;
        ReadOnlySpan<byte> record = tail.AsSpan(found, EndSize);
        var end = new EndRecord
        {
            Offset = offset,
            EntryCount = U16(record, 10),
            DirectorySize = U32(record, 12),
            DirectoryOffset = U32(record, 16),
            DirectoryEnd = offset,
        };

        // An earlier record whose comment reaches exactly the end of the file is what a reader that checks
        // comment lengths (or scans forwards) would pick: two readers, two archives.
        for (int i = found - 1; i >= lowest; i--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(i)) == EndSignature
                && i + EndSize + U16(tail, i + 20) == tail.Length)
            {
                _log.Add(
                    ArchiveAnomalyKind.Other,
                    null,
                    $"a second end of central directory record at offset {tailOffset + i:N0} has a comment reaching the end of the file; loaders use the last one, at offset {offset:N0}");
                break;
            }
        }

        int commentLength = U16(record, 20);
        long after = length - offset - EndSize;
        if (commentLength > after)
        {
            _log.Add(ArchiveAnomalyKind.Other, null, $"the end record's comment length is {commentLength:N0} bytes but only {after:N0} follow it");
        }

        _records.Add(new Extent(offset, offset + EndSize + Math.Min(commentLength, after), -1));

        int disk = U16(record, 4);
        int directoryDisk = U16(record, 6);
        int entriesOnDisk = U16(record, 8);
        if ((disk | directoryDisk) != 0 || entriesOnDisk != end.EntryCount)
        {
            _log.Add(
                ArchiveAnomalyKind.Other,
                null,
                $"the end record describes a split archive (disk {disk}, directory on disk {directoryDisk}, {entriesOnDisk:N0} of {end.EntryCount:N0} entries on this disk); miniz refuses split archives");
        }

        ReadZip64End(end, tail, found, tailOffset);
        return end;
    }

    private void ReadZip64End(EndRecord end, byte[] tail, int found, long tailOffset)
    {
        if (end.Offset < Zip64LocatorSize)
        {
            return;
        }

        long locatorOffset = end.Offset - Zip64LocatorSize;
        byte[] locator = found >= Zip64LocatorSize
            ? tail.AsSpan(found - Zip64LocatorSize, Zip64LocatorSize).ToArray()
            : _source.ReadBlock(locatorOffset, Zip64LocatorSize);
        if (locator.Length < Zip64LocatorSize || U32(locator, 0) != Zip64LocatorSignature)
        {
            return;
        }

        _records.Add(new Extent(locatorOffset, end.Offset, -1));

        // miniz follows the locator's offset; CPython looks right before the locator. Either works for
        // a normal zip, and only the second finds the record when data was prepended.
        long pointer = U64(locator, 8);
        long recordOffset = -1;
        byte[] record = Array.Empty<byte>();
        foreach (long candidate in new[] { pointer, locatorOffset - Zip64EndSize })
        {
            if (candidate >= 0 && candidate < tailOffset + tail.Length)
            {
                record = _source.ReadBlock(candidate, Zip64EndSize);
                if (record.Length == Zip64EndSize && U32(record, 0) == Zip64EndSignature)
                {
                    recordOffset = candidate;
                    break;
                }
            }
        }

        if (recordOffset < 0)
        {
            _log.Add(ArchiveAnomalyKind.Corrupt, null, $"the ZIP64 locator points at offset {pointer:N0}, where there is no ZIP64 end record");
            return;
        }

        // The record's own size field could claim the whole file; it cannot reach past the locator.
        long declaredEnd = SaturatingAdd(recordOffset + 12, Math.Max(Zip64EndSize - 12, U64(record, 4)));
        long limit = recordOffset < locatorOffset ? locatorOffset : recordOffset + Zip64EndSize;
        _records.Add(new Extent(recordOffset, Math.Min(declaredEnd, limit), -1));

        long count = U64(record, 32);
        long size = U64(record, 40);
        long offset = U64(record, 48);

        // Both loaders take the ZIP64 values; a reader that uses them only when the 32-bit fields are
        // saturated (as .NET's did) sees another directory.
        var disagreements = new List<string>();
        if (end.EntryCount != 0xFFFF && end.EntryCount != count)
        {
            disagreements.Add($"{end.EntryCount:N0} entries against {count:N0}");
        }

        if (end.DirectorySize != uint.MaxValue && end.DirectorySize != size)
        {
            disagreements.Add($"a directory of {end.DirectorySize:N0} bytes against {size:N0}");
        }

        if (end.DirectoryOffset != uint.MaxValue && end.DirectoryOffset != offset)
        {
            disagreements.Add($"a directory at {end.DirectoryOffset:N0} against {offset:N0}");
        }

        if (disagreements.Count > 0)
        {
            _log.Add(
                ArchiveAnomalyKind.Other,
                null,
                "the end record and the ZIP64 end record disagree (" + string.Join(", ", disagreements) + "); the ZIP64 values were used, as miniz and CPython do");
        }

        end.EntryCount = count;
        end.DirectorySize = size;
        end.DirectoryOffset = offset;
        end.DirectoryEnd = recordOffset;
    }

    private List<CentralRecord>? ReadCentralDirectory(EndRecord end, CancellationToken cancellationToken, out string? unusable)
    {
        unusable = null;
        long length = _source.Length;
        long size = Math.Min(end.DirectorySize, length);
        long offset = Math.Min(end.DirectoryOffset, length);

        // Data prepended to a finished zip shifts every offset by the same amount: the directory ends where
        // the end records start, so the shift is what is left over (CPython's rule). Zips whose offsets
        // already count the prefix (zip -A, self-extractors) give no shift.
        long shift = end.DirectoryEnd - size - offset;
        long directoryStart = -1;
        foreach (long candidate in shift > 0 ? new[] { shift, 0L } : new[] { 0L })
        {
            long at = candidate + offset;
            if (size == 0 || ReadU32(at) == CentralHeaderSignature)
            {
                ArchiveStart = candidate;
                directoryStart = at;
                break;
            }
        }

        if (directoryStart < 0)
        {
            unusable = $"the end record puts the central directory at offset {offset:N0}, where there is none";
            return null;
        }

        long available = Math.Max(0, length - directoryStart);
        if (end.DirectorySize > available)
        {
            _log.Add(ArchiveAnomalyKind.Corrupt, null, $"the central directory claims {end.DirectorySize:N0} bytes but the file has {available:N0} after offset {directoryStart:N0}");
        }

        long toRead = Math.Min(size, available);
        if (toRead > MaxDirectoryBytes)
        {
            _log.Add(ArchiveAnomalyKind.Truncated, null, $"the central directory is {toRead:N0} bytes, over the {MaxDirectoryBytes:N0}-byte limit: only its beginning was read");
            toRead = MaxDirectoryBytes;
            _listingComplete = false;
        }

        byte[] directory = _source.ReadBlock(directoryStart, (int)toRead);
        var records = new List<CentralRecord>();
        int pos = 0;
        bool atLimit = false;
        while (pos + CentralHeaderSize <= directory.Length && U32(directory, pos) == CentralHeaderSignature)
        {
            if (records.Count >= MaxEntries)
            {
                atLimit = true;
                break;
            }

            cancellationToken.ThrowIfCancellationRequested();
            ReadOnlySpan<byte> header = directory.AsSpan(pos);
            int nameLength = U16(header, 28);
            int extraLength = U16(header, 30);
            int commentLength = U16(header, 32);
            if (CentralHeaderSize + nameLength > header.Length)
            {
                _log.Add(ArchiveAnomalyKind.Truncated, null, $"central directory entry {records.Count:N0} has a name running past the end of the directory");
                break;
            }

            ushort flags = U16(header, 8);
            byte[] rawName = header.Slice(CentralHeaderSize, nameLength).ToArray();
            string name = DecodeName(rawName, flags);
            long compressed = U32(header, 20);
            long uncompressed = U32(header, 24);
            long localOffset = U32(header, 42);
            if (uncompressed == uint.MaxValue || compressed == uint.MaxValue || localOffset == uint.MaxValue)
            {
                int extraStart = CentralHeaderSize + nameLength;
                ReadOnlySpan<byte> extra = header.Slice(extraStart, Math.Min(extraLength, header.Length - extraStart));
                ApplyZip64Extra(extra, name, ref uncompressed, ref compressed, ref localOffset);
            }

            var record = new CentralRecord
            {
                Name = name,
                RawName = rawName,
                VersionMadeBy = U16(header, 4),
                Flags = flags,
                Method = U16(header, 10),
                Crc32 = U32(header, 16),
                CompressedSize = compressed,
                UncompressedSize = uncompressed,
                ExternalAttributes = U32(header, 38),
                LocalHeaderOffset = SaturatingAdd(ArchiveStart, localOffset),
            };
            records.Add(record);

            int total = CentralHeaderSize + nameLength + extraLength + commentLength;
            if (total > header.Length)
            {
                _log.Add(ArchiveAnomalyKind.Corrupt, record.Name, "the entry's extra field or comment runs past the end of the central directory (miniz refuses the archive)");
                pos = directory.Length;
                break;
            }

            pos += total;
        }

        _records.Add(new Extent(directoryStart, directoryStart + pos, -1));
        if (records.Count == 0 && end.EntryCount > 0)
        {
            unusable = $"the central directory at offset {directoryStart:N0} holds no readable entry although the end record counts {end.EntryCount:N0}";
            return null;
        }

        if (atLimit)
        {
            _log.Add(ArchiveAnomalyKind.Truncated, null, $"the central directory holds more than {MaxEntries:N0} entries: only the first {MaxEntries:N0} are listed");
            _listingComplete = false;
        }
        else if (records.Count < end.EntryCount)
        {
            _log.Add(ArchiveAnomalyKind.Truncated, null, $"the end record counts {end.EntryCount:N0} entries but only {records.Count:N0} could be read from the central directory");
        }
        else if (records.Count > end.EntryCount)
        {
            _log.Add(
                ArchiveAnomalyKind.Other,
                null,
                $"the central directory holds {records.Count:N0} entries but the end record counts {end.EntryCount:N0}: miniz (PyTorch) lists only the first {end.EntryCount:N0}, CPython's zipfile all of them");
        }

        return records;
    }

    private void InspectLocalHeaders(List<CentralRecord> records, CancellationToken cancellationToken)
    {
        long length = _source.Length;
        foreach (CentralRecord record in records)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long offset = record.LocalHeaderOffset;

            // One read for the fixed header and the name it should carry.
            byte[] head = _source.ReadBlock(offset, LocalHeaderSize + record.RawName.Length);
            if (head.Length < LocalHeaderSize || U32(head, 0) != LocalHeaderSignature)
            {
                string where = offset >= length ? $"offset {offset:N0}, past the end of the file" : $"offset {offset:N0}";
                _log.Add(ArchiveAnomalyKind.LocalHeaderMissing, record.Name, $"there is no local header at {where}");
                AddEntry(record.Name, record.RawName, record, record.Flags, dataOffset: -1, sizesKnown: true);
                continue;
            }

            var local = LocalHeader.Parse(head);
            byte[] localName = local.NameLength <= head.Length - LocalHeaderSize
                ? head.AsSpan(LocalHeaderSize, local.NameLength).ToArray()
                : _source.ReadBlock(offset + LocalHeaderSize, local.NameLength);
            if (!localName.AsSpan().SequenceEqual(record.RawName))
            {
                _log.Add(
                    ArchiveAnomalyKind.LocalNameMismatch,
                    record.Name,
                    $"the local header at offset {offset:N0} names the member '{DecodeName(localName, local.Flags)}'; PyTorch uses the central directory's name, CPython's zipfile refuses");
            }

            if (local.Method != record.Method)
            {
                _log.Add(
                    ArchiveAnomalyKind.Other,
                    record.Name,
                    $"the local header says compression method {MethodName(local.Method)}, the central directory {MethodName(record.Method)} (loaders use the directory's)");
            }

            if ((local.Flags & ZipEntry.DataDescriptorFlag) == 0)
            {
                CompareLocalSizes(record, local, offset);
            }

            long dataOffset = offset + LocalHeaderSize + local.NameLength + local.ExtraLength;
            AddEntry(record.Name, record.RawName, record, local.Flags, dataOffset, sizesKnown: true);
        }
    }

    private void CompareLocalSizes(CentralRecord record, LocalHeader local, long offset)
    {
        long compressed = local.CompressedSize;
        long uncompressed = local.UncompressedSize;
        if (compressed == uint.MaxValue || uncompressed == uint.MaxValue)
        {
            byte[] extra = _source.ReadBlock(offset + LocalHeaderSize + local.NameLength, local.ExtraLength);
            long unused = 0;
            ApplyZip64Extra(extra, record.Name, ref uncompressed, ref compressed, ref unused);
        }

        if (compressed != record.CompressedSize || uncompressed != record.UncompressedSize)
        {
            _log.Add(
                ArchiveAnomalyKind.SizeMismatch,
                record.Name,
                $"the local header declares {compressed:N0} bytes compressed and {uncompressed:N0} uncompressed, the central directory {record.CompressedSize:N0} and {record.UncompressedSize:N0} (loaders use the directory's)");
        }

        if (local.Crc32 != record.Crc32)
        {
            _log.Add(ArchiveAnomalyKind.Other, record.Name, $"the local header records CRC-32 0x{local.Crc32:X8}, the central directory 0x{record.Crc32:X8}");
        }
    }

    private void WalkLocalHeaders(CancellationToken cancellationToken)
    {
        long length = _source.Length;
        long offset = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            byte[] head = _source.ReadBlock(offset, LocalHeaderSize);
            if (head.Length < LocalHeaderSize || U32(head, 0) != LocalHeaderSignature)
            {
                return;
            }

            if (_entries.Count >= MaxEntries)
            {
                _log.Add(ArchiveAnomalyKind.Truncated, null, $"more than {MaxEntries:N0} local headers: only the first {MaxEntries:N0} are listed");
                _listingComplete = false;
                return;
            }

            var local = LocalHeader.Parse(head);
            byte[] rawName = _source.ReadBlock(offset + LocalHeaderSize, local.NameLength);
            string name = DecodeName(rawName, local.Flags);
            long dataOffset = offset + LocalHeaderSize + local.NameLength + local.ExtraLength;
            long compressed = local.CompressedSize;
            long uncompressed = local.UncompressedSize;
            if (compressed == uint.MaxValue || uncompressed == uint.MaxValue)
            {
                byte[] extra = _source.ReadBlock(offset + LocalHeaderSize + local.NameLength, local.ExtraLength);
                long unused = 0;
                ApplyZip64Extra(extra, name, ref uncompressed, ref compressed, ref unused);
            }

            var record = new CentralRecord
            {
                Name = name,
                RawName = rawName,
                Flags = local.Flags,
                Method = local.Method,
                Crc32 = local.Crc32,
                CompressedSize = compressed,
                UncompressedSize = uncompressed,
                LocalHeaderOffset = offset,
            };

            if ((local.Flags & ZipEntry.DataDescriptorFlag) != 0 && record.CompressedSize == 0)
            {
                // The sizes follow the data, and only a central directory says where that is.
                long rest = Math.Max(0, length - dataOffset);
                record.CompressedSize = rest;
                record.UncompressedSize = rest;
                AddEntry(name, rawName, record, local.Flags, dataOffset, sizesKnown: false);
                _log.Add(ArchiveAnomalyKind.Truncated, name, "the member's sizes are in a data descriptor after its data: without a central directory the walk cannot find the next member");
                _listingComplete = false;
                return;
            }

            ZipEntry entry = AddEntry(name, rawName, record, local.Flags, dataOffset, sizesKnown: true);
            long dataEnd = SaturatingAdd(dataOffset, entry.CompressedSize);
            if (dataEnd >= length)
            {
                return;
            }

            offset = (local.Flags & ZipEntry.DataDescriptorFlag) != 0 ? SaturatingAdd(dataEnd, DataDescriptorLength(entry, dataEnd, report: false)) : dataEnd;
        }
    }

    private ZipEntry AddEntry(string name, byte[] rawName, CentralRecord record, ushort localFlags, long dataOffset, bool sizesKnown)
    {
        var entry = new ZipEntry(
            _entries.Count,
            name,
            rawName,
            record.Flags,
            localFlags,
            record.Method,
            record.Crc32,
            record.CompressedSize,
            record.UncompressedSize,
            record.LocalHeaderOffset,
            dataOffset,
            record.VersionMadeBy,
            record.ExternalAttributes,
            sizesKnown);
        _entries.Add(entry);
        return entry;
    }

    /// <summary>Checks each member's flags and sizes against its data, and returns the bytes each occupies.</summary>
    private List<Extent> CheckMembers(CancellationToken cancellationToken)
    {
        long length = _source.Length;
        var extents = new List<Extent>(_entries.Count);
        foreach (ZipEntry entry in _entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            CheckFlags(entry);
            if (entry.IsSymbolicLink)
            {
                _log.Add(ArchiveAnomalyKind.Link, entry.Name, "a Unix symbolic link (its content is the target path)");
            }

            if (entry.IsDirectory && (entry.CompressedSize > 0 || entry.UncompressedSize > 0))
            {
                _log.Add(ArchiveAnomalyKind.Other, entry.Name, $"a directory entry that carries {entry.CompressedSize:N0} bytes of data");
            }

            if (entry.SizesKnown && entry.Method == ZipEntry.Stored && entry.CompressedSize != entry.UncompressedSize)
            {
                _log.Add(
                    ArchiveAnomalyKind.SizeMismatch,
                    entry.Name,
                    $"a stored member with {entry.CompressedSize:N0} bytes of data but {entry.UncompressedSize:N0} declared (miniz refuses the archive, CPython reads the smaller)");
            }
            else if (entry.SizesKnown && entry.CompressedSize == 0 && entry.UncompressedSize > 0)
            {
                _log.Add(ArchiveAnomalyKind.SizeMismatch, entry.Name, $"declares {entry.UncompressedSize:N0} bytes of content but no compressed data");
            }

            if (!entry.HasLocalHeader)
            {
                continue;
            }

            long dataEnd = SaturatingAdd(entry.DataOffset, entry.CompressedSize);
            if (dataEnd > length)
            {
                _log.Add(
                    ArchiveAnomalyKind.SizeMismatch,
                    entry.Name,
                    $"the data runs past the end of the file: {entry.CompressedSize:N0} bytes declared at offset {entry.DataOffset:N0}, {Math.Max(0, length - entry.DataOffset):N0} present");
            }

            // The local header's bit 3 says whether a descriptor really follows the data.
            long end = dataEnd;
            if ((entry.LocalFlags & ZipEntry.DataDescriptorFlag) != 0 && entry.SizesKnown && dataEnd < length)
            {
                end = SaturatingAdd(dataEnd, DataDescriptorLength(entry, dataEnd, report: true));
            }

            var extent = new Extent(entry.LocalHeaderOffset, Math.Min(end, length), entry.Index);
            foreach (Extent record in _records)
            {
                if (extent.Start < record.End && record.Start < extent.End)
                {
                    _log.Add(
                        ArchiveAnomalyKind.SizeMismatch,
                        entry.Name,
                        extent.Start < record.Start
                            ? $"the data runs into the central directory or end records at offset {record.Start:N0}"
                            : $"the local header at offset {extent.Start:N0} lies inside the central directory or end records");
                    break;
                }
            }

            extents.Add(extent);
        }

        return extents;
    }

    private void CheckFlags(ZipEntry entry)
    {
        const ushort encryption = ZipEntry.EncryptedFlag | ZipEntry.StrongEncryptionFlag;
        ushort both = (ushort)(entry.Flags | entry.LocalFlags);
        if ((both & encryption) != 0)
        {
            _log.Add(
                ArchiveAnomalyKind.EncryptionFlag,
                entry.Name,
                $"encryption flag bits 0x{both & encryption:X4} are set{Where(entry, encryption)}: CPython's zipfile refuses the member as encrypted; its data was read as plain");
        }

        if ((both & ZipEntry.PatchedDataFlag) != 0)
        {
            _log.Add(
                ArchiveAnomalyKind.PatchedDataFlag,
                entry.Name,
                $"the patched-data flag bit 0x0020 is set{Where(entry, ZipEntry.PatchedDataFlag)}: CPython's zipfile refuses the member; its data was read as plain");
        }

        if ((both & MaskedHeadersFlag) != 0)
        {
            _log.Add(ArchiveAnomalyKind.Other, entry.Name, $"flag bit 0x2000 (masked local header, encrypted directory) is set{Where(entry, MaskedHeadersFlag)}; miniz refuses the archive");
        }

        static string Where(ZipEntry entry, ushort mask) =>
            (entry.Flags & mask) == (entry.LocalFlags & mask) ? string.Empty
            : (entry.Flags & mask) == 0 ? " in the local header only"
            : " in the central directory only";
    }

    /// <summary>Length of the data descriptor after a bit-3 member, read from its signature and values.</summary>
    private int DataDescriptorLength(ZipEntry entry, long dataEnd, bool report)
    {
        byte[] descriptor = _source.ReadBlock(dataEnd, 24);
        int at = descriptor.Length >= 4 && U32(descriptor, 0) == DataDescriptorSignature ? 4 : 0;
        bool fits32 = descriptor.Length >= at + 12
            && U32(descriptor, at) == entry.Crc32
            && U32(descriptor, at + 4) == entry.CompressedSize
            && U32(descriptor, at + 8) == entry.UncompressedSize;
        if (fits32)
        {
            return at + 12;
        }

        bool fits64 = descriptor.Length >= at + 20
            && U32(descriptor, at) == entry.Crc32
            && U64(descriptor, at + 4) == entry.CompressedSize
            && U64(descriptor, at + 12) == entry.UncompressedSize;
        if (fits64)
        {
            return at + 20;
        }

        if (report)
        {
            _log.Add(ArchiveAnomalyKind.SizeMismatch, entry.Name, "the data descriptor after the data does not match the central directory's CRC-32 and sizes");
        }

        return at + (entry.CompressedSize >= uint.MaxValue || entry.UncompressedSize >= uint.MaxValue ? 20 : 12);
    }

    private void CheckNames()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (ZipEntry entry in _entries)
        {
            if (!seen.Add(entry.Name))
            {
                _log.Add(ArchiveAnomalyKind.DuplicateName, entry.Name, $"member {entry.Index:N0} repeats the name of an earlier member; loaders disagree on which one they read");
            }

            string? reason = ArchivePaths.UnsafeReason(entry.Name);
            if (reason is not null)
            {
                _log.Add(ArchiveAnomalyKind.UnsafeName, entry.Name, $"the member name is unsafe to extract: {reason}");
            }
        }
    }

    private void CheckOverlaps(List<Extent> members)
    {
        var sorted = new List<Extent>(members);
        sorted.Sort((a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : a.End.CompareTo(b.End));
        Extent widest = default;
        bool any = false;
        foreach (Extent extent in sorted)
        {
            if (any && extent.Start < widest.End)
            {
                ZipEntry other = _entries[widest.Member];
                _log.Add(
                    ArchiveAnomalyKind.OverlappingEntries,
                    _entries[extent.Member].Name,
                    $"its bytes {extent.Start:N0}-{extent.End:N0} overlap those of '{other.Name}' ({widest.Start:N0}-{widest.End:N0})");
            }

            if (!any || extent.End > widest.End)
            {
                widest = extent;
                any = true;
            }
        }
    }

    private void CheckCoverage(List<Extent> members)
    {
        var all = new List<Extent>(members.Count + _records.Count);
        all.AddRange(members);
        all.AddRange(_records);
        if (all.Count == 0)
        {
            return;
        }

        all.Sort((a, b) => a.Start.CompareTo(b.Start));
        long first = all[0].Start;
        if (first > 0)
        {
            string how = ArchiveStart > 0
                ? $"the zip's offsets count from byte {ArchiveStart:N0}"
                : "the zip's offsets already count them";
            _log.Add(
                ArchiveAnomalyKind.PrependedData,
                null,
                $"{first:N0} bytes come before the first zip record ({how}); torch.load sees no zip signature at the start and would load the file as a legacy pickle");
        }

        if (!_listingComplete)
        {
            return;
        }

        long length = _source.Length;
        long cursor = first;
        long outside = 0;
        long firstGap = -1;
        int gaps = 0;
        foreach (Extent extent in all)
        {
            if (extent.Start > cursor)
            {
                outside += extent.Start - cursor;
                firstGap = firstGap < 0 ? cursor : firstGap;
                gaps++;
            }

            cursor = Math.Max(cursor, extent.End);
        }

        if (cursor < length)
        {
            outside += length - cursor;
            firstGap = firstGap < 0 ? cursor : firstGap;
            gaps++;
        }

        if (outside > 0)
        {
            _log.Add(
                ArchiveAnomalyKind.DataOutsideEntries,
                null,
                $"{outside:N0} bytes in {gaps:N0} place(s) belong to no member and no directory record; the first at offset {firstGap:N0}");
        }
    }

    private void ApplyZip64Extra(ReadOnlySpan<byte> extra, string name, ref long uncompressed, ref long compressed, ref long localOffset)
    {
        // Field 0x0001 holds, in this order, only the values whose 32-bit fields are saturated.
        int pos = 0;
        while (pos + 4 <= extra.Length)
        {
            int id = U16(extra, pos);
            int size = U16(extra, pos + 2);
            if (pos + 4 + size > extra.Length)
            {
                break;
            }

            if (id == 0x0001)
            {
                ReadOnlySpan<byte> data = extra.Slice(pos + 4, size);
                int at = 0;
                bool complete = Take(data, ref at, ref uncompressed)
                    && Take(data, ref at, ref compressed)
                    && Take(data, ref at, ref localOffset);
                if (!complete)
                {
                    _log.Add(ArchiveAnomalyKind.Corrupt, name, "the ZIP64 extra field is too short for the sizes and offset it should hold");
                }

                return;
            }

            pos += 4 + size;
        }

        _log.Add(ArchiveAnomalyKind.Corrupt, name, "a size or offset is 0xFFFFFFFF but there is no ZIP64 extra field with its real value");

        static bool Take(ReadOnlySpan<byte> data, ref int at, ref long value)
        {
            if (value != uint.MaxValue)
            {
                return true;
            }

            if (at + 8 > data.Length)
            {
                return false;
            }

            value = U64(data, at);
            at += 8;
            return true;
        }
    }

    private ZipMemberData Read(ZipEntry entry, int limit, bool whole, ICollection<ArchiveAnomaly> anomalies, CancellationToken cancellationToken)
    {
        bool hasContent = entry.UncompressedSize > 0 || entry.CompressedSize > 0;
        if (!entry.HasLocalHeader || limit <= 0)
        {
            // A missing local header was reported when the archive was opened.
            return new ZipMemberData(Array.Empty<byte>(), truncated: hasContent, crcVerified: false);
        }

        if (entry.SizesKnown && entry.CompressedSize == 0)
        {
            // Like miniz: no data means empty content whatever the method says.
            bool empty = entry.UncompressedSize == 0;
            bool verified = whole && empty && CheckCrc(entry, Array.Empty<byte>(), anomalies);
            return new ZipMemberData(Array.Empty<byte>(), truncated: !empty, verified);
        }

        switch (entry.Method)
        {
            case ZipEntry.Stored:
                return ReadStored(entry, limit, whole, anomalies, cancellationToken);
            case ZipEntry.Deflated:
                return Inflate(entry, limit, whole, anomalies, cancellationToken);
            case 99:
                anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.Encrypted, entry.Name, "WinZip AES encryption (method 99): the content cannot be read"));
                return new ZipMemberData(Array.Empty<byte>(), truncated: hasContent, crcVerified: false);
            default:
                anomalies.Add(new ArchiveAnomaly(
                    ArchiveAnomalyKind.UnsupportedMethod,
                    entry.Name,
                    $"compression method {MethodName(entry.Method)} is not read (only stored and deflate are, as in PyTorch's reader)"));
                return new ZipMemberData(Array.Empty<byte>(), truncated: hasContent, crcVerified: false);
        }
    }

    private ZipMemberData ReadStored(ZipEntry entry, int limit, bool whole, ICollection<ArchiveAnomaly> anomalies, CancellationToken cancellationToken)
    {
        long available = Math.Max(0, Math.Min(entry.CompressedSize, _source.Length - entry.DataOffset));
        int count = (int)Math.Min(available, limit);
        byte[] data = new byte[count];
        int filled = 0;
        while (filled < count)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int read = _source.ReadAt(entry.DataOffset + filled, data, filled, Math.Min(ReadChunk, count - filled));
            if (read == 0)
            {
                break;
            }

            filled += read;
        }

        if (filled < count)
        {
            Array.Resize(ref data, filled);
        }

        bool complete = entry.SizesKnown && filled == entry.CompressedSize;
        if (whole && !complete && filled == limit && limit < available)
        {
            anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.MemberTooLarge, entry.Name, $"{entry.CompressedSize:N0} bytes: only the first {limit:N0} were read"));
        }

        bool verified = whole && complete && CheckCrc(entry, data, anomalies);
        return new ZipMemberData(data, truncated: !complete, verified);
    }

    private ZipMemberData Inflate(ZipEntry entry, int limit, bool whole, ICollection<ArchiveAnomaly> anomalies, CancellationToken cancellationToken)
    {
        long compressed = Math.Max(0, Math.Min(entry.CompressedSize, _source.Length - entry.DataOffset));

        // Loaders stop at the declared size (miniz fills a buffer of that size, CPython cuts there).
        long declared = entry.SizesKnown ? entry.UncompressedSize : long.MaxValue;
        int target = (int)Math.Min(limit, declared);
        byte[] buffer = new byte[Math.Min(target, ReadChunk)];
        int filled = 0;
        bool ended = false;
        bool bomb = false;
        bool corrupt = false;
        // A small buffer: only what inflation needs is read (and counted), not 64 KiB per member head.
        // A data offset past the end (a lying header) is an empty window: inflation then reports the stream as cut.
        using var input = new ModelFileSourceStream(_source, Math.Min(entry.DataOffset, _source.Length), compressed, bufferSize: 8 * 1024);
        using var inflater = new DeflateStream(input, CompressionMode.Decompress);
        try
        {
            while (filled < target)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (filled == buffer.Length)
                {
                    Array.Resize(ref buffer, (int)Math.Min(target, buffer.Length * 2L));
                }

                int read = inflater.Read(buffer, filled, Math.Min(buffer.Length - filled, ReadChunk));
                if (read == 0)
                {
                    ended = true;
                    break;
                }

                filled += read;
                if (filled >= BombCheckBytes && filled > (long)MaxRatio * Math.Max(1, input.Position))
                {
                    bomb = true;
                    break;
                }
            }

            if (!ended && !bomb && filled == declared && inflater.Read(new byte[1], 0, 1) > 0)
            {
                anomalies.Add(new ArchiveAnomaly(
                    ArchiveAnomalyKind.SizeMismatch,
                    entry.Name,
                    $"the deflate data holds more than the declared {declared:N0} bytes; loaders stop at the declared size"));
            }
        }
        catch (InvalidDataException)
        {
            corrupt = true;
            anomalies.Add(entry.IsEncrypted
                ? new ArchiveAnomaly(ArchiveAnomalyKind.Encrypted, entry.Name, $"the data is not valid deflate after {filled:N0} bytes of output: the member is flagged encrypted and probably is")
                : new ArchiveAnomaly(ArchiveAnomalyKind.Corrupt, entry.Name, $"the deflate data is corrupt after {filled:N0} bytes of output"));
        }

        if (bomb)
        {
            anomalies.Add(new ArchiveAnomaly(
                ArchiveAnomalyKind.CompressionBomb,
                entry.Name,
                $"{filled:N0} bytes inflated from {input.Position:N0} (over {MaxRatio:N0}:1); reading stopped there"));
        }
        else if (ended && entry.SizesKnown && filled < declared)
        {
            anomalies.Add(new ArchiveAnomaly(
                ArchiveAnomalyKind.SizeMismatch,
                entry.Name,
                $"the deflate data ends after {filled:N0} bytes but {declared:N0} are declared"));
        }
        else if (whole && !corrupt && !ended && filled == limit && limit < declared)
        {
            string size = entry.SizesKnown ? $"declares {declared:N0} bytes" : "has an unknown size";
            anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.MemberTooLarge, entry.Name, $"{size}: only the first {limit:N0} were read"));
        }

        if (filled < buffer.Length)
        {
            Array.Resize(ref buffer, filled);
        }

        bool complete = !bomb && !corrupt && (entry.SizesKnown ? filled == declared : ended);
        bool verified = whole && complete && entry.SizesKnown && CheckCrc(entry, buffer, anomalies);
        return new ZipMemberData(buffer, truncated: !complete, verified);
    }

    private static bool CheckCrc(ZipEntry entry, byte[] data, ICollection<ArchiveAnomaly> anomalies)
    {
        uint actual = Crc32.Compute(data);
        if (actual == entry.Crc32)
        {
            return true;
        }

        string encrypted = entry.IsEncrypted ? " (the member is flagged encrypted: the data may really be ciphertext)" : string.Empty;
        anomalies.Add(new ArchiveAnomaly(
            ArchiveAnomalyKind.CrcMismatch,
            entry.Name,
            $"the content's CRC-32 is 0x{actual:X8} but the directory records 0x{entry.Crc32:X8}: CPython's zipfile refuses to read it, PyTorch does not check{encrypted}"));
        return false;
    }

    private static string MethodName(ushort method) => method switch
    {
        0 => "0 (stored)",
        8 => "8 (deflate)",
        9 => "9 (deflate64)",
        12 => "12 (bzip2)",
        14 => "14 (LZMA)",
        93 => "93 (Zstandard)",
        95 => "95 (xz)",
        98 => "98 (PPMd)",
        99 => "99 (WinZip AES)",
        _ => method.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private uint ReadU32(long offset)
    {
        byte[] bytes = _source.ReadBlock(offset, 4);
        return bytes.Length == 4 ? U32(bytes, 0) : 0;
    }

    private static ushort U16(ReadOnlySpan<byte> bytes, int at) => BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(at));

    private static uint U32(ReadOnlySpan<byte> bytes, int at) => BinaryPrimitives.ReadUInt32LittleEndian(bytes.Slice(at));

    /// <summary>A 64-bit field, capped at <see cref="long.MaxValue"/> (no file is that long).</summary>
    private static long U64(ReadOnlySpan<byte> bytes, int at) =>
        (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(bytes.Slice(at)), long.MaxValue);

    private static long SaturatingAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;

    /// <summary>Bytes of the file one member or directory record occupies (member index, or -1 for a record).</summary>
    private readonly struct Extent
    {
        public Extent(long start, long end, int member)
        {
            Start = start;
            End = end;
            Member = member;
        }

        public long Start { get; }

        public long End { get; }

        public int Member { get; }
    }

    /// <summary>What the end records say about the central directory.</summary>
    private sealed class EndRecord
    {
        public long Offset { get; set; }

        public long EntryCount { get; set; }

        public long DirectorySize { get; set; }

        public long DirectoryOffset { get; set; }

        /// <summary>Where the central directory should end: the ZIP64 end record, else the end record.</summary>
        public long DirectoryEnd { get; set; }
    }

    /// <summary>One central-directory entry (or, when walking, one local header) before it becomes a <see cref="ZipEntry"/>.</summary>
    private sealed class CentralRecord
    {
        public long CompressedSize { get; set; }

        public long UncompressedSize { get; set; }

        public string Name { get; set; } = string.Empty;

        public byte[] RawName { get; set; } = Array.Empty<byte>();

        public ushort VersionMadeBy { get; set; }

        public ushort Flags { get; set; }

        public ushort Method { get; set; }

        public uint Crc32 { get; set; }

        public uint ExternalAttributes { get; set; }

        public long LocalHeaderOffset { get; set; }
    }

    /// <summary>The fixed 30 bytes of a local file header.</summary>
    private readonly struct LocalHeader
    {
        private LocalHeader(ReadOnlySpan<byte> header)
        {
            Flags = U16(header, 6);
            Method = U16(header, 8);
            Crc32 = U32(header, 14);
            CompressedSize = U32(header, 18);
            UncompressedSize = U32(header, 22);
            NameLength = U16(header, 26);
            ExtraLength = U16(header, 28);
        }

        public ushort Flags { get; }

        public ushort Method { get; }

        public uint Crc32 { get; }

        public long CompressedSize { get; }

        public long UncompressedSize { get; }

        public int NameLength { get; }

        public int ExtraLength { get; }

        public static LocalHeader Parse(ReadOnlySpan<byte> header) => new(header);
    }

    /// <summary>Anomalies in the order found, at most <see cref="MaxAnomaliesPerKind"/> of each kind listed.</summary>
    private sealed class AnomalyLog
    {
        private readonly List<ArchiveAnomaly> _listed = new();
        private readonly Dictionary<ArchiveAnomalyKind, int> _counts = new();

        public void Add(ArchiveAnomalyKind kind, string? member, string detail)
        {
            _counts.TryGetValue(kind, out int count);
            _counts[kind] = count + 1;
            if (count < MaxAnomaliesPerKind)
            {
                _listed.Add(new ArchiveAnomaly(kind, member, detail));
            }
        }

        public List<ArchiveAnomaly> Complete()
        {
            var all = new List<ArchiveAnomaly>(_listed);
            foreach (KeyValuePair<ArchiveAnomalyKind, int> pair in _counts)
            {
                if (pair.Value > MaxAnomaliesPerKind)
                {
                    all.Add(new ArchiveAnomaly(pair.Key, null, $"{pair.Value - MaxAnomaliesPerKind:N0} more like this not listed"));
                }
            }

            return all;
        }
    }
}
