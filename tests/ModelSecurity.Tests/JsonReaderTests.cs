using System;
using System.Linq;
using System.Text;
using ModelSecurity.Analysis;
using ModelSecurity.Formats;
using Xunit;

namespace ModelSecurity.Tests;

public class JsonReaderTests
{
    [Theory]
    [InlineData("{\"architectures\":[\"LlamaForCausalLM\"],\"model_type\":\"llama\",\"torch_dtype\":\"float16\"}")]
    [InlineData("[1, 2, 3]")]
    [InlineData("{\"model\": \"test\", \"version\": \"1.0\", \"nested\": {\"a\": [true, null, 1.5]}}")]
    public void PlainDataJson_IsClean(string json)
    {
        ModelScanResult result = Scan.Bytes("config.json", Encoding.UTF8.GetBytes(json));

        Assert.Equal(ModelFormat.Json, result.Format);
        Assert.True(result.Verdict == ScanVerdict.Clean, string.Join("; ", result.Findings));
    }

    [Theory]
    [InlineData("{\"auto_map\": {\"AutoModel\": \"modeling_x.XModel\"}}", "auto_map")]
    public void JsonThatProgramsTurnIntoCode_IsInconclusive(string json, string detail)
    {
        ModelScanResult result = Scan.Bytes("tokenizer_config.json", Encoding.UTF8.GetBytes(json));

        Assert.Equal(ScanVerdict.Inconclusive, result.Verdict);
        ModelFinding finding = Assert.Single(result.Findings);
        Assert.Equal(RuleIds.FormatNotAnalysed, finding.RuleId);
        Assert.Contains(detail, finding.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void TensorFlowGraphAsJson_HasItsOpsGraded()
    {
        // protobuf's JSON mapping: bytes in base64 ("/etc/passwd" and "dmFyaWFibGVz" = "variables").
        static string Graph(string path) =>
            "{\"savedModelSchemaVersion\": \"1\", \"metaGraphs\": [{\"graphDef\": {\"library\": {\"function\": [{\"signature\": {\"name\": \"__inference___call___1\"}, \"nodeDef\": ["
            + "{\"name\": \"path\", \"op\": \"Const\", \"attr\": {\"value\": {\"tensor\": {\"dtype\": \"DT_STRING\", \"stringVal\": [\"" + Convert.ToBase64String(Encoding.UTF8.GetBytes(path)) + "\"]}}}},"
            + "{\"name\": \"ReadFile\", \"op\": \"ReadFile\", \"input\": [\"path:output:0\"]}]}]}}}]}";

        ModelScanResult hostile = Scan.Bytes("saved_model.json", Encoding.UTF8.GetBytes(Graph("/etc/passwd")));
        ModelScanResult relative = Scan.Bytes("saved_model.json", Encoding.UTF8.GetBytes(Graph("variables")));
        ModelScanResult empty = Scan.Bytes("saved_model.json", Encoding.UTF8.GetBytes("{\"savedModelSchemaVersion\": \"1\", \"metaGraphs\": []}"));

        Assert.Equal(ScanVerdict.Malicious, hostile.Verdict);
        ModelFinding finding = Assert.Single(hostile.Findings);
        Assert.Equal(RuleIds.TensorFlowFileOpTargeted, finding.RuleId);
        Assert.Contains("/etc/passwd", finding.Detail, StringComparison.Ordinal);
        Assert.Equal("function __inference___call___1, node \"ReadFile\"", finding.Location);
        Assert.Equal(RuleIds.TensorFlowFileOp, Assert.Single(relative.Findings).RuleId);
        Assert.Equal(ScanVerdict.Clean, empty.Verdict);
    }

    [Fact]
    public void JsonBrokenPastTheHead_IsMalformedNotClean()
    {
        // The sniffer sees a valid start in the first 64 KiB; the reader parses the whole document.
        string body = "{\"data\": [" + string.Join(",", Enumerable.Repeat("12345678", 20_000)) + ", }x";

        ModelScanResult result = Scan.Bytes("config.json", Encoding.UTF8.GetBytes(body));

        Assert.Equal(ModelFormat.Json, result.Format);
        Assert.Equal(ScanVerdict.Inconclusive, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.DocumentMalformed);
    }

    [Fact]
    public void ChatTemplates_AreAnalysed_WhereverTheyAre()
    {
        const string Benign = "{\"chat_template\": \"{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}\"}";
        const string Evil = "{\"chat_template\": [{\"name\": \"default\", \"template\": \"{{ ''.__class__.__mro__[1].__subclasses__() }}\"}]}";

        ModelScanResult benign = Scan.Bytes("tokenizer_config.json", Encoding.UTF8.GetBytes(Benign));
        ModelScanResult evil = Scan.Bytes("tokenizer_config.json", Encoding.UTF8.GetBytes(Evil));
        ModelScanResult zipped = Scan.Bytes("bundle.zip", ZipBuilder.StoredZip(("model/tokenizer_config.json", Encoding.UTF8.GetBytes(Evil)), ("model/config.json", Encoding.UTF8.GetBytes("{\"a\": 1}"))));

        Assert.True(benign.Verdict == ScanVerdict.Clean, string.Join("; ", benign.Findings));
        Assert.Equal(64, ((string)benign.Metadata["ChatTemplateSha256"]!).Length);
        Assert.Equal(ScanVerdict.Malicious, evil.Verdict);
        Assert.StartsWith("$.chat_template[default], line 1:", evil.Findings.First(f => f.RuleId == RuleIds.TemplateSandboxEscape).Location, StringComparison.Ordinal);
        Assert.Equal(ScanVerdict.Malicious, zipped.Verdict);
        Assert.StartsWith("model/tokenizer_config.json, $.chat_template", zipped.Findings.First(f => f.RuleId == RuleIds.TemplateSandboxEscape).Location, StringComparison.Ordinal);
    }
}
