namespace ModelSecurity.Analysis;

/// <summary>
/// The rule ids the code reports, in one place. Each must have an entry in <c>Data/rules.json</c>
/// (a unit test checks both directions).
/// </summary>
internal static class RuleIds
{
    /// <summary>The file could not be opened or read.</summary>
    public const string FileUnreadable = "MS-GEN-001";

    /// <summary>The file is empty.</summary>
    public const string FileEmpty = "MS-GEN-002";

    /// <summary>A reader failed on the file in a way it did not foresee (a bug in ModelSecurity).</summary>
    public const string AnalysisFailed = "MS-GEN-003";

    /// <summary>The content matches no known format.</summary>
    public const string FormatUnknown = "MS-FMT-001";

    /// <summary>The format is known but this version has no reader for it.</summary>
    public const string FormatNotAnalysed = "MS-FMT-002";

    /// <summary>The extension names a different format than the content is.</summary>
    public const string ExtensionMismatch = "MS-FMT-003";

    /// <summary>Content that can carry code hides behind a data-only format's extension.</summary>
    public const string CodeCapableDisguised = "MS-FMT-004";

    /// <summary>An executable or script is named as a model file.</summary>
    public const string ExecutableDisguised = "MS-FMT-005";

    /// <summary>An executable or script was found among the scanned files.</summary>
    public const string ExecutableFile = "MS-FMT-006";

    /// <summary>A text document of a known kind is malformed.</summary>
    public const string DocumentMalformed = "MS-FMT-007";

    /// <summary>YAML with Python object tags.</summary>
    public const string YamlPythonTag = "MS-FMT-008";

    // Pickle analysis.
    /// <summary>Imports a callable that runs code, commands or native code.</summary>
    public const string PickleCodeExecution = "MS-PKL-001";

    /// <summary>Imports a global outside the allowlist (default deny).</summary>
    public const string PickleNotAllowlisted = "MS-PKL-002";

    /// <summary>Walks a dunder attribute.</summary>
    public const string PickleDunder = "MS-PKL-003";

    /// <summary>Imports a universal resolver.</summary>
    public const string PickleResolver = "MS-PKL-004";

    /// <summary>Imports a nested deserialiser.</summary>
    public const string PickleNestedLoader = "MS-PKL-005";

    /// <summary>Imports a callable that reaches files, network or the process.</summary>
    public const string PickleSideEffect = "MS-PKL-006";

    /// <summary>Calls something that cannot be known statically.</summary>
    public const string PickleUnknownCallable = "MS-PKL-007";

    /// <summary>Writes state into an imported object.</summary>
    public const string PickleMutatesGlobal = "MS-PKL-008";

    /// <summary>Container opcode on a non-container object.</summary>
    public const string PickleContainerMisuse = "MS-PKL-009";

    /// <summary>FRAME boundary divergence between unpicklers.</summary>
    public const string PickleDesync = "MS-PKL-010";

    /// <summary>Malformed or truncated pickle.</summary>
    public const string PickleMalformed = "MS-PKL-011";

    /// <summary>A resource limit stopped the analysis.</summary>
    public const string PickleLimit = "MS-PKL-012";

    /// <summary>Stream oddity worth a note.</summary>
    public const string PickleOddity = "MS-PKL-013";

    /// <summary>Pickle bytes embedded in data.</summary>
    public const string PickleEmbedded = "MS-PKL-014";

    /// <summary>A call receives code or a shell command as an argument.</summary>
    public const string PickleCodeArgument = "MS-PKL-015";

    /// <summary>Data strings hold code or shell commands.</summary>
    public const string PickleCodeInData = "MS-PKL-016";

    // Archives and containers.
    /// <summary>Zip local and central names differ.</summary>
    public const string ZipNameMismatch = "MS-ARC-001";

    /// <summary>Zip encryption or patched-data flag bits on plain data.</summary>
    public const string ZipFlagBits = "MS-ARC-002";

    /// <summary>Zip CRC-32 mismatch.</summary>
    public const string ZipCrcMismatch = "MS-ARC-003";

    /// <summary>Duplicate member names.</summary>
    public const string ArchiveDuplicateName = "MS-ARC-004";

