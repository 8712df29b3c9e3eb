using System;
using System.IO;
using System.Linq;
using System.Text;
using ModelSecurity.Analysis;
using ModelSecurity.Formats;
using PureHDF;
using Xunit;

namespace ModelSecurity.Tests;

/// <summary>
/// Keras configs (in .keras zips, legacy HDF5 attributes and bare JSON), HDF5 files and skops
/// schemas: each technique with a benign twin, built in memory.
/// </summary>
public class KerasConfigTests
{
    private const string Dense = "{\"module\": \"keras.layers\", \"class_name\": \"Dense\", \"config\": {\"name\": \"dense\", \"units\": 1, \"activation\": \"relu\", \"kernel_initializer\": {\"module\": \"keras.initializers\", \"class_name\": \"GlorotUniform\", \"config\": {\"seed\": null}, \"registered_name\": null}}, \"registered_name\": null}";

    private const string Activation = "{\"module\": \"builtins\", \"class_name\": \"function\", \"config\": \"relu\", \"registered_name\": \"function\"}";

    public static TheoryData<string, string, string> MaliciousLayers() => new()
    {
        // CVE-2024-3660: Keras 3 __lambda__ with marshalled bytecode.
        { "{\"module\": \"keras.layers\", \"class_name\": \"Lambda\", \"config\": {\"name\": \"evil\", \"function\": {\"class_name\": \"__lambda__\", \"config\": {\"code\": \"4wEAAAAAAAAAAAAAAAEAAAADAAAA8wQAAABkAFMAKQFOqQCpAdoBeHICAAAAcgIAAAD6CDxzdHJpbmc+2gg8bGFtYmRhPgEAAADzAAAAAA==\", \"defaults\": null, \"closure\": null}}}, \"registered_name\": null}", RuleIds.KerasCode, "evil" },

        // CVE-2025-1550: a module outside Keras, imported even in safe_mode.
        { "{\"module\": \"os\", \"class_name\": \"system\", \"config\": {\"name\": \"boom\"}, \"registered_name\": null}", RuleIds.KerasDangerousReference, "os.system" },
        { "{\"module\": \"builtins\", \"class_name\": \"function\", \"config\": \"exec\", \"registered_name\": \"function\"}", RuleIds.KerasDangerousReference, "builtins.exec" },
        { "{\"module\": \"subprocess\", \"class_name\": \"Popen\", \"config\": {}, \"registered_name\": null}", RuleIds.KerasDangerousReference, "subprocess.Popen" },

        // CVE-2025-8747: keras.utils.get_file downloads to any path.
        { "{\"module\": \"keras.utils\", \"class_name\": \"get_file\", \"config\": {\"origin\": \"http://example.invalid/x\", \"fname\": \"/tmp/x\"}, \"registered_name\": null}", RuleIds.KerasNonModelingApi, "get_file" },

        // CVE-2025-9906: safe_mode turned off from inside the config.
        { "{\"module\": \"keras.config\", \"class_name\": \"function\", \"config\": \"enable_unsafe_deserialization\", \"registered_name\": \"function\"}", RuleIds.KerasNonModelingApi, "CVE-2025-9906" },

        // CVE-2025-49655: TorchModuleWrapper is torch.load of a pickle.
        { "{\"module\": \"keras.layers\", \"class_name\": \"TorchModuleWrapper\", \"config\": {\"name\": \"torch\", \"module\": \"gASV...\"}, \"registered_name\": null}", RuleIds.KerasTorchModule, "torch" },
    };

    [Theory]
    [MemberData(nameof(MaliciousLayers))]
    public void KerasArchive_WithGadgetLayer_IsMalicious(string layer, string rule, string named)
    {
        ModelScanResult result = Scan.Bytes("model.keras", KerasZip(Sequential(Dense, layer)));

        Assert.Equal(ModelFormat.Keras, result.Format);
        Assert.Equal(ScanVerdict.Malicious, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == rule && (f.Detail.Contains(named, StringComparison.Ordinal) || f.References.Contains(named))
            && f.Location!.StartsWith("member config.json, $.config.layers[1]", StringComparison.Ordinal));
    }

    [Fact]
    public void KerasArchive_WithManyGadgets_ListsSixteenAndSumsUpTheRest()
    {
        string gadget = "{\"module\": \"os\", \"class_name\": \"system\", \"config\": {\"name\": \"boom\"}, \"registered_name\": null}";

        ModelScanResult result = Scan.Bytes("model.keras", KerasZip(Sequential(Enumerable.Repeat(gadget, 40).ToArray())));

        ModelFinding[] references = result.Findings.Where(f => f.RuleId == RuleIds.KerasDangerousReference).ToArray();
        Assert.Equal(CappedFindings.PerRule + 1, references.Length);
        Assert.Single(references, f => f.Detail == "24 more finding(s) of this kind in the config were not listed one by one.");
        Assert.Equal(ScanVerdict.Malicious, result.Verdict);
    }

