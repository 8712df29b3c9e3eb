using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;

namespace ModelSecurity.Formats.Archive;

/// <summary>
/// Lists and reads a 7z archive (the nullifAI technique packs a PyTorch model in one) without
/// trusting it: the header is parsed here with every count and size checked first, and SharpCompress
/// supplies only the codecs (LZMA, LZMA2, PPMd, BZip2, Deflate64, Zstandard). Encrypted headers and
/// members are reported, never decrypted; the x86 branch filter (BCJ) is decoded; other branch filters (BCJ2, ARM, ...) are reported as unsupported.
/// </summary>
internal sealed class SevenZipArchiveReader
{
    public const int MaxMembers = SevenZipHeader.MaxFiles;

    /// <summary>The largest (decoded) header read: names and sizes of <see cref="MaxMembers"/> members fit easily.</summary>
    public const int MaxHeaderBytes = 64 * 1024 * 1024;

    /// <summary>How much of a solid block may be decoded and thrown away to reach a member inside it.</summary>
    public const long MaxSkipBytes = 1024L * 1024 * 1024;

    /// <summary>PPMd allocates its model size up front; 7-Zip's largest preset uses 192 MiB.</summary>
    public const int MaxPpmdMemory = 256 * 1024 * 1024;

    private const int SignatureHeaderSize = 32;
    private const int MaxHeaderNesting = 4;
    private const int MaxRepeatedAnomalies = 100;

    private static readonly byte[] Signature = { 0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C };

    private readonly ModelFileSource _source;
    private readonly Dictionary<ArchiveMember, SevenZipSubStream> _streams;
    private readonly SevenZipStreams _streamsInfo;

    private SevenZipArchiveReader(ModelFileSource source, SevenZipStreams streamsInfo, List<ArchiveMember> members, Dictionary<ArchiveMember, SevenZipSubStream> streams, List<ArchiveAnomaly> anomalies)
    {
        _source = source;
        _streamsInfo = streamsInfo;
        Members = members;
        _streams = streams;
        Anomalies = anomalies;
    }

    /// <summary>Members in header order; empty when the header could not be read (the anomalies say why).</summary>
    public IReadOnlyList<ArchiveMember> Members { get; }

    public IReadOnlyList<ArchiveAnomaly> Anomalies { get; }

    /// <summary>Lists the archive, or returns null when the file does not start with the 7z signature.</summary>
    public static SevenZipArchiveReader? Open(ModelFileSource source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);

        byte[] start = source.ReadBlock(0, SignatureHeaderSize);
        if (start.Length < Signature.Length || !start.AsSpan(0, Signature.Length).SequenceEqual(Signature))
        {
            return null;
        }

        var anomalies = new List<ArchiveAnomaly>();
        var members = new List<ArchiveMember>();
        var streams = new Dictionary<ArchiveMember, SevenZipSubStream>();
        var streamsInfo = new SevenZipStreams();
        var windows = new List<ModelFileSourceStream>();
        try
        {
            SevenZipHeader? header = ReadHeader(source, start, anomalies, windows, cancellationToken);
            if (header is not null)
            {
                streamsInfo = header.Streams;
                List(source, header, members, streams, anomalies);
            }
        }
        catch (CompressedDataException e)
        {
            anomalies.Add(new ArchiveAnomaly(e.Kind, null, e.Message));
            members.Clear();
            streams.Clear();
        }
        catch (Exception e) when (Decompressor.IsDecoderFailure(e) && !windows.Exists(w => w.SourceFailed))
        {
            anomalies.Add(SharpCompressCodecs.IsLibraryMissing(e)
                ? new ArchiveAnomaly(ArchiveAnomalyKind.UnsupportedMethod, null, $"the 7z decoders could not be loaded in this PowerShell ({e.GetType().Name}: {e.Message.Trim()}); no member could be listed")
                : new ArchiveAnomaly(ArchiveAnomalyKind.Corrupt, null, $"the packed 7z header is corrupt ({e.GetType().Name}: {e.Message.Trim()}); no member could be listed"));
            members.Clear();
            streams.Clear();
        }

