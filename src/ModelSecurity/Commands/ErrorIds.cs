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
}