    [Fact]
    public void KerasArchive_WithOnlyKerasLayers_IsCleanWithMetadata()
    {
        string activation = "{\"module\": \"keras.layers\", \"class_name\": \"Activation\", \"config\": {\"name\": \"act\", \"activation\": " + Activation + "}, \"registered_name\": null}";

        ModelScanResult result = Scan.Bytes("model.keras", KerasZip(Sequential(Dense, activation)));

        Assert.Equal(ModelFormat.Keras, result.Format);
        Assert.True(result.Verdict == ScanVerdict.Clean, string.Join("; ", result.Findings));
        Assert.Equal("3.6.0", result.Metadata["KerasVersion"]);
        Assert.Equal("Sequential", result.Metadata["KerasClassName"]);
        Assert.Equal(2, result.Metadata["KerasLayerCount"]);
    }

    [Fact]
    public void CustomObjectOutsideKeras_IsSuspicious_AndRegisteredKerasHubIsNot()
    {
        string custom = "{\"module\": \"my_layers\", \"class_name\": \"Fancy\", \"config\": {\"name\": \"fancy\"}, \"registered_name\": \"MyPkg>Fancy\"}";
        string hub = "{\"module\": \"keras_hub.src.models.gemma.gemma_backbone\", \"class_name\": \"GemmaBackbone\", \"config\": {\"name\": \"gemma\"}, \"registered_name\": \"keras_hub>GemmaBackbone\"}";

        ModelScanResult suspicious = Scan.Bytes("model.keras", KerasZip(Sequential(custom)));
        ModelScanResult clean = Scan.Bytes("model.keras", KerasZip(Sequential(hub)));

        Assert.Equal(ScanVerdict.Suspicious, suspicious.Verdict);
        Assert.Contains(suspicious.Findings, f => f.RuleId == RuleIds.KerasCustomObject && f.Detail.Contains("my_layers.Fancy", StringComparison.Ordinal));
        Assert.True(clean.Verdict == ScanVerdict.Clean, string.Join("; ", clean.Findings));
    }

    [Fact]
    public void LookupLayerVocabularyPath_IsSuspicious_AndInlineVocabularyIsNot()
    {
        string path = "{\"module\": \"keras.layers\", \"class_name\": \"StringLookup\", \"config\": {\"name\": \"lookup\", \"vocabulary\": \"/etc/passwd\"}, \"registered_name\": null}";
        string inline = "{\"module\": \"keras.layers\", \"class_name\": \"StringLookup\", \"config\": {\"name\": \"lookup\", \"vocabulary\": [\"a\", \"b\"]}, \"registered_name\": null}";

        ModelScanResult suspicious = Scan.Bytes("model.keras", KerasZip(Sequential(path)));
        ModelScanResult clean = Scan.Bytes("model.keras", KerasZip(Sequential(inline)));

        Assert.Equal(ScanVerdict.Suspicious, suspicious.Verdict);
        Assert.Contains(suspicious.Findings, f => f.RuleId == RuleIds.KerasExternalFile && f.Detail.Contains("/etc/passwd", StringComparison.Ordinal));
        Assert.True(clean.Verdict == ScanVerdict.Clean, string.Join("; ", clean.Findings));
    }

    [Theory]
    [InlineData("{\"class_name\": \"Sequential\", \"config\": {\"layers\": [")]
    [InlineData("not json at all")]
    public void MalformedKerasConfig_IsInconclusive(string config)
    {
        ModelScanResult result = Scan.Bytes("model.keras", KerasZip(config));

        Assert.Equal(ScanVerdict.Inconclusive, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.KerasConfigUnreadable);
    }

    [Fact]
    public void DeeplyNestedKerasConfig_IsInconclusiveNotAnException()
    {
        string config = string.Concat(Enumerable.Repeat("{\"class_name\": \"Model\", \"config\": ", 400)) + "{}" + new string('}', 400);

        ModelScanResult result = Scan.Bytes("model.keras", KerasZip(config));

        Assert.Equal(ScanVerdict.Inconclusive, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.KerasConfigUnreadable);
        Assert.DoesNotContain(result.Findings, f => f.RuleId == RuleIds.AnalysisFailed);
    }