        return new SevenZipArchiveReader(source, streamsInfo, members, streams, anomalies);
    }

    /// <summary>
    /// Decodes one member, at most <paramref name="maxBytes"/> of it. Bad data, encryption and
    /// unsupported methods come back as anomalies in the result with whatever was decoded.
    /// </summary>
    public ArchiveMemberData Read(ArchiveMember member, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);

        cancellationToken.ThrowIfCancellationRequested();
        var anomalies = new List<ArchiveAnomaly>();
        if (!_streams.TryGetValue(member, out SevenZipSubStream? stream))
        {
            return new ArchiveMemberData(Array.Empty<byte>(), truncated: false, anomalies);
        }

        SevenZipFolder folder = stream.Folder;
        string? problem = FolderProblem(folder);
        if (problem is not null)
        {
            anomalies.Add(new ArchiveAnomaly(folder.IsEncrypted ? ArchiveAnomalyKind.Encrypted : ArchiveAnomalyKind.UnsupportedMethod, member.Name, problem));
            return new ArchiveMemberData(Array.Empty<byte>(), truncated: member.Size > 0, anomalies);
        }

        if (stream.Offset > MaxSkipBytes)
        {
            anomalies.Add(new ArchiveAnomaly(
                ArchiveAnomalyKind.MemberTooLarge,
                member.Name,
                $"its data starts {stream.Offset:N0} bytes into a solid block, past the {MaxSkipBytes:N0}-byte limit of data decoded only to be skipped; it was not read"));
            return new ArchiveMemberData(Array.Empty<byte>(), truncated: member.Size > 0, anomalies);
        }

        var windows = new List<ModelFileSourceStream>();
        long PackedConsumed()
        {
            long total = 0;
            foreach (ModelFileSourceStream window in windows)
            {
                total += window.HighWaterMark;
            }

            return total;
        }

        long limit = Math.Min(member.Size, Math.Max(0, maxBytes));
        var output = new BoundedOutput(limit, PackedConsumed, cancellationToken);
        bool complete = false;
        try
        {
            using Stream decoder = OpenFolderChecked(_source, _streamsInfo, folder, windows);
            if (Skip(decoder, stream.Offset, PackedConsumed, member, anomalies, cancellationToken))
            {
                Decompressor.Pump(new LimitedReadStream(decoder, limit), output, cancellationToken);
                complete = output.Count == member.Size;
                if (output.Count < limit && !output.Stopped)
                {
                    anomalies.Add(new ArchiveAnomaly(
                        ArchiveAnomalyKind.Truncated,
                        member.Name,
                        $"the block ended after {output.Count:N0} of the member's {member.Size:N0} bytes (truncated or corrupt)"));
                }
            }
        }
        catch (CompressedDataException e)
        {
            anomalies.Add(new ArchiveAnomaly(e.Kind, member.Name, $"{e.Message.Trim()}; {output.Count:N0} bytes were decoded before it"));
        }
        catch (Exception e) when (Decompressor.IsDecoderFailure(e) && !windows.Exists(w => w.SourceFailed))
        {
            anomalies.Add(SharpCompressCodecs.IsLibraryMissing(e)
                ? new ArchiveAnomaly(ArchiveAnomalyKind.UnsupportedMethod, member.Name, $"the 7z decoders could not be loaded in this PowerShell ({e.GetType().Name}: {e.Message.Trim()}); the member was not read")
                : new ArchiveAnomaly(
                    ArchiveAnomalyKind.Corrupt,
                    member.Name,
                    $"the packed data is corrupt or truncated ({e.GetType().Name}: {e.Message.Trim()}); {output.Count:N0} bytes were decoded before it"));
        }

        if (output.RatioExceeded)
        {
            anomalies.Add(new ArchiveAnomaly(
                ArchiveAnomalyKind.CompressionBomb,
                member.Name,
                $"{output.Count:N0} bytes decoded from {output.InputAtRatioStop:N0} packed bytes, past {BoundedOutput.MaxRatio}:1; decoding stopped there"));
        }
        else if (member.Size > limit && output.Count == limit)
        {
            anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.MemberTooLarge, member.Name, $"{member.Size:N0} bytes, over the {limit:N0}-byte limit; only its start was read"));
        }

        byte[] data = output.ToArray();
        if (complete && stream.Crc is uint expected)
        {
            uint actual = Checksums.Crc32(data, 0, data.Length);
            if (actual != expected)
            {
                anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.CrcMismatch, member.Name, $"the header stores CRC-32 {expected:x8} but the data has {actual:x8}"));
            }
        }

        return new ArchiveMemberData(data, truncated: data.Length < member.Size, anomalies);
    }

    private static SevenZipHeader? ReadHeader(ModelFileSource source, byte[] start, List<ArchiveAnomaly> anomalies, List<ModelFileSourceStream> windows, CancellationToken cancellationToken)
    {
        if (start.Length < SignatureHeaderSize)
        {
            anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.Truncated, null, "the file ends inside the 32-byte 7z signature header"));
            return null;
        }

        if (start[6] != 0)
        {
            anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.Other, null, $"7z format version {start[6]}.{start[7]}; only major version 0 exists"));
        }

        uint startCrc = BitConverter.ToUInt32(start, 8);
        if (Checksums.Crc32(start, 12, 20) != startCrc)
        {
            anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.Corrupt, null, "the signature header's CRC does not match (7-Zip refuses the archive)"));
        }

        ulong nextOffset = BitConverter.ToUInt64(start, 12);
        ulong nextSize = BitConverter.ToUInt64(start, 20);
        uint nextCrc = BitConverter.ToUInt32(start, 28);
        if (nextSize == 0)
        {
            return new SevenZipHeader();
        }

        long available = source.Length - SignatureHeaderSize;
        if (nextOffset > (ulong)available || nextSize > (ulong)available - nextOffset)
        {
            anomalies.Add(new ArchiveAnomaly(
                ArchiveAnomalyKind.Truncated,
                null,
                $"the header ({nextSize:N0} bytes at offset {SignatureHeaderSize + (decimal)nextOffset:N0}) lies past the end of the {source.Length:N0}-byte file (truncated); no member could be listed"));
            return null;
        }

        if (nextSize > MaxHeaderBytes)
        {
            anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.Other, null, $"the header is {nextSize:N0} bytes, over the {MaxHeaderBytes:N0}-byte limit; it was not read"));
            return null;
        }

        long headerOffset = SignatureHeaderSize + (long)nextOffset;
        long headerEnd = headerOffset + (long)nextSize;
        if (headerEnd < source.Length)
        {
            anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.DataOutsideEntries, null, $"{source.Length - headerEnd:N0} bytes follow the end of the 7z header (at offset {headerEnd:N0})"));
        }

        byte[] data = source.ReadBlock(headerOffset, (int)nextSize);
        if (Checksums.Crc32(data, 0, data.Length) != nextCrc)
        {
            anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.Corrupt, null, "the header's CRC does not match (7-Zip refuses the archive); it was read anyway"));
        }

        // Pack streams of every level (the packed header's and the members'), to find gaps and overlaps.
        var packed = new List<(decimal Start, decimal End)>();
        for (int level = 0; level < MaxHeaderNesting; level++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            SevenZipHeader header = SevenZipHeader.Parse(data);
            AddPackRanges(header.Streams, packed);
            if (!header.IsEncoded)
            {
                CheckPackedLayout(packed, headerOffset, anomalies);
                return header;
            }

            byte[]? decoded = DecodeHeader(source, header.Streams, anomalies, windows, cancellationToken);
            if (decoded is null)
            {
                return null;
            }

            data = decoded;
        }

        anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.Corrupt, null, $"the header is encoded more than {MaxHeaderNesting} times over"));
        return null;
    }

    // An encoded header: the real header, packed (and maybe encrypted) in the first folder.
    private static byte[]? DecodeHeader(ModelFileSource source, SevenZipStreams streams, List<ArchiveAnomaly> anomalies, List<ModelFileSourceStream> windows, CancellationToken cancellationToken)
    {
        if (streams.Folders.Count == 0)
        {
            throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, "the 7z encoded header has no folder to decode");
        }

        SevenZipFolder folder = streams.Folders[0];
        if (folder.IsEncrypted)
        {
            anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.Encrypted, null, "the archive's headers are encrypted (7z -mhe): member names and contents cannot be read without the password"));
            return null;
        }

        string? problem = FolderProblem(folder);
        if (problem is not null)
        {
            anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.UnsupportedMethod, null, $"the archive's header is packed with an unsupported method: {problem}"));
            return null;
        }

        if (folder.UnpackSize > MaxHeaderBytes)
        {
            anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.Other, null, $"the packed header declares {folder.UnpackSize:N0} bytes, over the {MaxHeaderBytes:N0}-byte limit; it was not read"));
            return null;
        }

        CheckPackStreams(source, streams, folder);
        var output = new BoundedOutput(folder.UnpackSize, () => 0, cancellationToken);
        using (Stream decoder = OpenFolderChecked(source, streams, folder, windows))
        {
            Decompressor.Pump(new LimitedReadStream(decoder, folder.UnpackSize), output, cancellationToken);
        }

        if (output.Count != folder.UnpackSize)
        {
            throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, $"the 7z packed header decodes to {output.Count:N0} bytes, not the {folder.UnpackSize:N0} declared");
        }

        byte[] data = output.ToArray();
        if (folder.Crc is uint crc && Checksums.Crc32(data, 0, data.Length) != crc)
        {
            anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.Corrupt, null, "the packed header's CRC does not match; it was read anyway"));
        }

        return data;
    }

    private static void List(ModelFileSource source, SevenZipHeader header, List<ArchiveMember> members, Dictionary<ArchiveMember, SevenZipSubStream> streams, List<ArchiveAnomaly> anomalies)
    {
        var counts = new Dictionary<ArchiveAnomalyKind, int>();
        void AddLimited(ArchiveAnomalyKind kind, string? member, string detail)
        {
            counts.TryGetValue(kind, out int seen);
            counts[kind] = seen + 1;
            if (seen < MaxRepeatedAnomalies)
            {
                anomalies.Add(new ArchiveAnomaly(kind, member, detail));
            }
        }

        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        var reportedFolders = new HashSet<SevenZipFolder>();
        int streamIndex = 0;
        for (int i = 0; i < header.Files.Count; i++)
        {
            SevenZipFile file = header.Files[i];
            SevenZipSubStream? stream = null;
            if (file.HasStream)
            {
                if (streamIndex >= header.Streams.SubStreams.Count)
                {
                    anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.Corrupt, file.Name, "the file list has more members with data than the archive has data streams; the rest have no data"));
                    break;
                }

                stream = header.Streams.SubStreams[streamIndex++];
            }

            bool encrypted = stream?.Folder.IsEncrypted ?? false;
            var member = new ArchiveMember(file.Name, stream?.Size ?? 0, file.IsDirectory, encrypted);
            members.Add(member);
            if (stream is not null)
            {
                streams[member] = stream;
            }

            string? unsafeReason = ArchivePaths.UnsafeReason(file.Name);
            if (unsafeReason is not null)
            {
                AddLimited(ArchiveAnomalyKind.UnsafeName, file.Name, $"the member name escapes the extraction folder: {unsafeReason}");
            }

            if (names.TryGetValue(file.Name, out int first))
            {
                AddLimited(ArchiveAnomalyKind.DuplicateName, file.Name, $"members {first + 1} and {i + 1} have the same name");
            }
            else
            {
                names[file.Name] = i;
            }

            if (file.IsAnti)
            {
                AddLimited(ArchiveAnomalyKind.Other, file.Name, "an anti-item: extracting it deletes the file of that name");
            }

            if (encrypted)
            {
                AddLimited(ArchiveAnomalyKind.Encrypted, file.Name, "the member is encrypted (7zAES); its content cannot be read without the password");
            }
            else if (stream is not null && FolderProblem(stream.Folder) is string problem && reportedFolders.Add(stream.Folder))
            {
                AddLimited(ArchiveAnomalyKind.UnsupportedMethod, file.Name, $"{problem}; the members of its block cannot be read");
            }
        }

        if (streamIndex < header.Streams.SubStreams.Count)
        {
            anomalies.Add(new ArchiveAnomaly(
                ArchiveAnomalyKind.DataOutsideEntries,
                null,
                $"{header.Streams.SubStreams.Count - streamIndex:N0} data streams belong to no member in the file list"));
        }

        foreach (KeyValuePair<ArchiveAnomalyKind, int> count in counts)
        {
            if (count.Value > MaxRepeatedAnomalies)
            {
                anomalies.Add(new ArchiveAnomaly(count.Key, null, $"{count.Value - MaxRepeatedAnomalies:N0} more members like the above"));
            }
        }

        foreach (SevenZipFolder folder in header.Streams.Folders)
        {
            long packed = PackedSize(header.Streams, folder);
            if (folder.UnpackSize > BoundedOutput.RatioFloor && folder.UnpackSize > BoundedOutput.MaxRatio * Math.Max(packed, 1))
            {
                anomalies.Add(new ArchiveAnomaly(
                    ArchiveAnomalyKind.CompressionBomb,
                    null,
                    $"a block declares {folder.UnpackSize:N0} bytes packed in {packed:N0}, past {BoundedOutput.MaxRatio}:1"));
            }

            if (!PackStreamsFit(source, header.Streams, folder))
            {
                anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.Truncated, null, "a block's packed data lies past the end of the file (truncated); its members cannot be read"));
            }
        }
    }

    private static void AddPackRanges(SevenZipStreams streams, List<(decimal Start, decimal End)> ranges)
    {
        decimal offset = SignatureHeaderSize + (decimal)streams.PackPosition;
        foreach (long size in streams.PackSizes)
        {
            ranges.Add((offset, offset + size));
            offset += size;
        }
    }

    // Pack streams fill the space between the signature header and the header; a gap hides bytes.
    private static void CheckPackedLayout(List<(decimal Start, decimal End)> ranges, long headerOffset, List<ArchiveAnomaly> anomalies)
    {
        ranges.Sort((a, b) => a.Start.CompareTo(b.Start));
        decimal cursor = SignatureHeaderSize;
        bool overlap = false;
        decimal hidden = 0;
        foreach ((decimal start, decimal end) in ranges)
        {
            if (start > cursor)
            {
                hidden += start - cursor;
            }
            else if (start < cursor && end > start)
            {
                overlap = true;
            }

            cursor = Math.Max(cursor, end);
        }

        if (cursor < headerOffset)
        {
            hidden += headerOffset - cursor;
        }
        else if (cursor > headerOffset)
        {
            overlap = true;
        }

        if (hidden > 0)
        {
            anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.DataOutsideEntries, null, $"{hidden:N0} bytes before the header belong to no packed stream"));
        }

        if (overlap)
        {
            anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.OverlappingEntries, null, "packed streams overlap each other or the header"));
        }
    }

    private static long PackedSize(SevenZipStreams streams, SevenZipFolder folder)
    {
        long total = 0;
        for (int k = 0; k < folder.PackedStreams.Length; k++)
        {
            int index = folder.FirstPackStream + k;
            if (index < streams.PackSizes.Length)
            {
                total += streams.PackSizes[index];
            }
        }

        return total;
    }

    private static bool PackStreamsFit(ModelFileSource source, SevenZipStreams streams, SevenZipFolder folder)
    {
        decimal offset = SignatureHeaderSize + (decimal)streams.PackPosition;
        for (int i = 0; i < folder.FirstPackStream + folder.PackedStreams.Length; i++)
        {
            if (i >= streams.PackSizes.Length)
            {
                return false;
            }

            offset += streams.PackSizes[i];
        }

        return offset <= source.Length;
    }

    private static void CheckPackStreams(ModelFileSource source, SevenZipStreams streams, SevenZipFolder folder)
    {
        if (!PackStreamsFit(source, streams, folder))
        {
            throw new CompressedDataException(ArchiveAnomalyKind.Truncated, "the 7z packed data lies past the end of the file (truncated)");
        }
    }

    /// <summary>Why the folder cannot be decoded here (encryption, an unsupported coder or layout), or null.</summary>
    private static string? FolderProblem(SevenZipFolder folder)
    {
        if (folder.IsEncrypted)
        {
            return "the block is encrypted (7zAES)";
        }

        foreach (SevenZipCoder coder in folder.Coders)
        {
            if (coder.InStreams != 1 || coder.OutStreams != 1)
            {
                return $"the block uses {coder.Name}, a multi-stream coder this reader does not support";
            }

            switch (coder.Method)
            {
                case SevenZipCoder.Copy:
                case SevenZipCoder.Lzma2:
                case SevenZipCoder.Lzma:
                case SevenZipCoder.Deflate:
                case SevenZipCoder.Deflate64:
                case SevenZipCoder.Bzip2:
                case SevenZipCoder.Zstd:
                case SevenZipCoder.BcjX86:
                    break;
                case SevenZipCoder.Delta:
                    if (coder.Properties.Length != 1)
                    {
                        return "the block's Delta filter has invalid properties";
                    }

                    break;
                case SevenZipCoder.Ppmd:
                    if (coder.Properties.Length != 5 || coder.Properties[0] is < 2 or > 32)
                    {
                        return "the block's PPMd coder has invalid properties";
                    }

                    uint memory = BitConverter.ToUInt32(coder.Properties, 1);
                    if (memory is < 2048 or > MaxPpmdMemory)
                    {
                        return $"the block's PPMd coder asks for {memory:N0} bytes of model memory (limit {MaxPpmdMemory:N0})";
                    }

                    break;
                default:
                    return $"the block uses {coder.Name}, which this reader does not support";
            }
        }

        return folder.MainOutput < 0 ? "the block's coders have no unbound output" : null;
    }

    private static Stream OpenFolderChecked(ModelFileSource source, SevenZipStreams streams, SevenZipFolder folder, List<ModelFileSourceStream> windows)
    {
        CheckPackStreams(source, streams, folder);
        long packOffset = SignatureHeaderSize + streams.PackPosition;
        for (int i = 0; i < folder.FirstPackStream; i++)
        {
            packOffset += streams.PackSizes[i];
        }

        return OpenCoderOutput(source, streams, folder, folder.MainOutput, packOffset, windows, depth: 0);
    }

    // Coders here have one input and one output each, so coder i owns input stream i and output stream i.
    private static Stream OpenCoderOutput(ModelFileSource source, SevenZipStreams streams, SevenZipFolder folder, int coderIndex, long packOffset, List<ModelFileSourceStream> windows, int depth)
    {
        if (depth > folder.Coders.Count)
        {
            throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, "the 7z block's coders are bound in a cycle");
        }

        SevenZipCoder coder = folder.Coders[coderIndex];
        Stream input;
        int bound = folder.BindPairs.FindIndex(p => p.In == coderIndex);
        if (bound >= 0)
        {
            int from = folder.BindPairs[bound].Out;
            input = OpenCoderOutput(source, streams, folder, from, packOffset, windows, depth + 1);
        }
        else
        {
            int k = Array.IndexOf(folder.PackedStreams, coderIndex);
            if (k < 0)
            {
                throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, "a 7z coder's input is neither bound nor packed");
            }

            long offset = packOffset;
            for (int j = 0; j < k; j++)
            {
                offset += streams.PackSizes[folder.FirstPackStream + j];
            }

            var window = new ModelFileSourceStream(source, offset, streams.PackSizes[folder.FirstPackStream + k]);
            windows.Add(window);
            input = window;
        }

        long outputSize = folder.UnpackSizes[coderIndex];
        byte[] properties = coder.Properties;
        switch (coder.Method)
        {
            case SevenZipCoder.Copy:
                return input;
            case SevenZipCoder.Delta:
                return new DeltaDecoderStream(input, properties[0] + 1);
            case SevenZipCoder.Lzma:
            case SevenZipCoder.Lzma2:
                return SharpCompressCodecs.Lzma(properties, input, -1, outputSize, isLzma2: coder.Method == SevenZipCoder.Lzma2, leaveOpen: false);
            case SevenZipCoder.Ppmd:
                return SharpCompressCodecs.Ppmd(properties, input);
            case SevenZipCoder.Bzip2:
                return SharpCompressCodecs.Bzip2(input, concatenated: false, leaveOpen: false);
            case SevenZipCoder.Deflate:
                return new System.IO.Compression.DeflateStream(input, System.IO.Compression.CompressionMode.Decompress);
            case SevenZipCoder.Deflate64:
                return SharpCompressCodecs.Deflate64(input);
            case SevenZipCoder.Zstd:
                return SharpCompressCodecs.Zstd(input, leaveOpen: false);
            case SevenZipCoder.BcjX86:
                // 7-Zip applies it to anything that looks like x86 code, pickles included (picklescan's malicious1.7z).
                return SharpCompressCodecs.BcjX86(input);
            default:
                throw new CompressedDataException(ArchiveAnomalyKind.UnsupportedMethod, $"the 7z block uses {coder.Name}");
        }
    }

    // Decodes and drops the solid block's data before the member, with the bomb ratio still watched.
    private static bool Skip(Stream decoder, long count, Func<long> packedConsumed, ArchiveMember member, List<ArchiveAnomaly> anomalies, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        long skipped = 0;
        while (skipped < count)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int read = decoder.Read(buffer, 0, (int)Math.Min(buffer.Length, count - skipped));
            if (read <= 0)
            {
                anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.Truncated, member.Name, $"the solid block ended after {skipped:N0} bytes, before the member's data at {count:N0}"));
                return false;
            }

            skipped += read;
            long consumed = packedConsumed();
            if (skipped > BoundedOutput.RatioFloor && skipped > BoundedOutput.MaxRatio * Math.Max(consumed, 1))
            {
                anomalies.Add(new ArchiveAnomaly(
                    ArchiveAnomalyKind.CompressionBomb,
                    member.Name,
                    $"{skipped:N0} bytes of the solid block before the member decoded from {consumed:N0} packed bytes, past {BoundedOutput.MaxRatio}:1; decoding stopped there"));
                return false;
            }
        }

        return true;
    }
}

/// <summary>A member of a 7z (or other non-tar) archive.</summary>
internal sealed class ArchiveMember
{
    public ArchiveMember(string name, long size, bool isDirectory, bool isEncrypted)
    {
        Name = name;
        Size = size;
        IsDirectory = isDirectory;
        IsEncrypted = isEncrypted;
    }

    public string Name { get; }

    /// <summary>Decoded size, as the header declares it.</summary>
    public long Size { get; }

    public bool IsDirectory { get; }

    public bool IsEncrypted { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Size:N0} bytes)";
}

/// <summary>What reading one member gave: its data (or the start of it) and what went wrong.</summary>
internal sealed class ArchiveMemberData
{
    public ArchiveMemberData(byte[] data, bool truncated, IReadOnlyList<ArchiveAnomaly> anomalies)
    {
        Data = data;
        Truncated = truncated;
        Anomalies = anomalies;
    }

    public byte[] Data { get; }

    /// <summary>Fewer bytes than the member's size: a limit, bad data, encryption or an unsupported method.</summary>
    public bool Truncated { get; }

    /// <summary>Problems met while reading this member (the reader's own list holds those found when listing).</summary>
    public IReadOnlyList<ArchiveAnomaly> Anomalies { get; }
}
