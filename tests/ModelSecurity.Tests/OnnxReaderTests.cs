using System;
using System.IO;
using System.Linq;
using ModelSecurity.Analysis;
using ModelSecurity.Formats;
using Xunit;
using static ModelSecurity.Tests.OnnxBuilder;
using static ModelSecurity.Tests.Protobuf;

namespace ModelSecurity.Tests;

public class OnnxReaderTests
{
    [Fact]
    public void BenignModel_IsClean_WithItsMetadata()
    {
        ModelScanResult result = Scan.Bytes("model.onnx", Benign());

        Assert.Equal(ModelFormat.Onnx, result.Format);
        Assert.True(result.Verdict == ScanVerdict.Clean, string.Join("; ", result.Findings));
        Assert.Equal("pytorch", result.Metadata["ProducerName"]);
        Assert.Equal("2.3.0", result.Metadata["ProducerVersion"]);
        Assert.Equal(new[] { "ai.onnx=17" }, result.Metadata["OpsetImports"]);
        Assert.Equal("main_graph", result.Metadata["GraphName"]);
        Assert.Equal(new[] { "x: float32[batch,3]" }, result.Metadata["Inputs"]);
        Assert.Equal(new[] { "y: float32[batch,3]" }, result.Metadata["Outputs"]);
        Assert.Equal(1L, result.Metadata["NodeCount"]);
        Assert.Equal(1L, result.Metadata["InitializerCount"]);
        Assert.Equal(new[] { "license" }, result.Metadata["MetadataPropsKeys"]);
        Assert.Equal(new[] { "Relu" }, result.Metadata["Operators"]);
    }

    [Theory]
    [InlineData("../secret.bin")]
    [InlineData("subdir/../../etc/passwd")]
    [InlineData("/etc/passwd")]
    [InlineData("C:\\Windows\\win.ini")]
    [InlineData("c:weights.bin")]
    [InlineData("\\\\server\\share\\w.bin")]
    [InlineData("..\\..\\w.bin")]
    [InlineData("file:///etc/passwd")]
    [InlineData("https://example.com/w.bin")]
    [InlineData("w.bin\0/../../../etc/passwd")]
    [InlineData("~/.ssh/id_rsa")]
    public void ExternalDataLeavingTheFolder_IsMalicious(string location)
    {
        ModelScanResult escaping = Scan.Bytes("model.onnx", Model(Graph(Node("Relu"), Initializer("w", location))));
        ModelScanResult twin = Scan.Bytes("model.onnx", Model(Graph(Node("Relu"), Initializer("w", "weights/w.bin"))));

        Assert.Equal(ScanVerdict.Malicious, escaping.Verdict);
        ModelFinding finding = Assert.Single(escaping.Findings, f => f.RuleId == RuleIds.OnnxExternalDataEscape);
        Assert.Equal("graph.initializer tensor \"w\"", finding.Location);
        Assert.Contains("CVE-2024-27318", finding.References);

        Assert.Equal(ScanVerdict.Clean, twin.Verdict);
        Assert.Equal(RuleIds.OnnxExternalData, Assert.Single(twin.Findings).RuleId);
        Assert.Equal(new[] { "weights/w.bin" }, twin.Metadata["ExternalDataFiles"]);
    }

    [Fact]
    public void ExternalData_InASubgraphConstant_IsFound()
    {
        // If node → attribute then_branch (g) → Constant node → attribute value (t) with external data.
        byte[] constant(string location) => Concat(Text(1, "value"), Message(5, Tensor("c", location)), Varint(20, 4));
        byte[] model(string location) => Model(Graph(Node(
            "If",
            "if",
            string.Empty,
            Concat(Text(1, "then_branch"), Message(6, Text(2, "then"), Node("Constant", "k", string.Empty, constant(location))), Varint(20, 5)))));

        ModelScanResult escaping = Scan.Bytes("model.onnx", model("../../home/user/.aws/credentials"));
        ModelScanResult twin = Scan.Bytes("model.onnx", model("c.bin"));

        Assert.Equal(ScanVerdict.Malicious, escaping.Verdict);
        Assert.Equal("graph/if/subgraph/k tensor \"c\"", Assert.Single(escaping.Findings, f => f.RuleId == RuleIds.OnnxExternalDataEscape).Location);
        Assert.Equal(ScanVerdict.Clean, twin.Verdict);
    }

    [Fact]
    public void ExternalData_ThroughASymlinkOutOfTheFolder_IsMalicious()
    {
        string folder = Directory.CreateTempSubdirectory("ms-onnx-").FullName;
        string outside = Directory.CreateTempSubdirectory("ms-outside-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(folder, "real"));
            File.WriteAllBytes(Path.Combine(folder, "real", "w.bin"), new byte[16]);
            File.WriteAllBytes(Path.Combine(outside, "secret"), new byte[16]);
            try
            {
                Directory.CreateSymbolicLink(Path.Combine(folder, "link"), outside);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Skip.If(true, $"symbolic links cannot be created here: {e.Message}");
            }

            string escaping = Path.Combine(folder, "escaping.onnx");
            string twin = Path.Combine(folder, "twin.onnx");
            File.WriteAllBytes(escaping, Model(Graph(Node("Relu"), Initializer("w", "link/secret"))));
            File.WriteAllBytes(twin, Model(Graph(Node("Relu"), Initializer("w", "real/w.bin"))));

            ModelScanResult bad = ModelScanner.Scan(escaping, System.Threading.CancellationToken.None);
            ModelScanResult good = ModelScanner.Scan(twin, System.Threading.CancellationToken.None);

            Assert.Equal(ScanVerdict.Malicious, bad.Verdict);
            Assert.Contains("symbolic link", Assert.Single(bad.Findings, f => f.RuleId == RuleIds.OnnxExternalDataEscape).Detail, StringComparison.Ordinal);
            Assert.Equal(ScanVerdict.Clean, good.Verdict);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
            Directory.Delete(outside, recursive: true);
        }
    }

