using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using ModelSecurity.Analysis;
using ModelSecurity.Formats;
using ModelSecurity.Formats.Gguf;
using Xunit;

namespace ModelSecurity.Tests;

public class GgufReaderTests
{
    private static GgufBuilder Model(uint version = 3, bool bigEndian = false) =>
        new GgufBuilder { Version = version, BigEndian = bigEndian }
            .Text("general.architecture", "llama")
            .Text("general.name", "Tiny")
            .U32("general.file_type", 15)
            .U32("llama.context_length", 4096)
            .StringArray("tokenizer.ggml.tokens", "<s>", "</s>", "a", "b")
            .AddTensor("token_embd.weight", new long[] { 64, 4 }, type: 0)
            .AddTensor("output.weight", new long[] { 256, 4 }, type: 12);

    private static ModelScanResult ScanOf(GgufBuilder builder) => Scan.Bytes("model.gguf", builder.Build());

    private static void AssertClean(ModelScanResult result) =>
        Assert.True(result.Verdict == ScanVerdict.Clean, string.Join("; ", result.Findings.Select(f => $"{f.RuleId} {f.Detail}")));

    private static ModelFinding AssertRule(ModelScanResult result, string ruleId, ScanVerdict verdict)
    {
        string all = string.Join("; ", result.Findings.Select(f => $"{f.RuleId} {f.Detail}"));
        Assert.True(result.Verdict == verdict, $"{result.Verdict}: {all}");
        ModelFinding? finding = result.Findings.FirstOrDefault(f => f.RuleId == ruleId);
        Assert.True(finding is not null, all);
        Assert.Matches("byte [0-9]", finding!.Detail);
        Assert.Matches("^byte [0-9]+$", finding.Location ?? string.Empty);
        return finding;
    }

    [Theory]
    [InlineData(1u, false)]
    [InlineData(2u, false)]
    [InlineData(3u, false)]
    [InlineData(3u, true)]
    [InlineData(2u, true)]
    public void WellFormedModel_IsReadWithItsMetadata(uint version, bool bigEndian)
    {
        ModelScanResult result = ScanOf(Model(version, bigEndian));

        Assert.Equal(ModelFormat.Gguf, result.Format);
        if (version == 1)
        {
            ModelFinding finding = AssertRule(result, RuleIds.GgufMalformed, ScanVerdict.Inconclusive);
            Assert.Contains("version 1", finding.Detail, StringComparison.Ordinal);
            Assert.Single(result.Findings);
        }
        else
        {
            AssertClean(result);
        }

        Assert.Equal(version, Convert.ToUInt32(result.Metadata["GgufVersion"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(bigEndian ? "BigEndian" : "LittleEndian", result.Metadata["ByteOrder"]);
        Assert.Equal("llama", result.Metadata["Architecture"]);
        Assert.Equal("Tiny", result.Metadata["ModelName"]);
        Assert.Equal("Q4_K_M", result.Metadata["FileType"]);
        Assert.Equal(4096L, result.Metadata["ContextLength"]);
        Assert.Equal(2L, result.Metadata["TensorCount"]);
        Assert.Equal(5L, result.Metadata["KeyCount"]);
        Assert.Equal((64L * 4) + (256L * 4), result.Metadata["ParameterCount"]);
    }

    [Fact]
    public void ProvenanceKeys_GoIntoTheMetadata()
    {
        const string template = "{% for m in messages %}{{ m.content }}{% endfor %}";
        GgufBuilder builder = new GgufBuilder()
            .Text("general.architecture", "qwen2")
            .Text("general.organization", "Qwen")
            .Text("general.author", "someone")
            .Text("general.quantized_by", "bartowski")
            .Text("general.source.url", "https://example.org/src")
            .Text("general.repo_url", "https://huggingface.co/x/y")
            .Text("general.license", "apache-2.0")
            .U32("general.base_model.count", 2)
            .Text("general.base_model.0.name", "Base A")
            .Text("general.base_model.1.repo_url", "https://huggingface.co/b")
            .Text("general.size_label", "7B")
            .Text("tokenizer.chat_template", template)
            .Text("tokenizer.chat_template.tool_use", "{{ tools }}");

        ModelScanResult result = ScanOf(builder);

        AssertClean(result);
        Assert.Equal("Qwen", result.Metadata["Organization"]);
        Assert.Equal("someone", result.Metadata["Author"]);
        Assert.Equal("bartowski", result.Metadata["QuantizedBy"]);
        Assert.Equal("https://example.org/src", result.Metadata["SourceUrl"]);
        Assert.Equal("https://huggingface.co/x/y", result.Metadata["RepositoryUrl"]);
        Assert.Equal("apache-2.0", result.Metadata["License"]);
        Assert.Equal(new[] { "Base A", "https://huggingface.co/b" }, (string[])result.Metadata["BaseModels"]!);
        Assert.Equal("7B", result.Metadata["SizeLabel"]);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(template))).ToLowerInvariant(), result.Metadata["ChatTemplateSha256"]);
        Assert.False(result.Metadata.Contains("ParameterCount"));

        using var source = new ModelFileSource(new MemoryStream(builder.Build()));
        GgufFile file = GgufFile.Parse(source);
        Assert.Equal(new[] { ("tokenizer.chat_template", template), ("tokenizer.chat_template.tool_use", "{{ tools }}") }, file.ChatTemplates);
    }