    [Fact]
    public void KerasArchive_MembersAreStillScannedByContent()
    {
        byte[] zip = ZipBuilder.StoredZip(
            ("metadata.json", Encoding.UTF8.GetBytes("{\"keras_version\": \"3.6.0\"}")),
            ("config.json", Encoding.UTF8.GetBytes(Sequential(Dense))),
            ("model.weights.npz", ZipBuilder.StoredZip(("w.npy", Fixtures.Get("numpy-v1.0").Bytes))),
            ("assets/evil.pkl", PickleBuilder.CallWithString("os", "system")));

        ModelScanResult result = Scan.Bytes("model.keras", zip);

        Assert.Equal(ScanVerdict.Malicious, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.PickleCodeExecution && f.Location!.StartsWith("assets/evil.pkl", StringComparison.Ordinal));
    }

    [Fact]
    public void KerasArchive_WeightsHdf5_IsReadInPlace()
    {
        byte[] weights = Hdf5(file => file["dense"] = new H5Group { ["kernel"] = new H5Dataset(new float[1024 * 1024]) });
        byte[] zip = ZipBuilder.StoredZip(
            ("metadata.json", Encoding.UTF8.GetBytes("{\"keras_version\": \"3.6.0\"}")),
            ("config.json", Encoding.UTF8.GetBytes(Sequential(Dense))),
            ("model.weights.h5", weights));

        ModelScanResult result = Scan.Bytes("model.keras", zip);

        Assert.True(result.Verdict == ScanVerdict.Clean, string.Join("; ", result.Findings));
        Assert.True(result.BytesRead < zip.Length / 16, $"read {result.BytesRead} of {zip.Length}");
    }

    [Fact]
    public void LegacyHdf5_WithLambdaBytecode_IsMalicious_AndDenseTwinIsClean()
    {
        string lambda = "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"seq\", \"layers\": [{\"class_name\": \"Lambda\", \"config\": {\"name\": \"lam\", \"function\": [\"4wEAAAAAAAAA\", null, null], \"function_type\": \"lambda\"}}]}}";
        string dense = "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"seq\", \"layers\": [{\"class_name\": \"Dense\", \"config\": {\"name\": \"d\", \"units\": 2}}]}}";

        ModelScanResult malicious = Scan.Bytes("model.h5", KerasHdf5(lambda));
        ModelScanResult clean = Scan.Bytes("model.h5", KerasHdf5(dense));

        Assert.Equal(ModelFormat.Hdf5, malicious.Format);
        Assert.Equal(ScanVerdict.Malicious, malicious.Verdict);
        Assert.Contains(malicious.Findings, f => f.RuleId == RuleIds.KerasCode && f.Location!.StartsWith("attribute model_config", StringComparison.Ordinal) && f.Detail.Contains("'lam'", StringComparison.Ordinal));
        Assert.True(clean.Verdict == ScanVerdict.Clean, string.Join("; ", clean.Findings));
        Assert.Equal("2.15.0", clean.Metadata["KerasVersion"]);
        Assert.Equal("tensorflow", clean.Metadata["KerasBackend"]);
        Assert.Equal(1, clean.Metadata["KerasLayerCount"]);
    }

    [Fact]
    public void PlainHdf5_IsCleanData()
    {
        byte[] file = Hdf5(f =>
        {
            f["data"] = new H5Dataset(new double[] { 1, 2, 3 });
            f.Attributes["title"] = "measurements";
        });

        ModelScanResult result = Scan.Bytes("data.h5", file);

        Assert.Equal(ModelFormat.Hdf5, result.Format);
        Assert.True(result.Verdict == ScanVerdict.Clean, string.Join("; ", result.Findings));
        Assert.Equal("title", result.Metadata["Hdf5RootAttributes"]);
    }

    [Fact]
    public void HostileHdf5_IsInconclusiveNotAnException()
    {
        byte[] good = KerasHdf5("{\"class_name\": \"Sequential\", \"config\": {\"layers\": []}}");
        var random = new Random(5);
        foreach (int length in new[] { 8, 20, 50, 96, 200, good.Length / 2, good.Length - 1 })
        {
            ModelScanResult truncated = Scan.Bytes("model.h5", good.AsSpan(0, length).ToArray());
            Assert.DoesNotContain(truncated.Findings, f => f.RuleId == RuleIds.AnalysisFailed);
            Assert.NotEqual(ScanVerdict.Clean, truncated.Verdict);
        }

        byte[] garbage = new byte[4096];
        random.NextBytes(garbage);
        new byte[] { 0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A }.CopyTo(garbage, 0);
        ModelScanResult result = Scan.Bytes("model.h5", garbage);

        Assert.Equal(ScanVerdict.Inconclusive, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.Hdf5Unreadable);
    }

