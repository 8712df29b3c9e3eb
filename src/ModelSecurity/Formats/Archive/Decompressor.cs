using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;
using ModelSecurity.Analysis;

namespace ModelSecurity.Formats.Archive;

/// <summary>
/// Decodes a whole compressed file (what <see cref="CompressionSniffer"/> recognised) into memory,
/// within an output limit and the <see cref="BoundedOutput.MaxRatio"/>:1 bomb ratio, both enforced
/// while decoding. Bad data never throws: what was decoded is returned with a
/// <see cref="ArchiveAnomalyKind.Corrupt"/> anomaly. Concatenated streams are read the way Python
/// reads them (gzip members, bzip2 and xz streams, LZ4 frames, zstd frames).
/// </summary>
internal static class Decompressor
{
    // joblib's old "ZF" files: "ZF", then the data length in hex, left-justified in 19 characters.
    private const int ZfileHeaderLength = 2 + 19;
    private const int PumpChunk = 64 * 1024;

    public static DecompressedData Decompress(ModelFormat format, ModelFileSource source, long maxOutputBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);

        cancellationToken.ThrowIfCancellationRequested();
        var input = new ModelFileSourceStream(source);
        var progress = new InputProgress(input);
        var anomalies = new List<ArchiveAnomaly>();
        var output = new BoundedOutput(maxOutputBytes, () => progress.Consumed, cancellationToken);

