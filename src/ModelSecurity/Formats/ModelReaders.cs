using System.Collections.Generic;
using ModelSecurity.Analysis;
using ModelSecurity.Formats.Pickle;

namespace ModelSecurity.Formats;

/// <summary>Reads one format family's content and reports what it finds through the context.</summary>
internal interface IModelReader
{
    void Read(ReadContext context);
}

/// <summary>
/// Which reader reads which format: the one place to look for "does ModelSecurity analyse X?". A
/// format with no reader is reported as recognised but not analysed (never Clean).
/// </summary>
internal static class ModelReaders
{
    private static readonly Dictionary<ModelFormat, IModelReader> Readers = Build();

    /// <summary>True when a reader exists for the format.</summary>
    public static bool Has(ModelFormat format) => Readers.ContainsKey(format);

    /// <summary>Reads top-level content; false when no reader exists for its format.</summary>
    public static bool TryRead(ReadContext context)
    {
        if (!Readers.TryGetValue(context.Format, out IModelReader? reader))
        {
            return false;
        }

        reader.Read(context);
        return true;
    }

    /// <summary>
    /// Reads content found inside a container. Formats that can carry code or models are read or
    /// reported as not analysed; plain data (tensor bytes, text, images, unrecognised bytes) is what
    /// containers are made of and needs no finding.
    /// </summary>
    public static void ReadNested(ReadContext context)
    {
        ModelFormat format = context.Format;
        if (TryRead(context))
        {
            return;
        }

        if (format.IsExecutable())
        {
            context.Report(RuleIds.ExecutableFile, $"The member is {context.Match.Description}.");
            return;
        }

        if (format is ModelFormat.Unknown or ModelFormat.Empty or ModelFormat.Text or ModelFormat.Image)
        {
            return;
        }

        context.Report(
            RuleIds.FormatNotAnalysed,
            $"The member is {context.Match.Description}; this version of ModelSecurity has no reader for {format} yet, so its content was not checked.");
    }

    private static Dictionary<ModelFormat, IModelReader> Build()
    {
        var readers = new Dictionary<ModelFormat, IModelReader>();
        var pickle = new PickleReader();
        readers[ModelFormat.Pickle] = pickle;
        readers[ModelFormat.Joblib] = pickle;
        readers[ModelFormat.PyTorchLegacy] = pickle;
        readers[ModelFormat.NumPy] = new NumPy.NumPyReader();
        var zip = new Zip.ZipModelReader();
        foreach (ModelFormat format in new[] { ModelFormat.PyTorchZip, ModelFormat.TorchScript, ModelFormat.NumPyArchive, ModelFormat.Zip, ModelFormat.Keras, ModelFormat.Skops })
        {
            readers[format] = zip;
        }
        var compressed = new Archive.CompressedReader();
        foreach (ModelFormat format in new[] { ModelFormat.Gzip, ModelFormat.Bzip2, ModelFormat.Xz, ModelFormat.Lzma, ModelFormat.Lz4, ModelFormat.Zstd, ModelFormat.Zlib })
        {
            readers[format] = compressed;
        }

        var tar = new Archive.TarModelReader();
        readers[ModelFormat.Tar] = tar;
        readers[ModelFormat.PyTorchTar] = tar;
        readers[ModelFormat.NeMo] = tar;
        readers[ModelFormat.SevenZip] = new Archive.SevenZipModelReader();
        readers[ModelFormat.Json] = new Text.JsonReader();
        readers[ModelFormat.Llamafile] = new Executable.LlamafileReader();
        readers[ModelFormat.SafeTensors] = new SafeTensors.SafeTensorsReader();
        readers[ModelFormat.Gguf] = new Gguf.GgufReader();
        readers[ModelFormat.Ggml] = new Gguf.GgmlReader();
        readers[ModelFormat.JinjaTemplate] = new Text.JinjaTemplateReader();
        readers[ModelFormat.Yaml] = new Text.YamlReader();
        readers[ModelFormat.Hdf5] = new Hdf5.Hdf5Reader();
        readers[ModelFormat.Onnx] = new Onnx.OnnxReader();
        var graph = new TensorFlow.TensorFlowGraphReader();
        readers[ModelFormat.TensorFlowSavedModel] = graph;
        readers[ModelFormat.TensorFlowGraphDef] = graph;
        readers[ModelFormat.TensorFlowMetadata] = new TensorFlow.TensorFlowMetadataReader();
        readers[ModelFormat.TFLite] = new TensorFlow.TfLiteReader();
        readers[ModelFormat.CoreML] = new CoreMl.CoreMlReader();
        return readers;
    }
}