    [Fact]
    public void Hdf5SignatureFollowedByZeros_IsAPlaceholder()
    {
        byte[] placeholder = new byte[520];
        new byte[] { 0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A }.CopyTo(placeholder, 0);

        ModelScanResult result = Scan.Bytes("model.keras", placeholder);

        Assert.Equal(ScanVerdict.Clean, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.Hdf5Placeholder);
    }

    [Fact]
    public void BareKerasJson_IsAnalysed()
    {
        ModelScanResult malicious = Scan.Bytes("model.json", Encoding.UTF8.GetBytes("{\"class_name\": \"Lambda\", \"module\": \"keras.layers\", \"config\": {\"name\": \"l\", \"function\": {\"class_name\": \"__lambda__\", \"config\": {\"code\": \"AA==\"}}}}"));
        ModelScanResult clean = Scan.Bytes("model.json", Encoding.UTF8.GetBytes(Sequential(Dense)));

        Assert.Equal(ScanVerdict.Malicious, malicious.Verdict);
        Assert.Contains(malicious.Findings, f => f.RuleId == RuleIds.KerasCode);
        Assert.True(clean.Verdict == ScanVerdict.Clean, string.Join("; ", clean.Findings));
    }

    [Fact]
    public void HydraTargetsInJson_AreGraded()
    {
        ModelScanResult malicious = Scan.Bytes("config.json", Encoding.UTF8.GetBytes("{\"model\": {\"_target_\": \"os.system\", \"_args_\": [\"id\"]}}"));
        ModelScanResult clean = Scan.Bytes("config.json", Encoding.UTF8.GetBytes("{\"optim\": {\"_target_\": \"torch.optim.Adam\", \"lr\": 0.1}}"));

        Assert.Equal(ScanVerdict.Malicious, malicious.Verdict);
        Assert.Contains(malicious.Findings, f => f.RuleId == RuleIds.HydraDangerousTarget && f.Location == "$.model._target_");
        Assert.True(clean.Verdict == ScanVerdict.Clean, string.Join("; ", clean.Findings));
    }

    [Fact]
    public void NeMoArchive_IsGradedByItsHydraTargets()
    {
        byte[] evil = Fixtures.Tar(("./model_config.yaml", Encoding.UTF8.GetBytes("name: m\nmodel:\n  _target_: os.system\n  _args_: [id]\n")), ("./model_weights.ckpt", PickleBuilder.TorchStateDict()));
        byte[] benign = Fixtures.Tar(("./model_config.yaml", Encoding.UTF8.GetBytes("name: m\nmodel:\n  _target_: nemo.collections.asr.models.EncDecCTCModel\n  optim:\n    _target_: torch.optim.Adam\n")), ("./model_weights.ckpt", PickleBuilder.TorchStateDict()));

        ModelScanResult malicious = Scan.Bytes("model.nemo", evil);
        ModelScanResult clean = Scan.Bytes("model.nemo", benign);

        Assert.Equal(ModelFormat.NeMo, malicious.Format);
        Assert.Equal(ScanVerdict.Malicious, malicious.Verdict);
        Assert.Contains(malicious.Findings, f => f.RuleId == RuleIds.HydraDangerousTarget && f.Location!.StartsWith("./model_config.yaml, line 3", StringComparison.Ordinal));
        Assert.True(clean.Verdict == ScanVerdict.Clean, string.Join("; ", clean.Findings));
    }

    public static TheoryData<string, string> MaliciousSkopsNodes() => new()
    {
        // CVE-2025-54412: OperatorFuncNode reaching methodcaller.
        { "{\"__class__\": \"methodcaller\", \"__module__\": \"_operator\", \"__loader__\": \"OperatorFuncNode\", \"content\": {}}", "methodcaller" },

        // CVE-2025-54413: MethodNode binding a dunder.
        { "{\"__class__\": \"Pipeline\", \"__module__\": \"sklearn.pipeline\", \"__loader__\": \"MethodNode\", \"content\": {\"func\": \"__reduce_ex__\", \"obj\": {}}}", "__reduce_ex__" },

        // A function that runs commands, e.g. for a FunctionTransformer.
        { "{\"__class__\": \"system\", \"__module__\": \"os\", \"__loader__\": \"FunctionNode\", \"content\": {}}", "os.system" },
        { "{\"__class__\": \"load\", \"__module__\": \"numpy\", \"__loader__\": \"FunctionNode\", \"content\": {}}", "numpy.load" },
    };

