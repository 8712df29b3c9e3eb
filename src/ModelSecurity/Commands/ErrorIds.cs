namespace ModelSecurity.Commands;

/// <summary>
/// Stable error ids. PowerShell reports them as <c>FullyQualifiedErrorId = "Id,ModelSecurity.Commands.XCommand"</c>;
/// scripts match on them, so an id never changes meaning once released.
/// </summary>
internal static class ErrorIds
{
    /// <summary>A -Path or -LiteralPath names nothing that exists.</summary>
    public const string PathNotFound = nameof(PathNotFound);

    /// <summary>A path belongs to a provider other than the file system (registry, certificate store...).</summary>
    public const string PathNotFileSystem = nameof(PathNotFileSystem);

    /// <summary>A folder to scan could not be listed.</summary>
    public const string DirectoryUnreadable = nameof(DirectoryUnreadable);

    /// <summary>An -AllowGlobal value is not of the form module.name.</summary>
    public const string AllowGlobalInvalid = nameof(AllowGlobalInvalid);

    /// <summary>The -PolicyPath file does not exist or cannot be read.</summary>
    public const string PolicyNotFound = nameof(PolicyNotFound);

    /// <summary>The -PolicyPath file is not a valid policy.</summary>
    public const string PolicyInvalid = nameof(PolicyInvalid);

    /// <summary>An object piped to Export-ModelReport is not a ModelSecurity result.</summary>
    public const string ReportInputUnsupported = nameof(ReportInputUnsupported);

    /// <summary>Export-ModelReport cannot tell the format from -Format or the file extension.</summary>
    public const string ReportFormatUnknown = nameof(ReportFormatUnknown);

    /// <summary>The report file could not be written.</summary>
    public const string ReportNotWritten = nameof(ReportNotWritten);

    /// <summary>Invoke-ModelSandbox: no isolation backend works here (or the one asked for does not); nothing was run.</summary>
    public const string SandboxBackendUnavailable = nameof(SandboxBackendUnavailable);

    /// <summary>Invoke-ModelSandbox: the program was not found, or would not be visible inside the sandbox.</summary>
    public const string SandboxProgramNotFound = nameof(SandboxProgramNotFound);

    /// <summary>Invoke-ModelSandbox: a -Path, -OutputPath or -WorkingDirectory cannot be used as given.</summary>
    public const string SandboxPathInvalid = nameof(SandboxPathInvalid);

    /// <summary>Invoke-ModelSandbox: an -Environment name is not a valid variable name.</summary>
    public const string SandboxEnvironmentInvalid = nameof(SandboxEnvironmentInvalid);

    /// <summary>Invoke-ModelSandbox: the sandbox could not be set up or started.</summary>
    public const string SandboxFailed = nameof(SandboxFailed);

    // Get-ModelSource.
    /// <summary>A -Name value is not a Hugging Face repository id or an Ollama name.</summary>
    public const string NameInvalid = nameof(NameInvalid);

    /// <summary>-Online: the registry could not be reached (offline, DNS, refused, timed out).</summary>
    public const string OnlineUnavailable = nameof(OnlineUnavailable);

    /// <summary>-Online: the registry says the repository, model or tag does not exist.</summary>
    public const string OnlineNotFound = nameof(OnlineNotFound);

    /// <summary>-Online: the registry refused access (private or gated).</summary>
    public const string OnlineAccessDenied = nameof(OnlineAccessDenied);

    /// <summary>-Online: the registry's answer is not what its API returns.</summary>
    public const string OnlineInvalidResponse = nameof(OnlineInvalidResponse);

    /// <summary>-Endpoint or -OllamaEndpoint is not an http(s) address.</summary>
    public const string EndpointInvalid = nameof(EndpointInvalid);
    // Confirm-ModelHash, Get-ModelInventory, New-ModelManifest.

    /// <summary>A file could not be read to hash it (permissions, I/O error, changed while read).</summary>
    public const string HashFailed = nameof(HashFailed);

    /// <summary>An -Expected value is not a SHA-256 or SHA-512 in hex, or does not fit -Algorithm.</summary>
    public const string ExpectedInvalid = nameof(ExpectedInvalid);

    /// <summary>A -ManifestPath file does not exist or cannot be read.</summary>
    public const string ManifestNotFound = nameof(ManifestNotFound);

    /// <summary>A -ManifestPath file is neither this module's JSON manifest nor a sha256sum list.</summary>
    public const string ManifestInvalid = nameof(ManifestInvalid);

    /// <summary>An Ollama manifest is damaged (not JSON, or a digest Ollama itself refuses).</summary>
    public const string OllamaManifestInvalid = nameof(OllamaManifestInvalid);

    /// <summary>-Online: the Hugging Face API could not be reached or refused the request.</summary>
    public const string HubApiFailed = nameof(HubApiFailed);


