using System;
using System.Collections.Generic;
using System.Linq;
using ModelSecurity.Analysis;
using ModelSecurity.Formats;
using Xunit;

namespace ModelSecurity.Tests;

public class ScannerTests
{
    // Formats this version identifies but has no reader for: every one must say so (MS-FMT-002).
    private static readonly HashSet<ModelFormat> NotReadFormats = new(
        Enum.GetValues<ModelFormat>().Where(f => !ModelReaders.Has(f) && f is not (ModelFormat.Unknown or ModelFormat.Empty
            or ModelFormat.Elf or ModelFormat.PE or ModelFormat.MachO or ModelFormat.Script)));

    public static TheoryData<string> FixtureNames() => FormatDetectionTests.FixtureNames();

    public static TheoryData<string> UnreadFixtureNames()
    {
        var data = new TheoryData<string>();
        foreach (Fixture fixture in Fixtures.All.Where(f => NotReadFormats.Contains(f.Format)))
        {
            data.Add(fixture.Name);
        }

        return data;
    }

    [Fact]
    public void ElfNamedAsGguf_IsMaliciousDisguise()
    {
        ModelScanResult result = Scan.Bytes("model.gguf", Fixtures.Get("elf").Bytes);

        Assert.Equal(ModelFormat.Elf, result.Format);
        Assert.Equal(ScanVerdict.Malicious, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.ExecutableDisguised);
        Assert.Equal(FindingSeverity.Critical, result.Findings[0].Severity);
    }

    [Fact]
    public void ElfWithoutExtension_IsSuspiciousExecutable()
    {
        ModelScanResult result = Scan.Bytes("tool", Fixtures.Get("elf").Bytes);

        Assert.Equal(ScanVerdict.Suspicious, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.ExecutableFile);
        Assert.DoesNotContain(result.Findings, f => f.RuleId == RuleIds.ExecutableDisguised);
    }

    [Theory]
    [InlineData("pe", "model.safetensors")]
    [InlineData("macho-64", "weights.bin")]
    [InlineData("script", "model.pt")]
    [InlineData("llamafile", "model.gguf")]
    public void ExecutablesUnderModelNames_AreMalicious(string fixture, string name)
    {
        ModelScanResult result = Scan.Bytes(name, Fixtures.Get(fixture).Bytes);

        Assert.Equal(ScanVerdict.Malicious, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.ExecutableDisguised);
    }

    [Fact]
    public void Llamafile_UnderItsOwnName_IsNotCalledAnExecutableFinding()
    {
        ModelScanResult result = Scan.Bytes("model.llamafile", Fixtures.Get("llamafile").Bytes);

        Assert.DoesNotContain(result.Findings, f => f.RuleId is RuleIds.ExecutableFile or RuleIds.ExecutableDisguised);
        Assert.Equal(ScanVerdict.Inconclusive, result.Verdict);
    }

    [Fact]
    public void PickleNamedAsSafeTensors_IsSuspicious()
    {
        ModelScanResult result = Scan.Bytes("model.safetensors", Fixtures.Get("pickle-protocol-2").Bytes);

        Assert.Equal(ScanVerdict.Suspicious, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.CodeCapableDisguised);
    }

    [Fact]
    public void GgufNamedAsOnnx_IsAMismatchReadByContent()
    {
        ModelScanResult result = Scan.Bytes("x.onnx", Fixtures.Get("gguf-v3-le").Bytes);

        // The content is an empty, well-formed GGUF: read as GGUF, so the name alone does not make it Inconclusive.
        Assert.Equal(ModelFormat.Gguf, result.Format);
        Assert.Equal(ScanVerdict.Clean, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.ExtensionMismatch);
        Assert.DoesNotContain(result.Findings, f => f.RuleId == RuleIds.CodeCapableDisguised);
    }

    [Theory]
    [InlineData("pickle-protocol-2", "model.pt")]
    [InlineData("pickle-protocol-0", "pytorch_model.bin")]
    [InlineData("zip-pytorch", "model.pth")]
    [InlineData("gguf-v3-le", "model.gguf")]
    [InlineData("json", "config.json")]
    public void ContentThatFitsItsName_HasNoNameFinding(string fixture, string name)
    {
        ModelScanResult result = Scan.Bytes(name, Fixtures.Get(fixture).Bytes);

        Assert.DoesNotContain(result.Findings, f => f.RuleId is RuleIds.ExtensionMismatch or RuleIds.CodeCapableDisguised
            or RuleIds.ExecutableDisguised or RuleIds.ExecutableFile);
    }