    /// <summary>Member path escapes the extraction folder.</summary>
    public const string ArchivePathTraversal = "MS-ARC-005";

    /// <summary>Hidden, overlapping or prepended data.</summary>
    public const string ArchiveHiddenData = "MS-ARC-006";

    /// <summary>A member could not be read.</summary>
    public const string ArchiveMemberUnreadable = "MS-ARC-007";

    /// <summary>Decompression limit reached.</summary>
    public const string ArchiveBomb = "MS-ARC-008";

    /// <summary>Link or special member.</summary>
    public const string ArchiveLink = "MS-ARC-009";

    /// <summary>Member the loader does not use, or a pickle under another name.</summary>
    public const string ArchiveUnexpectedMember = "MS-ARC-010";

    /// <summary>TorchScript code present.</summary>
    public const string TorchScriptCode = "MS-ARC-011";

    // NumPy.
    /// <summary>Object array (data is a pickle).</summary>
    public const string NumPyObjectArray = "MS-NPY-001";

    /// <summary>Malformed .npy header or size mismatch.</summary>
    public const string NumPyMalformed = "MS-NPY-002";

    // GGUF.
    /// <summary>Malformed GGUF structure.</summary>
    public const string GgufMalformed = "MS-GGUF-001";

    /// <summary>GGUF header values of the kind that break readers.</summary>
    public const string GgufHostileHeader = "MS-GGUF-002";

    /// <summary>Legacy GGML/GGJT/GGLA file.</summary>
    public const string GgufLegacy = "MS-GGUF-003";

    // SafeTensors.
    /// <summary>Malformed SafeTensors header.</summary>
    public const string SafeTensorsMalformed = "MS-ST-001";

    /// <summary>Tensor byte ranges that do not tile the data.</summary>
    public const string SafeTensorsLayout = "MS-ST-002";

    /// <summary>URLs, code or markup in __metadata__.</summary>
    public const string SafeTensorsMetadataContent = "MS-ST-003";

    /// <summary>A credential in __metadata__.</summary>
    public const string SafeTensorsSecret = "MS-ST-004";

    // Chat templates.
    /// <summary>Jinja sandbox-escape path.</summary>
    public const string TemplateSandboxEscape = "MS-TPL-001";

    /// <summary>Content-conditional injection (poisoned template).</summary>
    public const string TemplateTriggeredInjection = "MS-TPL-002";

    /// <summary>Links, encoded data or hidden text emitted.</summary>
    public const string TemplateSuspiciousOutput = "MS-TPL-003";

    /// <summary>Differs from the family's official template.</summary>
    public const string TemplateNotOfficial = "MS-TPL-004";

    /// <summary>Template cannot be parsed.</summary>
    public const string TemplateUnparsable = "MS-TPL-005";

    // ONNX.
    /// <summary>An external_data location leaves the model's folder.</summary>
    public const string OnnxExternalDataEscape = "MS-ONNX-001";

    /// <summary>Custom operator domain or an op not in its standard domain.</summary>
    public const string OnnxCustomOperator = "MS-ONNX-002";

    /// <summary>Malformed ONNX protobuf.</summary>
    public const string OnnxMalformed = "MS-ONNX-003";

    /// <summary>Tensor data kept in files beside the model.</summary>
    public const string OnnxExternalData = "MS-ONNX-004";

    /// <summary>ONNX Runtime contrib operators.</summary>
    public const string OnnxRuntimeContribOperator = "MS-ONNX-005";

    // TensorFlow, TFLite and Core ML.
    /// <summary>An op that runs Python or commands.</summary>
    public const string TensorFlowCodeOp = "MS-TF-001";

    /// <summary>An op that reads, writes or lists files, or talks to the network, outside the standard checkpoint pattern.</summary>
    public const string TensorFlowFileOp = "MS-TF-002";

    /// <summary>A file or network op aimed at a fixed path outside the model or at a remote address.</summary>
    public const string TensorFlowFileOpTargeted = "MS-TF-003";

    /// <summary>Malformed TensorFlow, TFLite or Core ML file.</summary>
    public const string TensorFlowMalformed = "MS-TF-004";

    /// <summary>A custom operator or layer whose code the host application must supply.</summary>
    public const string CustomOperatorNeedsHostCode = "MS-TF-005";
}
