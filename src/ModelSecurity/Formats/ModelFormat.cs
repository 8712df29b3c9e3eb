namespace ModelSecurity.Formats;

/// <summary>What a file is, decided from its bytes by <see cref="FormatDetector"/>.</summary>
public enum ModelFormat
{
    /// <summary>The content matches no known format.</summary>
    Unknown = 0,

    /// <summary>The file has no bytes.</summary>
    Empty,

    // Pickle family: formats whose loading runs a pickle.

    /// <summary>A Python pickle stream (any protocol 0-5, one or several pickles).</summary>
    Pickle,

    /// <summary>A joblib dump: a pickle with joblib's NumPy array wrappers.</summary>
    Joblib,

    /// <summary>A PyTorch zip checkpoint (<c>torch.save</c> since 1.6): <c>data.pkl</c> plus storages.</summary>
    PyTorchZip,

    /// <summary>A legacy PyTorch checkpoint: five pickles in a row, starting with the magic number.</summary>
    PyTorchLegacy,

    /// <summary>A very old PyTorch checkpoint as a tar of <c>sys_info</c>, <c>pickle</c>, <c>storages</c>, <c>tensors</c>.</summary>
    PyTorchTar,

    /// <summary>A TorchScript archive (<c>torch.jit.save</c>): a zip carrying code that is compiled on load.</summary>
    TorchScript,

    /// <summary>A NumPy <c>.npy</c> array.</summary>
    NumPy,

    /// <summary>A NumPy <c>.npz</c> zip of arrays.</summary>
    NumPyArchive,

    /// <summary>A skops zip (scikit-learn models with a JSON schema).</summary>
    Skops,

    /// <summary>An NVIDIA NeMo archive (a tar with a Hydra <c>model_config.yaml</c>).</summary>
    NeMo,

    // Weights formats that carry no code of their own.

    /// <summary>A GGUF file (llama.cpp, Ollama, LM Studio).</summary>
    Gguf,

    /// <summary>A legacy GGML/GGJT/GGLA file from before GGUF.</summary>
    Ggml,

    /// <summary>A SafeTensors file.</summary>
    SafeTensors,

    /// <summary>An ONNX model (protobuf ModelProto).</summary>
    Onnx,

    /// <summary>A Keras 3 <c>.keras</c> zip (config.json, metadata.json, weights).</summary>
    Keras,

    /// <summary>An HDF5 file (legacy Keras <c>.h5</c> models and Keras weights).</summary>
    Hdf5,

    /// <summary>A TensorFlow SavedModel <c>saved_model.pb</c>.</summary>
    TensorFlowSavedModel,

    /// <summary>A TensorFlow GraphDef (frozen graph) <c>.pb</c>.</summary>
    TensorFlowGraphDef,

    /// <summary>TensorFlow side files: <c>fingerprint.pb</c>, <c>keras_metadata.pb</c>, checkpoint indexes.</summary>
    TensorFlowMetadata,

    /// <summary>A TensorFlow Lite FlatBuffer.</summary>
    TFLite,

    /// <summary>A Core ML <c>.mlmodel</c> (protobuf).</summary>
    CoreML,

    // Containers and compression.

    /// <summary>A zip archive that is none of the model zips above.</summary>
    Zip,

    /// <summary>A tar archive that is none of the model tars above.</summary>
    Tar,

    /// <summary>Gzip-compressed data.</summary>
    Gzip,

    /// <summary>Bzip2-compressed data.</summary>
    Bzip2,

    /// <summary>XZ-compressed data.</summary>
    Xz,

    /// <summary>Raw LZMA ("lzma alone") compressed data.</summary>
    Lzma,

    /// <summary>LZ4 frame compressed data.</summary>
    Lz4,

    /// <summary>Zstandard compressed data.</summary>
    Zstd,

    /// <summary>A zlib stream (joblib's compressed pickles, with or without its <c>ZF</c> header).</summary>
    Zlib,

    /// <summary>A 7-Zip archive.</summary>
    SevenZip,

    // Programs.

    /// <summary>An ELF executable or shared library.</summary>
    Elf,

    /// <summary>A Windows PE (or DOS MZ) executable.</summary>
    PE,

    /// <summary>A Mach-O executable (thin or fat).</summary>
    MachO,

    /// <summary>A script that starts with a <c>#!</c> interpreter line.</summary>
    Script,

    /// <summary>An Actually Portable Executable, such as a llamafile (runtime plus embedded GGUF weights).</summary>
    Llamafile,

    // Text and other documents.

    /// <summary>A JSON document (configs, tokenizer configs, manifests).</summary>
    Json,

    /// <summary>A YAML document.</summary>
    Yaml,

    /// <summary>A Jinja template (chat templates).</summary>
    JinjaTemplate,

    /// <summary>Other UTF-8 text.</summary>
    Text,

    /// <summary>An image (PNG, JPEG, GIF).</summary>
    Image,
}
