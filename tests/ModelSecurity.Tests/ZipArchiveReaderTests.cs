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
using ModelSecurity.Formats.Zip;
using Xunit;

namespace ModelSecurity.Tests;

public class ZipArchiveReaderTests
{
    private static readonly byte[] Pickle = Fixtures.SmallPickle();

    // ---- Ordinary archives ----

    [Fact]
    public void Open_BytesWithNoZipStructure_ReturnsNull()
    {
        using var source = Source(Fixtures.Concat(Pickle, new byte[200]));

        Assert.Null(ZipArchiveReader.Open(source, CancellationToken.None));
    }

    [Fact]
    public void Open_EmptyFile_ReturnsNull()
    {
        using var source = Source(Array.Empty<byte>());

        Assert.Null(ZipArchiveReader.Open(source, CancellationToken.None));
    }

    [Fact]
    public void Open_EmptyArchive_HasNoEntriesAndNoAnomalies()
    {
        using var source = Source(new ZipBuilder().Build());

        ZipArchiveReader zip = Open(source);

        Assert.Empty(zip.Entries);
        Assert.Empty(zip.Anomalies);
        Assert.True(zip.FromCentralDirectory);
    }

    [Fact]
    public void Open_StoredAndDeflatedMembers_ListsThemInDirectoryOrderAndReadsThem()
    {
        byte[] text = Fixtures.Ascii(string.Concat(Enumerable.Repeat("weights ", 500)));
        var builder = new ZipBuilder();
        builder.Add("archive/data.pkl", Pickle);
        builder.Add("archive/data/0", text, ZipBuilder.Deflated);
        builder.AddDirectory("archive/extra");
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Empty(zip.Anomalies);
        Assert.Equal("archive/data.pkl|archive/data/0|archive/extra/", Names(zip));
        Assert.Equal(Enumerable.Range(0, 3), zip.Entries.Select(e => e.Index));
        Assert.Equal(ZipEntry.Deflated, zip.Entries[1].Method);
        Assert.True(zip.Entries[1].CompressedSize < text.Length);
        Assert.Equal(text.Length, zip.Entries[1].UncompressedSize);
        Assert.True(zip.Entries[2].IsDirectory);
        Assert.False(zip.Entries[0].IsDirectory);

        var anomalies = new List<ArchiveAnomaly>();
        ZipMemberData pickle = zip.ReadAll(zip.Entries[0], 1 << 20, anomalies, CancellationToken.None);
        ZipMemberData weights = zip.ReadAll(zip.Entries[1], 1 << 20, anomalies, CancellationToken.None);
        ZipMemberData folder = zip.ReadAll(zip.Entries[2], 1 << 20, anomalies, CancellationToken.None);

        Assert.Empty(anomalies);
        Assert.Equal(Pickle, pickle.Data);
        Assert.Equal(text, weights.Data);
        Assert.Empty(folder.Data);
        Assert.True(pickle.CrcVerified && weights.CrcVerified && folder.CrcVerified);
        Assert.False(pickle.Truncated || weights.Truncated || folder.Truncated);
    }

    [Theory]
    [InlineData(CompressionLevel.Optimal)]
    [InlineData(CompressionLevel.NoCompression)]
    [InlineData(CompressionLevel.SmallestSize)]
    public void Open_ZipWrittenBySystemIoCompression_AgreesWithZipArchive(CompressionLevel level)
    {
        var random = new Random(1944);
        var contents = new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["archive/data.pkl"] = Pickle,
            ["empty"] = Array.Empty<byte>(),
            ["random.bin"] = Bytes(random, 300_000),
            ["zeros.bin"] = new byte[900_000],
            ["text.bin"] = Fixtures.Ascii(string.Concat(Enumerable.Range(0, 200_000).Select(i => (char)('a' + (i % 7))))),
            ["text/naïve – ünïcode.txt"] = Fixtures.Utf8(string.Concat(Enumerable.Repeat("héllo ", 1000))),
        };
        byte[] bytes = WriteWithZipArchive(contents, level, seekable: true);
        using var source = Source(bytes);

        ZipArchiveReader zip = Open(source);

