using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Threading;

namespace ModelSecurity.Formats.Archive;

/// <summary>
/// The members of a tar archive (POSIX ustar and PAX, GNU, old v7), listed the way Python's
/// <c>tarfile</c> lists them, since that is what loads legacy PyTorch tars and NeMo archives: the first
/// header of a chain of GNU long-name and PAX headers wins, only regular (or unknown-type) members
/// have data to skip, and the list ends at the first zero block. Headers are validated by checksum;
/// member data is read only on request. Bounded: at most <see cref="MaxEntries"/> members and
/// <see cref="MaxMetadataBytes"/> per long-name or PAX payload.
/// </summary>
internal sealed class TarArchiveReader
{
    public const int MaxEntries = 100_000;
    public const int MaxMetadataBytes = 1024 * 1024;

    // How far past the end-of-archive marker to look for hidden bytes, and how much of the file's tail.
    public const int MaxTrailingScan = 1024 * 1024;

    private const int BlockSize = 512;

    private readonly ModelFileSource _source;

    private TarArchiveReader(ModelFileSource source, IReadOnlyList<TarEntry> entries, IReadOnlyList<ArchiveAnomaly> anomalies)
    {
        _source = source;
        Entries = entries;
        Anomalies = anomalies;
    }

    /// <summary>Members in archive order (long-name and PAX headers folded into the member they describe).</summary>
    public IReadOnlyList<TarEntry> Entries { get; }

    public IReadOnlyList<ArchiveAnomaly> Anomalies { get; }

    /// <summary>Lists the archive, or returns null when the file does not start with a valid tar header.</summary>
    public static TarArchiveReader? Open(ModelFileSource source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);

        byte[] first = source.ReadBlock(0, BlockSize);
        if (first.Length < BlockSize || IsZeroBlock(first) || !ChecksumMatches(first))
        {
            return null;
        }

