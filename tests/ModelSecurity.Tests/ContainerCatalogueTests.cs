using System;
using System.Linq;
using ModelSecurity.Analysis;
using ModelSecurity.Formats;
using Xunit;

namespace ModelSecurity.Tests;

/// <summary>
/// The container techniques of the bypass catalogue (scanners.md §3.1) against zip-based models,
/// each with a benign twin built the same way.
/// </summary>
public class ContainerCatalogueTests
{
    private static readonly byte[] Evil = PickleBuilder.CallWithString("builtins", "eval", "1+1");
    private static readonly byte[] EvilProto0 = Fixtures.Ascii("cbuiltins\neval\n(S'1+1'\ntR.");
    private static readonly byte[] Benign = PickleBuilder.TorchStateDict();

    private static byte[] TorchZip(byte[] dataPkl, Action<ZipBuilder>? tamper = null, string prefix = "archive/")
    {
        var builder = new ZipBuilder { DataAlignment = 64 };
        builder.Add(prefix + "data.pkl", dataPkl);
        builder.Add(prefix + ".format_version", Fixtures.Ascii("1"));
        builder.Add(prefix + "byteorder", Fixtures.Ascii("little"));
        builder.Add(prefix + "data/0", new byte[16]);
        builder.Add(prefix + "version", Fixtures.Ascii("3\n"));
        builder.Add(prefix + ".data/serialization_id", Fixtures.Ascii("1234567890"));
        tamper?.Invoke(builder);
        return builder.Build();
    }

    [Fact]
    public void TorchZip_StateDict_IsClean_AndListsItsGlobals()
    {
        ModelScanResult result = Scan.Bytes("pytorch_model.bin", TorchZip(Benign));

        Assert.Equal(ModelFormat.PyTorchZip, result.Format);
        Assert.True(result.Verdict == ScanVerdict.Clean, string.Join("; ", result.Findings));
        Assert.Contains("torch._utils._rebuild_tensor_v2", (string[])result.Metadata["PickleGlobals"]!);
    }

