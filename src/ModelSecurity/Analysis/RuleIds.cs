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

    // Integrity, signatures and the sandbox: findings that reports derive from those cmdlets' results.

    /// <summary>The file's hash differs from its reference value.</summary>
    public const string HashMismatch = "MS-INT-001";

    /// <summary>A manifest names a file or layer that is missing.</summary>
    public const string HashFileMissing = "MS-INT-002";

    /// <summary>No reference value was found to verify the file against.</summary>
    public const string HashNoReference = "MS-INT-003";

    /// <summary>A file in a pinned folder is not in its manifest.</summary>
    public const string HashFileUnlisted = "MS-INT-004";

    /// <summary>A model signature does not verify.</summary>
    public const string SignatureInvalid = "MS-SIG-001";

    /// <summary>A model signature verified only in part (keyless, log not checked).</summary>
    public const string SignatureUnverified = "MS-SIG-002";

    /// <summary>A sandboxed program leaked decoy credentials.</summary>
    public const string SandboxDecoyLeaked = "MS-SBX-001";

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

    // Provenance (Get-ModelSource).
    /// <summary>The name imitates a popular model or publisher.</summary>
    public const string SourceLookalike = "MS-SRC-001";

    /// <summary>Sources of provenance disagree (file metadata vs location, licences).</summary>
    public const string SourceConflict = "MS-SRC-002";

    /// <summary>A config or model card asks for the repository's own code to run.</summary>
    public const string SourceRemoteCode = "MS-SRC-003";

    /// <summary>No model card.</summary>
    public const string SourceCardMissing = "MS-SRC-004";

    /// <summary>The model card lacks an item people are told to check.</summary>
    public const string SourceCardIncomplete = "MS-SRC-005";

    /// <summary>No clear licence.</summary>
    public const string SourceLicenseUnclear = "MS-SRC-006";

    /// <summary>Open community discussions report security problems.</summary>
    public const string SourceCommunityRedFlag = "MS-SRC-007";

    /// <summary>The hub's own security scan reports problems in the repository.</summary>
    public const string SourceHubScanIssue = "MS-SRC-008";

    // Keras configs, HDF5, Hydra configs and skops schemas.
    /// <summary>Keras config carries Python code (Lambda bytecode, __lambda__).</summary>
    public const string KerasCode = "MS-KRS-001";

    /// <summary>Keras config references a dangerous module or callable.</summary>
    public const string KerasDangerousReference = "MS-KRS-002";

    /// <summary>Keras config references a Keras API that is not a model part.</summary>
    public const string KerasNonModelingApi = "MS-KRS-003";

    /// <summary>Keras TorchModuleWrapper (torch.load of a pickle).</summary>
    public const string KerasTorchModule = "MS-KRS-004";

    /// <summary>Keras custom object or module outside Keras' packages.</summary>
    public const string KerasCustomObject = "MS-KRS-005";

    /// <summary>Keras layer reads a file named in the config.</summary>
    public const string KerasExternalFile = "MS-KRS-006";

    /// <summary>Keras config cannot be read.</summary>
    public const string KerasConfigUnreadable = "MS-KRS-007";

    /// <summary>HDF5 structure cannot be read.</summary>
    public const string Hdf5Unreadable = "MS-HDF-001";

    /// <summary>HDF5 signature with no content after it.</summary>
    public const string Hdf5Placeholder = "MS-HDF-002";

    /// <summary>Hydra _target_ names a dangerous callable.</summary>
    public const string HydraDangerousTarget = "MS-CFG-001";

    /// <summary>Hydra _target_ outside the packages model configs use.</summary>
    public const string HydraUnknownTarget = "MS-CFG-002";

    /// <summary>skops schema names a dangerous type, function or gadget.</summary>
    public const string SkopsDangerous = "MS-SKO-001";

    /// <summary>skops schema names a type outside skops' trusted types.</summary>
    public const string SkopsUntrusted = "MS-SKO-002";

    /// <summary>skops schema names a class of the loading program (__main__).</summary>
    public const string SkopsProgramType = "MS-SKO-003";

    /// <summary>skops schema cannot be read.</summary>
    public const string SkopsSchemaUnreadable = "MS-SKO-004";

    /// <summary>Per-file wall-clock budget spent.</summary>
    public const string ScanTimeBudgetExceeded = "MS-GEN-004";

    /// <summary>Per-file memory budget spent.</summary>
    public const string ScanMemoryBudgetExceeded = "MS-GEN-005";

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

    /// <summary>A SavedModel part was scanned without the part a loader reads with it.</summary>
    public const string SavedModelIncomplete = "MS-TF-006";

    // Policy (Test-ModelPolicy).

    /// <summary>The model or file is not on the policy's approved list.</summary>
    public const string PolicyNotApproved = "MS-POL-001";

    /// <summary>The model is approved, but at another revision than this copy.</summary>
    public const string PolicyRevisionNotPinned = "MS-POL-002";

    /// <summary>The file's hash differs from the approved or published one, or cannot be verified when the policy requires it.</summary>
    public const string PolicyHashMismatch = "MS-POL-003";

    /// <summary>The publisher is blocked, imitates another, or is trusted less than the policy asks.</summary>
    public const string PolicyPublisher = "MS-POL-004";

    /// <summary>The file's format is not one the policy allows.</summary>
    public const string PolicyFormat = "MS-POL-005";

    /// <summary>The model has no clear licence, or one the policy does not allow.</summary>
    public const string PolicyLicence = "MS-POL-006";

    /// <summary>The scan verdict is worse than the policy accepts.</summary>
    public const string PolicyVerdict = "MS-POL-007";

    /// <summary>The policy requires a valid signature and the model has none, or it does not verify.</summary>
    public const string PolicySignature = "MS-POL-008";

    /// <summary>The model card is missing, or lacks training details or intended use.</summary>
    public const string PolicyModelCard = "MS-POL-009";

    /// <summary>Online, the community or the hub reports security problems with the model.</summary>
    public const string PolicyCommunity = "MS-POL-010";

    // MCP servers (Test-McpServer).
    /// <summary>An MCP server package or image is not pinned to one release.</summary>
    public const string McpUnpinned = "MS-MCP-001";

    /// <summary>The launcher installs or pulls without asking (npx -y, docker --pull always).</summary>
    public const string McpAutoInstall = "MS-MCP-002";

    /// <summary>A credential is written in plain text in the MCP configuration.</summary>
    public const string McpPlainSecret = "MS-MCP-003";

    /// <summary>A remote MCP server is reached over plain HTTP.</summary>
    public const string McpPlainHttp = "MS-MCP-004";

    /// <summary>The server is started through a shell command line with interpolation or chaining.</summary>
    public const string McpShellInterpolation = "MS-MCP-005";

    /// <summary>The server's program or script is in a folder that other users can write.</summary>
    public const string McpWorldWritable = "MS-MCP-006";

    /// <summary>The package name imitates a well-known MCP server.</summary>
    public const string McpLookalike = "MS-MCP-007";

    /// <summary>The server's version or package differs from the lock file.</summary>
    public const string McpLockDrift = "MS-MCP-008";

    /// <summary>The server is not in the lock file.</summary>
    public const string McpNotLocked = "MS-MCP-009";

    /// <summary>The lock file names a server that no configuration has any more.</summary>
    public const string McpLockOrphan = "MS-MCP-010";
}
