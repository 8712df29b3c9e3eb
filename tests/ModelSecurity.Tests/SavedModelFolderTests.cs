using System;
using System.IO;
using System.Linq;
using System.Threading;
using ModelSecurity.Analysis;
using Xunit;
using static ModelSecurity.Tests.Protobuf;

namespace ModelSecurity.Tests;

/// <summary>
/// A SavedModel is a folder its loaders read together: a Keras SavedModel's layer configs live in
/// keras_metadata.pb beside saved_model.pb (or, before TensorFlow 2.5, in saved_model.pb's object
/// graph), and the side files mean nothing without saved_model.pb.
/// </summary>
public sealed class SavedModelFolderTests : IDisposable
{
    private const string LambdaConfig = "{\"class_name\": \"Lambda\", \"config\": {\"name\": \"lambda\", \"function\": [\"4wEAAAAAAAAAAAAAAAEAAAACAAAAQwAAAHMIAAAAfABkARQAUwApAk7pAgAAAKkAKQHaAXhyAgAAAHICAAAA+gg8c3RkaW4+\", null, null], \"function_type\": \"lambda\"}}";
    private const string DenseConfig = "{\"class_name\": \"Dense\", \"config\": {\"name\": \"dense\", \"units\": 1}}";

    private readonly string _folder = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "ms-savedmodel-" + Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void KerasSavedModel_WithoutItsKerasMetadata_IsIncomplete()
    {
        ModelScanResult result = ScanOnDisk("saved_model.pb", KerasSavedModel(metadata: null));

        Assert.Equal(ScanVerdict.Inconclusive, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.SavedModelIncomplete && f.Detail.Contains("keras_metadata.pb", StringComparison.Ordinal));
    }

    [Fact]
    public void KerasSavedModel_ReadsTheKerasMetadataBesideIt()
    {
        Write("keras_metadata.pb", KerasMetadata(LambdaConfig));
        ModelScanResult evil = ScanOnDisk("saved_model.pb", KerasSavedModel(metadata: null));
        Assert.Equal(ScanVerdict.Malicious, evil.Verdict);
        Assert.Contains(evil.Findings, f => f.RuleId == RuleIds.KerasCode && f.Location!.StartsWith("keras_metadata.pb", StringComparison.Ordinal));

        Write("keras_metadata.pb", KerasMetadata(DenseConfig));
        ModelScanResult benign = ScanOnDisk("saved_model.pb", KerasSavedModel(metadata: null));
        Assert.Equal(ScanVerdict.Clean, benign.Verdict);
    }

    [Fact]
    public void OldKerasSavedModel_HasItsConfigsInTheObjectGraph()
    {
        Assert.Equal(ScanVerdict.Malicious, Scan.Bytes("saved_model.pb", KerasSavedModel(LambdaConfig)).Verdict);
        Assert.Equal(ScanVerdict.Clean, Scan.Bytes("saved_model.pb", KerasSavedModel(DenseConfig)).Verdict);
    }

    [Fact]
    public void PlainSavedModel_NeedsNoKerasMetadata()
    {
        Assert.Equal(ScanVerdict.Clean, ScanOnDisk("saved_model.pb", TensorFlowBuilder.BenignSavedModel()).Verdict);
    }

    [Theory]
    [InlineData("fingerprint.pb", "tf-fingerprint")]
    [InlineData("variables/variables.index", null)]
    public void SideFile_WithoutSavedModel_IsIncomplete_AndCleanBesideIt(string name, string? fixture)
    {
        byte[] bytes = fixture is null ? TensorFlowBuilder.CheckpointIndex("w", "b") : Fixtures.Get(fixture).Bytes;
        ModelScanResult alone = ScanOnDisk(name, bytes);
        Assert.Equal(ScanVerdict.Inconclusive, alone.Verdict);
        Assert.Equal(RuleIds.SavedModelIncomplete, Assert.Single(alone.Findings).RuleId);

        Write("saved_model.pb", TensorFlowBuilder.BenignSavedModel());
        Assert.Equal(ScanVerdict.Clean, ScanOnDisk(name, bytes).Verdict);
    }

    /// <summary>A SavedModel whose object graph has a Keras layer (with its config inline when <paramref name="metadata"/> is given).</summary>
    private static byte[] KerasSavedModel(string? metadata)
    {
        byte[] userObject = metadata is null
            ? Concat(Text(1, "_tf_keras_layer"), Message(2, Varint(1, 1)))
            : Concat(Text(1, "_tf_keras_layer"), Message(2, Varint(1, 1)), Text(3, metadata));
        byte[] objectGraph = Message(7, Message(1, Message(4, userObject)));
        byte[] graph = TensorFlowBuilder.GraphDef(new[] { TensorFlowBuilder.Node("x", "Placeholder") }, TensorFlowBuilder.SaverFunctions());
        return Concat(Varint(1, 1), Message(2, Message(1, Text(4, "serve"), Text(5, "2.15.0")), Bytes(2, graph), objectGraph));
    }

    private static byte[] KerasMetadata(string layerConfig) => Concat(
        Message(1, Varint(2, 0), Text(3, "root"), Text(4, "_tf_keras_sequential"), Text(5, "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": [" + layerConfig + "]}}")),
        Message(1, Varint(2, 1), Text(3, "root.layer-0"), Text(4, "_tf_keras_layer"), Text(5, layerConfig)));

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_folder, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private ModelScanResult ScanOnDisk(string name, byte[] bytes) => ModelScanner.Scan(Write(name, bytes), CancellationToken.None);
}
