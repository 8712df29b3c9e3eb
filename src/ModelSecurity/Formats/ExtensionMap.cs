using System;
using System.Collections.Generic;
using System.IO;

namespace ModelSecurity.Formats;

/// <summary>
/// What a file's extension promises. Used only to report disguises: the format is always decided
/// by content. "Expected" lists what the tools that open such a name accept (a raw pickle is a valid
/// <c>.pt</c>, since <c>torch.load</c> takes it), so only real surprises are reported.
/// </summary>
internal static class ExtensionMap
{
    private static readonly ModelFormat[] Compressed =
    {
        ModelFormat.Gzip, ModelFormat.Bzip2, ModelFormat.Xz, ModelFormat.Lzma, ModelFormat.Lz4, ModelFormat.Zlib, ModelFormat.Zstd,
    };

    private static readonly ModelFormat[] PyTorch =
    {
        ModelFormat.PyTorchZip, ModelFormat.PyTorchLegacy, ModelFormat.PyTorchTar, ModelFormat.TorchScript, ModelFormat.Pickle, ModelFormat.Joblib,
    };

    private static readonly Dictionary<string, ExtensionExpectation> Map = new(StringComparer.OrdinalIgnoreCase)
    {
        [".gguf"] = DataOnly(ModelFormat.Gguf),
        [".ggml"] = DataOnly(ModelFormat.Ggml, ModelFormat.Gguf),
        [".safetensors"] = DataOnly(ModelFormat.SafeTensors),
        [".npy"] = DataOnly(ModelFormat.NumPy),
        [".npz"] = DataOnly(ModelFormat.NumPyArchive, ModelFormat.Zip),
        [".onnx"] = DataOnly(ModelFormat.Onnx),
        [".tflite"] = DataOnly(ModelFormat.TFLite),
        [".mlmodel"] = DataOnly(ModelFormat.CoreML),
        [".json"] = DataOnly(ModelFormat.Json),
        [".jinja"] = DataOnly(ModelFormat.JinjaTemplate, ModelFormat.Text),
        [".j2"] = DataOnly(ModelFormat.JinjaTemplate, ModelFormat.Text),
        [".txt"] = DataOnly(ModelFormat.Text, ModelFormat.JinjaTemplate, ModelFormat.Yaml, ModelFormat.Json),
        [".md"] = DataOnly(ModelFormat.Text, ModelFormat.Yaml, ModelFormat.JinjaTemplate),
        [".yaml"] = DataOnly(ModelFormat.Yaml, ModelFormat.Text),
        [".yml"] = DataOnly(ModelFormat.Yaml, ModelFormat.Text),
        [".pt"] = Model(PyTorch),
        [".pth"] = Model(PyTorch),
        [".ckpt"] = Model(PyTorch),
        [".pkl"] = Model(PyTorch),
        [".pickle"] = Model(PyTorch),
        [".joblib"] = Model(Combine(new[] { ModelFormat.Joblib, ModelFormat.Pickle }, Compressed)),
        [".bin"] = Model(),
        [".model"] = Model(),
        [".dat"] = Model(),
        [".h5"] = Model(ModelFormat.Hdf5),
        [".hdf5"] = Model(ModelFormat.Hdf5),
        [".keras"] = Model(ModelFormat.Keras, ModelFormat.Hdf5),
        [".pb"] = Model(ModelFormat.TensorFlowSavedModel, ModelFormat.TensorFlowGraphDef, ModelFormat.TensorFlowMetadata, ModelFormat.Onnx, ModelFormat.CoreML),
        [".skops"] = Model(ModelFormat.Skops),
        [".nemo"] = Model(ModelFormat.NeMo, ModelFormat.Tar, ModelFormat.Gzip),
        [".mar"] = Model(ModelFormat.Zip, ModelFormat.PyTorchZip, ModelFormat.TorchScript),
        [".zip"] = Archive(ModelFormat.Zip, ModelFormat.PyTorchZip, ModelFormat.TorchScript, ModelFormat.Keras, ModelFormat.NumPyArchive, ModelFormat.Skops),
        [".tar"] = Archive(ModelFormat.Tar, ModelFormat.PyTorchTar, ModelFormat.NeMo),
        [".gz"] = Archive(ModelFormat.Gzip, ModelFormat.Zlib),
        [".tgz"] = Archive(ModelFormat.Gzip),
        [".gzip"] = Archive(ModelFormat.Gzip),
        [".z"] = Archive(ModelFormat.Zlib, ModelFormat.Gzip),
        [".bz2"] = Archive(ModelFormat.Bzip2),
        [".xz"] = Archive(ModelFormat.Xz),
        [".lzma"] = Archive(ModelFormat.Lzma, ModelFormat.Xz),
        [".lz4"] = Archive(ModelFormat.Lz4),
        [".zst"] = Archive(ModelFormat.Zstd),
        [".7z"] = Archive(ModelFormat.SevenZip),
        [".llamafile"] = Archive(ModelFormat.Llamafile),
    };

    /// <summary>The expectation for a path's extension, or null for names that promise nothing.</summary>
    public static ExtensionExpectation? For(string path)
    {
        string extension = Path.GetExtension(path);
        return extension.Length > 0 && Map.TryGetValue(extension, out ExtensionExpectation? expectation) ? expectation : null;
    }

    private static ExtensionExpectation DataOnly(params ModelFormat[] formats) => new(formats, isModelName: true, isDataOnly: true);

    private static ExtensionExpectation Model(params ModelFormat[] formats) => new(formats.Length == 0 ? null : formats, isModelName: true, isDataOnly: false);

    private static ExtensionExpectation Archive(params ModelFormat[] formats) => new(formats, isModelName: false, isDataOnly: false);

    private static ModelFormat[] Combine(ModelFormat[] first, ModelFormat[] second)
    {
        var all = new ModelFormat[first.Length + second.Length];
        first.CopyTo(all, 0);
        second.CopyTo(all, first.Length);
        return all;
    }
}

/// <summary>What one extension promises about content.</summary>
internal sealed class ExtensionExpectation
{
    public ExtensionExpectation(IReadOnlyCollection<ModelFormat>? expected, bool isModelName, bool isDataOnly)
    {
        Expected = expected;
        IsModelName = isModelName;
        IsDataOnly = isDataOnly;
    }

    /// <summary>Formats a file with this name may be; null when any format is normal (<c>.bin</c>).</summary>
    public IReadOnlyCollection<ModelFormat>? Expected { get; }

    /// <summary>The name says "model or model data": an executable under it is a disguise.</summary>
    public bool IsModelName { get; }

    /// <summary>The name promises a format that cannot run code.</summary>
    public bool IsDataOnly { get; }

    public bool Accepts(ModelFormat format) => Expected is null || ((ICollection<ModelFormat>)Expected).Contains(format);
}