    [Fact]
    public void LongChatTemplate_IsHashedWholeAndKeptUpTo1MiB()
    {
        string template = new('x', (2 * 1024 * 1024) + 5);
        GgufBuilder builder = new GgufBuilder().Text("tokenizer.chat_template", template);

        ModelScanResult result = ScanOf(builder);
        using var source = new ModelFileSource(new MemoryStream(builder.Build()));
        GgufFile file = GgufFile.Parse(source);

        AssertClean(result);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(template))).ToLowerInvariant(), result.Metadata["ChatTemplateSha256"]);
        Assert.Equal(GgufFile.MaxKeptString, file.ChatTemplates.Single().Text.Length);
    }

    [Fact]
    public void HugeKeyCount_IsHostile_AndTheTrueCountIsClean()
    {
        AssertRule(ScanOf(Model().Also(b => b.KeyCount = 0x7FFF_FFFF_FFFF_FFFF)), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
        AssertRule(ScanOf(Model().Also(b => b.KeyCount = ulong.MaxValue)), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
        AssertClean(ScanOf(Model()));
    }

    [Fact]
    public void HugeTensorCount_IsHostile()
    {
        AssertRule(ScanOf(Model().Also(b => b.TensorCount = 0x0FFF_FFFF_FFFF_FFFF)), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
    }

    [Fact]
    public void StringLongerThanTheFile_BreaksAtItsOffset_KeepingWhatCameBefore()
    {
        GgufBuilder bad = new GgufBuilder()
            .Text("general.name", "Before")
            .Raw(w =>
            {
                w.Str("general.description");
                w.U32(GgufBuilder.String);
                w.StrLying(1_000_000, "short");
            });
        GgufBuilder good = new GgufBuilder().Text("general.name", "Before").Text("general.description", "short");

        ModelScanResult result = ScanOf(bad);

        ModelFinding finding = AssertRule(result, RuleIds.GgufMalformed, ScanVerdict.Inconclusive);
        int offset = 24 + 8 + "general.name".Length + 4 + 8 + "Before".Length + 8 + "general.description".Length + 4;
        Assert.Equal($"byte {offset}", finding.Location);
        Assert.Equal("Before", result.Metadata["ModelName"]);
        AssertClean(ScanOf(good));
    }

    [Fact]
    public void StringArrayElementPastTheEnd_IsMalformed()
    {
        GgufBuilder bad = new GgufBuilder().Kv("tokenizer.ggml.tokens", GgufBuilder.Array, w =>
        {
            w.U32(GgufBuilder.String);
            w.Count(2);
            w.Str("a");
            w.StrLying(99, "b");
        });

        AssertRule(ScanOf(bad), RuleIds.GgufMalformed, ScanVerdict.Inconclusive);
        AssertClean(ScanOf(new GgufBuilder().StringArray("tokenizer.ggml.tokens", "a", "b")));
    }

    [Fact]
    public void ArrayCountBeyondTheFile_IsMalformed()
    {
        GgufBuilder bad = new GgufBuilder().Kv("a", GgufBuilder.Array, w =>
        {
            w.U32(GgufBuilder.UInt32);
            w.Count(0x4000_0000_0000_0000);
            w.U32(1);
        });

        AssertRule(ScanOf(bad), RuleIds.GgufMalformed, ScanVerdict.Inconclusive);
    }

    [Fact]
    public void NestedArrays_AreHostile_WithoutRecursion_AndAPlainArrayIsClean()
    {
        AssertRule(ScanOf(new GgufBuilder().NestedArray("x", 10_000)), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
        AssertRule(ScanOf(new GgufBuilder().NestedArray("x", 2)), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
        AssertClean(ScanOf(new GgufBuilder().NestedArray("x", 1).U32Array("y", 1, 2, 3)));
    }

    [Theory]
    [InlineData(13u)]
    [InlineData(0xFFFFFFFFu)]
    public void UnknownValueType_IsMalformed(uint type)
    {
        AssertRule(ScanOf(new GgufBuilder().Kv("k", type, w => w.U32(0))), RuleIds.GgufMalformed, ScanVerdict.Inconclusive);
    }

    [Theory]
    [InlineData(255)]
    [InlineData(4)]
    [InlineData(31)]
    [InlineData(-1)]
    public void UnknownOrRemovedTensorType_IsHostile(int type)
    {
        AssertRule(ScanOf(new GgufBuilder().AddTensor("w", new long[] { 32 }, type)), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(30)]
    public void KnownTensorType_IsClean(int type)
    {
        AssertClean(ScanOf(new GgufBuilder().AddTensor("w", new long[] { 32, 2 }, type)));
    }

    [Fact]
    public void DimensionProductOverflow_IsHostile()
    {
        AssertRule(ScanOf(new GgufBuilder().AddTensor("w", new long[] { 1L << 32, 1L << 32 }, 0)), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
        // CVE-2026-33298 shape: a dim of 2^42+1 against tiny data.
        AssertRule(ScanOf(new GgufBuilder().AddTensor("w", new long[] { (1L << 42) + 1 }, 0).Also(b => b.TruncateData = ((1L << 42) + 1) * 4)), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
        AssertClean(ScanOf(new GgufBuilder().AddTensor("w", new long[] { 1 << 10, 1 << 4 }, 0)));
    }

    [Fact]
    public void NegativeDimension_IsHostile()
    {
        AssertRule(ScanOf(new GgufBuilder().AddTensor("w", new long[] { -4 }, 0)), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
    }

    [Fact]
    public void MoreThanFourDimensions_IsHostile()
    {
        AssertRule(ScanOf(new GgufBuilder().AddTensor("w", new long[] { 1, 1, 1, 1, 1 }, 0)), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
        AssertRule(ScanOf(new GgufBuilder().AddTensor("w", new long[] { 1 }, 0, nDims: 0xFFFFFFFF)), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
        AssertClean(ScanOf(new GgufBuilder().AddTensor("w", new long[] { 1, 1, 1, 1 }, 0)));
    }

    [Fact]
    public void RowNotAMultipleOfTheBlockSize_IsHostile()
    {
        AssertRule(ScanOf(new GgufBuilder().AddTensor("w", new long[] { 33 }, 2)), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
        AssertClean(ScanOf(new GgufBuilder().AddTensor("w", new long[] { 64 }, 2)));
    }

    [Fact]
    public void TensorPastTheEndOfTheFile_IsHostile()
    {
        AssertRule(ScanOf(new GgufBuilder().AddTensor("w", new long[] { 1024 }, 0).Also(b => b.TruncateData = 64)), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
        AssertRule(ScanOf(new GgufBuilder().AddTensor("w", new long[] { 8 }, 0, offset: 1UL << 40).Also(b => b.TruncateData = (1L << 40) + 32)), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
        AssertClean(ScanOf(new GgufBuilder().AddTensor("w", new long[] { 1024 }, 0)));
    }

    [Fact]
    public void OverlappingOrGappedOffsets_AreHostile()
    {
        GgufBuilder overlap = new GgufBuilder().AddTensor("a", new long[] { 64 }, 0).AddTensor("b", new long[] { 64 }, 0, offset: 0);
        GgufBuilder gap = new GgufBuilder().AddTensor("a", new long[] { 64 }, 0).AddTensor("b", new long[] { 64 }, 0, offset: 512);
        GgufBuilder unaligned = new GgufBuilder().AddTensor("a", new long[] { 1 }, 0, offset: 4);

        AssertRule(ScanOf(overlap), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
        AssertRule(ScanOf(gap), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
        AssertRule(ScanOf(unaligned), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
        AssertClean(ScanOf(new GgufBuilder().AddTensor("a", new long[] { 64 }, 0).AddTensor("b", new long[] { 64 }, 0)));
    }

    [Theory]
    [InlineData(3u)]
    [InlineData(0u)]
    [InlineData(48u)]
    public void AlignmentNotAPowerOfTwo_IsHostile(uint alignment)
    {
        AssertRule(ScanOf(new GgufBuilder().U32("general.alignment", alignment)), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
    }

    [Fact]
    public void AlignmentOfTheWrongType_IsHostile_AndAPowerOfTwoIsClean()
    {
        AssertRule(ScanOf(new GgufBuilder().U64("general.alignment", 32)), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
        AssertClean(ScanOf(new GgufBuilder { Alignment = 64 }.U32("general.alignment", 64)
            .AddTensor("a", new long[] { 3 }, 0).AddTensor("b", new long[] { 5 }, 0)));
    }

    [Fact]
    public void DuplicateKey_IsHostile()
    {
        AssertRule(ScanOf(new GgufBuilder().Text("general.name", "a").Text("general.name", "b")), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
        AssertClean(ScanOf(new GgufBuilder().Text("general.name", "a").Text("general.basename", "b")));
    }

    [Fact]
    public void EmptyKey_IsHostile()
    {
        AssertRule(ScanOf(new GgufBuilder().Text(string.Empty, "a")), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
    }

    [Fact]
    public void KeyWithControlCharacters_IsMalformed_ButReadOn()
    {
        ModelScanResult result = ScanOf(new GgufBuilder().Text("general.\u0007name", "a").Text("general.name", "b"));

        AssertRule(result, RuleIds.GgufMalformed, ScanVerdict.Inconclusive);
        Assert.Equal("b", result.Metadata["ModelName"]);
    }

    [Fact]
    public void DuplicateTensorName_IsHostile()
    {
        AssertRule(ScanOf(new GgufBuilder().AddTensor("w", new long[] { 8 }, 0).AddTensor("w", new long[] { 8 }, 0)), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
    }

    [Fact]
    public void TensorNameOf64Bytes_IsHostile_And63IsClean()
    {
        AssertRule(ScanOf(new GgufBuilder().AddTensor(new string('n', 64), new long[] { 8 }, 0)), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
        AssertClean(ScanOf(new GgufBuilder().AddTensor(new string('n', 63), new long[] { 8 }, 0)));
    }

    [Fact]
    public void BoolOtherThanZeroOrOne_IsHostile()
    {
        AssertRule(ScanOf(new GgufBuilder().BoolValue("general.flag", 2)), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
        AssertRule(ScanOf(new GgufBuilder().Kv("bools", GgufBuilder.Array, w =>
        {
            w.U32(GgufBuilder.Bool);
            w.Count(3);
            w.U8(1);
            w.U8(0);
            w.U8(9);
        })), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
        AssertClean(ScanOf(new GgufBuilder().BoolValue("general.flag", 1).BoolValue("general.other", 0)));
    }

    [Fact]
    public void TrailingBytesAfterTheLastTensor_AreHostile()
    {
        AssertRule(ScanOf(Model().Also(b => b.TrailingBytes = 100_000)), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
        AssertRule(ScanOf(new GgufBuilder().Text("a", "b").Also(b => b.TrailingBytes = 100_000)), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
        AssertClean(ScanOf(Model()));
    }

    [Fact]
    public void ShortRunOfZerosAfterTheHeader_IsPaddingNotAPayload()
    {
        byte[] padded = new byte[208];
        new GgufBuilder().Build().CopyTo(padded, 0);
        byte[] payload = (byte[])padded.Clone();
        payload[200] = 0x41;

        AssertClean(Scan.Bytes("model.gguf", padded));
        AssertRule(Scan.Bytes("model.gguf", payload), RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
        AssertClean(ScanOf(Model().Also(b => b.TrailingBytes = 1000)));
    }

    [Fact]
    public void DataStartPastTheEnd_IsMalformed()
    {
        AssertRule(ScanOf(new GgufBuilder().AddTensor("w", new long[] { 0 }, 0).Also(b => b.TruncateData = 8)), RuleIds.GgufMalformed, ScanVerdict.Inconclusive);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(4u)]
    [InlineData(0x10000u)]
    public void UnsupportedVersion_IsMalformed(uint version)
    {
        AssertRule(ScanOf(new GgufBuilder { Version = version }), RuleIds.GgufMalformed, ScanVerdict.Inconclusive);
    }

    [Theory]
    [InlineData(6)]
    [InlineData(12)]
    [InlineData(20)]
    public void TruncatedHeader_IsMalformed(int length)
    {
        byte[] bytes = Model().Build().AsSpan(0, length).ToArray();

        AssertRule(Scan.Bytes("model.gguf", bytes), RuleIds.GgufMalformed, ScanVerdict.Inconclusive);
    }

    [Fact]
    public void EmptyGguf_IsClean()
    {
        AssertClean(ScanOf(new GgufBuilder()));
    }

    [Fact]
    public void SparseEightGigabyteModel_IsReadHeaderOnly()
    {
        using var stream = new SparseMemoryStream();
        new GgufBuilder()
            .Text("general.architecture", "llama")
            .StringArray("tokenizer.ggml.tokens", Enumerable.Range(0, 1000).Select(i => $"tok{i}").ToArray())
            .AddTensor("a", new long[] { 1L << 30 }, 1)
            .AddTensor("b", new long[] { 1L << 30 }, 1)
            .AddTensor("c", new long[] { 1L << 30 }, 1)
            .AddTensor("d", new long[] { 1L << 30 }, 1)
            .WriteTo(stream);
        stream.Position = 0;

        ModelScanResult result = ModelScanner.Scan("big.gguf", stream);

        Assert.True(stream.Length >= 8L << 30);
        AssertClean(result);
        Assert.True(result.BytesRead < 16 * 1024 * 1024, $"read {result.BytesRead:N0} bytes");
        Assert.Equal(4L << 30, result.Metadata["ParameterCount"]);
    }

    [Theory]
    [InlineData(200L * 1024 * 1024, false)]
    [InlineData(300L * 1024 * 1024, true)]
    public void LongString_IsSkippedNotRead_AndOverTheMetadataCapIsHostile(long length, bool hostile)
    {
        using var stream = new SparseMemoryStream();
        new GgufBuilder()
            .Raw(w =>
            {
                w.Str("general.description");
                w.U32(GgufBuilder.String);
                w.Count((ulong)length);
            })
            .WriteTo(stream);
        stream.SetLength(stream.Length + length);
        stream.Position = 0;

        ModelScanResult result = ModelScanner.Scan("big.gguf", stream);

        if (hostile)
        {
            AssertRule(result, RuleIds.GgufHostileHeader, ScanVerdict.Suspicious);
        }
        else
        {
            AssertClean(result);
        }

        Assert.True(result.BytesRead < 4 * 1024 * 1024, $"read {result.BytesRead:N0} bytes");
    }

    [Fact]
    public void GgufInsideAZip_IsReadAsAMember()
    {
        GgufBuilder bad = new GgufBuilder().Text("general.name", "a").Text("general.name", "b");
        byte[] zip = ZipBuilder.StoredZip(("model.gguf", bad.Build()));

        ModelScanResult result = Scan.Bytes("x.zip", zip);

        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.GgufHostileHeader && (f.Location ?? string.Empty).StartsWith("model.gguf", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(new byte[] { 0x6c, 0x6d, 0x67, 0x67 }, "ggml")]
    [InlineData(new byte[] { 0x74, 0x6a, 0x67, 0x67, 3, 0, 0, 0 }, "ggjt")]
    [InlineData(new byte[] { 0x66, 0x6d, 0x67, 0x67, 1, 0, 0, 0 }, "ggmf")]
    [InlineData(new byte[] { 0x61, 0x6c, 0x67, 0x67, 1, 0, 0, 0 }, "ggla")]
    public void LegacyGgml_IsReportedWithItsMagic(byte[] head, string magic)
    {
        byte[] bytes = new byte[64];
        head.CopyTo(bytes, 0);

        ModelScanResult result = Scan.Bytes("model.bin", bytes);

        Assert.Equal(ModelFormat.Ggml, result.Format);
        ModelFinding finding = Assert.Single(result.Findings, f => f.RuleId == RuleIds.GgufLegacy);
        Assert.Contains($"'{magic}'", finding.Detail, StringComparison.Ordinal);
        Assert.Equal(ScanVerdict.Inconclusive, result.Verdict);
    }
}

internal static class GgufBuilderExtensions
{
    public static GgufBuilder Also(this GgufBuilder builder, Action<GgufBuilder> change)
    {
        change(builder);
        return builder;
    }
}
