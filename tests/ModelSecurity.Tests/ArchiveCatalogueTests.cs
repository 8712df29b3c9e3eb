using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using ModelSecurity.Analysis;
using ModelSecurity.Formats;
using Xunit;

namespace ModelSecurity.Tests;

/// <summary>
/// Pickles in the other wrappers people meet: legacy PyTorch tar checkpoints, compressed joblib
/// dumps, gzip'd pickles, tar.gz bundles and 7z archives (nullifAI), each with a benign twin.
/// </summary>
public class ArchiveCatalogueTests
{
    // Made with 7-Zip 7zz: "7zz a -mf=BCJ -m0=LZMA x.7z data.pkl". The pickle carries x86-looking
    // E8/E9 bytes, so a wrong BCJ decode would break it. Benign: a dict and collections.OrderedDict;
    // evil: the same, then posix.system('id').
    private const string BenignBcj7z = "N3q8ryccAAQTKfum8gAAAAAAAABqAAAAAAAAAEsJVdQAQAELK3omHpWQlU+BF2WL/+Z2LS8HVwkaexVI4z7BUOWGviUF/FSHjFtIxCuuj7YGZYtKivM8L1YyjRZTrfOeMd1WkFlrK16t98gO1xWc+K5fto4XsCOZYnOkNecmYAWW8ZJWYOeJOo7aOhmfxG4rE6IqNqkobvmieYWv+neUw4H4QFcQs0rFNt0R2yd/BM88p13NrAok4f5PZHghQLq5tjK3RBmBnn6EHhSBO8c4IR3K0TYmUiJn1rKZdwDo9RBl8euKJSWgmnRbfTHdF0Cnq9Nork+BgYsM09YU6PH8M5tTj6ngpeOWKcPr6+acPA/AAAEEBgABCYDyAAcLAQACIwMBAQVdABAAAAQDAwEDAQAMgq6CrgAICgFQpm3VAAAFARkLAAAAAAAAAAAAAAAREwBkAGEAdABhAC4AcABrAGwAAAAZABQKAQBiv6YOSoDdARUGAQAggKSBAAA=";
    private const string EvilBcj7z = "N3q8ryccAASi6XG97AAAAAAAAABqAAAAAAAAAA1tXGgAQAELK3omHpWQlU+BF2WL/+Z2LS8HVwkaexVI4z7BUOWGviUF/FSHjFtIxCuuj7YGZYtKivM8L1YyjRZTrfOeMd1WkFlrK16t98gO1xWc+K5fto4XsCOZYnOkNecmYAWW8ZJWYOeJOo7aOhmfxG4rE6IqNqkobvmieYWv+neUw4H4QFcQs0rFNt0R2yd/BM88p13NrAok4f5PZHghQLq5tjK3RBmBnn6EHhSBO8c4IR3K0TYmUiJn1rKZdwDo9RBl8euKJSWgmnRbfTHdF0CnfQIdlyyHQ4U+mOu066YEYO8aBXt3nP9yzQuYAAEEBgABCYDsAAcLAQACIwMBAQVdABAAAAQDAwEDAQAMgqeCpwAICgGCPfBIAAAFARkLAAAAAAAAAAAAAAAREwBkAGEAdABhAC4AcABrAGwAAAAZABQKAQBHw6YOSoDdARUGAQAggKSBAAA=";

    private static readonly byte[] Evil = PickleBuilder.CallWithString("posix", "system");
    private static readonly byte[] Benign = PickleBuilder.TorchStateDict();

    private static byte[] TorchTar(byte[] objectPickle)
    {
        byte[] sysInfo = PickleBuilder.Create().Proto(2).EmptyDict().Str("protocol_version").Int(1001).SetItem().Stop().ToArray();
        byte[] count = PickleBuilder.Create().Proto(2).Int(0).Stop().ToArray();
        return Fixtures.Tar(("sys_info", sysInfo), ("pickle", objectPickle), ("storages", count), ("tensors", count));
    }

    [Fact]
    public void LegacyTorchTar_EveryPickleMemberIsScanned()
    {
        // CVE-2025-32434 (b): torch.load used the unrestricted unpickler for legacy tar checkpoints.
        ModelScanResult evil = Scan.Bytes("model.tar", TorchTar(Evil));
        ModelScanResult benign = Scan.Bytes("model.tar", TorchTar(Benign));

        Assert.Equal(ModelFormat.PyTorchTar, evil.Format);
        Assert.Equal(ScanVerdict.Malicious, evil.Verdict);
        Assert.Contains(evil.Findings, f => f.RuleId == RuleIds.PickleCodeExecution && f.Location!.StartsWith("pickle, byte", StringComparison.Ordinal));
        Assert.True(benign.Verdict == ScanVerdict.Clean, string.Join("; ", benign.Findings));
    }

