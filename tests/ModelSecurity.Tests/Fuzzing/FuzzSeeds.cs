using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace ModelSecurity.Tests;

/// <summary>One fuzzing seed: well-formed bytes of some format, and the file name they are scanned under.</summary>
internal sealed record FuzzSeed(string Name, string FileName, byte[] Bytes);

/// <summary>
/// The single registry of fuzzing seeds, shared by the xunit mutation tests, the long-run mode and the
/// AFL++ seed corpus (fuzz/ModelSecurity.Fuzz). Every fixture of <see cref="Fixtures"/> is a seed, so a
/// reader added with a fixture is fuzzed through the scanning core without further work. To add
/// richer seeds for a reader, append one <c>Add(...)</c> line to <see cref="Registered"/>.
/// </summary>
internal static class FuzzSeeds
{
    private static readonly Lazy<IReadOnlyList<FuzzSeed>> Seeds = new(() => Build());

    /// <summary>Every seed, in a fixed order (fixtures first, then the registered ones).</summary>
    public static IReadOnlyList<FuzzSeed> All => Seeds.Value;

    public static FuzzSeed Get(string name) => All.First(s => s.Name == name);

    /// <summary>Hand-built seeds that reach deeper than the minimal fixtures. Append new ones at the end.</summary>
    private static IEnumerable<FuzzSeed> Registered()
    {
        byte[] stateDict = PickleBuilder.TorchStateDict();
        yield return Add("pickle-torch-state-dict", "model.pkl", stateDict);
        yield return Add("pickle-p4-call", "model.pkl", Fixtures.Concat(PickleBuilder.CallWithString("os", "system"), PickleBuilder.Create().Proto(4).Frame(6).EmptyList().Str("abc").Append().Stop().ToArray()));
        yield return Add("pickle-p0-call", "model.pkl", Fixtures.Ascii("(lp0\nI1\naS'x'\np1\nag1\nacposix\nsystem\n(S'id'\ntR."));
        yield return Add("pickle-global-call", "model.pkl", PickleBuilder.GlobalCall("builtins", "eval"));
        yield return Add("torch-zip", "model.pt", ZipBuilder.StoredZip(("archive/data.pkl", stateDict), ("archive/data/0", new byte[16]), ("archive/version", Fixtures.Ascii("3\n"))));
        yield return Add("torch-zip-deflated", "model.pt", Fixtures.Zip(("archive/data.pkl", stateDict), ("archive/byteorder", Fixtures.Ascii("little"))));
        yield return Add("torch-legacy", "model.pt", PickleBuilder.TorchLegacy(stateDict));
        yield return Add("npz", "arrays.npz", ZipBuilder.StoredZip(("a.npy", Fixtures.Get("numpy-v1.0").Bytes)));
        yield return Add("gzip-pickle", "model.pkl.gz", Fixtures.Gzip(stateDict));
        yield return Add("zlib-pickle", "model.joblib", Fixtures.Zlib(stateDict));
        yield return Add("tar-pickles", "model.tar", Fixtures.Tar(("sys_info", stateDict), ("pickle", stateDict)));
        yield return Add("gguf-template", "model.gguf", new GgufBuilder()
            .Text("general.architecture", "llama")
            .Text("tokenizer.chat_template", "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}{% endfor %}")
            .StringArray("tokenizer.ggml.tokens", "a", "b", "c")
            .AddTensor("w", new long[] { 32, 2 })
            .Build());
        yield return Add("safetensors-two", "model.safetensors", SafeTensorsBuilder.File(
            "{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},\"b\":{\"dtype\":\"I8\",\"shape\":[4],\"data_offsets\":[16,20]}}", 20));
        yield return Add("tokenizer-config", "tokenizer_config.json", Fixtures.Utf8("{\"chat_template\": \"{% if messages[0]['role'] == 'system' %}{{ messages[0]['content'] }}{% endif %}\", \"bos_token\": \"<s>\"}"));
        yield return Add("yaml-config", "config.yaml", Fixtures.Utf8("model_name: x\nchat_template: '{{ messages[0].content }}'\nparams:\n  a: [1, 2]\n  b: !!python/name:os.system\n"));
        yield return Add("jinja-template", "chat_template.jinja", Fixtures.Utf8("{%- for message in messages %}{{- '<|' + message['role'] + '|>' }}{{ message['content'] | trim }}{%- if loop.last and add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}{%- endfor %}"));
        yield return Add("onnx-graph", "model.onnx", Protobuf.Concat(
            Protobuf.Varint(1, 8),
            Protobuf.Text(2, "pytorch"),
            Protobuf.Message(7, Protobuf.Message(1, Protobuf.Text(1, "x"), Protobuf.Text(2, "y"), Protobuf.Text(4, "Relu")), Protobuf.Text(2, "g")),
            Protobuf.Message(8, Protobuf.Text(1, ""), Protobuf.Varint(2, 17))));
        yield return Add("keras-zip", "model.keras", ZipBuilder.StoredZip(
            ("metadata.json", Fixtures.Utf8("{\"keras_version\": \"3.6.0\", \"date_saved\": \"2025-01-01@00:00:00\"}")),
            ("config.json", Fixtures.Utf8("{\"module\": \"keras\", \"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": ["
                + "{\"module\": \"keras.layers\", \"class_name\": \"Dense\", \"config\": {\"name\": \"d\", \"units\": 1}, \"registered_name\": null}, "
                + "{\"module\": \"keras.layers\", \"class_name\": \"Lambda\", \"config\": {\"name\": \"l\", \"function\": {\"class_name\": \"__lambda__\", \"config\": {\"code\": \"AA==\"}}}, \"registered_name\": null}"
                + "]}, \"registered_name\": null}")),
            ("model.weights.npz", ZipBuilder.StoredZip(("w.npy", Fixtures.Get("numpy-v1.0").Bytes)))));
        yield return Add("hdf5-keras", "model.h5", KerasHdf5());
        yield return Add("skops", "model.skops", ZipBuilder.StoredZip(("schema.json", Fixtures.Utf8(
            "{\"__class__\": \"Pipeline\", \"__module__\": \"sklearn.pipeline\", \"__loader__\": \"ObjectNode\", \"content\": {\"__class__\": \"dict\", \"__module__\": \"builtins\", \"__loader__\": \"DictNode\", \"content\": {\"steps\": {\"__class__\": \"list\", \"__module__\": \"builtins\", \"__loader__\": \"ListNode\", \"content\": ["
            + "{\"__class__\": \"StandardScaler\", \"__module__\": \"sklearn.preprocessing\", \"__loader__\": \"ObjectNode\", \"content\": {}}"
            + "]}}}, \"protocol\": 1, \"_skops_version\": \"0.10.0\"}"))));
        yield return Add("onnx-subgraph", "model.onnx", OnnxBuilder.Model(OnnxBuilder.Graph(
            OnnxBuilder.Node("If", "if", string.Empty, Protobuf.Concat(Protobuf.Text(1, "then_branch"), Protobuf.Message(6, OnnxBuilder.Node("Relu")))),
            OnnxBuilder.Initializer("w"),
            OnnxBuilder.Initializer("e", "weights.bin"),
            OnnxBuilder.Input(11, "x", "batch", 3))));
        yield return Add("savedmodel", "saved_model.pb", TensorFlowBuilder.SavedModel(TensorFlowBuilder.GraphDef(
            new[] { TensorFlowBuilder.StringConst("p", "data"), TensorFlowBuilder.Node("r", "ReadFile", new[] { "p" }) },
            TensorFlowBuilder.SaverFunctions())));
        yield return Add("tflite", "model.tflite", TfLiteBuilder.Model("m", 2, 3, "Custom"));
        yield return Add("checkpoint-index", "variables.index", TensorFlowBuilder.CheckpointIndex("a", "b/c"));
        yield return Add("hydra-yaml", "model_config.yaml", Fixtures.Utf8("model:\n  _target_: nemo.collections.asr.models.EncDecCTCModel\n  _args_: [os.system]\n  optim:\n    _target_: torch.optim.Adam\n"));
    }

    /// <summary>A legacy Keras HDF5 model (root attributes and one weight dataset), written with PureHDF.</summary>
    private static byte[] KerasHdf5()
    {
        var file = new PureHDF.H5File();
        file.Attributes["model_config"] = "{\"class_name\": \"Sequential\", \"config\": {\"layers\": [{\"class_name\": \"Dense\", \"config\": {\"units\": 1}}]}}";
        file.Attributes["keras_version"] = "2.15.0";
        file.Attributes["backend"] = "tensorflow";
        file["model_weights"] = new PureHDF.H5Group { ["dense"] = new PureHDF.H5Dataset(new float[] { 1, 2 }) };
        using var stream = new System.IO.MemoryStream();
        file.Write(stream);
        return stream.ToArray();
    }

    private static FuzzSeed Add(string name, string fileName, byte[] bytes) => new(name, fileName, bytes);

    private static List<FuzzSeed> Build()
    {
        var seeds = new List<FuzzSeed>();
        foreach (Fixture fixture in Fixtures.All.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            if (fixture.Bytes.Length > 0)
            {
                seeds.Add(new FuzzSeed("fixture-" + fixture.Name, FileNameFor(fixture), fixture.Bytes));
            }
        }

        seeds.AddRange(Registered());
        return seeds;
    }

    private static string FileNameFor(Fixture fixture)
    {
        // A name the format is expected under, so the scan takes the same paths it takes on real files.
        var name = new StringBuilder("model");
        string format = fixture.Format.ToString().ToLowerInvariant();
        name.Append(format switch
        {
            "pickle" => ".pkl",
            "pytorchzip" or "pytorchlegacy" or "torchscript" or "pytorchtar" => ".pt",
            "numpy" => ".npy",
            "numpyarchive" => ".npz",
            "safetensors" => ".safetensors",
            "gguf" or "ggml" => ".gguf",
            "json" => ".json",
            "yaml" => ".yaml",
            "jinjatemplate" => ".jinja",
            "onnx" => ".onnx",
            "keras" => ".keras",
            "hdf5" => ".h5",
            "joblib" => ".joblib",
            _ => ".bin",
        });
        return name.ToString();
    }
}