        var walker = new Walker(source, cancellationToken);
        walker.Walk();
        return new TarArchiveReader(source, walker.Entries, walker.Anomalies);
    }

    /// <summary>
    /// Up to <paramref name="count"/> bytes from the start of the member's data (fewer when it, or the
    /// file, is shorter; none for members without data, such as links and directories).
    /// </summary>
    public byte[] ReadHead(TarEntry entry, int count)
    {
        ArgumentNullException.ThrowIfNull(entry);

        return entry.HasData ? _source.ReadBlock(entry.DataOffset, (int)Math.Min(Math.Max(count, 0), entry.Size)) : Array.Empty<byte>();
    }

    /// <summary>The member's data, at most <paramref name="maxBytes"/>; truncated when that or the end of the file cut it short.</summary>
    public byte[] ReadAll(TarEntry entry, long maxBytes, out bool truncated)
    {
        ArgumentNullException.ThrowIfNull(entry);

        if (!entry.HasData)
        {
            truncated = false;
            return Array.Empty<byte>();
        }

        long want = Math.Min(entry.Size, Math.Min(Math.Max(maxBytes, 0), BoundedOutput.MaxArrayLength));
        byte[] data = _source.ReadBlock(entry.DataOffset, (int)want);
        truncated = data.Length < entry.Size;
        return data;
    }

    internal static bool IsZeroBlock(byte[] block)
    {
        foreach (byte b in block)
        {
            if (b != 0)
            {
                return false;
            }
        }

        return true;
    }

    // Python's tarfile accepts the unsigned sum and the signed one (some old tars summed signed chars).
    internal static bool ChecksumMatches(byte[] header)
    {
        long stored = ParseNumber(header, 148, 8);
        if (stored < 0)
        {
            return false;
        }

        long unsigned = 0;
        long signed = 0;
        for (int i = 0; i < BlockSize; i++)
        {
            byte b = i is >= 148 and < 156 ? (byte)' ' : header[i];
            unsigned += b;
            signed += (sbyte)b;
        }

        return stored == unsigned || stored == signed;
    }

    /// <summary>
    /// A numeric header field: octal text (empty means 0, as in tarfile), or GNU base-256 when the
    /// first byte has its high bit set. Returns -1 for anything else, negative values included.
    /// </summary>
    internal static long ParseNumber(byte[] header, int start, int length)
    {
        byte lead = header[start];
        if (lead is 0x80 or 0xFF)
        {
            if (lead == 0xFF)
            {
                return -1;
            }

            long value = 0;
            for (int i = start + 1; i < start + length; i++)
            {
                if (value > (long.MaxValue >> 8))
                {
                    return -1;
                }

                value = (value << 8) | header[i];
            }

            return value;
        }

        long octal = 0;
        int end = Array.IndexOf(header, (byte)0, start, length);
        end = end < 0 ? start + length : end;
        string text = Encoding.ASCII.GetString(header, start, end - start).Trim();
        foreach (char c in text)
        {
            if (c is < '0' or > '7' || octal > (long.MaxValue >> 3))
            {
                return -1;
            }

            octal = (octal << 3) + (c - '0');
        }

        return octal;
    }

    private static string CString(byte[] data, int start, int length)
    {
        int end = Array.IndexOf(data, (byte)0, start, length);
        return Encoding.UTF8.GetString(data, start, (end < 0 ? start + length : end) - start);
    }

    /// <summary>One pass over the headers, collecting members and anomalies.</summary>
    private sealed class Walker
    {
        // Types tarfile knows; any other is extracted as a regular file, so its data is content.
        private const string KnownTypes = "01234567LKSxXg\0";

        private readonly ModelFileSource _source;
        private readonly CancellationToken _cancellationToken;
        private readonly Dictionary<string, TarEntry> _byName = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _globalPax = new(StringComparer.Ordinal);

        // Long-name and PAX overrides waiting for their member, in the order they came.
        private readonly List<(string Key, string Value)> _pending = new();

        public Walker(ModelFileSource source, CancellationToken cancellationToken)
        {
            _source = source;
            _cancellationToken = cancellationToken;
        }

        public List<TarEntry> Entries { get; } = new();

        public List<ArchiveAnomaly> Anomalies { get; } = new();

        public void Walk()
        {
            long offset = 0;
            long length = _source.Length;
            while (true)
            {
                _cancellationToken.ThrowIfCancellationRequested();
                if (offset + BlockSize > length)
                {
                    Anomalies.Add(new ArchiveAnomaly(
                        ArchiveAnomalyKind.Truncated,
                        null,
                        offset < length
                            ? $"the archive ends inside a header block at offset {offset:N0} (truncated)"
                            : $"the archive ends at offset {offset:N0} without its end-of-archive blocks (truncated?)"));
                    return;
                }

                byte[] header = _source.ReadBlock(offset, BlockSize);
                if (IsZeroBlock(header))
                {
                    CheckAfterEnd(offset);
                    return;
                }

                if (!ChecksumMatches(header))
                {
                    // tarfile stops listing here without an error, so whatever follows is invisible to it.
                    Anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.Corrupt, null, $"the header at offset {offset:N0} has a bad checksum; the listing stops there, as tarfile's does"));
                    return;
                }

                long size = ParseNumber(header, 124, 12);
                if (size < 0)
                {
                    Anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.Corrupt, null, $"the header at offset {offset:N0} has an invalid size field; the listing stops there"));
                    return;
                }

                char type = (char)header[156];
                long dataOffset = offset + BlockSize;
                if (type is 'L' or 'K' or 'x' or 'X' or 'g')
                {
                    if (!ReadMetadata(type, offset, dataOffset, size))
                    {
                        return;
                    }

                    offset = dataOffset + Padded(size);
                    continue;
                }

                if (Entries.Count >= MaxEntries)
                {
                    Anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.Truncated, null, $"more than {MaxEntries:N0} members; the listing stops at offset {offset:N0}"));
                    return;
                }

                TarEntry entry = Member(header, type, size, offset, dataOffset);
                Check(entry);
                Entries.Add(entry);

                long dataEnd = dataOffset + (entry.HasData ? Padded(entry.Size) : 0);
                if (entry.HasData && dataOffset + entry.Size > length)
                {
                    Anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.Truncated, entry.Name, $"its {entry.Size:N0} bytes of data run past the end of the file (truncated)"));
                    return;
                }

                offset = dataEnd;
            }
        }

        private static long Padded(long size) => (size + BlockSize - 1) / BlockSize * BlockSize;

        private bool ReadMetadata(char type, long offset, long dataOffset, long size)
        {
            string what = type switch
            {
                'L' => "GNU long name",
                'K' => "GNU long link name",
                'g' => "PAX global header",
                _ => "PAX header",
            };
            if (dataOffset + size > _source.Length)
            {
                Anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.Truncated, null, $"the {what} at offset {offset:N0} runs past the end of the file (truncated)"));
                return false;
            }

            if (size > MaxMetadataBytes)
            {
                Anomalies.Add(new ArchiveAnomaly(
                    ArchiveAnomalyKind.Other,
                    null,
                    $"the {what} at offset {offset:N0} is {size:N0} bytes, over the {MaxMetadataBytes:N0}-byte limit; it was skipped, so the next member's name may differ from what tarfile sees"));
                return true;
            }

            byte[] payload = _source.ReadBlock(dataOffset, (int)size);
            switch (type)
            {
                case 'L':
                    _pending.Add(("path", CString(payload, 0, payload.Length)));
                    break;
                case 'K':
                    _pending.Add(("linkpath", CString(payload, 0, payload.Length)));
                    break;
                case 'g':
                    foreach ((string key, string value) in ParsePax(payload, offset))
                    {
                        _globalPax[key] = value;
                        if (key is "path" or "linkpath" or "size")
                        {
                            Anomalies.Add(new ArchiveAnomaly(
                                ArchiveAnomalyKind.Other,
                                null,
                                $"the PAX global header at offset {offset:N0} sets '{key}', which readers apply differently (tarfile only where a member has its own PAX header)"));
                        }
                    }

                    break;
                default:
                    // tarfile merges the global records under the member's own, then applies them.
                    var merged = new Dictionary<string, string>(_globalPax, StringComparer.Ordinal);
                    foreach ((string key, string value) in ParsePax(payload, offset))
                    {
                        merged[key] = value;
                    }

                    foreach (string key in new[] { "path", "linkpath", "size" })
                    {
                        if (merged.TryGetValue(key, out string? value))
                        {
                            _pending.Add((key, value));
                        }
                    }

                    break;
            }

            return true;
        }

        // Records are "<length> <key>=<value>\n", the length counting the whole record.
        private List<(string Key, string Value)> ParsePax(byte[] payload, long offset)
        {
            var records = new List<(string, string)>();
            int position = 0;
            while (position < payload.Length && payload[position] != 0)
            {
                int space = Array.IndexOf(payload, (byte)' ', position, Math.Min(20, payload.Length - position));
                int length = 0;
                bool valid = space > position;
                for (int i = position; valid && i < space; i++)
                {
                    valid = payload[i] is >= (byte)'0' and <= (byte)'9' && length < 100_000_000;
                    length = (length * 10) + (payload[i] - '0');
                }

                int end = position + length;
                int equals = valid ? Array.IndexOf(payload, (byte)'=', space, Math.Max(0, Math.Min(end, payload.Length) - space)) : -1;
                if (!valid || end > payload.Length || end <= space || payload[end - 1] != (byte)'\n' || equals < 0)
                {
                    Anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.Corrupt, null, $"the PAX header at offset {offset:N0} has a malformed record at byte {position:N0}; the rest of it was ignored"));
                    break;
                }

                string key = Encoding.UTF8.GetString(payload, space + 1, equals - space - 1);
                string value = Encoding.UTF8.GetString(payload, equals + 1, end - 1 - equals - 1);
                records.Add((key, value));
                position = end;
            }

            return records;
        }

        private TarEntry Member(byte[] header, char type, long size, long offset, long dataOffset)
        {
            string name = CString(header, 0, 100);
            string linkName = CString(header, 157, 100);
            string prefix = CString(header, 345, 155);
            if (type == '\0' && name.EndsWith('/'))
            {
                // Old v7 tars mark a directory by its trailing slash.
                type = '5';
            }

            if (prefix.Length > 0 && type != 'S')
            {
                name = prefix + "/" + name;
            }

            // The earliest long-name or PAX header of the chain wins, as it does in tarfile.
            for (int i = _pending.Count - 1; i >= 0; i--)
            {
                (string key, string value) = _pending[i];
                switch (key)
                {
                    case "path":
                        name = value;
                        break;
                    case "linkpath":
                        linkName = value;
                        break;
                    case "size" when long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long paxSize):
                        size = paxSize;
                        break;
                    case "size":
                        Anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.Corrupt, null, $"the PAX size '{value}' for the member at offset {offset:N0} is not a number; the header's size was used"));
                        break;
                }
            }

            _pending.Clear();
            if (type == '5')
            {
                name = name.TrimEnd('/');
            }

            bool unknownType = KnownTypes.IndexOf(type) < 0;
            return new TarEntry(name, size, type, linkName, dataOffset, offset, isRegularFile: type is '0' or '\0' or '7' || unknownType, hasData: type is '0' or '\0' or '7' or 'S' || unknownType);
        }

        private void Check(TarEntry entry)
        {
            string? unsafeReason = ArchivePaths.UnsafeReason(entry.Name);
            if (unsafeReason is not null)
            {
                Anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.UnsafeName, entry.Name, $"the member name escapes the extraction folder: {unsafeReason}"));
            }

            switch (entry.TypeFlag)
            {
                case '1':
                case '2':
                    bool symbolic = entry.TypeFlag == '2';
                    bool escapes = ArchivePaths.Escapes(symbolic ? ArchivePaths.Directory(entry.Name) : string.Empty, entry.LinkName);
                    Anomalies.Add(new ArchiveAnomaly(
                        ArchiveAnomalyKind.Link,
                        entry.Name,
                        $"{(symbolic ? "symbolic" : "hard")} link to '{entry.LinkName}'{(escapes ? ", which points outside the extraction folder" : string.Empty)}"));
                    if (escapes)
                    {
                        Anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.UnsafeName, entry.Name, $"the link target '{entry.LinkName}' escapes the extraction folder"));
                    }

                    break;
                case '3':
                case '4':
                case '6':
                    string kind = entry.TypeFlag switch { '3' => "character device", '4' => "block device", _ => "FIFO" };
                    Anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.SpecialMember, entry.Name, $"a {kind} member"));
                    break;
                case 'S':
                    Anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.Other, entry.Name, "a GNU sparse member: its stored data is not laid out as the extracted file"));
                    break;
                default:
                    if (KnownTypes.IndexOf(entry.TypeFlag) < 0)
                    {
                        Anomalies.Add(new ArchiveAnomaly(
                            ArchiveAnomalyKind.Other,
                            entry.Name,
                            $"unknown type flag '{Printable(entry.TypeFlag)}': Python's tarfile extracts it as a regular file"));
                    }

                    break;
            }

            if (!entry.HasData && entry.Size > 0)
            {
                // tarfile reads the next header right after this one; other tools skip the data.
                Anomalies.Add(new ArchiveAnomaly(
                    ArchiveAnomalyKind.SizeMismatch,
                    entry.Name,
                    $"a member of type '{Printable(entry.TypeFlag)}' declares {entry.Size:N0} bytes of data, which tarfile does not skip but other tools do"));
            }

            string key = entry.Name.TrimEnd('/');
            if (_byName.TryGetValue(key, out TarEntry? previous))
            {
                if (previous.TypeFlag != '5' || entry.TypeFlag != '5')
                {
                    Anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.DuplicateName, entry.Name, $"the name appears again at offset {entry.HeaderOffset:N0} (first at {previous.HeaderOffset:N0}); tarfile's getmember returns the last one"));
                }
            }

            _byName[key] = entry;
        }

        // tarfile stops at the first zero block; anything but zeros after it is hidden from the listing.
        private void CheckAfterEnd(long end)
        {
            long length = _source.Length;
            long scanEnd = Math.Min(length, end + MaxTrailingScan);
            long? hidden = FirstNonZero(end, scanEnd);
            if (hidden is null && scanEnd < length)
            {
                hidden = FirstNonZero(Math.Max(scanEnd, length - MaxTrailingScan), length);
            }

            if (hidden is long at)
            {
                Anomalies.Add(new ArchiveAnomaly(
                    ArchiveAnomalyKind.DataOutsideEntries,
                    null,
                    $"non-zero bytes at offset {at:N0}, after the end-of-archive marker at {end:N0}: data that tarfile never lists"));
            }
        }

        private long? FirstNonZero(long from, long to)
        {
            const int Chunk = 64 * 1024;
            for (long position = from; position < to; position += Chunk)
            {
                _cancellationToken.ThrowIfCancellationRequested();
                byte[] block = _source.ReadBlock(position, (int)Math.Min(Chunk, to - position));
                for (int i = 0; i < block.Length; i++)
                {
                    if (block[i] != 0)
                    {
                        return position + i;
                    }
                }
            }

            return null;
        }

        private static string Printable(char type) => type is >= ' ' and <= '~' ? type.ToString() : $"\\x{(int)type:x2}";
    }
}