    [Theory]
    [InlineData("../../etc/cron.d/job")]
    [InlineData("/tmp/x.pkl")]
    public void TarMemberEscapingTheFolder_IsMalicious(string name)
    {
        ModelScanResult result = Scan.Bytes("bundle.tar", Fixtures.Tar(("ok.txt", Fixtures.Ascii("hello")), (name, Fixtures.Ascii("data"))));

        Assert.Equal(ScanVerdict.Malicious, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.ArchivePathTraversal);
    }

    [Fact]
    public void GzippedPickle_IsDecompressedAndScanned()
    {
        ModelScanResult evil = Scan.Bytes("model.pkl.gz", Fixtures.Gzip(Evil));
        ModelScanResult benign = Scan.Bytes("model.pkl.gz", Fixtures.Gzip(Benign));

        Assert.Equal(ModelFormat.Gzip, evil.Format);
        Assert.Equal(ScanVerdict.Malicious, evil.Verdict);
        Assert.Contains(evil.Findings, f => f.Location!.StartsWith("<gzip>, byte", StringComparison.Ordinal));
        Assert.Equal(ScanVerdict.Clean, benign.Verdict);
        Assert.Equal((long)Benign.Length, benign.Metadata["DecompressedLength"]);
    }

    [Fact]
    public void TarGzBundle_IsScannedToTheInnerPickle()
    {
        byte[] bundle = Fixtures.Gzip(Fixtures.Tar(("model/README.md", Fixtures.Ascii("# model\n")), ("model/weights.bin", Evil)));

        ModelScanResult result = Scan.Bytes("model.tar.gz", bundle);

        Assert.Equal(ScanVerdict.Malicious, result.Verdict);
        Assert.Contains(result.Findings, f => f.Location!.StartsWith("<gzip>/model/weights.bin", StringComparison.Ordinal));
    }

    [Fact]
    public void JoblibZlibFile_IsDecompressedAndScanned()
    {
        static byte[] ZFile(byte[] pickle)
        {
            using var compressed = new MemoryStream();
            using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
            {
                zlib.Write(pickle);
            }

            // joblib's write_zfile: "ZF", then the length in hex padded to a fixed width, then zlib data.
            byte[] header = Encoding.ASCII.GetBytes("ZF" + ("0x" + pickle.Length.ToString("x", System.Globalization.CultureInfo.InvariantCulture)).PadRight(20));
            return Fixtures.Concat(header, compressed.ToArray());
        }

        ModelScanResult evil = Scan.Bytes("model.joblib", ZFile(Evil));
        ModelScanResult benign = Scan.Bytes("model.joblib", ZFile(Benign));

        Assert.Equal(ModelFormat.Zlib, evil.Format);
        Assert.Equal(ScanVerdict.Malicious, evil.Verdict);
        Assert.Equal(ScanVerdict.Clean, benign.Verdict);
    }

    [Fact]
    public void SevenZipWithBranchFilter_IsDecodedAndScanned()
    {
        // nullifAI: a model packed in 7z, here with 7-Zip's x86 branch filter as picklescan's malicious1.7z has.
        ModelScanResult benign = Scan.Bytes("model.7z", Convert.FromBase64String(BenignBcj7z));
        ModelScanResult evil = Scan.Bytes("model.7z", Convert.FromBase64String(EvilBcj7z));

        Assert.Equal(ModelFormat.SevenZip, benign.Format);
        Assert.True(benign.Verdict == ScanVerdict.Clean, string.Join("; ", benign.Findings));
        Assert.Equal(new[] { "collections.OrderedDict" }, (string[])benign.Metadata["PickleGlobals"]!);
        Assert.Equal(ScanVerdict.Malicious, evil.Verdict);
        Assert.Contains(evil.Findings, f => f.RuleId == RuleIds.PickleCodeExecution && f.Location!.StartsWith("data.pkl, byte", StringComparison.Ordinal));
    }

    [Fact]
    public void CompressionBomb_IsBoundedAndInconclusive()
    {
        byte[] zeros = new byte[300 * 1024 * 1024];
        byte[] bomb;
        using (var buffer = new MemoryStream())
        {
            using (var gzip = new GZipStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true))
            {
                gzip.Write(zeros);
            }

            bomb = buffer.ToArray();
        }

        ModelScanResult result = Scan.Bytes("model.pkl.gz", bomb);

        Assert.Equal(ScanVerdict.Inconclusive, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.ArchiveBomb);
        Assert.True((long)result.Metadata["DecompressedLength"]! <= ScanLimits.Default.MaxMemberBytes);
    }
}
