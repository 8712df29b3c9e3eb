using System;
using System.Linq;
using ModelSecurity.Analysis;
using ModelSecurity.Formats;
using Xunit;
using static ModelSecurity.Tests.Protobuf;
using static ModelSecurity.Tests.TensorFlowBuilder;

namespace ModelSecurity.Tests;

public class TensorFlowReaderTests
{
    [Fact]
    public void BenignSavedModel_WithItsCheckpointFunctions_IsClean()
    {
        ModelScanResult result = Scan.Bytes("saved_model.pb", BenignSavedModel());

        Assert.Equal(ModelFormat.TensorFlowSavedModel, result.Format);
        Assert.True(result.Verdict == ScanVerdict.Clean, string.Join("; ", result.Findings));
        Assert.Equal(3L, result.Metadata["CheckpointOps"]);
        Assert.Equal(new[] { "serve" }, result.Metadata["MetaGraphTags"]);
        Assert.Equal(new[] { "serving_default" }, result.Metadata["SignatureNames"]);
        Assert.Equal("2.15.0", result.Metadata["TensorFlowVersion"]);
        Assert.Equal(2L, result.Metadata["FunctionCount"]);
    }

    [Theory]
    [InlineData("PyFunc")]
    [InlineData("EagerPyFunc")]
    [InlineData("PyFuncStateless")]
    public void PythonOps_AreMalicious(string op)
    {
        ModelScanResult result = Scan.Bytes("saved_model.pb", SavedModel(GraphDef(new[] { Node("x", "Placeholder"), Node("cb", op, new[] { "x" }, StringAttr("token", "pyfunc_0")) }, SaverFunctions())));
        ModelScanResult twin = Scan.Bytes("saved_model.pb", SavedModel(GraphDef(new[] { Node("x", "Placeholder"), Node("cb", "Identity", new[] { "x" }) }, SaverFunctions())));

        Assert.Equal(ScanVerdict.Malicious, result.Verdict);
        ModelFinding finding = Assert.Single(result.Findings);
        Assert.Equal(RuleIds.TensorFlowCodeOp, finding.RuleId);
        Assert.Equal("node \"cb\"", finding.Location);
        Assert.Equal(ScanVerdict.Clean, twin.Verdict);
    }

    [Theory]
    [InlineData("ReadFile", "/etc/passwd")]
    [InlineData("WriteFile", "../../home/user/.bashrc")]
    [InlineData("MatchingFiles", "/home/*/.ssh/*")]
    [InlineData("TFRecordDataset", "C:\\Users\\x\\secrets")]
    [InlineData("DistributedSave", "10.0.0.5:5050")]
    public void FileOps_AimedOutsideTheModel_AreMalicious_AndSuspiciousOtherwise(string op, string target)
    {
        byte[] Graph(string path) => SavedModel(GraphDef(
            Array.Empty<byte[]>(),
            Function("__inference___call___7", StringConst("path", path), Node("io", op, new[] { "path:output:0" }))));

        ModelScanResult aimed = Scan.Bytes("saved_model.pb", Graph(target));
        ModelScanResult relative = Scan.Bytes("saved_model.pb", Graph("data/records"));

        Assert.Equal(ScanVerdict.Malicious, aimed.Verdict);
        ModelFinding finding = Assert.Single(aimed.Findings);
        Assert.Equal(RuleIds.TensorFlowFileOpTargeted, finding.RuleId);
        Assert.Equal("function __inference___call___7, node \"io\"", finding.Location);
        Assert.Contains(target, finding.Detail, StringComparison.Ordinal);

        Assert.Equal(ScanVerdict.Suspicious, relative.Verdict);
        Assert.Equal(RuleIds.TensorFlowFileOp, Assert.Single(relative.Findings).RuleId);
    }

    [Fact]
    public void CheckpointOps_OutsideTheSaverPattern_AreReported()
    {
        // SaveV2 in an ordinary function, and the saver function given a fixed path.
        byte[] elsewhere = SavedModel(GraphDef(Array.Empty<byte[]>(), Function("__inference___call___9", Node("SaveV2", "SaveV2", new[] { "prefix", "names" }))));
        byte[] fixedPath = SavedModel(GraphDef(
            Array.Empty<byte[]>(),
            Function("__inference__traced_save_3", StringConst("prefix", "/etc/cron.d/job"), Node("SaveV2", "SaveV2", new[] { "prefix:output:0" }))));
        byte[] tf1Saver = GraphDef(new[] { Node("save/Const", "Placeholder"), Node("save/SaveV2", "SaveV2", new[] { "save/Const" }), Node("save/RestoreV2", "RestoreV2", new[] { "save/Const" }) });

        Assert.Equal(RuleIds.TensorFlowFileOp, Assert.Single(Scan.Bytes("saved_model.pb", elsewhere).Findings).RuleId);
        Assert.Equal(RuleIds.TensorFlowFileOpTargeted, Assert.Single(Scan.Bytes("saved_model.pb", fixedPath).Findings).RuleId);
        ModelScanResult tf1 = Scan.Bytes("graph.pb", tf1Saver);
        Assert.Equal(ModelFormat.TensorFlowGraphDef, tf1.Format);
        Assert.True(tf1.Verdict == ScanVerdict.Clean, string.Join("; ", tf1.Findings));
    }