    [Theory]
    [MemberData(nameof(MaliciousSkopsNodes))]
    public void SkopsGadget_IsMalicious(string node, string named)
    {
        ModelScanResult result = Scan.Bytes("model.skops", SkopsZip(node));

        Assert.Equal(ModelFormat.Skops, result.Format);
        Assert.Equal(ScanVerdict.Malicious, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.SkopsDangerous && f.Detail.Contains(named, StringComparison.Ordinal) && f.Location!.StartsWith("member schema.json, $.content.content.steps", StringComparison.Ordinal));
    }

    [Fact]
    public void SkopsTrustedTypes_AreClean_UntrustedIsSuspicious_MainIsNoted()
    {
        string scaler = "{\"__class__\": \"StandardScaler\", \"__module__\": \"sklearn.preprocessing._data\", \"__loader__\": \"ObjectNode\", \"content\": {\"__class__\": \"dict\", \"__module__\": \"builtins\", \"__loader__\": \"DictNode\", \"content\": {}}}";
        string untrusted = "{\"__class__\": \"XGBClassifier\", \"__module__\": \"xgboost.sklearn\", \"__loader__\": \"ObjectNode\", \"content\": {}}";
        string program = "{\"__class__\": \"DivideColumns\", \"__module__\": \"__main__\", \"__loader__\": \"ObjectNode\", \"content\": {}}";

        ModelScanResult clean = Scan.Bytes("model.skops", SkopsZip(scaler));
        ModelScanResult suspicious = Scan.Bytes("model.skops", SkopsZip(untrusted));
        ModelScanResult noted = Scan.Bytes("model.skops", SkopsZip(program));

        Assert.True(clean.Verdict == ScanVerdict.Clean, string.Join("; ", clean.Findings));
        Assert.Equal("sklearn.pipeline.Pipeline", clean.Metadata["SkopsClass"]);
        Assert.Equal(ScanVerdict.Suspicious, suspicious.Verdict);
        Assert.Contains(suspicious.Findings, f => f.RuleId == RuleIds.SkopsUntrusted && f.Detail.Contains("xgboost.sklearn.XGBClassifier", StringComparison.Ordinal));
        Assert.Equal(ScanVerdict.Clean, noted.Verdict);
        Assert.Contains(noted.Findings, f => f.RuleId == RuleIds.SkopsProgramType);
    }

    [Fact]
    public void SkopsWithBrokenSchema_IsInconclusive()
    {
        byte[] zip = ZipBuilder.StoredZip(("schema.json", Encoding.UTF8.GetBytes("{\"__class__\": \"Pipeline\", \"__loader__\": \"ObjectNode\", ")));

        ModelScanResult result = Scan.Bytes("model.skops", zip);

        Assert.Equal(ScanVerdict.Inconclusive, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.SkopsSchemaUnreadable);
    }

    internal static string Sequential(params string[] layers) =>
        "{\"module\": \"keras\", \"class_name\": \"Sequential\", \"config\": {\"name\": \"sequential\", \"layers\": [" + string.Join(", ", layers) + "]}, \"registered_name\": null}";

    internal static byte[] KerasZip(string config) => ZipBuilder.StoredZip(
        ("metadata.json", Encoding.UTF8.GetBytes("{\"keras_version\": \"3.6.0\", \"date_saved\": \"2025-01-01@00:00:00\"}")),
        ("config.json", Encoding.UTF8.GetBytes(config)),
        ("model.weights.npz", ZipBuilder.StoredZip(("w.npy", Fixtures.Get("numpy-v1.0").Bytes))));

    internal static byte[] SkopsZip(string step) => ZipBuilder.StoredZip(("schema.json", Encoding.UTF8.GetBytes(
        "{\"__class__\": \"Pipeline\", \"__module__\": \"sklearn.pipeline\", \"__loader__\": \"ObjectNode\", \"content\": {\"__class__\": \"dict\", \"__module__\": \"builtins\", \"__loader__\": \"DictNode\", \"content\": {\"steps\": {\"__class__\": \"list\", \"__module__\": \"builtins\", \"__loader__\": \"ListNode\", \"content\": ["
        + step + "]}}}, \"protocol\": 1, \"_skops_version\": \"0.10.0\"}")));

    internal static byte[] KerasHdf5(string modelConfig) => Hdf5(file =>
    {
        file.Attributes["model_config"] = modelConfig;
        file.Attributes["keras_version"] = "2.15.0";
        file.Attributes["backend"] = "tensorflow";
        file["model_weights"] = new H5Group { ["dense"] = new H5Dataset(new float[] { 1, 2 }) };
    });

    internal static byte[] Hdf5(Action<H5File> build)
    {
        var file = new H5File();
        build(file);
        using var stream = new MemoryStream();
        file.Write(stream);
        return stream.ToArray();
    }
}
