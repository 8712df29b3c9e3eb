using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using System.Threading;
using ModelSecurity.Formats;
using ModelSecurity.Formats.Archive;
using SharpCompress.Common;
using SharpCompress.Compressors.BZip2;
using SharpCompress.Compressors.LZMA;
using SharpCompress.Writers.SevenZip;
using Xunit;
using SharpCompressionMode = SharpCompress.Compressors.CompressionMode;
using Tar = System.Formats.Tar;
using ZstdCompressionStream = SharpCompress.Compressors.ZStandard.CompressionStream;

namespace ModelSecurity.Tests;

/// <summary>
/// The bounded readers for compressed streams, tar and 7z: round trips against the real writers
/// (System.IO.Compression, System.Formats.Tar, SharpCompress, and tiny fixtures made with the xz,
/// lzma, lz4 and 7zz tools), then truncation, corruption, bombs and hostile member names.
/// </summary>
public class ArchiveReaderTests
{
    private const long Limit = 64L * 1024 * 1024;

    // The text the xz, lzma and lz4 fixtures hold (printf of these lines, 216,000 bytes).
    private static readonly byte[] FixtureText = Encoding.ASCII.GetBytes(
        string.Concat(Enumerable.Range(0, 6000).Select(i => $"line {i % 10}: model weights and pickles {i % 7}\n")));

    private static readonly CompressionLevel[] Levels = { CompressionLevel.NoCompression, CompressionLevel.Fastest, CompressionLevel.Optimal, CompressionLevel.SmallestSize };

    private static readonly byte[] Hello7z = Encoding.ASCII.GetBytes("hello 7z\n");
    private static readonly byte[] SecondFile = Encoding.ASCII.GetBytes("second file\n");

    public static TheoryData<string> DeflatePayloadNames() => new() { "empty", "one-byte", "text", "random", "runs", "mixed", "zeros-1mb" };

    // ---------------------------------------------------------------- gzip and zlib (own inflater)

    [Theory]
    [MemberData(nameof(DeflatePayloadNames))]
    public void Gzip_RoundTripsAtEveryLevel(string payloadName)
    {
        byte[] payload = Payload(payloadName);
        foreach (CompressionLevel level in Levels)
        {
            byte[] gzip = Gzip(payload, level);
            if (gzip.Length == 0)
            {
                // GZipStream writes nothing at all for no data; an empty file is the sniffer's "Empty".
                continue;
            }

            DecompressedData result = Decompress(ModelFormat.Gzip, gzip);

            Assert.Equal(payload, result.Data);
            Assert.False(result.Truncated);
            Assert.Empty(result.Anomalies);
        }
    }

    [Theory]
    [MemberData(nameof(DeflatePayloadNames))]
    public void Zlib_RoundTripsAtEveryLevel(string payloadName)
    {
        byte[] payload = Payload(payloadName);
        foreach (CompressionLevel level in Levels)
        {
            byte[] zlib = Zlib(payload, level);
            if (zlib.Length == 0)
            {
                continue;
            }

            DecompressedData result = Decompress(ModelFormat.Zlib, zlib);

            Assert.Equal(payload, result.Data);
            Assert.Empty(result.Anomalies);
            Assert.Equal(zlib.Length, result.CompressedBytesRead);
        }
    }

    [Fact]
    public void Inflater_MatchesTheFrameworkOnManyRandomInputs()
    {
        var random = new Random(1234);
        for (int i = 0; i < 150; i++)
        {
            byte[] payload = RandomPayload(random, random.Next(0, 200_000));
            CompressionLevel level = (CompressionLevel)random.Next(0, 4);
            DecompressedData result = Decompress(ModelFormat.Gzip, Gzip(payload, level));

            Assert.True(payload.AsSpan().SequenceEqual(result.Data), $"case {i}: {payload.Length} bytes at {level}");
            Assert.Empty(result.Anomalies);
        }
    }

    [Fact]
    public void Gzip_ReadsConcatenatedMembers_AndZeroPadding_LikePython()
    {
        byte[] first = Encoding.ASCII.GetBytes("first member\n");
        byte[] second = Payload("text");
        byte[] file = Concat(Gzip(first), Gzip(second), new byte[100]);

        DecompressedData result = Decompress(ModelFormat.Gzip, file);

        Assert.Equal(Concat(first, second), result.Data);
        Assert.Empty(result.Anomalies);
    }

    [Fact]
    public void Gzip_SkipsTheOptionalHeaderFields()
    {
        byte[] content = Payload("text");
        byte[] header =
        {
            0x1F, 0x8B, 8, 0x04 | 0x08 | 0x10 | 0x02, 0, 0, 0, 0, 0, 3,
            4, 0, (byte)'A', (byte)'B', 2, 0, // FEXTRA: one 4-byte subfield
        };
        byte[] file = Concat(
            header,
            Encoding.ASCII.GetBytes("model.pkl\0a comment\0"),
            new byte[] { 0x12, 0x34 }, // FHCRC (not checked by Python either)
            Deflate(content),
            BitConverter.GetBytes(Checksums.Crc32(content, 0, content.Length)),
            BitConverter.GetBytes(content.Length));

        DecompressedData result = Decompress(ModelFormat.Gzip, file);

        Assert.Equal(content, result.Data);
        Assert.Empty(result.Anomalies);
    }

    [Fact]
    public void Gzip_Truncated_ReturnsWhatWasDecoded_WithCorrupt()
    {
        byte[] content = Payload("text");
        byte[] gzip = Gzip(content);

        foreach (int length in new[] { 3, 12, gzip.Length / 2, gzip.Length - 8, gzip.Length - 1 })
        {
            DecompressedData result = Decompress(ModelFormat.Gzip, gzip.AsSpan(0, length).ToArray());

            ArchiveAnomaly anomaly = Assert.Single(result.Anomalies);
            Assert.Equal(ArchiveAnomalyKind.Corrupt, anomaly.Kind);
            Assert.Contains("truncated", anomaly.Detail, StringComparison.Ordinal);
            Assert.True(content.AsSpan().StartsWith(result.Data), $"cut at {length}: the output must be a prefix of the content");
            Assert.False(result.Truncated);
        }
    }

    [Fact]
    public void Gzip_ChecksumAndSizeMismatch_AreReported()
    {
        byte[] content = Payload("text");
        byte[] gzip = Gzip(content);
        gzip[^8] ^= 0xFF;
        gzip[^4] ^= 0x01;

        DecompressedData result = Decompress(ModelFormat.Gzip, gzip);

        Assert.Equal(content, result.Data);
        Assert.Contains(result.Anomalies, a => a.Kind == ArchiveAnomalyKind.CrcMismatch);
        Assert.Contains(result.Anomalies, a => a.Kind == ArchiveAnomalyKind.SizeMismatch);
    }

    [Fact]
    public void Gzip_TrailingGarbage_IsDataOutsideEntries()
    {
        byte[] content = Payload("text");

        DecompressedData result = Decompress(ModelFormat.Gzip, Concat(Gzip(content), Encoding.ASCII.GetBytes("cos\nsystem\n")));

        Assert.Equal(content, result.Data);
        ArchiveAnomaly anomaly = Assert.Single(result.Anomalies);
        Assert.Equal(ArchiveAnomalyKind.DataOutsideEntries, anomaly.Kind);
    }

    [Fact]
    public void Gzip_CorruptDeflateData_IsCorrupt_NotAnException()
    {
        byte[] gzip = Gzip(Payload("text"));
        for (int i = 20; i < 60; i++)
        {
            gzip[i] ^= 0xA5;
        }

        DecompressedData result = Decompress(ModelFormat.Gzip, gzip);

        Assert.Contains(result.Anomalies, a => a.Kind is ArchiveAnomalyKind.Corrupt or ArchiveAnomalyKind.CrcMismatch);
    }

    [Fact]
    public void Gzip_Bomb_OneGigabyteOfZeros_StopsQuickly()
    {
        byte[] bomb = GzipZeros(1024L * 1024 * 1024);
        Assert.InRange(bomb.Length, 500_000, 2_000_000);

        var clock = Stopwatch.StartNew();
        DecompressedData result = Decompress(ModelFormat.Gzip, bomb, maxOutputBytes: 32L * 1024 * 1024);
        clock.Stop();

        // The output cap stops it: 32 MiB decoded, not 1 GiB.
        Assert.True(result.Truncated);
        Assert.InRange(result.Data.Length, 1024 * 1024, 32 * 1024 * 1024);
        Assert.Equal(ArchiveAnomalyKind.CompressionBomb, Assert.Single(result.Anomalies).Kind);
        Assert.True(result.CompressedBytesRead < bomb.Length, "decoding must stop, not read the whole input");
        Assert.True(clock.Elapsed < HangGuard.Limit, $"took {clock.Elapsed}");
    }