    [Fact]
    public void DebugAndPrintOps_ThatSendDataAway_AreReported()
    {
        byte[] debug = GraphDef(new[] { Node("x", "Placeholder"), Node("dbg", "DebugIdentityV2", new[] { "x" }, ("debug_urls", Message(1, Text(2, "grpc://203.0.113.9:6064")))) });
        byte[] printToFile = GraphDef(new[] { Node("x", "Placeholder"), Node("p", "PrintV2", new[] { "x" }, StringAttr("output_stream", "file:///tmp/leak.txt")) });
        byte[] printToLog = GraphDef(new[] { Node("x", "Placeholder"), Node("p", "PrintV2", new[] { "x" }, StringAttr("output_stream", "stderr")) });

        Assert.Equal(RuleIds.TensorFlowFileOpTargeted, Assert.Single(Scan.Bytes("graph.pb", debug).Findings).RuleId);
        Assert.Equal(RuleIds.TensorFlowFileOpTargeted, Assert.Single(Scan.Bytes("graph.pb", printToFile).Findings).RuleId);
        Assert.Equal(ScanVerdict.Clean, Scan.Bytes("graph.pb", printToLog).Verdict);
    }

    [Fact]
    public void FrozenGraphWeights_AreSkippedUnread()
    {
        byte[] weights = Node("w", "Const", null, ("dtype", Varint(6, 1)), ("value", Message(8, Varint(1, 1), Bytes(4, new byte[16 * 1024 * 1024]))));
        ModelScanResult result = Scan.Bytes("frozen.pb", GraphDef(new[] { weights, Node("x", "Placeholder"), Node("y", "MatMul", new[] { "x", "w" }) }));

        Assert.Equal(ModelFormat.TensorFlowGraphDef, result.Format);
        Assert.Equal(ScanVerdict.Clean, result.Verdict);
        Assert.True(result.BytesRead < 256 * 1024, $"read {result.BytesRead:N0} of {result.Length:N0}");
    }

    [Fact]
    public void TruncatedOrDamagedGraphs_AreInconclusive()
    {
        byte[] graph = GraphDef(new[] { Node("x", "Placeholder"), Node("y", "Relu", new[] { "x" }) });
        byte[] withoutVersions = Concat(Bytes(1, Node("x", "Placeholder")), Bytes(1, Node("y", "Relu", new[] { "x" })));
        byte[] cut = BenignSavedModel().AsSpan(0, 40).ToArray();

        Assert.Equal(ScanVerdict.Clean, Scan.Bytes("graph.pb", graph).Verdict);
        Assert.Equal(RuleIds.TensorFlowMalformed, Assert.Single(Scan.Bytes("graph.pb", withoutVersions).Findings).RuleId);
        ModelScanResult truncated = Scan.Bytes("saved_model.pb", cut);
        Assert.Equal(ScanVerdict.Inconclusive, truncated.Verdict);
    }

    [Fact]
    public void CheckpointIndex_IsCleanWithItsTensorNames_AndBrokenOnesInconclusive()
    {
        byte[] index = CheckpointIndex("dense/kernel/.ATTRIBUTES/VARIABLE_VALUE", "dense/bias/.ATTRIBUTES/VARIABLE_VALUE");
        byte[] broken = (byte[])index.Clone();
        new byte[] { 0, 0, 0x88, 0x27, 10 }.CopyTo(broken, broken.Length - 48); // index block handle: offset 5,000, past the table

        ModelScanResult result = Scan.Bytes("variables.index", index);
        ModelScanResult damaged = Scan.Bytes("variables.index", broken);

        Assert.Equal(ModelFormat.TensorFlowMetadata, result.Format);
        Assert.True(result.Verdict == ScanVerdict.Clean, string.Join("; ", result.Findings));
        Assert.Equal(2L, result.Metadata["CheckpointTensorCount"]);
        Assert.Contains("dense/bias/.ATTRIBUTES/VARIABLE_VALUE", (string[])result.Metadata["CheckpointTensors"]!);
        Assert.Equal(ScanVerdict.Inconclusive, damaged.Verdict);
        Assert.Equal(RuleIds.TensorFlowMalformed, Assert.Single(damaged.Findings).RuleId);
    }

    [Fact]
    public void Fingerprint_IsClean_WithItsHashes()
    {
        ModelScanResult result = Scan.Bytes("fingerprint.pb", Fixtures.Get("tf-fingerprint").Bytes);

        Assert.Equal(ScanVerdict.Clean, result.Verdict);
        Assert.Equal("deadbeef12345678", result.Metadata["SavedModelChecksum"]);
    }

    [Fact]
    public void KerasMetadata_NamesItsObjects()
    {
        // The Keras configs themselves are judged by KerasConfigAnalysis; this reader finds and hands them over.
        byte[] metadata = Concat(
            Message(1, Varint(2, 0), Text(3, "root"), Text(4, "_tf_keras_sequential"), Text(5, "{\"class_name\": \"Sequential\", \"config\": {}}")),
            Message(1, Varint(2, 1), Text(3, "root.layer-0"), Text(4, "_tf_keras_layer"), Text(5, "{\"class_name\": \"Dense\"}")));

        ModelScanResult result = Scan.Bytes("keras_metadata.pb", metadata);

        Assert.Equal(ModelFormat.TensorFlowMetadata, result.Format);
        Assert.Equal(2L, result.Metadata["KerasObjectCount"]);
        Assert.Equal("Sequential", result.Metadata["KerasModelClass"]);
        Assert.Equal(new[] { "_tf_keras_layer", "_tf_keras_sequential" }, result.Metadata["KerasIdentifiers"]);
    }
}