    [Fact]
    public void TorchZip_PayloadInDataPkl_IsMaliciousAtItsMember()
    {
        ModelScanResult result = Scan.Bytes("pytorch_model.bin", TorchZip(Evil));

        Assert.Equal(ScanVerdict.Malicious, result.Verdict);
        ModelFinding finding = result.Findings.First(f => f.RuleId == RuleIds.PickleCodeExecution);
        Assert.StartsWith("archive/data.pkl, byte ", finding.Location, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("archive/weights.txt")]
    [InlineData("archive/data.txt")]
    [InlineData("archive/data")]
    public void PickleUnderNonPickleName_IsFoundByContent(string name)
    {
        // CVE-2025-1889: the member is picked by content, not by its extension.
        foreach (byte[] payload in new[] { Evil, EvilProto0 })
        {
            ModelScanResult result = Scan.Bytes("model.pt", TorchZip(Benign, b => b.Add(name, payload)));

            Assert.Equal(ScanVerdict.Malicious, result.Verdict);
            Assert.Contains(result.Findings, f => f.RuleId == RuleIds.ArchiveUnexpectedMember && f.Detail.Contains("CVE-2025-1889", StringComparison.Ordinal));
            Assert.Contains(result.Findings, f => f.RuleId == RuleIds.PickleCodeExecution && f.Location!.StartsWith(name, StringComparison.Ordinal));
        }

        ModelScanResult twin = Scan.Bytes("model.pt", TorchZip(Benign, b => b.Add(name, Fixtures.Ascii("just some text in a file"))));
        Assert.NotEqual(ScanVerdict.Malicious, twin.Verdict);
    }

    [Fact]
    public void LocalNameDifferentFromCentralName_IsReportedAndTheCentralMemberScanned()
    {
        // CVE-2025-1944: data.pkl in the central directory, datap.kl in the local header.
        byte[] evil = TorchZip(Evil, b => b.Members[0].LocalName = "archive/datap.kl");
        byte[] twin = TorchZip(Benign, b => b.Members[0].LocalName = "archive/datap.kl");

        ModelScanResult result = Scan.Bytes("model.pt", evil);
        Assert.Equal(ScanVerdict.Malicious, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.ZipNameMismatch);
        ModelScanResult benign = Scan.Bytes("model.pt", twin);
        Assert.Equal(ScanVerdict.Suspicious, benign.Verdict);
        Assert.Contains(benign.Findings, f => f.RuleId == RuleIds.ZipNameMismatch);
    }

    [Theory]
    [InlineData((ushort)0x0001)]
    [InlineData((ushort)0x0020)]
    [InlineData((ushort)0x0040)]
    public void FlagBitsOnPlainData_AreReportedAndTheDataScanned(ushort flags)
    {
        // CVE-2025-1945: CPython refuses, PyTorch ignores the bits and loads the pickle.
        byte[] evil = TorchZip(Evil, b => b.Members[0].Flags = flags);

        ModelScanResult result = Scan.Bytes("model.pt", evil);

        Assert.Equal(ScanVerdict.Malicious, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.ZipFlagBits);
        Assert.DoesNotContain(result.Findings, f => f.RuleId == RuleIds.ArchiveMemberUnreadable);
    }

    [Fact]
    public void RealPasswordProtection_IsInconclusiveNotATrick()
    {
        // The traditional PKWARE header adds 12 bytes to a stored member.
        var builder = new ZipBuilder();
        ZipBuilderMember member = builder.Add("secret.pkl", new byte[12]);
        member.Flags = 0x0001;
        member.UncompressedSize = 0;
        ModelScanResult result = Scan.Bytes("x.zip", builder.Build());

        Assert.Equal(ScanVerdict.Inconclusive, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.ArchiveMemberUnreadable && f.Detail.Contains("encrypted", StringComparison.Ordinal));
        Assert.DoesNotContain(result.Findings, f => f.RuleId == RuleIds.ZipFlagBits);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void BadCrc_IsReportedAndTheDataStillScanned(bool zeroed)
    {
        // CVE-2025-10156: CPython raises BadZipFile, PyTorch skips the CRC check.
        byte[] evil = TorchZip(Evil, b => b.Members[0].Crc = zeroed ? 0u : 0xDEADBEEF);

        ModelScanResult result = Scan.Bytes("model.pt", evil);

        Assert.Equal(ScanVerdict.Malicious, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.ZipCrcMismatch);
    }

    [Fact]
    public void DuplicateNames_BothCopiesAreScanned()
    {
        var builder = new ZipBuilder();
        builder.Add("archive/data.pkl", Evil);
        builder.Add("archive/data.pkl", Benign);
        builder.Add("archive/version", Fixtures.Ascii("3\n"));

        ModelScanResult result = Scan.Bytes("model.pt", builder.Build());

        Assert.Equal(ScanVerdict.Malicious, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.ArchiveDuplicateName);
    }

    [Fact]
    public void PrependedJunk_IsReportedAndTheZipStillRead()
    {
        byte[] evil = TorchZip(Evil, b => b.Prefix = Fixtures.Ascii("JUNK-BEFORE-THE-ARCHIVE-0123456789"));

        ModelScanResult result = Scan.Bytes("model.pt", evil);

        Assert.Equal(ScanVerdict.Malicious, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.ArchiveHiddenData);
    }

    [Fact]
    public void TorchScriptArchive_CodeIsListed_AndEveryPickleScanned()
    {
        // CVE-2025-32434: torch.load(weights_only=True) handed TorchScript zips to torch.jit.load.
        var builder = new ZipBuilder();
        builder.Add("m/data.pkl", Benign);
        builder.Add("m/constants.pkl", Evil);
        builder.Add("m/code/__torch__/x.py", Fixtures.Ascii("def forward(self, x):\n    return x\n"));
        builder.Add("m/version", Fixtures.Ascii("3\n"));

        ModelScanResult result = Scan.Bytes("model.pt", builder.Build());

        Assert.Equal(ModelFormat.TorchScript, result.Format);
        Assert.Equal(ScanVerdict.Malicious, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.TorchScriptCode && f.Detail.Contains("m/code/__torch__/x.py", StringComparison.Ordinal));
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.PickleCodeExecution && f.Location!.StartsWith("m/constants.pkl", StringComparison.Ordinal));

        builder.Members[1].Content = Benign;
        ModelScanResult twin = Scan.Bytes("model.pt", builder.Build());
        Assert.Equal(ScanVerdict.Suspicious, twin.Verdict);
    }

    [Fact]
    public void UnexpectedTorchMembers_AreNotedButDoNotChangeTheVerdict()
    {
        ModelScanResult result = Scan.Bytes("model.pt", TorchZip(Benign, b => b.Add("archive/notes.md", Fixtures.Ascii("# readme\n"))));

        Assert.Equal(ScanVerdict.Clean, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.ArchiveUnexpectedMember && f.Detail.Contains("archive/notes.md", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("../evil.pkl")]
    [InlineData("/etc/cron.d/x")]
    [InlineData("C:/Windows/x.pkl")]
    [InlineData("a/../../x")]
    public void MemberEscapingTheFolder_IsMalicious(string name)
    {
        byte[] zip = ZipBuilder.StoredZip(("ok.txt", Fixtures.Ascii("hello")), (name, Fixtures.Ascii("data")));

        ModelScanResult result = Scan.Bytes("bundle.zip", zip);

        Assert.Equal(ScanVerdict.Malicious, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.ArchivePathTraversal);
    }

    [Fact]
    public void ZipInsideZip_IsScannedToTheInnerPickle()
    {
        byte[] inner = ZipBuilder.StoredZip(("model/data.pkl", Evil));
        byte[] outer = ZipBuilder.StoredZip(("bundle/inner.zip", inner), ("bundle/readme.txt", Fixtures.Ascii("hello there")));

        ModelScanResult result = Scan.Bytes("bundle.zip", outer);

        Assert.Equal(ScanVerdict.Malicious, result.Verdict);
        Assert.Contains(result.Findings, f => f.Location!.StartsWith("bundle/inner.zip/model/data.pkl", StringComparison.Ordinal));
    }

    [Fact]
    public void NestingDeeperThanTheLimit_IsInconclusive()
    {
        byte[] zip = ZipBuilder.StoredZip(("data.pkl", Benign));
        for (int i = 0; i < 8; i++)
        {
            zip = ZipBuilder.StoredZip(($"level{i}.zip", zip));
        }

        ModelScanResult result = Scan.Bytes("deep.zip", zip);

        Assert.Equal(ScanVerdict.Inconclusive, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.ArchiveMemberUnreadable && f.Detail.Contains("nested", StringComparison.Ordinal));
    }

    [Fact]
    public void NpzWithObjectArrayPayload_IsMalicious()
    {
        byte[] header = Fixtures.Ascii("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }");
        byte[] padded = new byte[128 - 10];
        Array.Fill(padded, (byte)' ');
        Array.Copy(header, padded, header.Length);
        padded[^1] = (byte)'\n';
        byte[] npy = Fixtures.Concat(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)padded.Length, 0 }, padded, PickleBuilder.GlobalCall("posix", "system"));
        byte[] npz = ZipBuilder.StoredZip(("a.npy", npy));

        ModelScanResult result = Scan.Bytes("arrays.npz", npz);

        Assert.Equal(ModelFormat.NumPyArchive, result.Format);
        Assert.Equal(ScanVerdict.Malicious, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.NumPyObjectArray);
    }

    [Fact]
    public void FourGiBSparseCheckpoint_IsReadHeaderOnly()
    {
        var builder = new ZipBuilder { DataAlignment = 64, Zip64 = true };
        builder.Add("archive/data.pkl", Benign);
        builder.Add("archive/byteorder", Fixtures.Ascii("little"));
        builder.Add("archive/data/0", Array.Empty<byte>()).ZeroFill = 4L << 30;
        builder.Add("archive/version", Fixtures.Ascii("3\n"));
        using var sparse = new SparseMemoryStream();
        builder.WriteTo(sparse);
        sparse.Position = 0;

        ModelScanResult result = ModelScanner.Scan("big.pt", sparse);

        Assert.True(result.Length > 4L << 30);
        Assert.True(result.BytesRead < 1 << 20, $"read {result.BytesRead:N0} bytes");
        Assert.True(result.Verdict == ScanVerdict.Clean, string.Join("; ", result.Findings));
    }
}