    [Fact]
    public void Gzip_OutputLimit_StopsLowRatioData_AtTheLimit()
    {
        byte[] content = Concat(Payload("random"), Payload("random"), Payload("random"));

        DecompressedData result = Decompress(ModelFormat.Gzip, Gzip(content), maxOutputBytes: 500_000);

        Assert.True(result.Truncated);
        Assert.Equal(content.AsSpan(0, 500_000).ToArray(), result.Data);
        Assert.Contains("limit", Assert.Single(result.Anomalies, a => a.Kind == ArchiveAnomalyKind.CompressionBomb).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Decompress_ZeroFilledData_BelowTheRatioFloor_IsNotABomb()
    {
        // Zero-filled arrays are legitimate and compress far past 1000:1 with bzip2.
        byte[] zeros = Bzip2(new byte[16 * 1024 * 1024]);

        DecompressedData result = Decompress(ModelFormat.Bzip2, zeros, maxOutputBytes: 1024L * 1024 * 1024);

        Assert.False(result.Truncated);
        Assert.Equal(16 * 1024 * 1024, result.Data.Length);
        Assert.Empty(result.Anomalies);
    }

    [Fact]
    public void Decompress_OutputExactlyAtTheLimit_IsNotTruncated()
    {
        byte[] content = Payload("random");

        DecompressedData exact = Decompress(ModelFormat.Gzip, Gzip(content), maxOutputBytes: content.Length);
        DecompressedData over = Decompress(ModelFormat.Gzip, Gzip(content), maxOutputBytes: content.Length - 1);

        Assert.False(exact.Truncated);
        Assert.Empty(exact.Anomalies);
        Assert.True(over.Truncated);
        Assert.Equal(content.Length - 1, over.Data.Length);
        Assert.Equal(ArchiveAnomalyKind.CompressionBomb, Assert.Single(over.Anomalies).Kind);
    }

    [Fact]
    public void Zlib_JoblibZfHeader_IsSkipped_AndItsLengthChecked()
    {
        byte[] content = Payload("text");
        byte[] zlib = Zlib(content);
        byte[] header = Encoding.ASCII.GetBytes("ZF" + $"0x{content.Length:x}".PadRight(19));

        DecompressedData plain = Decompress(ModelFormat.Zlib, Concat(header, zlib));
        DecompressedData spaced = Decompress(ModelFormat.Zlib, Concat(header, Encoding.ASCII.GetBytes(" "), zlib));
        DecompressedData wrongLength = Decompress(ModelFormat.Zlib, Concat(Encoding.ASCII.GetBytes("ZF" + "0x10".PadRight(19)), zlib));

        Assert.Equal(content, plain.Data);
        Assert.Empty(plain.Anomalies);
        Assert.Equal(content, spaced.Data);
        Assert.Empty(spaced.Anomalies);
        Assert.Equal(content, wrongLength.Data);
        Assert.Equal(ArchiveAnomalyKind.SizeMismatch, Assert.Single(wrongLength.Anomalies).Kind);
    }

    [Fact]
    public void Zlib_BadAdler_TrailingData_AndTruncation_AreReported()
    {
        byte[] content = Payload("text");
        byte[] zlib = Zlib(content);
        byte[] badAdler = (byte[])zlib.Clone();
        badAdler[^1] ^= 0xFF;

        DecompressedData bad = Decompress(ModelFormat.Zlib, badAdler);
        DecompressedData trailing = Decompress(ModelFormat.Zlib, Concat(zlib, new byte[] { 1, 2, 3 }));
        DecompressedData truncated = Decompress(ModelFormat.Zlib, zlib.AsSpan(0, zlib.Length / 2).ToArray());

        Assert.Equal(ArchiveAnomalyKind.CrcMismatch, Assert.Single(bad.Anomalies).Kind);
        Assert.Equal(ArchiveAnomalyKind.DataOutsideEntries, Assert.Single(trailing.Anomalies).Kind);
        Assert.Equal(content, trailing.Data);
        Assert.Equal(ArchiveAnomalyKind.Corrupt, Assert.Single(truncated.Anomalies).Kind);
        Assert.True(content.AsSpan().StartsWith(truncated.Data));
        Assert.NotEmpty(truncated.Data);
    }

    // ---------------------------------------------------------------- bzip2, xz, lzma, zstd (SharpCompress)

    [Fact]
    public void Bzip2_RoundTrips_AndReadsConcatenatedStreams()
    {
        byte[] content = Payload("mixed");

        DecompressedData one = Decompress(ModelFormat.Bzip2, Bzip2(content));
        DecompressedData two = Decompress(ModelFormat.Bzip2, Concat(Bzip2(content), Bzip2(Hello7z)));

        Assert.Equal(content, one.Data);
        Assert.Empty(one.Anomalies);
        Assert.Equal(Concat(content, Hello7z), two.Data);
        Assert.Empty(two.Anomalies);
    }

    [Fact]
    public void Bzip2_TruncatedOrCorrupt_IsCorrupt()
    {
        byte[] bzip2 = Bzip2(Payload("mixed"));
        byte[] corrupt = (byte[])bzip2.Clone();
        for (int i = 100; i < 140; i++)
        {
            corrupt[i] ^= 0x5A;
        }

        Assert.Equal(ArchiveAnomalyKind.Corrupt, Assert.Single(Decompress(ModelFormat.Bzip2, bzip2.AsSpan(0, bzip2.Length - 10).ToArray()).Anomalies).Kind);
        Assert.Equal(ArchiveAnomalyKind.Corrupt, Assert.Single(Decompress(ModelFormat.Bzip2, corrupt).Anomalies).Kind);
    }

    [Fact]
    public void Xz_RoundTrips_AndReadsConcatenatedStreams()
    {
        DecompressedData one = Decompress(ModelFormat.Xz, ArchiveFixtures.XzText);
        DecompressedData two = Decompress(ModelFormat.Xz, Concat(ArchiveFixtures.XzText, new byte[8], ArchiveFixtures.XzText));

        Assert.Equal(FixtureText, one.Data);
        Assert.Empty(one.Anomalies);
        Assert.Equal(ArchiveFixtures.XzText.Length, one.CompressedBytesRead);
        Assert.Equal(Concat(FixtureText, FixtureText), two.Data);
        Assert.Empty(two.Anomalies);
    }

    [Fact]
    public void Xz_TruncatedCorruptOrTrailingGarbage_IsReported()
    {
        byte[] xz = ArchiveFixtures.XzText;
        byte[] corrupt = (byte[])xz.Clone();
        corrupt[xz.Length / 2] ^= 0xFF;

        DecompressedData truncated = Decompress(ModelFormat.Xz, xz.AsSpan(0, xz.Length - 20).ToArray());
        DecompressedData bad = Decompress(ModelFormat.Xz, corrupt);
        DecompressedData trailing = Decompress(ModelFormat.Xz, Concat(xz, Encoding.ASCII.GetBytes("garbage!")));

        Assert.Contains(truncated.Anomalies, a => a.Kind == ArchiveAnomalyKind.Corrupt);
        Assert.Contains(bad.Anomalies, a => a.Kind == ArchiveAnomalyKind.Corrupt);
        Assert.Equal(FixtureText, trailing.Data);
        Assert.Equal(ArchiveAnomalyKind.DataOutsideEntries, Assert.Single(trailing.Anomalies).Kind);
    }

    [Fact]
    public void LzmaAlone_RoundTrips_WithUnknownAndKnownSize()
    {
        byte[] content = Payload("mixed");

        DecompressedData unknownSize = Decompress(ModelFormat.Lzma, ArchiveFixtures.LzmaText);
        DecompressedData knownSize = Decompress(ModelFormat.Lzma, LzmaAlone(content));

        Assert.Equal(FixtureText, unknownSize.Data);
        Assert.Empty(unknownSize.Anomalies);
        Assert.Equal(content, knownSize.Data);
        Assert.Empty(knownSize.Anomalies);
    }

    [Fact]
    public void LzmaAlone_Truncated_IsCorrupt()
    {
        byte[] lzma = ArchiveFixtures.LzmaText;

        DecompressedData result = Decompress(ModelFormat.Lzma, lzma.AsSpan(0, lzma.Length - 30).ToArray());
        DecompressedData known = Decompress(ModelFormat.Lzma, LzmaAlone(Payload("mixed")).AsSpan(0, 2000).ToArray());

        Assert.Equal(ArchiveAnomalyKind.Corrupt, Assert.Single(result.Anomalies).Kind);
        Assert.True(FixtureText.AsSpan().StartsWith(result.Data));
        Assert.Contains(known.Anomalies, a => a.Kind == ArchiveAnomalyKind.Corrupt);
    }

    [Fact]
    public void Zstd_RoundTrips_ReadsConcatenatedFrames_AndStopsBombs()
    {
        byte[] content = Payload("mixed");

        DecompressedData one = Decompress(ModelFormat.Zstd, Zstd(content));
        DecompressedData two = Decompress(ModelFormat.Zstd, Concat(Zstd(content), Zstd(Hello7z)));
        DecompressedData bomb = Decompress(ModelFormat.Zstd, Zstd(new byte[256 * 1024 * 1024]), maxOutputBytes: 1024L * 1024 * 1024);

        Assert.Equal(content, one.Data);
        Assert.Empty(one.Anomalies);
        Assert.Equal(Concat(content, Hello7z), two.Data);
        Assert.True(bomb.Truncated);
        // Past the 64 MiB floor the 1000:1 ratio stops it, well before the 1 GiB cap.
        ArchiveAnomaly anomaly = Assert.Single(bomb.Anomalies);
        Assert.Equal(ArchiveAnomalyKind.CompressionBomb, anomaly.Kind);
        Assert.Contains("1000:1", anomaly.Detail, StringComparison.Ordinal);
        Assert.True(bomb.Data.Length < 80 * 1024 * 1024);
    }

    [Fact]
    public void Zstd_Truncated_IsCorrupt()
    {
        byte[] zstd = Zstd(Payload("mixed"));

        DecompressedData result = Decompress(ModelFormat.Zstd, zstd.AsSpan(0, zstd.Length - 5).ToArray());

        Assert.Equal(ArchiveAnomalyKind.Corrupt, Assert.Single(result.Anomalies).Kind);
    }

    // ---------------------------------------------------------------- LZ4 frames (own decoder)

    [Fact]
    public void Lz4_DecodesLinkedAndIndependentBlocks_WithChecksumsAndContentSize()
    {
        DecompressedData linked = Decompress(ModelFormat.Lz4, ArchiveFixtures.Lz4Linked);
        DecompressedData independent = Decompress(ModelFormat.Lz4, ArchiveFixtures.Lz4Independent);
        DecompressedData small = Decompress(ModelFormat.Lz4, ArchiveFixtures.Lz4Small);

        Assert.Equal(FixtureText, linked.Data);
        Assert.Empty(linked.Anomalies);
        Assert.Equal(FixtureText, independent.Data);
        Assert.Empty(independent.Anomalies);
        Assert.Equal(Hello7z, small.Data);
        Assert.Empty(small.Anomalies);
    }

    [Fact]
    public void Lz4_ConcatenatedAndSkippableFrames_AreRead()
    {
        byte[] skippable = Concat(new byte[] { 0x5A, 0x2A, 0x4D, 0x18, 3, 0, 0, 0 }, new byte[] { 9, 9, 9 });

        DecompressedData result = Decompress(ModelFormat.Lz4, Concat(ArchiveFixtures.Lz4Small, skippable, ArchiveFixtures.Lz4Linked));

        Assert.Equal(Concat(Hello7z, FixtureText), result.Data);
        Assert.Empty(result.Anomalies);
    }

    [Fact]
    public void Lz4_BadChecksum_Truncation_AndTrailingData_AreReported()
    {
        byte[] badContentChecksum = (byte[])ArchiveFixtures.Lz4Linked.Clone();
        badContentChecksum[^1] ^= 0xFF;
        byte[] lz4 = ArchiveFixtures.Lz4Independent;

        DecompressedData bad = Decompress(ModelFormat.Lz4, badContentChecksum);
        DecompressedData truncated = Decompress(ModelFormat.Lz4, lz4.AsSpan(0, lz4.Length / 2).ToArray());
        DecompressedData trailing = Decompress(ModelFormat.Lz4, Concat(ArchiveFixtures.Lz4Small, Encoding.ASCII.GetBytes("not a frame")));

        Assert.Equal(FixtureText, bad.Data);
        Assert.Equal(ArchiveAnomalyKind.CrcMismatch, Assert.Single(bad.Anomalies).Kind);
        Assert.Equal(ArchiveAnomalyKind.Corrupt, Assert.Single(truncated.Anomalies).Kind);
        Assert.True(FixtureText.AsSpan().StartsWith(truncated.Data));
        Assert.NotEmpty(truncated.Data);
        Assert.Equal(Hello7z, trailing.Data);
        Assert.Equal(ArchiveAnomalyKind.DataOutsideEntries, Assert.Single(trailing.Anomalies).Kind);
    }

    // ---------------------------------------------------------------- every codec: hostile bytes never throw

    [Fact]
    public void Decompress_MutatedInput_NeverThrows_AndStaysWithinTheLimit()
    {
        var random = new Random(42);
        byte[] content = Payload("mixed");
        var samples = new (ModelFormat Format, byte[] Bytes)[]
        {
            (ModelFormat.Gzip, Gzip(content)),
            (ModelFormat.Zlib, Zlib(content)),
            (ModelFormat.Bzip2, Bzip2(content)),
            (ModelFormat.Xz, ArchiveFixtures.XzText),
            (ModelFormat.Lzma, ArchiveFixtures.LzmaText),
            (ModelFormat.Zstd, Zstd(content)),
            (ModelFormat.Lz4, ArchiveFixtures.Lz4Linked),
            (ModelFormat.Lz4, ArchiveFixtures.Lz4Independent),
        };

        foreach ((ModelFormat format, byte[] bytes) in samples)
        {
            for (int i = 0; i < 60; i++)
            {
                byte[] mutated = Mutate(random, bytes);
                DecompressedData result = Decompress(format, mutated, maxOutputBytes: 4 * 1024 * 1024);

                Assert.True(result.Data.Length <= 4 * 1024 * 1024);
            }
        }
    }

    [Fact]
    public void Decompress_HonoursCancellation()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        using ModelFileSource source = Source(Gzip(Payload("text")));

        Assert.ThrowsAny<OperationCanceledException>(() => Decompressor.Decompress(ModelFormat.Gzip, source, Limit, cancelled.Token));
    }

    // ---------------------------------------------------------------- tar

    [Fact]
    public void Tar_ListsPaxMembers_WithLongNamesFromThePathRecord()
    {
        string longName = "archive/" + new string('d', 120) + "/data.pkl";
        byte[] tar = SystemTar(Tar.TarEntryFormat.Pax, ("sys_info", Hello7z), (longName, SecondFile));

        TarArchiveReader reader = OpenTar(tar);

        Assert.Equal(Names("sys_info", longName), Names(reader.Entries.Select(e => e.Name)));
        Assert.All(reader.Entries, e => Assert.True(e.IsRegularFile));
        Assert.Empty(reader.Anomalies);
        Assert.Equal(SecondFile, reader.ReadAll(reader.Entries[1], Limit, out bool truncated));
        Assert.False(truncated);
        Assert.Equal(Hello7z.AsSpan(0, 5).ToArray(), reader.ReadHead(reader.Entries[0], 5));
    }

    [Fact]
    public void Tar_HonoursGnuLongNamesAndLongLinks()
    {
        string longName = new string('n', 150) + ".pt";
        string longTarget = new string('t', 130);
        using var buffer = new MemoryStream();
        using (var writer = new Tar.TarWriter(buffer, Tar.TarEntryFormat.Gnu, leaveOpen: true))
        {
            writer.WriteEntry(new Tar.GnuTarEntry(Tar.TarEntryType.RegularFile, longName) { DataStream = new MemoryStream(Hello7z) });
            writer.WriteEntry(new Tar.GnuTarEntry(Tar.TarEntryType.SymbolicLink, "link") { LinkName = longTarget });
        }

        TarArchiveReader reader = OpenTar(buffer.ToArray());

        Assert.Equal(Names(longName, "link"), Names(reader.Entries.Select(e => e.Name)));
        Assert.Equal(longTarget, reader.Entries[1].LinkName);
        Assert.Equal('2', reader.Entries[1].TypeFlag);
        Assert.Equal(Hello7z, reader.ReadAll(reader.Entries[0], Limit, out _));
        ArchiveAnomaly link = Assert.Single(reader.Anomalies);
        Assert.Equal(ArchiveAnomalyKind.Link, link.Kind);
        Assert.Contains(longTarget, link.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Tar_UnsafeNames_AreReported()
    {
        byte[] tar = Concat(
            TarMember("../evil.pkl", Hello7z),
            TarMember("/etc/cron.d/job", Hello7z),
            TarMember("C:/Windows/evil.dll", Hello7z),
            TarMember("dir\\..\\evil", Hello7z),
            TarMember("fine/name.pkl", Hello7z),
            TarEnd());

        TarArchiveReader reader = OpenTar(tar);

        Assert.Equal(5, reader.Entries.Count);
        Assert.Equal(
            Names("../evil.pkl", "/etc/cron.d/job", "C:/Windows/evil.dll", "dir\\..\\evil"),
            Names(reader.Anomalies.Where(a => a.Kind == ArchiveAnomalyKind.UnsafeName).Select(a => a.Member)));
        Assert.Equal(4, reader.Anomalies.Count);
    }

    [Fact]
    public void Tar_Links_AreReported_AndEscapingTargetsAreUnsafe()
    {
        byte[] tar = Concat(
            TarMember("model/data.pkl", Hello7z),
            TarHeader("model/escape", '2', 0, "../../etc/passwd"),
            TarHeader("model/inside", '2', 0, "../model/data.pkl"),
            TarHeader("model/hard", '1', 0, "model/data.pkl"),
            TarHeader("model/hard-out", '1', 0, "../outside"),
            TarEnd());

        TarArchiveReader reader = OpenTar(tar);

        Assert.Equal(4, reader.Anomalies.Count(a => a.Kind == ArchiveAnomalyKind.Link));
        Assert.Equal(
            Names("model/escape", "model/hard-out"),
            Names(reader.Anomalies.Where(a => a.Kind == ArchiveAnomalyKind.UnsafeName).Select(a => a.Member)));
        Assert.Contains(reader.Anomalies, a => a.Kind == ArchiveAnomalyKind.Link && a.Member == "model/escape" && a.Detail.Contains("outside", StringComparison.Ordinal));
        Assert.False(reader.Entries[1].IsRegularFile);
    }

    [Fact]
    public void Tar_SpecialMembers_DuplicatesAndUnknownTypes_AreReported()
    {
        byte[] tar = Concat(
            TarHeader("dev/null", '3', 0),
            TarHeader("dev/sda", '4', 0),
            TarHeader("fifo", '6', 0),
            TarMember("pickle", Hello7z),
            TarMember("pickle", SecondFile),
            TarMember("odd", Hello7z, type: 'Z'),
            TarEnd());

        TarArchiveReader reader = OpenTar(tar);

        Assert.Equal(3, reader.Anomalies.Count(a => a.Kind == ArchiveAnomalyKind.SpecialMember));
        Assert.Equal("pickle", Assert.Single(reader.Anomalies, a => a.Kind == ArchiveAnomalyKind.DuplicateName).Member);
        Assert.Contains(reader.Anomalies, a => a.Kind == ArchiveAnomalyKind.Other && a.Member == "odd");
        TarEntry odd = reader.Entries.Single(e => e.Name == "odd");
        Assert.True(odd.IsRegularFile, "tarfile extracts unknown types as regular files");
        Assert.Equal(Hello7z, reader.ReadAll(odd, Limit, out _));
    }

    [Fact]
    public void Tar_DataOfALink_IsNotSkipped_AsInTarfile()
    {
        // A symlink header declaring 512 bytes of "data" that is really the next header.
        byte[] tar = Concat(TarHeader("link", '2', 512, "target"), TarMember("hidden.pkl", Hello7z), TarEnd());

        TarArchiveReader reader = OpenTar(tar);

        Assert.Equal(Names("link", "hidden.pkl"), Names(reader.Entries.Select(e => e.Name)));
        Assert.Contains(reader.Anomalies, a => a.Kind == ArchiveAnomalyKind.SizeMismatch && a.Member == "link");
        Assert.Empty(reader.ReadAll(reader.Entries[0], Limit, out _));
        Assert.Equal(Hello7z, reader.ReadAll(reader.Entries[1], Limit, out _));
    }

    [Fact]
    public void Tar_PaxSizeAndBase256Size_AreUsed()
    {
        byte[] content = Payload("text");
        byte[] base256 = new byte[12];
        base256[0] = 0x80;
        base256[8] = (byte)(content.Length >> 24);
        base256[9] = (byte)(content.Length >> 16);
        base256[10] = (byte)(content.Length >> 8);
        base256[11] = (byte)content.Length;
        byte[] pax = PaxRecords(("size", content.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("path", "renamed.pkl"));

        byte[] tar = Concat(
            TarHeader("gnu-big", '0', 0, sizeField: base256), Padded(content),
            TarHeader("PaxHeader", 'x', pax.Length), Padded(pax),
            TarHeader("short", '0', 0), Padded(content),
            TarEnd());

        TarArchiveReader reader = OpenTar(tar);

        Assert.Equal(Names("gnu-big", "renamed.pkl"), Names(reader.Entries.Select(e => e.Name)));
        Assert.All(reader.Entries, e => Assert.Equal(content.Length, e.Size));
        Assert.Equal(content, reader.ReadAll(reader.Entries[1], Limit, out _));
        Assert.Empty(reader.Anomalies);
    }

    [Fact]
    public void Tar_FirstHeaderOfTheChainWins_AndGlobalPathIsFlagged()
    {
        byte[] pax = PaxRecords(("path", "from-pax"));
        byte[] longName = Encoding.ASCII.GetBytes("from-gnu\0");
        byte[] global = PaxRecords(("path", "global-path"));
        byte[] tar = Concat(
            TarHeader("pax_global_header", 'g', global.Length), Padded(global),
            TarHeader("PaxHeader", 'x', pax.Length), Padded(pax),
            TarHeader("././@LongLink", 'L', longName.Length), Padded(longName),
            TarMember("header-name", Hello7z),
            TarEnd());

        TarArchiveReader reader = OpenTar(tar);

        Assert.Equal("from-pax", Assert.Single(reader.Entries).Name);
        Assert.Contains(reader.Anomalies, a => a.Kind == ArchiveAnomalyKind.Other && a.Detail.Contains("global", StringComparison.Ordinal));
    }

    [Fact]
    public void Tar_V7AndUstarPrefix_AreRead()
    {
        byte[] tar = Concat(
            TarHeader("old/dir/", '\0', 0, magic: string.Empty),
            TarMember("file.pkl", Hello7z, magic: string.Empty),
            TarMember("name.pkl", SecondFile, prefix: "deep/prefix"),
            TarEnd());

        TarArchiveReader reader = OpenTar(tar);

        Assert.Equal(Names("old/dir", "file.pkl", "deep/prefix/name.pkl"), Names(reader.Entries.Select(e => e.Name)));
        Assert.Equal('5', reader.Entries[0].TypeFlag);
        Assert.Empty(reader.Anomalies);
    }

    [Fact]
    public void Tar_TruncatedData_IsReported_AndReadAllSaysSo()
    {
        byte[] tar = Concat(TarMember("a.pkl", Hello7z), TarHeader("big.pkl", '0', 10_000), new byte[100]);

        TarArchiveReader reader = OpenTar(tar);

        Assert.Equal(2, reader.Entries.Count);
        Assert.Equal(ArchiveAnomalyKind.Truncated, Assert.Single(reader.Anomalies).Kind);
        byte[] data = reader.ReadAll(reader.Entries[1], Limit, out bool truncated);
        Assert.True(truncated);
        Assert.Equal(100, data.Length);
        Assert.Equal(5, reader.ReadAll(reader.Entries[0], 5, out bool capped).Length);
        Assert.True(capped);
    }

    [Fact]
    public void Tar_BadChecksumMidArchive_StopsTheListingWithCorrupt()
    {
        byte[] bad = TarMember("second", SecondFile);
        bad[0] ^= 0x01;
        byte[] tar = Concat(TarMember("first", Hello7z), bad, TarMember("third", Hello7z), TarEnd());

        TarArchiveReader reader = OpenTar(tar);

        Assert.Equal("first", Assert.Single(reader.Entries).Name);
        Assert.Equal(ArchiveAnomalyKind.Corrupt, Assert.Single(reader.Anomalies).Kind);
    }

    [Fact]
    public void Tar_BytesAfterTheEndMarker_AreDataOutsideEntries()
    {
        byte[] clean = Concat(TarMember("a", Hello7z), TarEnd(), new byte[8192]);
        byte[] hidden = Concat(TarMember("a", Hello7z), TarEnd(), TarMember("hidden.pkl", Encoding.ASCII.GetBytes("cos\nsystem\n")));

        Assert.Empty(OpenTar(clean).Anomalies);
        TarArchiveReader reader = OpenTar(hidden);
        Assert.Single(reader.Entries);
        Assert.Equal(ArchiveAnomalyKind.DataOutsideEntries, Assert.Single(reader.Anomalies).Kind);
    }

    [Fact]
    public void Tar_MissingEndMarker_IsTruncated()
    {
        TarArchiveReader reader = OpenTar(TarMember("a", Hello7z));

        Assert.Single(reader.Entries);
        Assert.Equal(ArchiveAnomalyKind.Truncated, Assert.Single(reader.Anomalies).Kind);
    }

    [Fact]
    public void Tar_OpenReturnsNull_ForOtherData()
    {
        foreach (byte[] bytes in new[] { Array.Empty<byte>(), new byte[1024], Fixtures.Get("zip-pytorch").Bytes, Payload("random") })
        {
            using ModelFileSource source = Source(bytes);
            Assert.Null(TarArchiveReader.Open(source, CancellationToken.None));
        }
    }

    [Fact]
    public void Tar_MutatedArchives_NeverThrow()
    {
        var random = new Random(7);
        byte[] tar = SystemTar(Tar.TarEntryFormat.Pax, ("sys_info", Hello7z), ("archive/" + new string('x', 120), SecondFile), ("pickle", Payload("text")));
        for (int i = 0; i < 300; i++)
        {
            byte[] mutated = Mutate(random, tar);
            using ModelFileSource source = Source(mutated);
            TarArchiveReader? reader = TarArchiveReader.Open(source, CancellationToken.None);
            foreach (TarEntry entry in reader?.Entries ?? Array.Empty<TarEntry>())
            {
                reader!.ReadAll(entry, 1024 * 1024, out _);
            }
        }
    }

    // ---------------------------------------------------------------- 7z

    [Fact]
    public void SevenZip_ListsAndReadsWhatSharpCompressWrote_IncludingAPyTorchZip()
    {
        byte[] pytorchZip = Fixtures.Get("zip-pytorch").Bytes;
        byte[] archive = SevenZip(CompressionType.LZMA2, ("model.pt", pytorchZip), ("config/notes.txt", Hello7z), ("empty.bin", Array.Empty<byte>()));

        SevenZipArchiveReader reader = Open7z(archive);

        Assert.Equal(Names("model.pt", "config/notes.txt", "empty.bin"), Names(reader.Members.Select(m => m.Name)));
        Assert.Equal($"{pytorchZip.Length} {Hello7z.Length} 0", string.Join(' ', reader.Members.Select(m => m.Size)));
        Assert.Empty(reader.Anomalies);
        ArchiveMemberData model = reader.Read(reader.Members[0], Limit, CancellationToken.None);
        Assert.Equal(pytorchZip, model.Data);
        Assert.False(model.Truncated);
        Assert.Empty(model.Anomalies);
        Assert.Equal(Hello7z, reader.Read(reader.Members[1], Limit, CancellationToken.None).Data);
        Assert.Empty(reader.Read(reader.Members[2], Limit, CancellationToken.None).Data);
    }

    [Fact]
    public void SevenZip_LzmaArchive_IsRead()
    {
        byte[] content = Payload("mixed");

        SevenZipArchiveReader reader = Open7z(SevenZip(CompressionType.LZMA, ("a.pkl", content), ("b.pkl", Hello7z)));

        Assert.Equal(content, reader.Read(reader.Members[0], Limit, CancellationToken.None).Data);
        Assert.Equal(Hello7z, reader.Read(reader.Members[1], Limit, CancellationToken.None).Data);
    }

    [Theory]
    [InlineData("solid")]
    [InlineData("plain-header")]
    [InlineData("copy")]
    [InlineData("delta")]
    [InlineData("ppmd")]
    [InlineData("bzip2")]
    [InlineData("deflate")]
    public void SevenZip_7zzArchives_AreListedAndRead(string name)
    {
        byte[] archive = name switch
        {
            "solid" => ArchiveFixtures.SevenZipSolid,
            "plain-header" => ArchiveFixtures.SevenZipPlainHeader,
            "copy" => ArchiveFixtures.SevenZipCopy,
            "delta" => ArchiveFixtures.SevenZipDelta,
            "ppmd" => ArchiveFixtures.SevenZipPpmd,
            "bzip2" => ArchiveFixtures.SevenZipBzip2,
            _ => ArchiveFixtures.SevenZipDeflate,
        };

        SevenZipArchiveReader reader = Open7z(archive);

        Assert.Empty(reader.Anomalies);
        ArchiveMember a = reader.Members.Single(m => m.Name == "a.txt");
        ArchiveMemberData data = reader.Read(a, Limit, CancellationToken.None);
        Assert.Equal(Hello7z, data.Data);
        Assert.Empty(data.Anomalies);
        if (reader.Members.FirstOrDefault(m => m.Name == "b.bin") is ArchiveMember b)
        {
            Assert.Equal(SecondFile, reader.Read(b, Limit, CancellationToken.None).Data);
        }
    }

    [Fact]
    public void SevenZip_SolidArchive_ListsDirectoriesAndEmptyFiles()
    {
        SevenZipArchiveReader reader = Open7z(ArchiveFixtures.SevenZipSolid);

        Assert.Equal(Names("a.txt", "b.bin", "empty.txt", "sub"), Names(reader.Members.Select(m => m.Name).OrderBy(n => n, StringComparer.Ordinal)));
        Assert.True(reader.Members.Single(m => m.Name == "sub").IsDirectory);
        Assert.False(reader.Members.Single(m => m.Name == "empty.txt").IsDirectory);
        Assert.Equal(0, reader.Members.Single(m => m.Name == "empty.txt").Size);
    }

    [Fact]
    public void SevenZip_EncryptedHeader_IsReported_WithoutMembers()
    {
        SevenZipArchiveReader reader = Open7z(ArchiveFixtures.SevenZipEncryptedHeader);

        Assert.Empty(reader.Members);
        ArchiveAnomaly anomaly = Assert.Single(reader.Anomalies);
        Assert.Equal(ArchiveAnomalyKind.Encrypted, anomaly.Kind);
        Assert.Null(anomaly.Member);
    }

    [Fact]
    public void SevenZip_EncryptedMember_IsListed_ButNotRead()
    {
        SevenZipArchiveReader reader = Open7z(ArchiveFixtures.SevenZipEncryptedMember);

        ArchiveMember member = Assert.Single(reader.Members);
        Assert.True(member.IsEncrypted);
        Assert.Equal("a.txt", Assert.Single(reader.Anomalies, a => a.Kind == ArchiveAnomalyKind.Encrypted).Member);
        ArchiveMemberData data = reader.Read(member, Limit, CancellationToken.None);
        Assert.Empty(data.Data);
        Assert.True(data.Truncated);
        Assert.Equal(ArchiveAnomalyKind.Encrypted, Assert.Single(data.Anomalies).Kind);
    }

    [Fact]
    public void SevenZip_X86BranchFilter_IsDecoded()
    {
        SevenZipArchiveReader reader = Open7z(ArchiveFixtures.SevenZipBcj);

        ArchiveMember member = Assert.Single(reader.Members);
        Assert.DoesNotContain(reader.Anomalies, a => a.Kind == ArchiveAnomalyKind.UnsupportedMethod);
        ArchiveMemberData data = reader.Read(member, Limit, CancellationToken.None);
        Assert.Empty(data.Anomalies);
        Assert.Equal(member.Size, data.Data.Length);
    }

    [Fact]
    public void SevenZip_UnsafeAndDuplicateNames_AreReported()
    {
        // SharpCompress's writer drops leading slashes and drive letters, but keeps "..".
        byte[] archive = SevenZip(CompressionType.LZMA2, ("../evil.pkl", Hello7z), ("ok/../../up.pkl", Hello7z), ("same", Hello7z), ("same", SecondFile));

        SevenZipArchiveReader reader = Open7z(archive);

        Assert.Equal(
            Names("../evil.pkl", "ok/../../up.pkl"),
            Names(reader.Anomalies.Where(a => a.Kind == ArchiveAnomalyKind.UnsafeName).Select(a => a.Member)));
        Assert.Equal("same", Assert.Single(reader.Anomalies, a => a.Kind == ArchiveAnomalyKind.DuplicateName).Member);
    }

    [Fact]
    public void SevenZip_Bomb_IsFlaggedWhenListed_AndStopsWhenRead()
    {
        // Past the 64 MiB ratio floor: zero-filled data below it is legitimate.
        byte[] archive = SevenZip(CompressionType.LZMA2, ("zeros.bin", new byte[96 * 1024 * 1024]));

        SevenZipArchiveReader reader = Open7z(archive);
        ArchiveMember member = Assert.Single(reader.Members);
        ArchiveMemberData all = reader.Read(member, 1024L * 1024 * 1024, CancellationToken.None);
        ArchiveMemberData head = reader.Read(member, 4096, CancellationToken.None);

        Assert.Equal(ArchiveAnomalyKind.CompressionBomb, Assert.Single(reader.Anomalies).Kind);
        Assert.True(all.Truncated);
        Assert.True(all.Data.Length < 80 * 1024 * 1024);
        Assert.Equal(ArchiveAnomalyKind.CompressionBomb, Assert.Single(all.Anomalies).Kind);
        Assert.Equal(4096, head.Data.Length);
        Assert.True(head.Truncated);
        Assert.Equal(ArchiveAnomalyKind.MemberTooLarge, Assert.Single(head.Anomalies).Kind);
    }

    [Fact]
    public void SevenZip_Truncated_IsReported()
    {
        byte[] archive = ArchiveFixtures.SevenZipSolid;

        SevenZipArchiveReader reader = Open7z(archive.AsSpan(0, archive.Length - 40).ToArray());

        Assert.Empty(reader.Members);
        Assert.Equal(ArchiveAnomalyKind.Truncated, Assert.Single(reader.Anomalies).Kind);
    }

    [Fact]
    public void SevenZip_CorruptPackedData_IsReportedWhenRead()
    {
        byte[] archive = SevenZip(CompressionType.LZMA2, ("a.pkl", Payload("mixed")));
        for (int i = 64; i < 96; i++)
        {
            archive[i] ^= 0x5A;
        }

        SevenZipArchiveReader reader = Open7z(archive);
        ArchiveMemberData data = reader.Read(Assert.Single(reader.Members), Limit, CancellationToken.None);

        Assert.Contains(data.Anomalies, a => a.Kind is ArchiveAnomalyKind.Corrupt or ArchiveAnomalyKind.CrcMismatch or ArchiveAnomalyKind.Truncated);
    }

    [Fact]
    public void SevenZip_TrailingData_IsDataOutsideEntries()
    {
        SevenZipArchiveReader reader = Open7z(Concat(ArchiveFixtures.SevenZipCopy, Encoding.ASCII.GetBytes("hidden")));

        Assert.Equal(ArchiveAnomalyKind.DataOutsideEntries, Assert.Single(reader.Anomalies).Kind);
    }

    [Fact]
    public void SevenZip_OpenReturnsNull_ForOtherData()
    {
        foreach (byte[] bytes in new[] { Array.Empty<byte>(), Fixtures.Get("zip-pytorch").Bytes, Gzip(Hello7z) })
        {
            using ModelFileSource source = Source(bytes);
            Assert.Null(SevenZipArchiveReader.Open(source, CancellationToken.None));
        }
    }

    [Fact]
    public void SevenZip_MutatedArchives_NeverThrow()
    {
        var random = new Random(99);
        byte[][] samples =
        {
            ArchiveFixtures.SevenZipSolid, ArchiveFixtures.SevenZipPlainHeader, ArchiveFixtures.SevenZipPpmd,
            ArchiveFixtures.SevenZipBzip2, ArchiveFixtures.SevenZipDeflate, ArchiveFixtures.SevenZipDelta,
            SevenZip(CompressionType.LZMA, ("a", Payload("text")), ("b", Hello7z)),
        };
        foreach (byte[] sample in samples)
        {
            for (int i = 0; i < 80; i++)
            {
                using ModelFileSource source = Source(Mutate(random, sample));
                SevenZipArchiveReader? reader = SevenZipArchiveReader.Open(source, CancellationToken.None);
                foreach (ArchiveMember member in reader?.Members ?? Array.Empty<ArchiveMember>())
                {
                    reader!.Read(member, 1024 * 1024, CancellationToken.None);
                }
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    private static ModelFileSource Source(byte[] bytes) => new(new MemoryStream(bytes, writable: false));

    private static DecompressedData Decompress(ModelFormat format, byte[] bytes, long maxOutputBytes = Limit)
    {
        using ModelFileSource source = Source(bytes);
        return Decompressor.Decompress(format, source, maxOutputBytes, CancellationToken.None);
    }

    private static TarArchiveReader OpenTar(byte[] bytes)
    {
        // The reader keeps the source for ReadHead/ReadAll; a MemoryStream needs no disposing.
        var source = Source(bytes);
        return TarArchiveReader.Open(source, CancellationToken.None) ?? throw new InvalidOperationException("not a tar");
    }

    private static SevenZipArchiveReader Open7z(byte[] bytes)
    {
        var source = Source(bytes);
        return SevenZipArchiveReader.Open(source, CancellationToken.None) ?? throw new InvalidOperationException("not a 7z");
    }

    private static byte[] Payload(string name) => name switch
    {
        "empty" => Array.Empty<byte>(),
        "one-byte" => new byte[] { 42 },
        "text" => FixtureText,
        "random" => RandomBytes(new Random(5), 300_000),
        "runs" => Enumerable.Range(0, 200_000).Select(i => (byte)(i / 1000)).ToArray(),
        "mixed" => Concat(FixtureText.AsSpan(0, 50_000).ToArray(), RandomBytes(new Random(6), 70_000), new byte[100_000], FixtureText),
        "zeros-1mb" => new byte[1024 * 1024],
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    // Stretches of text, noise, runs and repeats, so every deflate block type and code length shows up.
    private static byte[] RandomPayload(Random random, int length)
    {
        var bytes = new List<byte>(length);
        while (bytes.Count < length)
        {
            int n = Math.Min(length - bytes.Count, random.Next(1, 20_000));
            switch (random.Next(4))
            {
                case 0:
                    bytes.AddRange(RandomBytes(random, n));
                    break;
                case 1:
                    bytes.AddRange(Enumerable.Repeat((byte)random.Next(256), n));
                    break;
                case 2:
                    int start = random.Next(FixtureText.Length - n);
                    bytes.AddRange(FixtureText.AsSpan(start, Math.Min(n, FixtureText.Length - start)).ToArray());
                    break;
                default:
                    byte[] alphabet = RandomBytes(random, random.Next(2, 12));
                    for (int i = 0; i < n; i++)
                    {
                        bytes.Add(alphabet[random.Next(alphabet.Length)]);
                    }

                    break;
            }
        }

        return bytes.ToArray();
    }

    private static byte[] Mutate(Random random, byte[] original)
    {
        byte[] bytes = (byte[])original.Clone();
        int edits = random.Next(1, 6);
        for (int i = 0; i < edits && bytes.Length > 0; i++)
        {
            int at = random.Next(bytes.Length);
            bytes[at] = random.Next(3) switch
            {
                0 => (byte)random.Next(256),
                1 => 0xFF,
                _ => (byte)(bytes[at] ^ (1 << random.Next(8))),
            };
        }

        return random.Next(4) == 0 ? bytes.AsSpan(0, random.Next(bytes.Length + 1)).ToArray() : bytes;
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static string Names(params string?[] names) => string.Join(" | ", names);

    private static string Names(IEnumerable<string?> names) => string.Join(" | ", names);

    private static byte[] Gzip(byte[] content, CompressionLevel level = CompressionLevel.Optimal)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, level, leaveOpen: true))
        {
            gzip.Write(content);
        }

        return buffer.ToArray();
    }

    private static byte[] GzipZeros(long count)
    {
        var zeros = new byte[1024 * 1024];
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            for (long written = 0; written < count; written += zeros.Length)
            {
                gzip.Write(zeros);
            }
        }

        return buffer.ToArray();
    }

    private static byte[] Zlib(byte[] content, CompressionLevel level = CompressionLevel.Optimal)
    {
        using var buffer = new MemoryStream();
        using (var zlib = new ZLibStream(buffer, level, leaveOpen: true))
        {
            zlib.Write(content);
        }

        return buffer.ToArray();
    }

    private static byte[] Deflate(byte[] content)
    {
        using var buffer = new MemoryStream();
        using (var deflate = new DeflateStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write(content);
        }

        return buffer.ToArray();
    }

    private static byte[] Bzip2(byte[] content)
    {
        using var buffer = new MemoryStream();
        using (BZip2Stream bzip2 = BZip2Stream.Create(buffer, SharpCompressionMode.Compress, decompressConcatenated: false, leaveOpen: true))
        {
            bzip2.Write(content, 0, content.Length);
            bzip2.Finish();
        }

        return buffer.ToArray();
    }

    private static byte[] Zstd(byte[] content)
    {
        using var buffer = new MemoryStream();
        using (var zstd = new ZstdCompressionStream(buffer, level: 3, leaveOpen: true))
        {
            zstd.Write(content, 0, content.Length);
        }

        return buffer.ToArray();
    }

    // .lzma with the size in the header (Python writes all ones and an end marker; the fixture has that).
    private static byte[] LzmaAlone(byte[] content)
    {
        using var raw = new MemoryStream();
        byte[] properties;
        using (LzmaStream lzma = LzmaStream.Create(new LzmaEncoderProperties(eos: false), isLzma2: false, raw))
        {
            properties = lzma.Properties;
            lzma.Write(content, 0, content.Length);
        }

        return Concat(properties, BitConverter.GetBytes((long)content.Length), raw.ToArray());
    }

    private static byte[] SevenZip(CompressionType type, params (string Name, byte[] Content)[] members)
    {
        using var buffer = new MemoryStream();
        using (var writer = new SevenZipWriter(buffer, new SevenZipWriterOptions(type)))
        {
            foreach ((string name, byte[] content) in members)
            {
                writer.Write(name, new MemoryStream(content), null);
            }
        }

        return buffer.ToArray();
    }

    private static byte[] SystemTar(Tar.TarEntryFormat format, params (string Name, byte[] Content)[] members)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Tar.TarWriter(buffer, format, leaveOpen: true))
        {
            foreach ((string name, byte[] content) in members)
            {
                Tar.TarEntry entry = format == Tar.TarEntryFormat.Gnu
                    ? new Tar.GnuTarEntry(Tar.TarEntryType.RegularFile, name)
                    : new Tar.PaxTarEntry(Tar.TarEntryType.RegularFile, name);
                entry.DataStream = new MemoryStream(content);
                writer.WriteEntry(entry);
            }
        }

        return buffer.ToArray();
    }

    private static byte[] TarMember(string name, byte[] content, char type = '0', string magic = "ustar", string prefix = "") =>
        Concat(TarHeader(name, type, content.Length, magic: magic, prefix: prefix), Padded(content));

    // A ustar (or, with an empty magic, v7) header block with a valid checksum.
    private static byte[] TarHeader(string name, char type, long size, string linkName = "", string magic = "ustar", string prefix = "", byte[]? sizeField = null)
    {
        var header = new byte[512];
        void Put(int offset, string text) => Encoding.UTF8.GetBytes(text).CopyTo(header, offset);
        Put(0, name);
        Put(100, "0000644\0");
        Put(108, "0000000\0");
        Put(116, "0000000\0");
        if (sizeField is null)
        {
            Put(124, Convert.ToString(size, 8).PadLeft(11, '0') + "\0");
        }
        else
        {
            sizeField.CopyTo(header, 124);
        }

        Put(136, "00000000000\0");
        header[156] = (byte)type;
        Put(157, linkName);
        if (magic.Length > 0)
        {
            Put(257, magic + "\0");
            Put(263, "00");
            Put(345, prefix);
        }

        Put(148, "        ");
        int sum = header.Sum(b => b);
        Put(148, Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ");
        return header;
    }

    private static byte[] Padded(byte[] content) => Concat(content, new byte[(512 - (content.Length % 512)) % 512]);

    private static byte[] TarEnd() => new byte[1024];

    private static byte[] PaxRecords(params (string Key, string Value)[] records)
    {
        var text = new StringBuilder();
        foreach ((string key, string value) in records)
        {
            string body = $" {key}={value}\n";
            int length = body.Length + 1;
            while ((length.ToString(System.Globalization.CultureInfo.InvariantCulture) + body).Length != length)
            {
                length++;
            }

            text.Append(length.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(body);
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }
}

/// <summary>
/// Tiny archives made with Debian's xz, lzma, lz4 and 7zz (7-Zip 26.02) from <c>FixtureText</c>
/// (6,000 lines of "line {i % 10}: model weights and pickles {i % 7}"), "hello 7z\n" (a.txt) and
/// "second file\n" (b.bin): for what the test's own writers cannot make.
/// </summary>
internal static class ArchiveFixtures
{
    // linked.lz4
    public static readonly byte[] Lz4Linked = Convert.FromBase64String(
        "BCJNGERAXpoCAADxFWxpbmUgMDogbW9kZWwgd2VpZ2h0cyBhbmQgcGlja2xlcyAwCiQAHzEkAAkSMSQAHzIkAAkSMiQAHzMkAAkSMyQAHzQkAA" +
        "kSNCQAHzUkAAkSNSQAHzYkAAkSNiQAHzf8ABAfOPwAEB85/AAQHzD8ABAfMfwAEB8y/AAQHzP8ABAfNPwAEB81/AAQHzb8ABAfN/wAEB84/AAQ" +
        "Hzn8ABAfMPwAEB8x/AAQHzL8ABAfM/wAEB80/AAQHzX8ABAfNvwAEB83/AAQHzj8ABAfOfwAEB8w/AAQHzH8ABAfMvwAEB8z/AAQHzT8ABAfNf" +
        "wAEB82/AAQHzf8ABAfOPwAEB85/AAQHzD8ABAfMfwAEB8y/AAQHzP8ABAfNPwAEB81/AAQHzb8ABAfN/wAEB84/AAQHzn8ABAfMPwAEB8x/AAQ" +
        "HzL8ABAfM/wAEB80/AAQHzX8ABAfNvwAEB83/AAQHzj8ABAfOfwAEB8w/AAQHzH8ABAfMvwAEB8z/AAQHzT8ABAfNfwAEB82/AAQHzf8ABAfOP" +
        "wAEB85/AAPD9gJ////////////////////////////////////////////////////////////////////////////////////////////////" +
        "//////////////////////////////////////////////////////////////////////////////////////////////////////////////" +
        "//////////////////////////////////////////////////////////////////////////////////////////////////////////////" +
        "/////////////wNQZWwgd2UKAQAAD9gJ//////////////////////////////////////////////////////////////////////////////" +
        "//////////////////////////////////////////////////////////////////////////////////////////////////////////////" +
        "//////////////////////////////////////////////////////////////////////////////////////////////////////////////" +
        "///////////////////////////////////////////+hQaWNrbGUKAQAAD9gJ////////////////////////////////////////////////" +
        "//////////////////////////////////////////////////////////////////////////////////////////////////////////////" +
        "//////////////////////////////////////////////////////////////////////////////////////////////////////////////" +
        "/////////////////////////////////////////////////////////////////////////+hQIG1vZGVVAAAAD9gJ//////////////////" +
        "//////////////////////////////////////////////////////////////////////////////////81BlcyAwCgAAAADB21Gc");

    // indep.lz4
    public static readonly byte[] Lz4Independent = Convert.FromBase64String(
        "BCJNGHxAwEsDAAAAAAAumgIAAPEVbGluZSAwOiBtb2RlbCB3ZWlnaHRzIGFuZCBwaWNrbGVzIDAKJAAfMSQACRIxJAAfMiQACRIyJAAfMyQACR" +
        "IzJAAfNCQACRI0JAAfNSQACRI1JAAfNiQACRI2JAAfN/wAEB84/AAQHzn8ABAfMPwAEB8x/AAQHzL8ABAfM/wAEB80/AAQHzX8ABAfNvwAEB83" +
        "/AAQHzj8ABAfOfwAEB8w/AAQHzH8ABAfMvwAEB8z/AAQHzT8ABAfNfwAEB82/AAQHzf8ABAfOPwAEB85/AAQHzD8ABAfMfwAEB8y/AAQHzP8AB" +
        "AfNPwAEB81/AAQHzb8ABAfN/wAEB84/AAQHzn8ABAfMPwAEB8x/AAQHzL8ABAfM/wAEB80/AAQHzX8ABAfNvwAEB83/AAQHzj8ABAfOfwAEB8w" +
        "/AAQHzH8ABAfMvwAEB8z/AAQHzT8ABAfNfwAEB82/AAQHzf8ABAfOPwAEB85/AAQHzD8ABAfMfwAEB8y/AAQHzP8ABAfNPwAEB81/AAQHzb8AB" +
        "AfN/wAEB84/AAQHzn8AA8P2An/////////////////////////////////////////////////////////////////////////////////////" +
        "//////////////////////////////////////////////////////////////////////////////////////////////////////////////" +
        "//////////////////////////////////////////////////////////////////////////////////////////////////////////////" +
        "////////////////////////A1BlbCB3ZU5APlSaAgAA/hVpZ2h0cyBhbmQgcGlja2xlcyAwCmxpbmUgMTogbW9kZWwgd2UkABIxJAAfMiQACR" +
        "IyJAAfMyQACRIzJAAfNCQACRI0JAAfNSQACRI1JAAfNiQACRI2JAAeNyQADfwAHzj8ABAfOfwAEB8w/AAQHzH8ABAfMvwAEB8z/AAQHzT8ABAf" +
        "NfwAEB82/AAQHzf8ABAfOPwAEB85/AAQHzD8ABAfMfwAEB8y/AAQHzP8ABAfNPwAEB81/AAQHzb8ABAfN/wAEB84/AAQHzn8ABAfMPwAEB8x/A" +
        "AQHzL8ABAfM/wAEB80/AAQHzX8ABAfNvwAEB83/AAQHzj8ABAfOfwAEB8w/AAQHzH8ABAfMvwAEB8z/AAQHzT8ABAfNfwAEB82/AAQHzf8ABAf" +
        "OPwAEB85/AAQHzD8ABAfMfwAEB8y/AAQHzP8ABAfNPwAEB81/AAQHzb8ABAfN/wAEB84/AAQHzn8ABAfMPwAEB8x/AAQHzL8ABAfM/wAEB80/A" +
        "AQHzX8ABAfNvwAEB83/AAQHzj8ABAfOfwAEA5oAQ/YCf//////////////////////////////////////////////////////////////////" +
        "//////////////////////////////////////////////////////////////////////////////////////////////////////////////" +
        "//////////////////////////////////////////////////////////////////////////////////////////////////////////////" +
        "//////////////////////////////////////////8AUGlja2xlL3r6nJsCAADyGHMgMApsaW5lIDE6IG1vZGVsIHdlaWdodHMgYW5kIHBpY2" +
        "tsZXMgMSQAHzIkAAkSMiQAHzMkAAkSMyQAHzQkAAkSNCQAHzUkAAkSNSQAHzYkAAkSNiQAHzckAAkD/AAfOPwAEB85/AAQHzD8ABAfMfwAEB8y" +
        "/AAQHzP8ABAfNPwAEB81/AAQHzb8ABAfN/wAEB84/AAQHzn8ABAfMPwAEB8x/AAQHzL8ABAfM/wAEB80/AAQHzX8ABAfNvwAEB83/AAQHzj8AB" +
        "AfOfwAEB8w/AAQHzH8ABAfMvwAEB8z/AAQHzT8ABAfNfwAEB82/AAQHzf8ABAfOPwAEB85/AAQHzD8ABAfMfwAEB8y/AAQHzP8ABAfNPwAEB81" +
        "/AAQHzb8ABAfN/wAEB84/AAQHzn8ABAfMPwAEB8x/AAQHzL8ABAfM/wAEB80/AAQHzX8ABAfNvwAEB83/AAQHzj8ABAfOfwAEB8w/AAQHzH8AB" +
        "AfMvwAEB8z/AAQHzT8ABAfNfwAEB82/AAQHzf8ABAfOPwAEB85/AAQD2gBCg/YCf//////////////////////////////////////////////" +
        "//////////////////////////////////////////////////////////////////////////////////////////////////////////////" +
        "//////////////////////////////////////////////////////////////////////////////////////////////////////////////" +
        "//////////////////////////////////////////////////////////////8FUCBtb2RloTvbYeYBAAD/FWwgd2VpZ2h0cyBhbmQgcGlja2" +
        "xlcyAxCmxpbmUgMjogbW9kZSQAAxIyJAAfMyQACRIzJAAfNCQACRI0JAAfNSQACRI1JAAfNiQACRI2JAAfNyQACRIwJAAeOCQADfwAHzn8ABAf" +
        "MPwAEB8x/AAQHzL8ABAfM/wAEB80/AAQHzX8ABAfNvwAEB83/AAQHzj8ABAfOfwAEB8w/AAQHzH8ABAfMvwAEB8z/AAQHzT8ABAfNfwAEB82/A" +
        "AQHzf8ABAfOPwAEB85/AAQHzD8ABAfMfwAEB8y/AAQHzP8ABAfNPwAEB81/AAQHzb8ABAfN/wAEB84/AAQHzn8ABAfMPwAEB8x/AAQHzL8ABAf" +
        "M/wAEB80/AAQHzX8ABAfNvwAEB83/AAQHzj8ABAfOfwAEB8w/AAQHzH8ABAfMvwAEB8z/AAQHzT8ABAfNfwAEB82/AAQHzf8ABAfOPwAEB85/A" +
        "AQHzD8ABAfMfwAEB8y/AAQHzP8ABAfNPwAEB81/AAQHzb8ABAfN/wAEB84/AAQHzn8ABAfMPwAEA5oAQ/YCf//////////////////////////" +
        "/////////////////////////////////////////////////////////////wdQZXMgMApEvTOgAAAAAMHbUZw=");

    // nocrc.lz4
    public static readonly byte[] Lz4Small = Convert.FromBase64String(
        "BCJNGGBAggkAAIBoZWxsbyA3egoAAAAA");

    // text.xz
    public static readonly byte[] XzText = Convert.FromBase64String(
        "/Td6WFoAAATm1rRGAgAhARYAAAB0L+Wj40u/APtdADYaSh8IoCZWTgaZzZWcY8J2k3FmdW/dumwV8Gu/DsF/Wcj0IeQb90Z5rHaLjHQyE5zCkg" +
        "NZTtzLritTef7Bn6pi4n0yePf1EjWWm55GPI1THVsH8vXGLhw46hx2PzaCKosxd6uX4ZviFxptj4D+jbGkx6C8iSRnlojy/UjvD5szPw6Q5Vj4" +
        "EC98JL7lfWeiT/ir4BFk2OC9hFB+g1wgfH/6W+Zk4KUlk54CvovZWoZ/NFfKvoI2iCSlmec9LVbTQJVn163B5i/axmvaqRPyJtom7gcyR1TJxk" +
        "LBTcE1/JZf2YFzzIlZe6cz1lVJGXmW52/tzrEnGFq2aooAAADdnGVJSpRg0QABlwLAlw0AeJ9JgrHEZ/sCAAAAAARZWg==");

    // text.lzma
    public static readonly byte[] LzmaText = Convert.FromBase64String(
        "XQAAgAD//////////wA2GkofCKAmVk4Gmc2VnGPCdpNxZnVv3bpsFfBrvw7Bf1nI9CHkG/dGeax2i4x0MhOcwpIDWU7cy64rU3n+wZ+qYuJ9Mn" +
        "j39RI1lpueRjyNUx1bB/L1xi4cOOocdj82giqLMXerl+Gb4hcabY+A/o2xpMegvIkkZ5aI8v1I7w+bMz8OkOVY+BAvfCS+5X1nok/4q+ARZNjg" +
        "vYRQfoNcIHx/+lvmZOClJZOeAr6L2VqGfzRXyr6CNogkpZnnPS1W00CVZ9etweYv2sZr2qkT8ibaJu4HMkdUycZCwU3BNfyWX9mBc8yJWXunM9" +
        "ZVSRl5ludv7c6xJxhatnGa3E//+RSO2g==");

    // solid.7z
    public static readonly byte[] SevenZipSolid = Convert.FromBase64String(
        "N3q8ryccAATlux9AlwAAAAAAAAAhAAAAAAAAAFys1c8BABRoZWxsbyA3egpzZWNvbmQgZmlsZQoAAACBMweuD8+SbmAP6+qcvzY9/nHKUfIBtq" +
        "g9yPLP+498lUXdf0QRk/KYEuIbzIyOD8Fpcyo5NEW7o2WhiJOzUKAm4Y1sPSDVcPc4l4xAHjRk9VLtKTJrT2NxtkfoeLqqJB1WiFspPJnkQ+YS" +
        "ccp4CMIcZYgBR98xiehxIAAAFwYZAQl+AAcLAQABIwMBAQVdABAAAAyAngoB/mcAOgAA");

    // enc_header.7z
    public static readonly byte[] SevenZipEncryptedHeader = Convert.FromBase64String(
        "N3q8ryccAASFmytxoAAAAAAAAAA9AAAAAAAAAHrXkd62aouk67OJ3wQMHYlCrn98XLuLQrz4QIjW4by9T0fWwhMfFgx9QJFSHfayoz0nyTU3UZ" +
        "GdEmqGk6e/s+AZDCPG642iT7smTfukrKHrt6b+GGlq00TGVLxoyDJGwCZGj62EyGrtp00dL6oq928Ff2Azr1w11xROUxJi5ZcNT0ZAryGH7tpH" +
        "QPDRKw5PvKcBO3E+9/BqBpTGHfwnbC6oNDmnFwYgAQmAgAAHCwEAAiQG8QcBElMP5nlEXow2iJjJyjIq2g2HEiMDAQEFXQAQAAABAAx9gI4KAR" +
        "jLk+8AAA==");

    // enc_member.7z
    public static readonly byte[] SevenZipEncryptedMember = Convert.FromBase64String(
        "N3q8ryccAASnT8TGEAAAAAAAAABiAAAAAAAAAHoV0uoWKpw/rJhZMw3j6xThTvkgAQQGAAEJEAAHCwEAAiQG8QcBElMP4Sv6zrn0zKB7PeFfOM" +
        "CL4iEhAQABAAwNCQAICgGotOgFAAAFARkBABENAGEALgB0AHgAdAAAABQKAQDTax5gRoDdARUGAQAggKSBAAA=");

    // bcj.7z
    public static readonly byte[] SevenZipBcj = Convert.FromBase64String(
        "N3q8ryccAAScSjJ8DQAAAAAAAABSAAAAAAAAAOposiQBAAhoZWxsbyA3egoAAQQGAAEJDQAHCwEAAiEhAQAEAwMBAwEADAkJAAgKAai06AUAAA" +
        "UBGQQAAAAAEQ0AYQAuAHQAeAB0AAAAFAoBANNrHmBGgN0BFQYBACCApIEAAA==");

    // ppmd.7z
    public static readonly byte[] SevenZipPpmd = Convert.FromBase64String(
        "N3q8ryccAARtI4ioDQAAAAAAAABSAAAAAAAAAPvMEgUAZ/uDfXAkEIdAbkQAAQQGAAEJDQAHCwEAASMDBAEFBgAAAQAMCQAICgGotOgFAAAFAR" +
        "kGAAAAAAAAEQ0AYQAuAHQAeAB0AAAAFAoBANNrHmBGgN0BFQYBACCApIEAAA==");

    // bzip2.7z
    public static readonly byte[] SevenZipBzip2 = Convert.FromBase64String(
        "N3q8ryccAATnSEC+MgAAAAAAAABSAAAAAAAAAPz/5QBCWmg5MUFZJlNZY/E71wAAAlmAABBAAACAAkSAECAAIgGaEDADn7KILuSKcKEgx+J3rg" +
        "EEBgABCTIABwsBAAEDBAICDAkACAoBqLToBQAABQEZDAAAAAAAAAAAAAAAABENAGEALgB0AHgAdAAAABQKAQDTax5gRoDdARUGAQAggKSBAAA=");

    // deflate.7z
    public static readonly byte[] SevenZipDeflate = Convert.FromBase64String(
        "N3q8ryccAATZe6KMDgAAAAAAAABSAAAAAAAAAKv6ukABCQD2/2hlbGxvIDd6CgEEBgABCQ4ABwsBAAEDBAEIDAkACAoBqLToBQAABQEZDAAAAA" +
        "AAAAAAAAAAABENAGEALgB0AHgAdAAAABQKAQDTax5gRoDdARUGAQAggKSBAAA=");

    // copy.7z
    public static readonly byte[] SevenZipCopy = Convert.FromBase64String(
        "N3q8ryccAASfWulacgAAAAAAAAAgAAAAAAAAALmzP35oZWxsbyA3egpzZWNvbmQgZmlsZQoAAIEzB64xqUbc1neAooxL4jNis5S6SnKPLumkg6" +
        "THoPMA56QqX5NB9sqRocZcBEKduGwvXI6Q5SQMctO6Tq0hhvf8by97SpTLeTd2uPhKTYhpW+mdlF44oAAAAAAXBhUBCV0ABwsBAAEjAwEBBV0A" +
        "EAAADG4KAX58YuwAAA==");

    // delta.7z
    public static readonly byte[] SevenZipDelta = Convert.FromBase64String(
        "N3q8ryccAAT90a79fwAAAAAAAAAgAAAAAAAAANF3pwEBABRoZWxsB7vLDptTLull+/+99/sIRaQAAACBMweuD8+SbmAP1GpegHwaXr7WhNBbus" +
        "EjG2NZZWTJsSqBpW29ygbjqiSQZLWpIp3FScBcDx/2j9jTGM/wSua6upSUInf6/0ngNCSoT3D6YfPsx6Ibz+pEZFnaw8Eg8NRAAAAAFwYZAQlm" +
        "AAcLAQABIwMBAQVdABAAAAx+CgGfMJjaAAA=");

    // plainheader.7z
    public static readonly byte[] SevenZipPlainHeader = Convert.FromBase64String(
        "N3q8ryccAAREprsoGQAAAAAAAABuAAAAAAAAAA2gxzEBABRoZWxsbyA3egpzZWNvbmQgZmlsZQoAAQQGAAEJGQAHCwEAASEhAQAMFQAIDQIJCQ" +
        "oBqLToBYL/cuQAAAUCGQQAAAAAERkAYQAuAHQAeAB0AAAAYgAuAGIAaQBuAAAAGQIAABQSAQDTax5gRoDdAe38HmBGgN0BFQoBACCApIEggKSB" +
        "AAA=");
}