        try
        {
            switch (format)
            {
                case ModelFormat.Gzip:
                    progress.Bits = new BitReader(input);
                    DecodeGzip(progress.Bits, input.Length, output, anomalies, cancellationToken);
                    break;
                case ModelFormat.Zlib:
                    DecodeZlib(source, progress, output, anomalies, cancellationToken);
                    break;
                case ModelFormat.Lz4:
                    Lz4FrameDecoder.Decode(input, output, anomalies, cancellationToken);
                    break;
                case ModelFormat.Bzip2:
                    using (Stream bzip2 = SharpCompressCodecs.Bzip2(input, concatenated: true, leaveOpen: true))
                    {
                        Pump(bzip2, output, cancellationToken);
                    }

                    break;
                case ModelFormat.Xz:
                    DecodeXz(source, progress, output, anomalies, cancellationToken);
                    break;
                case ModelFormat.Lzma:
                    DecodeLzmaAlone(input, output, anomalies, cancellationToken);
                    break;
                case ModelFormat.Zstd:
                    using (Stream zstd = SharpCompressCodecs.Zstd(input, leaveOpen: true))
                    {
                        Pump(zstd, output, cancellationToken);
                    }

                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(format), format, "Not a compressed-stream format.");
            }
        }
        catch (CompressedDataException e)
        {
            anomalies.Add(new ArchiveAnomaly(e.Kind, null, $"{e.Message.Trim()}; {output.Count:N0} bytes were decoded before it"));
        }
        catch (Exception e) when (IsDecoderFailure(e) && !progress.SourceFailed)
        {
            // The decoders' own words for bad data (SharpCompress, zstd): the stream is corrupt or truncated.
            anomalies.Add(SharpCompressCodecs.IsLibraryMissing(e)
                ? new ArchiveAnomaly(ArchiveAnomalyKind.UnsupportedMethod, null, $"the {FormatName(format)} decoder could not be loaded in this PowerShell ({e.GetType().Name}: {e.Message.Trim()}); the data was not decoded")
                : new ArchiveAnomaly(
                    ArchiveAnomalyKind.Corrupt,
                    null,
                    $"the {FormatName(format)} data is corrupt or truncated ({e.GetType().Name}: {e.Message.Trim()}); {output.Count:N0} bytes were decoded before it"));
        }

        if (output.RatioExceeded)
        {
            anomalies.Add(new ArchiveAnomaly(
                ArchiveAnomalyKind.CompressionBomb,
                null,
                $"{output.Count:N0} bytes decoded from {output.InputAtRatioStop:N0} compressed bytes, past {BoundedOutput.MaxRatio}:1; decoding stopped there"));
        }
        else if (output.LimitReached)
        {
            anomalies.Add(new ArchiveAnomaly(
                ArchiveAnomalyKind.CompressionBomb,
                null,
                $"the decoded data is larger than the {output.Count:N0}-byte limit ({progress.Consumed:N0} compressed bytes read); decoding stopped there"));
        }

        return new DecompressedData(output.ToArray(), output.Stopped, anomalies, progress.Consumed);
    }

    private static void DecodeGzip(BitReader bits, long length, BoundedOutput output, List<ArchiveAnomaly> anomalies, CancellationToken cancellationToken)
    {
        int member = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long memberOffset = bits.BytesConsumed;
            int id1 = bits.ReadAlignedByte();
            if (member > 0)
            {
                // Python's gzip skips zero padding between and after members.
                while (id1 == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    id1 = bits.ReadAlignedByte();
                }

                if (id1 < 0)
                {
                    return;
                }

                memberOffset = bits.BytesConsumed - 1;
                int id2 = bits.ReadAlignedByte();
                if (id1 != 0x1F || id2 != 0x8B)
                {
                    anomalies.Add(new ArchiveAnomaly(
                        ArchiveAnomalyKind.DataOutsideEntries,
                        null,
                        $"{length - memberOffset:N0} bytes after the last gzip member (at offset {memberOffset:N0}) are not a gzip member; Python's gzip fails there after decoding the members before"));
                    return;
                }
            }
            else if (id1 != 0x1F || bits.ReadAlignedByte() != 0x8B)
            {
                throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, "the data does not start with a gzip header");
            }

            ReadGzipHeader(bits, member);
            int start = output.Count;
            if (!Inflater.Inflate(bits, output, cancellationToken))
            {
                return;
            }

            bits.AlignToByte();
            uint crc = ReadTrailerWord(bits, littleEndian: true, "gzip");
            uint size = ReadTrailerWord(bits, littleEndian: true, "gzip");
            uint actualCrc = Checksums.Crc32(output.Buffer, start, output.Count - start);
            if (crc != actualCrc)
            {
                anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.CrcMismatch, null, $"gzip member {member + 1} (at offset {memberOffset:N0}) stores CRC-32 {crc:x8} but its data has {actualCrc:x8}"));
            }

            if (size != (uint)(output.Count - start))
            {
                anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.SizeMismatch, null, $"gzip member {member + 1} (at offset {memberOffset:N0}) stores size {size:N0} (mod 2^32) but decodes to {output.Count - start:N0} bytes"));
            }

            member++;
        }
    }

    // RFC 1952: CM, FLG, MTIME, XFL, OS, then optional extra field, name, comment and header CRC.
    private static void ReadGzipHeader(BitReader bits, int member)
    {
        int method = bits.ReadAlignedByte();
        int flags = bits.ReadAlignedByte();
        for (int i = 0; i < 6; i++)
        {
            RequireByte(bits);
        }

        if (method != 8)
        {
            throw new CompressedDataException(ArchiveAnomalyKind.UnsupportedMethod, $"gzip member {member + 1} uses compression method {method}, not deflate");
        }

        if ((flags & 0x04) != 0)
        {
            int extraLength = RequireByte(bits) | (RequireByte(bits) << 8);
            for (int i = 0; i < extraLength; i++)
            {
                RequireByte(bits);
            }
        }

        if ((flags & 0x08) != 0)
        {
            while (RequireByte(bits) != 0)
            {
            }
        }

        if ((flags & 0x10) != 0)
        {
            while (RequireByte(bits) != 0)
            {
            }
        }

        if ((flags & 0x02) != 0)
        {
            RequireByte(bits);
            RequireByte(bits);
        }
    }

    private static int RequireByte(BitReader bits)
    {
        int value = bits.ReadAlignedByte();
        return value >= 0 ? value : throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, "the data ends inside a gzip header (truncated)");
    }

    private static uint ReadTrailerWord(BitReader bits, bool littleEndian, string format)
    {
        uint value = 0;
        for (int i = 0; i < 4; i++)
        {
            int b = bits.ReadAlignedByte();
            if (b < 0)
            {
                throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, $"the {format} stream ends inside its trailer (truncated)");
            }

            value = littleEndian ? value | ((uint)b << (8 * i)) : (value << 8) | (uint)b;
        }

        return value;
    }

    private static void DecodeZlib(ModelFileSource source, InputProgress progress, BoundedOutput output, List<ArchiveAnomaly> anomalies, CancellationToken cancellationToken)
    {
        long start = 0;
        long? declaredLength = null;
        byte[] head = source.ReadBlock(0, ZfileHeaderLength + 1);
        if (head.Length >= 2 && head[0] == (byte)'Z' && head[1] == (byte)'F')
        {
            // joblib's read_zfile: the header, then one optional space, then a zlib stream.
            declaredLength = ParseZfileLength(head);
            start = head.Length > ZfileHeaderLength && head[ZfileHeaderLength] == (byte)' ' ? ZfileHeaderLength + 1 : ZfileHeaderLength;
            if (declaredLength is null)
            {
                anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.Corrupt, null, "the joblib ZF header holds no hexadecimal length"));
            }
        }

        var input = new ModelFileSourceStream(source, start);
        var bits = new BitReader(input);
        progress.Set(input, start, bits);
        int cmf = bits.ReadAlignedByte();
        int flg = bits.ReadAlignedByte();
        if (cmf < 0 || flg < 0 || (cmf & 0x0F) != 8 || (cmf >> 4) > 7 || ((cmf << 8) | flg) % 31 != 0)
        {
            throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, $"no valid zlib header at offset {start:N0}");
        }

        if ((flg & 0x20) != 0)
        {
            throw new CompressedDataException(ArchiveAnomalyKind.UnsupportedMethod, "the zlib stream needs a preset dictionary that the file does not carry");
        }

        BitReader reader = bits;
        if (!Inflater.Inflate(reader, output, cancellationToken))
        {
            return;
        }

        reader.AlignToByte();
        uint adler = ReadTrailerWord(reader, littleEndian: false, "zlib");
        uint actual = Checksums.Adler32(output.Buffer, 0, output.Count);
        if (adler != actual)
        {
            anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.CrcMismatch, null, $"the zlib stream stores Adler-32 {adler:x8} but its data has {actual:x8}"));
        }

        if (declaredLength is long declared && declared != output.Count)
        {
            anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.SizeMismatch, null, $"the joblib ZF header declares {declared:N0} bytes but the stream decodes to {output.Count:N0}"));
        }

        long end = start + reader.BytesConsumed;
        if (end < source.Length)
        {
            // zlib (and joblib's readers over it) stop at the end of the stream and ignore the rest.
            anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.DataOutsideEntries, null, $"{source.Length - end:N0} bytes follow the end of the zlib stream (at offset {end:N0})"));
        }
    }

    private static long? ParseZfileLength(byte[] head)
    {
        string text = Encoding.ASCII.GetString(head, 2, Math.Min(head.Length, ZfileHeaderLength) - 2).Trim();
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            text = text.Substring(2);
        }

        // Python 2 wrote longs with an "L" suffix.
        text = text.TrimEnd('L', 'l');
        return text.Length is > 0 and <= 16 && long.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long value) && value >= 0
            ? value
            : null;
    }

    private static void DecodeXz(ModelFileSource source, InputProgress progress, BoundedOutput output, List<ArchiveAnomaly> anomalies, CancellationToken cancellationToken)
    {
        // Python's lzma reads concatenated .xz streams (with zero padding between them), so do we:
        // each stream gets its own window, opened where the previous one's footer ended.
        long offset = 0;
        ModelFileSourceStream window = progress.Stream;
        while (true)
        {
            using (Stream xz = SharpCompressCodecs.Xz(window))
            {
                Pump(xz, output, cancellationToken);
            }

            if (output.Stopped)
            {
                return;
            }

            offset += window.Position;
            while (offset < source.Length)
            {
                byte[] padding = source.ReadBlock(offset, 4);
                if (padding.Length == 4 && padding[0] == 0 && padding[1] == 0 && padding[2] == 0 && padding[3] == 0)
                {
                    offset += 4;
                    continue;
                }

                break;
            }

            if (offset >= source.Length)
            {
                return;
            }

            byte[] magic = source.ReadBlock(offset, 6);
            if (magic.Length < 6 || magic[0] != 0xFD || magic[1] != (byte)'7' || magic[2] != (byte)'z' || magic[3] != (byte)'X' || magic[4] != (byte)'Z' || magic[5] != 0)
            {
                anomalies.Add(new ArchiveAnomaly(
                    ArchiveAnomalyKind.DataOutsideEntries,
                    null,
                    $"{source.Length - offset:N0} bytes after the last xz stream (at offset {offset:N0}) are not an xz stream; Python's lzma fails there after decoding the streams before"));
                return;
            }

            cancellationToken.ThrowIfCancellationRequested();
            window = new ModelFileSourceStream(source, offset);
            progress.Set(window, offset, null);
        }
    }

    // .lzma ("lzma alone"): properties, dictionary size, then the uncompressed size or all ones.
    private static void DecodeLzmaAlone(ModelFileSourceStream input, BoundedOutput output, List<ArchiveAnomaly> anomalies, CancellationToken cancellationToken)
    {
        var header = new byte[13];
        if (input.Read(header, 0, header.Length) != header.Length)
        {
            throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, "the data ends inside the .lzma header (truncated)");
        }

        if (header[0] >= 9 * 5 * 5)
        {
            throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, "the .lzma header has invalid lc/lp/pb properties");
        }

        long declared = BitConverter.ToInt64(header, 5);
        bool sizeKnown = declared != -1;
        if (sizeKnown && declared < 0)
        {
            throw new CompressedDataException(ArchiveAnomalyKind.Corrupt, "the .lzma header declares a negative size");
        }

        byte[] properties = new byte[5];
        Array.Copy(header, properties, 5);
        using (Stream lzma = SharpCompressCodecs.Lzma(properties, new EndOfInputGuardStream(input), input.Length - header.Length, sizeKnown ? declared : -1, isLzma2: false, leaveOpen: true))
        {
            Pump(lzma, output, cancellationToken);
        }

        if (sizeKnown && !output.Stopped && output.Count != declared)
        {
            anomalies.Add(new ArchiveAnomaly(ArchiveAnomalyKind.Corrupt, null, $"the .lzma header declares {declared:N0} bytes but only {output.Count:N0} were decoded (truncated)"));
        }
    }

    /// <summary>Reads a decoder stream into the output until it ends or a bound stops it.</summary>
    internal static void Pump(Stream decoder, BoundedOutput output, CancellationToken cancellationToken)
    {
        var chunk = new byte[PumpChunk];
        while (!output.Stopped)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int read = decoder.Read(chunk, 0, chunk.Length);
            if (read <= 0)
            {
                return;
            }

            output.Append(chunk, 0, read);
        }
    }

    /// <summary>True for an exception a decoder throws on bad data: not cancellation, not memory (check the file separately).</summary>
    internal static bool IsDecoderFailure(Exception e) => e is not OperationCanceledException and not OutOfMemoryException and not ScanBudgetExceededException;

    private static string FormatName(ModelFormat format) => format switch
    {
        ModelFormat.Bzip2 => "bzip2",
        ModelFormat.Xz => "xz",
        ModelFormat.Lzma => ".lzma",
        ModelFormat.Zstd => "Zstandard",
        ModelFormat.Lz4 => "LZ4",
        ModelFormat.Gzip => "gzip",
        _ => "zlib",
    };
}