    [Theory]
    [MemberData(nameof(UnreadFixtureNames))]
    public void IdentifiedButUnreadFormat_IsInconclusiveWithFmt002(string name)
    {
        Fixture fixture = Fixtures.Get(name);

        ModelScanResult result = Scan.Bytes("file", fixture.Bytes);

        Assert.Equal(fixture.Format, result.Format);
        Assert.Equal(ScanVerdict.Inconclusive, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.FormatNotAnalysed);
    }

    [Fact]
    public void EmptyFile_IsInconclusiveWithGen002()
    {
        ModelScanResult result = Scan.Bytes("model.gguf", Array.Empty<byte>());

        Assert.Equal(ModelFormat.Empty, result.Format);
        Assert.Equal(ScanVerdict.Inconclusive, result.Verdict);
        Assert.Equal(RuleIds.FileEmpty, Assert.Single(result.Findings).RuleId);
    }

    [Fact]
    public void UnknownContent_IsInconclusiveWithFmt001()
    {
        ModelScanResult result = Scan.Bytes("model.bin", Fixtures.Get("random").Bytes);

        Assert.Equal(ModelFormat.Unknown, result.Format);
        Assert.Equal(ScanVerdict.Inconclusive, result.Verdict);
        ModelFinding finding = Assert.Single(result.Findings);
        Assert.Equal(RuleIds.FormatUnknown, finding.RuleId);
        Assert.Contains(BitConverter.ToString(Fixtures.Get("random").Bytes, 0, 4).Replace('-', ' '), finding.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(UnreadFixtureNames))]
    public void UnreadFormat_IsNeverClean(string name)
    {
        // A format without a reader cannot have been shown to be safe, whatever the file is called.
        foreach (string fileName in new[] { "file", "model.gguf", "model.safetensors", "model.bin", "x.txt" })
        {
            ModelScanResult result = Scan.Bytes(fileName, Fixtures.Get(name).Bytes);

            Assert.NotEqual(ScanVerdict.Clean, result.Verdict);
            Assert.NotEmpty(result.Findings);
        }
    }

    [Theory]
    [MemberData(nameof(FixtureNames))]
    public void TruncatedInput_NeverThrows(string name)
    {
        byte[] bytes = Fixtures.Get(name).Bytes;
        var lengths = new SortedSet<int> { 0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 21, 22, 23, 31, 32, 33, 63, 64, 65 };
        foreach (int fraction in new[] { 4, 3, 2 })
        {
            lengths.Add(bytes.Length / fraction);
        }

        for (int cut = 1; cut <= 40; cut++)
        {
            lengths.Add(bytes.Length - cut);
        }

        foreach (int length in lengths.Where(l => l >= 0 && l < bytes.Length))
        {
            byte[] truncated = bytes.AsSpan(0, length).ToArray();

            ModelScanResult result = Scan.Bytes("model.bin", truncated);

            Assert.Equal(length, result.Length);

            // Cutting only trailing padding (a tar's second end block, a JSON file's final newline) leaves
            // a file every loader reads whole.
            bool onlyPaddingCut = (bytes.AsSpan(length).IndexOfAnyExcept((byte)0) < 0 && result.Format is ModelFormat.Tar or ModelFormat.PyTorchTar or ModelFormat.NeMo)
                || (bytes.AsSpan(length).IndexOfAnyExcept(" \t\r\n"u8) < 0 && result.Format is ModelFormat.Json or ModelFormat.JinjaTemplate)
                || result.Format == ModelFormat.Yaml; // any prefix of a YAML document that parses is a YAML document
            if (!onlyPaddingCut)
            {
                Assert.True(result.Verdict != ScanVerdict.Clean, $"{name} cut to {length} of {bytes.Length} bytes is Clean");
            }
        }
    }

    [Fact]
    public void Findings_AreOrderedMostSevereFirst()
    {
        ModelScanResult result = Scan.Bytes("model.safetensors", PickleBuilder.CallWithString("os", "system"));

        Assert.True(result.Findings.Count >= 2);
        Assert.Equal(RuleIds.PickleCodeExecution, result.Findings[0].RuleId);
        Assert.Equal(result.Findings.OrderByDescending(f => f.Severity).Select(f => f.RuleId), result.Findings.Select(f => f.RuleId));
    }

    [Fact]
    public void Scan_ReadsOnlyTheHeadOfALargeFile()
    {
        // A GGUF header followed by 8 MiB of "tensor data": detection must not read the payload.
        byte[] big = new byte[8 * 1024 * 1024];
        Fixtures.Get("gguf-v3-le").Bytes.CopyTo(big, 0);

        ModelScanResult result = Scan.Bytes("model.gguf", big);

        Assert.Equal(ModelFormat.Gguf, result.Format);
        Assert.True(result.BytesRead <= 256 * 1024, $"read {result.BytesRead:N0} bytes");
    }
}