/// <summary>One tar member, with long-name and PAX overrides applied.</summary>
internal sealed class TarEntry
{
    public TarEntry(string name, long size, char typeFlag, string linkName, long dataOffset, long headerOffset, bool isRegularFile, bool hasData)
    {
        IsRegularFile = isRegularFile;
        Name = name;
        Size = size;
        TypeFlag = typeFlag;
        LinkName = linkName;
        DataOffset = dataOffset;
        HeaderOffset = headerOffset;
        HasData = hasData;
    }

    public string Name { get; }

    /// <summary>Size of the data in the archive (the PAX <c>size</c> when present).</summary>
    public long Size { get; }

    /// <summary>The header's type flag: '0' or '\0' file, '1' hard link, '2' symlink, '5' directory, ...</summary>
    public char TypeFlag { get; }

    public string LinkName { get; }

    /// <summary>Offset of the member's data in the file.</summary>
    public long DataOffset { get; }

    /// <summary>Offset of the member's own header (after any long-name or PAX headers).</summary>
    public long HeaderOffset { get; }

    /// <summary>
    /// A file whose data is its content, as <c>tarfile.extractfile</c> returns it: types '0', '\0', '7',
    /// and types tarfile does not know (it extracts those as regular files).
    /// </summary>
    public bool IsRegularFile { get; }

    /// <summary>The archive holds data after this member's header: regular files and GNU sparse files.</summary>
    public bool HasData { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({TypeFlag}, {Size:N0} bytes)";
}