/// <summary>How far into the file decoding got: the current window's position plus what its decoder used.</summary>
internal sealed class InputProgress
{
    private readonly List<ModelFileSourceStream> _windows = new();
    private long _base;

    public InputProgress(ModelFileSourceStream stream)
    {
        Stream = stream;
        _windows.Add(stream);
    }

    public ModelFileSourceStream Stream { get; private set; }

    public BitReader? Bits { get; set; }

    /// <summary>Compressed bytes consumed, from the start of the file.</summary>
    public long Consumed => _base + (Bits?.BytesConsumed ?? Stream.HighWaterMark);

    /// <summary>True when reading the file itself failed (an I/O error to pass on, not bad data).</summary>
    public bool SourceFailed => _windows.Exists(w => w.SourceFailed);

    public void Set(ModelFileSourceStream stream, long offset, BitReader? bits)
    {
        Stream = stream;
        _windows.Add(stream);
        _base = offset;
        Bits = bits;
    }
}

/// <summary>What <see cref="Decompressor"/> decoded, and what stopped it or looked wrong on the way.</summary>
internal sealed class DecompressedData
{
    public DecompressedData(byte[] data, bool truncated, IReadOnlyList<ArchiveAnomaly> anomalies, long compressedBytesRead)
    {
        Data = data;
        Truncated = truncated;
        Anomalies = anomalies;
        CompressedBytesRead = compressedBytesRead;
    }

    /// <summary>The decoded bytes: all of them, or those before a limit or bad data stopped decoding.</summary>
    public byte[] Data { get; }

    /// <summary>The output limit or the bomb ratio stopped decoding before the end of the data.</summary>
    public bool Truncated { get; }

    /// <summary>Corrupt or truncated data, checksum and size mismatches, trailing data, compression bombs.</summary>
    public IReadOnlyList<ArchiveAnomaly> Anomalies { get; }

    /// <summary>Compressed bytes the decoder consumed.</summary>
    public long CompressedBytesRead { get; }
}
