using System;
using System.Linq;
using ModelSecurity.Analysis;
using ModelSecurity.Formats;
using Xunit;

namespace ModelSecurity.Tests;

public class LlamafileTests
{
    private static byte[] Llamafile(byte[] model, string modelName = "model.gguf", bool countedOffsets = true)
    {
        var builder = new ZipBuilder
        {
            Prefix = Fixtures.Concat(Fixtures.Ascii("MZqFpD='\n\nexec 7<> \"$0\" || exit 121\n"), new byte[4096]),
            PrefixCountedInOffsets = countedOffsets,
        };
        builder.Add(modelName, model);
        builder.Add(".args", Fixtures.Ascii("-m\nmodel.gguf\n--host\n127.0.0.1\n...\n"));
        return builder.Build();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void EmbeddedModel_IsScannedByContent_AndTheRuntimeIsNotVouchedFor(bool countedOffsets)
    {
        ModelScanResult result = Scan.Bytes("mistral-7b.llamafile", Llamafile(PickleBuilder.CallWithString("os", "system"), "weights.bin", countedOffsets));

        Assert.Equal(ModelFormat.Llamafile, result.Format);
        Assert.Equal(ScanVerdict.Malicious, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.PickleCodeExecution && f.Location!.StartsWith("weights.bin, byte", StringComparison.Ordinal));
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.FormatNotAnalysed && f.Location == "runtime");
        Assert.DoesNotContain(result.Findings, f => f.RuleId == RuleIds.ArchiveHiddenData);
    }

    [Fact]
    public void BenignLlamafile_IsInconclusiveOnlyForItsRuntime()
    {
        ModelScanResult result = Scan.Bytes("tiny.llamafile", Llamafile(PickleBuilder.TorchStateDict(), "weights.bin"));

        Assert.Equal(ScanVerdict.Inconclusive, result.Verdict);
        Assert.Equal("runtime", Assert.Single(result.Findings, f => f.Verdict != ScanVerdict.Clean).Location);
    }

    [Fact]
    public void EmbeddedGguf_GetsTheGgufAndTemplateChecks()
    {
        byte[] evil = new GgufBuilder()
            .Text("general.architecture", "llama")
            .Text("tokenizer.chat_template", "{{ cycler.__init__.__globals__.os.popen('id').read() }}")
            .Build();
        byte[] benign = new GgufBuilder()
            .Text("general.architecture", "llama")
            .Text("tokenizer.chat_template", "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}")
            .Build();

        ModelScanResult result = Scan.Bytes("llama.llamafile", Llamafile(evil));
        ModelScanResult twin = Scan.Bytes("llama.llamafile", Llamafile(benign));

        Assert.Equal(ScanVerdict.Malicious, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.TemplateSandboxEscape && f.Location!.StartsWith("model.gguf, metadata tokenizer.chat_template", StringComparison.Ordinal));
        Assert.Equal(ScanVerdict.Inconclusive, twin.Verdict);
        Assert.Equal("runtime", Assert.Single(twin.Findings, f => f.Verdict != ScanVerdict.Clean).Location);
    }
}