    /// <summary>New-ModelManifest: the output file exists and -Force was not given.</summary>
    public const string ManifestExists = nameof(ManifestExists);

    /// <summary>New-ModelManifest: the manifest could not be written.</summary>
    public const string ManifestWriteFailed = nameof(ManifestWriteFailed);

    /// <summary>Get-ModelInventory: a file was listed but its format could not be read.</summary>
    public const string FileUnreadable = nameof(FileUnreadable);

    /// <summary>Test-ModelPolicy could not check one file (it could not be read or a check failed); the file is not compliant.</summary>
    public const string PolicyCheckFailed = nameof(PolicyCheckFailed);

    /// <summary>Test-ModelPolicy: the policy's signature key or root certificate cannot be loaded.</summary>
    public const string PolicySignatureKeyInvalid = nameof(PolicySignatureKeyInvalid);

    /// <summary>New-ModelPolicy: the policy file exists and -Force was not given.</summary>
    public const string PolicyFileExists = nameof(PolicyFileExists);

    /// <summary>New-ModelPolicy: a file to approve could not be hashed or read.</summary>
    public const string PolicyApproveFailed = nameof(PolicyApproveFailed);

    /// <summary>New-ModelPolicy: the policy file could not be written.</summary>
    public const string PolicyNotWritten = nameof(PolicyNotWritten);

    // Invoke-ModelSandbox -McpServer.

    /// <summary>Invoke-ModelSandbox: the MCP server is remote (Http), so there is nothing local to run.</summary>
    public const string SandboxMcpServerRemote = nameof(SandboxMcpServerRemote);

    /// <summary>Invoke-ModelSandbox: the -McpServer input is not an MCP server entry, or names no command to run.</summary>
    public const string SandboxMcpServerInvalid = nameof(SandboxMcpServerInvalid);

    // Get-McpServer, Test-McpServer, Export-McpServerLock.

    /// <summary>An MCP configuration file is not valid JSON or YAML (the message names the line and position).</summary>
    public const string McpConfigInvalid = nameof(McpConfigInvalid);

    /// <summary>An MCP configuration file exists but cannot be read.</summary>
    public const string McpConfigUnreadable = nameof(McpConfigUnreadable);

    /// <summary>The -LockPath file does not exist or cannot be read.</summary>
    public const string McpLockNotFound = nameof(McpLockNotFound);

    /// <summary>The -LockPath file is not an MCP server lock.</summary>
    public const string McpLockInvalid = nameof(McpLockInvalid);

    /// <summary>Export-McpServerLock could not write the lock file.</summary>
    public const string McpLockNotWritten = nameof(McpLockNotWritten);

    /// <summary>Test-McpServer: a piped object is not an MCP server entry, or its configuration no longer has it.</summary>
    public const string McpServerInputInvalid = nameof(McpServerInputInvalid);
}

/// <summary>Stable error ids of New-ModelSignature and Confirm-ModelSignature.</summary>
internal static class SigningErrorIds
{
    /// <summary>Neither -Path nor -LiteralPath was given.</summary>
    public const string PathRequired = nameof(PathRequired);

    /// <summary>A path names a file where a model folder is expected.</summary>
    public const string PathNotFolder = nameof(PathNotFolder);

    /// <summary>-SignaturePath was given with more than one model folder.</summary>
    public const string SignaturePathAmbiguous = nameof(SignaturePathAmbiguous);

    /// <summary>The key file cannot be read or holds no PEM key.</summary>
    public const string SigningKeyUnreadable = nameof(SigningKeyUnreadable);

    /// <summary>The key is not ECDSA on P-256, P-384 or P-521, or is in a form that is not supported.</summary>
    public const string SigningKeyUnsupported = nameof(SigningKeyUnsupported);

    /// <summary>The private key is encrypted and -Password is missing or wrong.</summary>
    public const string SigningKeyPassword = nameof(SigningKeyPassword);

    /// <summary>A certificate chain or root file cannot be read or holds no certificate.</summary>
    public const string CertificateUnreadable = nameof(CertificateUnreadable);

    /// <summary>The private key does not belong to the first certificate of -CertificateChainPath.</summary>
    public const string CertificateKeyMismatch = nameof(CertificateKeyMismatch);

    /// <summary>The signature file exists and -Force was not given.</summary>
    public const string SignatureExists = nameof(SignatureExists);

    /// <summary>The model folder holds a symbolic link and -AllowSymlinks was not given.</summary>
    public const string SymlinkNotAllowed = nameof(SymlinkNotAllowed);

    /// <summary>A file of the model folder could not be read, or the signature could not be written.</summary>
    public const string ModelFolderUnreadable = nameof(ModelFolderUnreadable);
}