    [Theory]
    [InlineData("com.evil.ops", "Exec")]
    [InlineData("ai.onnx.contrib", "PyOp")]
    [InlineData("", "Relux")]
    [InlineData("ai.onnx.ml", "Conv")]
    [InlineData("com.microsoft", "PythonOp")]
    public void OperatorsOutsideTheStandardSets_AreSuspicious(string domain, string op)
    {
        ModelScanResult custom = Scan.Bytes("model.onnx", Model(Graph(Node(op, "custom_node", domain)), (string.Empty, 17), (domain, 1)));

        Assert.Equal(ScanVerdict.Suspicious, custom.Verdict);
        ModelFinding finding = Assert.Single(custom.Findings);
        Assert.Equal(RuleIds.OnnxCustomOperator, finding.RuleId);
        Assert.Equal("custom_node", finding.Location);
        Assert.Contains(op, finding.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void StandardContribAndLocalFunctionOperators_AreNotSuspicious()
    {
        // A model-local function (ModelProto.functions: 1 name, 10 domain) defines its own op.
        byte[] function = Message(25, Text(1, "MyGelu"), Text(10, "local.fn"), Message(7, Text(4, "Erf")), Message(7, Text(4, "Mul")));
        byte[] model = Concat(
            Model(Graph(Node("Conv"), Node("ArgMax"), Node("TreeEnsembleClassifier", "t", "ai.onnx.ml"), Node("MyGelu", "g", "local.fn"), Node("FusedMatMul", "f", "com.microsoft")), (string.Empty, 17), ("ai.onnx.ml", 3), ("com.microsoft", 1), ("local.fn", 1)),
            function);

        ModelScanResult result = Scan.Bytes("model.onnx", model);

        Assert.Equal(ScanVerdict.Clean, result.Verdict);
        ModelFinding contrib = Assert.Single(result.Findings);
        Assert.Equal(RuleIds.OnnxRuntimeContribOperator, contrib.RuleId);
        Assert.Contains("com.microsoft:FusedMatMul", contrib.Detail, StringComparison.Ordinal);
        Assert.Equal(new[] { "local.fn:MyGelu" }, result.Metadata["LocalFunctions"]);
    }

    [Fact]
    public void InitializerPayloads_AreSkippedUnread()
    {
        const int Payload = 32 * 1024 * 1024;
        byte[] model = Model(Graph(Node("MatMul"), Initializer("big", rawBytes: Payload), Initializer("big2", rawBytes: Payload), Input(11, "x", 1, 4)));

        ModelScanResult result = Scan.Bytes("model.onnx", model);

        Assert.Equal(ScanVerdict.Clean, result.Verdict);
        Assert.Equal(2L, result.Metadata["InitializerCount"]);
        Assert.True(result.BytesRead < 256 * 1024, $"read {result.BytesRead:N0} of {result.Length:N0}");
    }

    [Fact]
    public void MalformedProtobuf_IsInconclusive()
    {
        // A 100 KB initializer first, so the damage lies past the 64 KiB the format sniffer reads.
        byte[] benign = Model(Graph(Initializer("w", rawBytes: 100_000), Node("Relu")));
        byte[] badVarint = Concat(benign, new byte[] { 0x08 }, Enumerable.Repeat((byte)0xFF, 11).ToArray());
        byte[] beyondEnd = Concat(benign, new byte[] { 0x3A, 0xFF, 0xFF, 0x03, 0x0A });
        byte[] badWireType = Concat(benign, new byte[] { 0x0B });
        byte[] deep = Node("Relu");
        for (int i = 0; i < 60; i++)
        {
            deep = Node("If", "if", string.Empty, Concat(Text(1, "then_branch"), Message(6, deep)));
        }

        foreach (byte[] bytes in new[] { badVarint, beyondEnd, badWireType, Model(Graph(Initializer("w", rawBytes: 100_000), deep)) })
        {
            ModelScanResult result = Scan.Bytes("model.onnx", bytes);

            Assert.Equal(ModelFormat.Onnx, result.Format);
            Assert.Equal(ScanVerdict.Inconclusive, result.Verdict);
            Assert.Contains(result.Findings, f => f.RuleId == RuleIds.OnnxMalformed);
        }

        // Cut before its trailing metadata_props, a model is never Clean: inside a field it is malformed,
        // between fields it lacks its graph or opset. (Without the optional trailing field it is a whole model.)
        int essential = Benign().Length - Message(14, Text(1, "license"), Text(2, "mit")).Length;
        for (int length = 1; length < essential; length++)
        {
            Assert.NotEqual(ScanVerdict.Clean, Scan.Bytes("model.onnx", Benign().AsSpan(0, length).ToArray()).Verdict);
        }
    }

    [Fact]
    public void ModelWithoutGraphOrOpset_IsInconclusive()
    {
        ModelScanResult noGraph = Scan.Bytes("model.onnx", Concat(Varint(1, 8), Text(2, "x"), Message(8, Varint(2, 17))));
        ModelScanResult noOpset = Scan.Bytes("model.onnx", Concat(Varint(1, 8), Text(2, "x"), Message(7, Graph(Node("Relu")))));

        Assert.Equal(RuleIds.OnnxMalformed, Assert.Single(noGraph.Findings).RuleId);
        Assert.Equal(RuleIds.OnnxMalformed, Assert.Single(noOpset.Findings).RuleId);
    }
}
