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

    /// <summary>-Endpoint is not an http(s) URL.</summary>
    public const string EndpointInvalid = nameof(EndpointInvalid);

    /// <summary>New-ModelManifest: the output file exists and -Force was not given.</summary>
    public const string ManifestExists = nameof(ManifestExists);

    /// <summary>New-ModelManifest: the manifest could not be written.</summary>
    public const string ManifestWriteFailed = nameof(ManifestWriteFailed);

    /// <summary>Get-ModelInventory: a file was listed but its format could not be read.</summary>
    public const string FileUnreadable = nameof(FileUnreadable);
}
