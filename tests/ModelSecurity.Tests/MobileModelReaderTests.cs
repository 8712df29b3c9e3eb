using System;
using ModelSecurity.Analysis;
using ModelSecurity.Formats;
using Xunit;
using static ModelSecurity.Tests.Protobuf;

namespace ModelSecurity.Tests;

/// <summary>TFLite and Core ML: identified with their metadata; custom operators and layers need host code.</summary>
public class MobileModelReaderTests
{
    [Fact]
    public void TfLite_Builtins_AreClean_WithMetadata()
    {
        // 3 CONV_2D, 9 FULLY_CONNECTED, and TFLite's own detection post-processing custom op.
        ModelScanResult result = Scan.Bytes("model.tflite", TfLiteBuilder.Model("MobileNet converted", 5, 3, 9, "TFLite_Detection_PostProcess"));

        Assert.Equal(ModelFormat.TFLite, result.Format);
        Assert.True(result.Verdict == ScanVerdict.Clean, string.Join("; ", result.Findings));
        Assert.Equal(3L, result.Metadata["TFLiteSchemaVersion"]);
        Assert.Equal("MobileNet converted", result.Metadata["Description"]);
        Assert.Equal(5L, result.Metadata["BufferCount"]);
        Assert.Equal(1L, result.Metadata["SubgraphCount"]);
        Assert.Equal(new[] { 3, 9 }, result.Metadata["BuiltinOperatorCodes"]);
    }

    [Fact]
    public void TfLite_CustomOps_AreSuspicious_AndFlexOpsGradedLikeTensorFlow()
    {
        ModelScanResult custom = Scan.Bytes("model.tflite", TfLiteBuilder.Model("m", 1, 3, "MyVendorKernel"));
        ModelScanResult flexFile = Scan.Bytes("model.tflite", TfLiteBuilder.Model("m", 1, 3, "FlexWriteFile"));
        ModelScanResult flexMath = Scan.Bytes("model.tflite", TfLiteBuilder.Model("m", 1, 3, "FlexErf"));

        Assert.Equal(ScanVerdict.Suspicious, custom.Verdict);
        ModelFinding finding = Assert.Single(custom.Findings);
        Assert.Equal(RuleIds.CustomOperatorNeedsHostCode, finding.RuleId);
        Assert.Contains("MyVendorKernel", finding.Detail, StringComparison.Ordinal);
        Assert.Equal(RuleIds.TensorFlowFileOp, Assert.Single(flexFile.Findings).RuleId);
        Assert.Equal(ScanVerdict.Clean, flexMath.Verdict);
    }

    [Fact]
    public void TfLite_WithOffsetsOutsideTheFile_IsInconclusive()
    {
        byte[] model = TfLiteBuilder.Model("m", 1, 3);
        byte[] broken = (byte[])model.Clone();
        BitConverter.GetBytes(0x7FFF_0000).CopyTo(broken, 0);

        ModelScanResult result = Scan.Bytes("model.tflite", broken);

        Assert.Equal(ScanVerdict.Inconclusive, result.Verdict);
        Assert.Equal(RuleIds.TensorFlowMalformed, Assert.Single(result.Findings).RuleId);
    }

    private static byte[] CoreMl(params byte[][] model) => Concat(
        Varint(1, 5),
        Message(2, Message(1, Text(1, "image")), Message(100, Text(1, "Classifies images"), Text(3, "Example Inc."), Text(4, "MIT"), Message(100, Text(1, "com.example.source"), Text(2, "x")))),
        Concat(model));

    [Fact]
    public void CoreMl_IsClean_WithMetadata_AndCustomCodeIsSuspicious()
    {
        byte[] benign = CoreMl(Message(500, Message(1, Text(1, "dense"), Message(140, Varint(1, 4)))));
        byte[] customLayer = CoreMl(Message(500, Message(1, Text(1, "dense")), Message(1, Text(1, "magic"), Message(500, Text(10, "AAPLMagicLayer")))));
        byte[] customModel = CoreMl(Message(555, Text(10, "MyModelClass")));

        ModelScanResult clean = Scan.Bytes("model.mlmodel", benign);
        ModelScanResult layer = Scan.Bytes("model.mlmodel", customLayer);
        ModelScanResult model = Scan.Bytes("model.mlmodel", customModel);

        Assert.Equal(ModelFormat.CoreML, clean.Format);
        Assert.True(clean.Verdict == ScanVerdict.Clean, string.Join("; ", clean.Findings));
        Assert.Equal("neuralNetwork", clean.Metadata["ModelType"]);
        Assert.Equal("Example Inc.", clean.Metadata["Author"]);
        Assert.Equal(new[] { "com.example.source" }, clean.Metadata["UserDefinedMetadataKeys"]);
        Assert.Equal(ScanVerdict.Suspicious, layer.Verdict);
        Assert.Contains("AAPLMagicLayer", Assert.Single(layer.Findings).Detail, StringComparison.Ordinal);
        Assert.Equal(RuleIds.CustomOperatorNeedsHostCode, Assert.Single(model.Findings).RuleId);
    }
}