        Assert.Empty(zip.Anomalies);
        using var reference = new ZipArchive(new MemoryStream(bytes), ZipArchiveMode.Read);
        Assert.Equal(reference.Entries.Select(e => e.FullName), zip.Entries.Select(e => e.Name));
        foreach (ZipArchiveEntry expected in reference.Entries)
        {
            ZipEntry entry = zip.Entries.Single(e => e.Name == expected.FullName);
            Assert.Equal(expected.Length, entry.UncompressedSize);
            Assert.Equal(expected.CompressedLength, entry.CompressedSize);
            Assert.Equal(expected.Crc32, entry.Crc32);

            var anomalies = new List<ArchiveAnomaly>();
            ZipMemberData data = zip.ReadAll(entry, 16 << 20, anomalies, CancellationToken.None);
            Assert.Empty(anomalies);
            Assert.True(data.CrcVerified);
            Assert.Equal(contents[expected.FullName], data.Data);
        }
    }

    [Fact]
    public void Open_ZipArchiveWrittenToNonSeekableStream_UsesDataDescriptorsAndReadsThem()
    {
        var contents = new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["a.npy"] = Fixtures.Ascii(new string('a', 5000)),
            ["b.npy"] = Bytes(new Random(7), 70_000),
        };
        byte[] bytes = WriteWithZipArchive(contents, CompressionLevel.Optimal, seekable: false);
        using var source = Source(bytes);

        ZipArchiveReader zip = Open(source);

        Assert.Empty(zip.Anomalies);
        Assert.All(zip.Entries, e => Assert.True(e.HasDataDescriptor));
        foreach (ZipEntry entry in zip.Entries)
        {
            var anomalies = new List<ArchiveAnomaly>();
            ZipMemberData data = zip.ReadAll(entry, 1 << 20, anomalies, CancellationToken.None);
            Assert.Empty(anomalies);
            Assert.True(data.CrcVerified);
            Assert.Equal(contents[entry.Name], data.Data);
        }
    }

    [Fact]
    public void Open_PyTorchStyleAlignedArchive_HasNoAnomaliesAndAlignedData()
    {
        var builder = new ZipBuilder { DataAlignment = 64 };
        builder.Add("archive/data.pkl", Pickle);
        builder.Add("archive/byteorder", Fixtures.Ascii("little"));
        builder.Add("archive/data/0", new byte[1000]);
        builder.Add("archive/version", Fixtures.Ascii("3\n"));
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Empty(zip.Anomalies);
        Assert.All(zip.Entries, e => Assert.Equal(0, e.DataOffset % 64));
        Assert.Equal(
            Fixtures.Ascii("little"),
            zip.ReadHead(zip.Entries[1], 100, new List<ArchiveAnomaly>()));
    }

    [Fact]
    public void ReadHead_ReturnsOnlyTheFirstBytes_AndReadsLittleOfTheMember()
    {
        byte[] big = Bytes(new Random(3), 3_000_000);
        var builder = new ZipBuilder();
        builder.Add("stored.bin", big);
        builder.Add("deflated.bin", big, ZipBuilder.Deflated).Level = CompressionLevel.Fastest;
        using var source = Source(builder.Build());
        ZipArchiveReader zip = Open(source);
        long afterOpen = source.BytesRead;
        var anomalies = new List<ArchiveAnomaly>();

        byte[] stored = zip.ReadHead(zip.Entries[0], 100, anomalies);
        byte[] deflated = zip.ReadHead(zip.Entries[1], 100, anomalies);

        Assert.Empty(anomalies);
        Assert.Equal(big.Take(100), stored);
        Assert.Equal(big.Take(100), deflated);
        Assert.True(source.BytesRead - afterOpen < 64 * 1024, $"read {source.BytesRead - afterOpen} bytes");
    }

    [Fact]
    public void Open_ReadsHeadersOnly_NotMemberData()
    {
        var builder = new ZipBuilder();
        for (int i = 0; i < 20; i++)
        {
            builder.Add($"archive/data/{i}", new byte[100_000]);
        }

        byte[] bytes = builder.Build();
        using var source = Source(bytes);

        Open(source);

        Assert.True(source.BytesRead < 80 * 1024, $"read {source.BytesRead} of {bytes.Length} bytes");
    }

    [Fact]
    public void ReadHead_CountLargerThanMember_ReturnsWholeMember()
    {
        var builder = new ZipBuilder();
        builder.Add("a", Pickle);
        builder.Add("b", Pickle, ZipBuilder.Deflated);
        using var source = Source(builder.Build());
        ZipArchiveReader zip = Open(source);
        var anomalies = new List<ArchiveAnomaly>();

        Assert.Equal(Pickle, zip.ReadHead(zip.Entries[0], 1 << 20, anomalies));
        Assert.Equal(Pickle, zip.ReadHead(zip.Entries[1], 1 << 20, anomalies));
        Assert.Empty(zip.ReadHead(zip.Entries[1], 0, anomalies));
        Assert.Empty(anomalies);
    }

    // ---- Published bypasses (docs/reference/scanners.md §3.1) ----

    [Fact]
    public void Open_LocalNameDiffersFromCentral_ReportsMismatch()
    {
        // CVE-2025-1944: the local header says "datap.kl", the directory (what PyTorch uses) "data.pkl".
        var builder = new ZipBuilder();
        builder.Add("archive/data.pkl", Pickle).LocalName = "archive/datap.kl";
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Equal("archive/data.pkl", Assert.Single(zip.Entries).Name);
        ArchiveAnomaly anomaly = Assert.Single(zip.Anomalies);
        Assert.Equal(ArchiveAnomalyKind.LocalNameMismatch, anomaly.Kind);
        Assert.Equal("archive/data.pkl", anomaly.Member);
        Assert.Contains("archive/datap.kl", anomaly.Detail, StringComparison.Ordinal);
        Assert.Equal(Pickle, zip.ReadHead(zip.Entries[0], 100, new List<ArchiveAnomaly>()));
    }

    [Fact]
    public void Open_LocalNameOfAnotherLength_UsesTheLocalLengthForTheDataOffset()
    {
        var builder = new ZipBuilder();
        builder.Add("data.pkl", Pickle).LocalName = "a/much/longer/local/name.txt";
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Equal(ArchiveAnomalyKind.LocalNameMismatch, Assert.Single(zip.Anomalies).Kind);
        Assert.Equal(builder.Members[0].DataOffset, zip.Entries[0].DataOffset);
        Assert.Equal(Pickle, zip.ReadAll(zip.Entries[0], 100, new List<ArchiveAnomaly>(), CancellationToken.None).Data);
    }

    [Theory]
    [InlineData(0x0001)]
    [InlineData(0x0040)]
    [InlineData(0x0041)]
    public void Open_EncryptionFlagOnPlainData_ReportsFlagAndStillReadsTheData(int flag)
    {
        // CVE-2025-1945: CPython's zipfile refuses the member, so a scanner built on it saw nothing.
        var builder = new ZipBuilder();
        builder.Add("archive/data.pkl", Pickle).Flags = (ushort)flag;
        builder.Add("archive/data/0", new byte[64], ZipBuilder.Deflated).Flags = (ushort)flag;
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Equal(2, zip.Anomalies.Count);
        Assert.All(zip.Anomalies, a => Assert.Equal(ArchiveAnomalyKind.EncryptionFlag, a.Kind));
        Assert.All(zip.Entries, e => Assert.True(e.IsEncrypted));
        var anomalies = new List<ArchiveAnomaly>();
        Assert.Equal(Pickle, zip.ReadAll(zip.Entries[0], 100, anomalies, CancellationToken.None).Data);
        Assert.Equal(new byte[64], zip.ReadAll(zip.Entries[1], 100, anomalies, CancellationToken.None).Data);
        Assert.Empty(anomalies);
    }

    [Fact]
    public void Open_EncryptionFlagInLocalHeaderOnly_ReportsWhere()
    {
        var builder = new ZipBuilder();
        builder.Add("data.pkl", Pickle).LocalFlags = ZipEntry.EncryptedFlag;
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        ArchiveAnomaly anomaly = Assert.Single(zip.Anomalies);
        Assert.Equal(ArchiveAnomalyKind.EncryptionFlag, anomaly.Kind);
        Assert.Contains("local header only", anomaly.Detail, StringComparison.Ordinal);
        Assert.Equal(0, zip.Entries[0].Flags);
        Assert.Equal(ZipEntry.EncryptedFlag, zip.Entries[0].LocalFlags);
    }

    [Fact]
    public void Open_PatchedDataFlag_IsReported()
    {
        var builder = new ZipBuilder();
        builder.Add("data.pkl", Pickle).Flags = ZipEntry.PatchedDataFlag;
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Equal(ArchiveAnomalyKind.PatchedDataFlag, Assert.Single(zip.Anomalies).Kind);
        Assert.False(zip.Entries[0].IsEncrypted);
    }

    [Theory]
    [InlineData(ZipBuilder.Stored, 0xDEADBEEFu)]
    [InlineData(ZipBuilder.Stored, 0u)]
    [InlineData(ZipBuilder.Deflated, 0x12345678u)]
    public void ReadAll_BadCrc_ReportsMismatchAndStillReturnsTheData(ushort method, uint crc)
    {
        // CVE-2025-10156: CPython refuses a member whose CRC is wrong; PyTorch never checks.
        var builder = new ZipBuilder();
        builder.Add("archive/data.pkl", Pickle, method).Crc = crc;
        using var source = Source(builder.Build());
        ZipArchiveReader zip = Open(source);
        var anomalies = new List<ArchiveAnomaly>();

        ZipMemberData data = zip.ReadAll(zip.Entries[0], 1000, anomalies, CancellationToken.None);

        Assert.Empty(zip.Anomalies);
        Assert.Equal(Pickle, data.Data);
        Assert.False(data.CrcVerified);
        Assert.False(data.Truncated);
        Assert.Equal(ArchiveAnomalyKind.CrcMismatch, Assert.Single(anomalies).Kind);
    }

    [Fact]
    public void Open_DuplicateNames_AreReported()
    {
        var builder = new ZipBuilder();
        builder.Add("archive/data.pkl", Pickle);
        builder.Add("archive/data.pkl", Fixtures.SmallPickle());
        builder.Add("archive/version", Fixtures.Ascii("3\n"));
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Equal(3, zip.Entries.Count);
        ArchiveAnomaly anomaly = Assert.Single(zip.Anomalies);
        Assert.Equal(ArchiveAnomalyKind.DuplicateName, anomaly.Kind);
        Assert.Equal("archive/data.pkl", anomaly.Member);
    }

    [Theory]
    [InlineData("../evil.pkl")]
    [InlineData("archive/../../evil.pkl")]
    [InlineData("/etc/cron.d/evil")]
    [InlineData("C:evil.pkl")]
    [InlineData("c:/Windows/evil.dll")]
    [InlineData("archive\\data.pkl")]
    [InlineData("\\\\server\\share\\x")]
    [InlineData("data.pkl\0.txt")]
    public void Open_UnsafeName_IsReported(string name)
    {
        var builder = new ZipBuilder();
        builder.Add(name, Pickle);
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Equal(name, zip.Entries[0].Name);
        ArchiveAnomaly anomaly = Assert.Single(zip.Anomalies);
        Assert.Equal(ArchiveAnomalyKind.UnsafeName, anomaly.Kind);
        Assert.Equal(name, anomaly.Member);
    }

    [Theory]
    [InlineData("archive/data.pkl")]
    [InlineData("a..b/c")]
    [InlineData("archive/.data/version")]
    [InlineData("dir/")]
    public void UnsafeNameReason_OrdinaryName_IsNull(string name) =>
        Assert.Null(ArchivePaths.UnsafeReason(name));

    [Theory]
    [InlineData(12, false)]
    [InlineData(14, false)]
    [InlineData(93, false)]
    [InlineData(99, true)]
    public void ReadAll_MethodOtherThanStoredOrDeflate_ReturnsNothingWithAnAnomaly(int method, bool encrypted)
    {
        ArchiveAnomalyKind kind = encrypted ? ArchiveAnomalyKind.Encrypted : ArchiveAnomalyKind.UnsupportedMethod;
        var builder = new ZipBuilder();
        builder.Add("archive/data.pkl", Pickle, (ushort)method);
        using var source = Source(builder.Build());
        ZipArchiveReader zip = Open(source);
        var anomalies = new List<ArchiveAnomaly>();

        ZipMemberData data = zip.ReadAll(zip.Entries[0], 1000, anomalies, CancellationToken.None);
        byte[] head = zip.ReadHead(zip.Entries[0], 10, anomalies);

        Assert.Empty(data.Data);
        Assert.Empty(head);
        Assert.True(data.Truncated);
        Assert.Equal(2, anomalies.Count);
        Assert.All(anomalies, a => Assert.Equal(kind, a.Kind));
    }

    [Fact]
    public void Open_DataPrependedToAFinishedZip_ShiftsOffsetsAndReportsThePrefix()
    {
        var builder = new ZipBuilder { Prefix = Fixtures.Concat(Pickle, new byte[100]) };
        builder.Add("archive/data.pkl", Pickle);
        builder.Add("archive/data/0", new byte[300], ZipBuilder.Deflated);
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Equal(106, zip.ArchiveStart);
        Assert.Equal(106, zip.Entries[0].LocalHeaderOffset);
        ArchiveAnomaly anomaly = Assert.Single(zip.Anomalies);
        Assert.Equal(ArchiveAnomalyKind.PrependedData, anomaly.Kind);
        Assert.Contains("106", anomaly.Detail, StringComparison.Ordinal);
        Assert.Equal(Pickle, zip.ReadAll(zip.Entries[0], 100, new List<ArchiveAnomaly>(), CancellationToken.None).Data);
        Assert.Equal(new byte[300], zip.ReadAll(zip.Entries[1], 1000, new List<ArchiveAnomaly>(), CancellationToken.None).Data);
    }

    [Fact]
    public void Open_PrefixAlreadyCountedInOffsets_ReportsThePrefixWithoutShifting()
    {
        var builder = new ZipBuilder { Prefix = new byte[77], PrefixCountedInOffsets = true };
        builder.Add("data.pkl", Pickle);
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Equal(0, zip.ArchiveStart);
        Assert.Equal(77, zip.Entries[0].LocalHeaderOffset);
        Assert.Equal(ArchiveAnomalyKind.PrependedData, Assert.Single(zip.Anomalies).Kind);
        Assert.Equal(Pickle, zip.ReadHead(zip.Entries[0], 100, new List<ArchiveAnomaly>()));
    }

    [Fact]
    public void Open_JunkAppendedAfterTheEndRecord_ReportsDataOutsideEntries()
    {
        var builder = new ZipBuilder { Trailer = Pickle };
        builder.Add("data.pkl", Pickle);
        byte[] bytes = builder.Build();
        using var source = Source(bytes);

        ZipArchiveReader zip = Open(source);

        ArchiveAnomaly anomaly = Assert.Single(zip.Anomalies);
        Assert.Equal(ArchiveAnomalyKind.DataOutsideEntries, anomaly.Kind);
        Assert.Contains($"{Pickle.Length:N0} bytes in 1 place", anomaly.Detail, StringComparison.Ordinal);
        Assert.Contains($"offset {bytes.Length - Pickle.Length:N0}", anomaly.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_MemberLeftOutOfTheDirectory_ReportsDataOutsideEntries()
    {
        var builder = new ZipBuilder();
        builder.Add("archive/data.pkl", Pickle);
        builder.Add("archive/evil.pkl", Pickle).InCentralDirectory = false;
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Single(zip.Entries);
        ArchiveAnomaly anomaly = Assert.Single(zip.Anomalies);
        Assert.Equal(ArchiveAnomalyKind.DataOutsideEntries, anomaly.Kind);
        Assert.Contains($"offset {builder.Members[1].LocalHeaderOffset:N0}", anomaly.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_BytesBetweenMembersAndAroundTheDirectory_AreCountedOnce()
    {
        var builder = new ZipBuilder { BeforeDirectory = new byte[7], AfterDirectory = new byte[5] };
        builder.Add("a", Pickle);
        builder.Add("b", Pickle).Gap = new byte[11];
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        ArchiveAnomaly anomaly = Assert.Single(zip.Anomalies);
        Assert.Equal(ArchiveAnomalyKind.DataOutsideEntries, anomaly.Kind);
        Assert.Contains("23 bytes in 3 place", anomaly.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_TwoDirectoryEntriesSharingOneLocalHeader_ReportsOverlap()
    {
        var builder = new ZipBuilder();
        ZipBuilderMember data = builder.Add("archive/data.pkl", Pickle);
        builder.Add(new ZipBuilderMember("archive/other.pkl", Pickle) { SharesLocalHeaderOf = data });
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Equal(2, zip.Entries.Count);
        Assert.Contains(zip.Anomalies, a => a.Kind == ArchiveAnomalyKind.OverlappingEntries);
        Assert.Contains(zip.Anomalies, a => a.Kind == ArchiveAnomalyKind.LocalNameMismatch && a.Member == "archive/other.pkl");
    }

    [Fact]
    public void Open_ManyOverlappingEntries_ListsAFewAndCountsTheRest()
    {
        // The classic overlapping-file bomb: thousands of directory entries over one local header.
        var builder = new ZipBuilder();
        ZipBuilderMember first = builder.Add("0", new byte[1000], ZipBuilder.Deflated);
        for (int i = 1; i < 2000; i++)
        {
            builder.Add(new ZipBuilderMember(i.ToString(System.Globalization.CultureInfo.InvariantCulture), new byte[1000], ZipBuilder.Deflated) { SharesLocalHeaderOf = first });
        }

        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Equal(2000, zip.Entries.Count);
        ArchiveAnomaly[] overlaps = zip.Anomalies.Where(a => a.Kind == ArchiveAnomalyKind.OverlappingEntries).ToArray();
        Assert.Equal(ZipArchiveReader.MaxAnomaliesPerKind + 1, overlaps.Length);
        Assert.Contains(overlaps, a => a.Member is null && a.Detail.StartsWith("1,979 more", StringComparison.Ordinal));
    }

    [Fact]
    public void Open_StoredMemberWithDifferentSizes_ReportsSizeMismatch()
    {
        var builder = new ZipBuilder();
        builder.Add("data.pkl", Pickle).UncompressedSize = 3;
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Equal(ArchiveAnomalyKind.SizeMismatch, Assert.Single(zip.Anomalies).Kind);
    }

    [Fact]
    public void Open_LocalHeaderSizesDifferFromDirectory_ReportsSizeMismatchAndUsesTheDirectory()
    {
        var builder = new ZipBuilder();
        ZipBuilderMember member = builder.Add("data.pkl", Pickle);
        member.LocalCompressedSize = 2;
        member.LocalUncompressedSize = 2;
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Equal(ArchiveAnomalyKind.SizeMismatch, Assert.Single(zip.Anomalies).Kind);
        Assert.Equal(Pickle, zip.ReadAll(zip.Entries[0], 100, new List<ArchiveAnomaly>(), CancellationToken.None).Data);
    }

    [Fact]
    public void Open_LocalHeaderDiffersInCrcAndMethod_ReportsBoth()
    {
        var builder = new ZipBuilder();
        ZipBuilderMember member = builder.Add("data.pkl", Pickle);
        member.LocalCrc = 1;
        member.LocalMethod = ZipBuilder.Deflated;
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Equal(2, zip.Anomalies.Count);
        Assert.All(zip.Anomalies, a => Assert.Equal(ArchiveAnomalyKind.Other, a.Kind));
        Assert.Equal(ZipEntry.Stored, zip.Entries[0].Method);
    }

    [Fact]
    public void Open_DataRunningIntoTheCentralDirectory_ReportsSizeMismatch()
    {
        var builder = new ZipBuilder();
        ZipBuilderMember member = builder.Add("data.pkl", Pickle);
        member.CompressedSize = 40;
        member.UncompressedSize = 40;
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Contains(zip.Anomalies, a => a.Kind == ArchiveAnomalyKind.SizeMismatch && a.Detail.Contains("central directory", StringComparison.Ordinal));
    }

    [Fact]
    public void Open_DataRunningPastTheEndOfTheFile_ReportsSizeMismatch_AndReadsWhatIsThere()
    {
        var builder = new ZipBuilder();
        ZipBuilderMember member = builder.Add("data.pkl", Pickle);
        member.CompressedSize = 1_000_000;
        member.UncompressedSize = 1_000_000;
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);
        ZipMemberData data = zip.ReadAll(zip.Entries[0], 10_000_000, new List<ArchiveAnomaly>(), CancellationToken.None);

        Assert.Contains(zip.Anomalies, a => a.Kind == ArchiveAnomalyKind.SizeMismatch && a.Detail.Contains("end of the file", StringComparison.Ordinal));
        Assert.True(data.Truncated);
        Assert.Equal(Pickle, data.Data.Take(Pickle.Length));
        Assert.True(data.Data.Length < 1000);
    }

    [Fact]
    public void Open_DirectoryPointsAtNoLocalHeader_ReportsLocalHeaderMissing()
    {
        var builder = new ZipBuilder();
        builder.Add("data.pkl", Pickle).LocalHeaderOffsetOverride = 3;
        builder.Add("far.pkl", Pickle).LocalHeaderOffsetOverride = 1L << 40;
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Equal(2, zip.Entries.Count);
        Assert.All(zip.Entries, e => Assert.False(e.HasLocalHeader));
        Assert.Equal(2, zip.Anomalies.Count(a => a.Kind == ArchiveAnomalyKind.LocalHeaderMissing));
        ZipMemberData data = zip.ReadAll(zip.Entries[0], 100, new List<ArchiveAnomaly>(), CancellationToken.None);
        Assert.Empty(data.Data);
        Assert.True(data.Truncated);
    }

    [Fact]
    public void Open_SymbolicLinkMember_IsReported()
    {
        var builder = new ZipBuilder();
        ZipBuilderMember link = builder.Add("archive/data.pkl", Fixtures.Ascii("/etc/passwd"));
        link.VersionMadeBy = 0x031E;
        link.ExternalAttributes = 0xA1FFu << 16;
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.True(zip.Entries[0].IsSymbolicLink);
        Assert.Equal(ArchiveAnomalyKind.Link, Assert.Single(zip.Anomalies).Kind);
    }

    // ---- Deflate content ----

    [Fact]
    public void ReadAll_CorruptDeflateStream_ReportsCorruptWithoutThrowing()
    {
        var builder = new ZipBuilder();
        ZipBuilderMember member = builder.Add("data.pkl", Pickle, ZipBuilder.Deflated);
        member.RawData = new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
        using var source = Source(builder.Build());
        ZipArchiveReader zip = Open(source);
        var anomalies = new List<ArchiveAnomaly>();

        ZipMemberData data = zip.ReadAll(zip.Entries[0], 1000, anomalies, CancellationToken.None);

        Assert.True(data.Truncated);
        Assert.False(data.CrcVerified);
        Assert.Equal(ArchiveAnomalyKind.Corrupt, Assert.Single(anomalies).Kind);
    }

    [Fact]
    public void ReadAll_GarbageFlaggedEncrypted_ReportsEncrypted()
    {
        var builder = new ZipBuilder();
        ZipBuilderMember member = builder.Add("data.pkl", Pickle, ZipBuilder.Deflated);
        member.RawData = new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
        member.Flags = ZipEntry.EncryptedFlag;
        using var source = Source(builder.Build());
        ZipArchiveReader zip = Open(source);
        var anomalies = new List<ArchiveAnomaly>();

        zip.ReadAll(zip.Entries[0], 1000, anomalies, CancellationToken.None);

        Assert.Equal(ArchiveAnomalyKind.Encrypted, Assert.Single(anomalies).Kind);
    }

    [Fact]
    public void ReadAll_DeflateShorterThanDeclared_ReportsSizeMismatch()
    {
        var builder = new ZipBuilder();
        builder.Add("data.pkl", Pickle, ZipBuilder.Deflated).UncompressedSize = 1000;
        using var source = Source(builder.Build());
        ZipArchiveReader zip = Open(source);
        var anomalies = new List<ArchiveAnomaly>();

        ZipMemberData data = zip.ReadAll(zip.Entries[0], 10_000, anomalies, CancellationToken.None);

        Assert.Equal(Pickle, data.Data);
        Assert.True(data.Truncated);
        Assert.Equal(ArchiveAnomalyKind.SizeMismatch, Assert.Single(anomalies).Kind);
    }

    [Fact]
    public void ReadAll_DeflateLongerThanDeclared_StopsAtTheDeclaredSizeLikeTheLoaders()
    {
        byte[] content = Fixtures.Ascii(new string('x', 5000));
        var builder = new ZipBuilder();
        ZipBuilderMember member = builder.Add("data.pkl", content, ZipBuilder.Deflated);
        member.UncompressedSize = 10;
        member.Crc = Crc32.Compute(content.AsSpan(0, 10));
        using var source = Source(builder.Build());
        ZipArchiveReader zip = Open(source);
        var anomalies = new List<ArchiveAnomaly>();

        ZipMemberData data = zip.ReadAll(zip.Entries[0], 10_000, anomalies, CancellationToken.None);

        Assert.Equal(content.Take(10), data.Data);
        Assert.True(data.CrcVerified);
        Assert.Equal(ArchiveAnomalyKind.SizeMismatch, Assert.Single(anomalies).Kind);
    }

    [Fact]
    public void ReadAll_HighlyCompressedMember_IsBoundedByTheOutputCap()
    {
        // 64 MiB of zeros deflates about 1030:1, the most deflate can do: legal data, bounded by the cap.
        byte[] zeros = new byte[64 << 20];
        var builder = new ZipBuilder();
        builder.Add("data/0", zeros, ZipBuilder.Deflated).Level = CompressionLevel.SmallestSize;
        using var source = Source(builder.Build());
        ZipArchiveReader zip = Open(source);
        var anomalies = new List<ArchiveAnomaly>();

        ZipMemberData capped = zip.ReadAll(zip.Entries[0], 8 << 20, anomalies, CancellationToken.None);

        Assert.True(capped.Truncated);
        Assert.False(capped.CrcVerified);
        Assert.True(capped.Data.Length <= 8 << 20, $"{capped.Data.Length} bytes inflated");
        Assert.Contains(anomalies, a => a.Kind is ArchiveAnomalyKind.MemberTooLarge or ArchiveAnomalyKind.CompressionBomb);

        var none = new List<ArchiveAnomaly>();
        ZipMemberData whole = zip.ReadAll(zip.Entries[0], 1L << 30, none, CancellationToken.None);
        Assert.False(whole.Truncated);
        Assert.True(whole.CrcVerified);
        Assert.Empty(none);
    }

    [Theory]
    [InlineData(ZipBuilder.Stored)]
    [InlineData(ZipBuilder.Deflated)]
    public void ReadAll_MemberLargerThanTheLimit_ReturnsItsBeginningAsTooLarge(ushort method)
    {
        byte[] content = Bytes(new Random(5), 200_000);
        var builder = new ZipBuilder();
        builder.Add("big.bin", content, method);
        using var source = Source(builder.Build());
        ZipArchiveReader zip = Open(source);
        var anomalies = new List<ArchiveAnomaly>();

        ZipMemberData data = zip.ReadAll(zip.Entries[0], 1000, anomalies, CancellationToken.None);

        Assert.Equal(content.Take(1000), data.Data);
        Assert.True(data.Truncated);
        Assert.False(data.CrcVerified);
        Assert.Equal(ArchiveAnomalyKind.MemberTooLarge, Assert.Single(anomalies).Kind);
    }

    [Theory]
    [InlineData(ZipBuilder.Deflated)]
    [InlineData(12)]
    public void ReadAll_NoDataAndNothingDeclared_IsEmptyWhateverTheMethod(ushort method)
    {
        var builder = new ZipBuilder();
        builder.Add("empty", Array.Empty<byte>(), method).RawData = Array.Empty<byte>();
        using var source = Source(builder.Build());
        ZipArchiveReader zip = Open(source);
        var anomalies = new List<ArchiveAnomaly>();

        ZipMemberData data = zip.ReadAll(zip.Entries[0], 1000, anomalies, CancellationToken.None);

        Assert.Empty(zip.Anomalies);
        Assert.Empty(anomalies);
        Assert.Empty(data.Data);
        Assert.True(data.CrcVerified);
        Assert.False(data.Truncated);
    }

    [Fact]
    public void ReadAll_DeclaredZeroBytesButDataPresent_ReportsHiddenContent()
    {
        var builder = new ZipBuilder();
        ZipBuilderMember member = builder.Add("data.pkl", Pickle, ZipBuilder.Deflated);
        member.UncompressedSize = 0;
        member.Crc = 0;
        using var source = Source(builder.Build());
        ZipArchiveReader zip = Open(source);
        var anomalies = new List<ArchiveAnomaly>();

        ZipMemberData data = zip.ReadAll(zip.Entries[0], 1000, anomalies, CancellationToken.None);

        Assert.Empty(data.Data);
        Assert.Equal(ArchiveAnomalyKind.SizeMismatch, Assert.Single(anomalies).Kind);
    }

    // ---- Data descriptors, ZIP64, missing directory ----

    [Theory]
    [InlineData(ZipBuilder.Stored, true)]
    [InlineData(ZipBuilder.Stored, false)]
    [InlineData(ZipBuilder.Deflated, true)]
    [InlineData(ZipBuilder.Deflated, false)]
    public void Open_DataDescriptor_UsesTheDirectorySizes(ushort method, bool signature)
    {
        var builder = new ZipBuilder();
        ZipBuilderMember member = builder.Add("archive/data.pkl", Pickle, method);
        member.DataDescriptor = true;
        member.DescriptorSignature = signature;
        builder.Add("archive/version", Fixtures.Ascii("3\n"));
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Empty(zip.Anomalies);
        Assert.True(zip.Entries[0].HasDataDescriptor);
        Assert.Equal(Pickle.Length, zip.Entries[0].UncompressedSize);
        ZipMemberData data = zip.ReadAll(zip.Entries[0], 1000, new List<ArchiveAnomaly>(), CancellationToken.None);
        Assert.Equal(Pickle, data.Data);
        Assert.True(data.CrcVerified);
    }

    [Fact]
    public void Open_DescriptorFlagOnlyInTheDirectory_ExpectsNoDescriptor()
    {
        var builder = new ZipBuilder();
        ZipBuilderMember member = builder.Add("a", Pickle);
        member.Flags = ZipEntry.DataDescriptorFlag;
        member.LocalFlags = 0;
        builder.Add("b", Pickle);
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Empty(zip.Anomalies);
    }

    [Fact]
    public void Open_DataDescriptorDisagreeingWithTheDirectory_ReportsSizeMismatch()
    {
        var builder = new ZipBuilder();
        ZipBuilderMember member = builder.Add("data.pkl", Pickle);
        member.DataDescriptor = true;
        member.DescriptorBytes = new byte[] { 0x50, 0x4B, 0x07, 0x08, 1, 2, 3, 4, 9, 0, 0, 0, 9, 0, 0, 0 };
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Equal(ArchiveAnomalyKind.SizeMismatch, Assert.Single(zip.Anomalies).Kind);
    }

    [Fact]
    public void Open_Zip64Records_ReadsSizesAndOffsetsFromThem()
    {
        var builder = new ZipBuilder { Zip64 = true };
        builder.Add("archive/data.pkl", Pickle).Zip64 = true;
        builder.Add("archive/data/0", new byte[5000], ZipBuilder.Deflated).Zip64 = true;
        builder.Add("archive/version", Fixtures.Ascii("3\n"));
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Empty(zip.Anomalies);
        Assert.Equal(3, zip.Entries.Count);
        Assert.Equal(5000, zip.Entries[1].UncompressedSize);
        Assert.Equal(builder.Members[1].LocalHeaderOffset, zip.Entries[1].LocalHeaderOffset);
        Assert.Equal(new byte[5000], zip.ReadAll(zip.Entries[1], 10_000, new List<ArchiveAnomaly>(), CancellationToken.None).Data);
    }

    [Fact]
    public void Open_Zip64SizesInTheLocalHeaderOnly_AsNumPySavezWritesThem()
    {
        // np.savez opens members with force_zip64: saturated local sizes and a ZIP64 extra field in
        // the local header, ordinary sizes in the central directory.
        byte[] npy = Fixtures.Ascii("\x93NUMPY fake array");
        byte[] extra = new byte[20];
        ZipBuilder.PatchUInt16(extra, 0, 0x0001);
        ZipBuilder.PatchUInt16(extra, 2, 16);
        ZipBuilder.PatchUInt32(extra, 4, (uint)npy.Length);
        ZipBuilder.PatchUInt32(extra, 12, (uint)npy.Length);
        var builder = new ZipBuilder();
        ZipBuilderMember member = builder.Add("a.npy", npy);
        member.LocalExtra = extra;
        member.LocalCompressedSize = uint.MaxValue;
        member.LocalUncompressedSize = uint.MaxValue;
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Empty(zip.Anomalies);
        Assert.Equal(npy, zip.ReadAll(zip.Entries[0], 1000, new List<ArchiveAnomaly>(), CancellationToken.None).Data);
    }

    [Fact]
    public void Open_Zip64WithPrependedData_FindsTheRecordBeforeTheLocator()
    {
        var builder = new ZipBuilder { Zip64 = true, Prefix = new byte[50] };
        builder.Add("data.pkl", Pickle).Zip64 = true;
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Equal(50, zip.ArchiveStart);
        Assert.Equal(ArchiveAnomalyKind.PrependedData, Assert.Single(zip.Anomalies).Kind);
        Assert.Equal(Pickle, zip.ReadHead(zip.Entries[0], 100, new List<ArchiveAnomaly>()));
    }

    [Fact]
    public void Open_EndRecordDisagreesWithZip64Record_ReportsAndUsesZip64()
    {
        var builder = new ZipBuilder { Zip64 = true, SaturateEndRecord = false };
        builder.Add("a", Pickle);
        builder.Add("b", Pickle);
        byte[] bytes = builder.Build();
        ZipBuilder.PatchUInt16(bytes, builder.EndRecordOffset + 8, 1);
        ZipBuilder.PatchUInt16(bytes, builder.EndRecordOffset + 10, 1);
        using var source = Source(bytes);

        ZipArchiveReader zip = Open(source);

        Assert.Equal(2, zip.Entries.Count);
        Assert.Contains(zip.Anomalies, a => a.Kind == ArchiveAnomalyKind.Other && a.Detail.Contains("ZIP64", StringComparison.Ordinal));
    }

    [Fact]
    public void Open_NoCentralDirectory_WalksTheLocalHeaders()
    {
        var builder = new ZipBuilder { WriteCentralDirectory = false, WriteEndRecord = false };
        builder.Add("archive/data.pkl", Pickle);
        builder.Add("archive/data/0", new byte[300], ZipBuilder.Deflated);
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.False(zip.FromCentralDirectory);
        Assert.Equal("archive/data.pkl|archive/data/0", Names(zip));
        Assert.Equal(ArchiveAnomalyKind.Truncated, Assert.Single(zip.Anomalies).Kind);
        var anomalies = new List<ArchiveAnomaly>();
        Assert.Equal(new byte[300], zip.ReadAll(zip.Entries[1], 1000, anomalies, CancellationToken.None).Data);
        Assert.Empty(anomalies);
    }

    [Fact]
    public void Open_NoCentralDirectoryAndADataDescriptor_StopsTheWalkThere()
    {
        var builder = new ZipBuilder { WriteCentralDirectory = false, WriteEndRecord = false };
        ZipBuilderMember member = builder.Add("archive/data.pkl", Pickle, ZipBuilder.Deflated);
        member.DataDescriptor = true;
        builder.Add("archive/hidden.pkl", Pickle);
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        ZipEntry entry = Assert.Single(zip.Entries);
        Assert.False(entry.SizesKnown);
        Assert.Equal(2, zip.Anomalies.Count(a => a.Kind == ArchiveAnomalyKind.Truncated));
        var anomalies = new List<ArchiveAnomaly>();
        ZipMemberData data = zip.ReadAll(entry, 1000, anomalies, CancellationToken.None);
        Assert.Equal(Pickle, data.Data);
        Assert.False(data.CrcVerified);
    }

    [Fact]
    public void Open_EndRecordPointsNowhereButLocalHeadersExist_WalksThem()
    {
        var builder = new ZipBuilder { DirectoryOffsetOverride = 5, DirectorySizeOverride = 3 };
        builder.Add("data.pkl", Pickle);
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.False(zip.FromCentralDirectory);
        Assert.Equal("data.pkl", Assert.Single(zip.Entries).Name);
        Assert.Contains(zip.Anomalies, a => a.Kind == ArchiveAnomalyKind.Corrupt);
    }

    [Fact]
    public void Open_EndRecordPointsNowhereAndNoLocalHeaderAtStart_IsCorruptAndEmpty()
    {
        var builder = new ZipBuilder { DirectoryOffsetOverride = 5, DirectorySizeOverride = 3, Prefix = new byte[10], PrefixCountedInOffsets = true };
        builder.Add("data.pkl", Pickle);
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Empty(zip.Entries);
        Assert.Contains(zip.Anomalies, a => a.Kind == ArchiveAnomalyKind.Corrupt);
    }

    [Fact]
    public void Open_EndRecordCountsMoreEntriesThanTheDirectoryHolds_ReportsTruncated()
    {
        var builder = new ZipBuilder { EntryCountOverride = 5 };
        builder.Add("a", Pickle);
        builder.Add("b", Pickle);
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Equal(2, zip.Entries.Count);
        Assert.Equal(ArchiveAnomalyKind.Truncated, Assert.Single(zip.Anomalies).Kind);
    }

    [Fact]
    public void Open_DirectoryHoldsMoreEntriesThanCounted_ListsAllAndReports()
    {
        // miniz reads as many entries as the end record counts, CPython as many as the directory holds.
        var builder = new ZipBuilder { EntryCountOverride = 1 };
        builder.Add("archive/data.pkl", Pickle);
        builder.Add("archive/evil.pkl", Pickle);
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Equal(2, zip.Entries.Count);
        Assert.Equal(ArchiveAnomalyKind.Other, Assert.Single(zip.Anomalies).Kind);
    }

    [Fact]
    public void Open_SecondEndRecordInTheComment_ReportsTheCommentGame()
    {
        // The real end record's comment holds a fake, empty-archive end record that ends the file:
        // loaders take the last record (and see an empty zip after 120 prepended bytes), a
        // forward-scanning reader the first.
        var inner = new ZipBuilder();
        byte[] fakeEnd = inner.Build();
        var builder = new ZipBuilder { Comment = fakeEnd };
        builder.Add("data.pkl", Pickle);
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Empty(zip.Entries);
        Assert.Contains(zip.Anomalies, a => a.Kind == ArchiveAnomalyKind.Other && a.Detail.Contains("second end", StringComparison.Ordinal));
        Assert.Contains(zip.Anomalies, a => a.Kind == ArchiveAnomalyKind.PrependedData);
    }

    [Fact]
    public void Open_DirectoryOffsetWrongButSizeRight_FindsTheDirectoryLikeCPython()
    {
        // CPython reads the directory at (end record - directory size) whatever the offset says, and
        // shifts every local header offset by the difference.
        var builder = new ZipBuilder { DirectoryOffsetOverride = 5 };
        builder.Add("data.pkl", Pickle);
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.True(zip.FromCentralDirectory);
        Assert.Equal(builder.DirectoryOffset - 5, zip.ArchiveStart);
        Assert.Contains(zip.Anomalies, a => a.Kind == ArchiveAnomalyKind.LocalHeaderMissing);
    }

    [Fact]
    public void Open_CommentLengthPastTheEndOfTheFile_IsReported()
    {
        var builder = new ZipBuilder { CommentLength = 500 };
        builder.Add("data.pkl", Pickle);
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Single(zip.Entries);
        Assert.Equal(ArchiveAnomalyKind.Other, Assert.Single(zip.Anomalies).Kind);
    }

    // ---- Names ----

    [Fact]
    public void DecodeName_WithoutUtf8Flag_IsCodePage437()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        byte[] all = Enumerable.Range(0x20, 0xE0).Select(b => (byte)b).ToArray();

        string decoded = ZipArchiveReader.DecodeName(all, 0);

        Assert.Equal(Encoding.GetEncoding(437).GetString(all), decoded);
    }

    [Fact]
    public void Open_NonAsciiNames_AreDecodedByTheUtf8Flag()
    {
        var builder = new ZipBuilder();
        builder.Add("modèle/données.pkl", Pickle);
        builder.Add(new ZipBuilderMember("cp437", Pickle) { NameBytes = new byte[] { 0x82, 0x41 } });
        using var source = Source(builder.Build());

        ZipArchiveReader zip = Open(source);

        Assert.Empty(zip.Anomalies);
        Assert.Equal("modèle/données.pkl", zip.Entries[0].Name);
        Assert.Equal("éA", zip.Entries[1].Name);
        Assert.Equal(new byte[] { 0x82, 0x41 }, zip.Entries[1].RawName.ToArray());
    }

    // ---- Bounds ----

    [Fact]
    public void Open_DirectoryClaimingHugeCountsAndSizes_StaysBounded()
    {
        var builder = new ZipBuilder { Zip64 = true, EntryCountOverride = long.MaxValue / 2, DirectorySizeOverride = long.MaxValue / 2 };
        builder.Add("data.pkl", Pickle).UncompressedSize = uint.MaxValue - 1;
        ZipBuilderMember huge = builder.Add("data/0", Pickle);
        huge.Zip64 = true;
        huge.CompressedSize = long.MaxValue / 4;
        huge.UncompressedSize = long.MaxValue / 4;
        byte[] bytes = builder.Build();
        using var source = Source(bytes);
        long allocated = GC.GetAllocatedBytesForCurrentThread();

        ZipArchiveReader zip = Open(source);
        var anomalies = new List<ArchiveAnomaly>();
        ZipMemberData data = zip.ReadAll(zip.Entries[1], long.MaxValue, anomalies, CancellationToken.None);
        byte[] head = zip.ReadHead(zip.Entries[0], int.MaxValue, anomalies);

        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Assert.True(allocated < 2_000_000, $"allocated {allocated:N0} bytes");
        Assert.Equal(2, zip.Entries.Count);
        Assert.Contains(zip.Anomalies, a => a.Kind == ArchiveAnomalyKind.SizeMismatch);
        Assert.Contains(zip.Anomalies, a => a.Kind == ArchiveAnomalyKind.Corrupt);
        Assert.True(data.Truncated);
        Assert.Equal(Pickle, head);
    }

    [Fact]
    public void Open_FiftyGigabyteArchive_ReadsOnlyKilobytes()
    {
        var builder = new ZipBuilder();
        builder.Add("archive/data.pkl", Pickle);
        for (int i = 0; i < 10; i++)
        {
            builder.Add($"archive/data/{i}", Array.Empty<byte>()).ZeroFill = 5L << 30;
        }

        using var sparse = new SparseMemoryStream();
        builder.WriteTo(sparse);
        using var source = new ModelFileSource(sparse);

        ZipArchiveReader zip = Open(source);
        var anomalies = new List<ArchiveAnomaly>();
        byte[] pickle = zip.ReadHead(zip.Entries[0], 1 << 20, anomalies);
        byte[] last = zip.ReadHead(zip.Entries[10], 1000, anomalies);

        Assert.True(source.Length > 50L << 30);
        Assert.Empty(zip.Anomalies);
        Assert.Empty(anomalies);
        Assert.Equal(11, zip.Entries.Count);
        Assert.Equal(Pickle, pickle);
        Assert.Equal(new byte[1000], last);
        Assert.True(source.BytesRead < 100 * 1024, $"read {source.BytesRead:N0} bytes");
    }

    [SkippableFact]
    public void Open_SparseMultiGigabyteFile_ReadsOnlyKilobytes()
    {
        // NTFS files are not sparse unless asked, so Windows would write the 5 GB of zeros.
        Skip.If(OperatingSystem.IsWindows(), "needs a file system that makes sparse files by default");
        string path = Path.Combine(Path.GetTempPath(), $"ms-zip-{Guid.NewGuid():N}.pth");
        try
        {
            var builder = new ZipBuilder { DataAlignment = 64 };
            builder.Add("archive/data.pkl", Pickle);
            ZipBuilderMember weights = builder.Add("archive/data/0", Array.Empty<byte>());
            weights.ZeroFill = 5L << 30;
            builder.Add("archive/version", Fixtures.Ascii("3\n"));
            using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite))
            {
                builder.WriteTo(file);
            }

            using var source = ModelFileSource.OpenFile(path);
            ZipArchiveReader zip = Open(source);
            var anomalies = new List<ArchiveAnomaly>();
            byte[] pickle = zip.ReadHead(zip.Entries[0], 1 << 20, anomalies);
            byte[] head = zip.ReadHead(zip.Entries[1], 64, anomalies);
            byte[] version = zip.ReadHead(zip.Entries[2], 64, anomalies);

            Assert.Empty(zip.Anomalies);
            Assert.Empty(anomalies);
            Assert.Equal(5L << 30, zip.Entries[1].UncompressedSize);
            Assert.Equal(Pickle, pickle);
            Assert.Equal(new byte[64], head);
            Assert.Equal(Fixtures.Ascii("3\n"), version);
            Assert.True(source.BytesRead < 100 * 1024, $"read {source.BytesRead:N0} bytes");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Open_MoreEntriesThanTheLimit_ListsTheLimitAndReportsTruncated()
    {
        var builder = new ZipBuilder();
        for (int i = 0; i <= ZipArchiveReader.MaxEntries; i++)
        {
            builder.Add(i.ToString(System.Globalization.CultureInfo.InvariantCulture), Array.Empty<byte>());
        }

        using var source = Source(builder.Build());
        var clock = Stopwatch.StartNew();

        ZipArchiveReader zip = Open(source);

        Assert.Equal(ZipArchiveReader.MaxEntries, zip.Entries.Count);
        Assert.Equal(ArchiveAnomalyKind.Truncated, Assert.Single(zip.Anomalies).Kind);
        Assert.True(clock.Elapsed < HangGuard.Limit, $"took {clock.Elapsed}");
    }

    [Fact]
    public void Open_MutatedArchives_NeverThrow()
    {
        var builder = new ZipBuilder { Zip64 = true };
        builder.Add("archive/data.pkl", Pickle);
        builder.Add("archive/data/0", Fixtures.Ascii(new string('w', 3000)), ZipBuilder.Deflated);
        ZipBuilderMember described = builder.Add("archive/data/1", new byte[500], ZipBuilder.Deflated);
        described.DataDescriptor = true;
        builder.Add("archive/version", Fixtures.Ascii("3\n")).Zip64 = true;
        byte[] original = builder.Build();
        var random = new Random(10156);

        for (int round = 0; round < 3000; round++)
        {
            byte[] bytes = Mutate(original, random);
            using var source = Source(bytes);
            ZipArchiveReader? zip = ZipArchiveReader.Open(source, CancellationToken.None);
            if (zip is null)
            {
                continue;
            }

            var anomalies = new List<ArchiveAnomaly>();
            foreach (ZipEntry entry in zip.Entries)
            {
                zip.ReadHead(entry, 64, anomalies);
                zip.ReadAll(entry, 1 << 20, anomalies, CancellationToken.None);
            }
        }
    }

    [Fact]
    public void Open_Cancelled_Throws()
    {
        using var source = Source(ZipBuilder.StoredZip(("a", Pickle)));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => ZipArchiveReader.Open(source, cancelled.Token));
    }

    [Fact]
    public void ReadAll_Cancelled_Throws()
    {
        var builder = new ZipBuilder();
        builder.Add("a", new byte[10_000], ZipBuilder.Deflated);
        using var source = Source(builder.Build());
        ZipArchiveReader zip = Open(source);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => zip.ReadAll(zip.Entries[0], 1 << 20, new List<ArchiveAnomaly>(), cancelled.Token));
    }

    // ---- CRC-32 ----

    [Fact]
    public void Crc32_MatchesTheStandardCheckValue()
    {
        Assert.Equal(0xCBF43926u, Crc32.Compute(Fixtures.Ascii("123456789")));
        Assert.Equal(0u, Crc32.Compute(ReadOnlySpan<byte>.Empty));
    }

    [Fact]
    public void Crc32_AppendInPieces_EqualsOneComputation()
    {
        byte[] data = Bytes(new Random(32), 10_000);

        uint whole = Crc32.Compute(data);
        uint pieces = Crc32.Append(Crc32.Append(Crc32.Compute(data.AsSpan(0, 3)), data.AsSpan(3, 4001)), data.AsSpan(4004));

        Assert.Equal(whole, pieces);
    }

    private static ModelFileSource Source(byte[] bytes) => new(new MemoryStream(bytes));

    private static string Names(ZipArchiveReader zip) => string.Join("|", zip.Entries.Select(e => e.Name));

    private static ZipArchiveReader Open(ModelFileSource source) =>
        ZipArchiveReader.Open(source, CancellationToken.None) ?? throw new InvalidOperationException("Not recognised as a zip.");

    private static byte[] Bytes(Random random, int count)
    {
        byte[] bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] WriteWithZipArchive(Dictionary<string, byte[]> contents, CompressionLevel level, bool seekable)
    {
        using var buffer = new MemoryStream();
        Stream target = seekable ? buffer : new ForwardOnlyStream(buffer);
        using (var archive = new ZipArchive(target, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach ((string name, byte[] content) in contents)
            {
                using Stream stream = archive.CreateEntry(name, level).Open();
                stream.Write(content, 0, content.Length);
            }
        }

        return buffer.ToArray();
    }

    private static byte[] Mutate(byte[] original, Random random)
    {
        byte[] bytes = (byte[])original.Clone();
        int edits = random.Next(1, 6);
        for (int i = 0; i < edits; i++)
        {
            int at = random.Next(bytes.Length);
            switch (random.Next(4))
            {
                case 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes[at] = 0xFF;
                    break;
                case 2:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                default:
                    return bytes.AsSpan(0, at).ToArray();
            }
        }

        return bytes;
    }

    /// <summary>Hides seeking, so <see cref="ZipArchive"/> writes data descriptors.</summary>
    private sealed class ForwardOnlyStream : Stream
    {
        private readonly Stream _inner;

        public ForwardOnlyStream(Stream inner) => _inner = inner;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _inner.Position;
            set => throw new NotSupportedException();
        }

        public override void Flush() => _inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);
    }
}
