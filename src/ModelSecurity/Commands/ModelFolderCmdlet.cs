using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using Microsoft.PowerShell.Commands;
using ModelSecurity.Integrity.Signing;

namespace ModelSecurity.Commands;

/// <summary>
/// Base of the signing cmdlets, which take model folders (not files): -Path with wildcards,
/// -LiteralPath (alias PSPath, so Get-ChildItem -Directory | Verb-Noun binds it), and the shared
/// handling of key and certificate errors.
/// </summary>
public abstract class ModelFolderCmdlet : ModelSecurityCmdlet
{
    private int _folders;

    /// <summary>Model folders; wildcards are expanded.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Path { get; set; }

    /// <summary>Model folders, used exactly as written.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[]? LiteralPath { get; set; }

    /// <summary>The signature file; by default model.sig in the model folder.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SignaturePath { get; set; }

    /// <summary>Paths, relative to the model folder, that are neither signed nor verified.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? IgnorePath { get; set; }

    /// <summary>The folders this record names; problems are written as errors and skipped.</summary>
    protected IEnumerable<string> ResolveFolders()
    {
        if (Path is null && LiteralPath is null)
        {
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentException("Give the model folder with -Path or -LiteralPath."),
                SigningErrorIds.PathRequired,
                ErrorCategory.InvalidArgument,
                null));
        }

        foreach (string path in Path ?? Array.Empty<string>())
        {
            foreach (string folder in Expand(path, literal: false))
            {
                yield return folder;
            }
        }

        foreach (string path in LiteralPath ?? Array.Empty<string>())
        {
            foreach (string folder in Expand(path, literal: true))
            {
                yield return folder;
            }
        }
    }

    /// <summary>The signature file of a folder: -SignaturePath (only with one folder), else folder/model.sig.</summary>
    protected string? SignatureFileFor(string folder)
    {
        _folders++;
        if (SignaturePath is null)
        {
            return System.IO.Path.Combine(folder, ModelSigner.DefaultSignatureName);
        }

        if (_folders > 1)
        {
            WriteInputError(
                new ArgumentException($"-SignaturePath names one signature file, but more than one model folder was given ('{folder}')."),
                SigningErrorIds.SignaturePathAmbiguous,
                ErrorCategory.InvalidArgument,
                folder,
                "Leave out -SignaturePath to use model.sig in each folder, or give one folder per call.");
            return null;
        }

        return SessionState.Path.GetUnresolvedProviderPathFromPSPath(SignaturePath);
    }

    /// <summary>A provider path for a key or certificate parameter, relative to the current location.</summary>
    protected string ResolveFile(string path) => SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

    /// <summary>Stops the command: a key or certificate file that applies to every folder cannot be used.</summary>
    private protected void ThrowKeyError(SigningKeyException e, string parameter, object target)
    {
        (string id, ErrorCategory category) = e.Problem switch
        {
            SigningKeyProblem.Password => (SigningErrorIds.SigningKeyPassword, ErrorCategory.AuthenticationError),
            SigningKeyProblem.Unsupported => (SigningErrorIds.SigningKeyUnsupported, ErrorCategory.InvalidData),
            _ => (parameter is "CertificateChainPath" or "CertificateRootPath" ? SigningErrorIds.CertificateUnreadable : SigningErrorIds.SigningKeyUnreadable, ErrorCategory.ReadError),
        };
        var record = new ErrorRecord(e, id, category, target)
        {
            ErrorDetails = new ErrorDetails(e.Message) { RecommendedAction = $"Check -{parameter}: an ECDSA P-256, P-384 or P-521 key in PEM (for example made with 'openssl ecparam -name prime256v1 -genkey')." },
        };
        ThrowTerminatingError(record);
    }

    private IEnumerable<string> Expand(string path, bool literal)
    {
        List<string> resolved = new();
        ProviderInfo? provider = null;
        try
        {
            if (literal)
            {
                resolved.Add(SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out provider, out _));
            }
            else
            {
                resolved.AddRange(GetResolvedProviderPathFromPSPath(path, out provider));
            }
        }
        catch (Exception e) when (e is ItemNotFoundException or System.Management.Automation.DriveNotFoundException)
        {
            WriteNotFound(path, e);
            yield break;
        }

        if (provider is null || provider.ImplementingType != typeof(FileSystemProvider))
        {
            WriteInputError(
                new ArgumentException($"The path '{path}' is not on the file system; model folders are."),
                ErrorIds.PathNotFileSystem,
                ErrorCategory.InvalidArgument,
                path,
                "Give a path on a file-system drive.");
            yield break;
        }

        foreach (string item in resolved)
        {
            if (Directory.Exists(item))
            {
                yield return System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(item));
            }
            else if (File.Exists(item))
            {
                WriteInputError(
                    new ArgumentException($"'{item}' is a file; model signatures cover a whole model folder."),
                    SigningErrorIds.PathNotFolder,
                    ErrorCategory.InvalidArgument,
                    path,
                    "Give the folder that holds the model's files.");
            }
            else
            {
                WriteNotFound(path, new ItemNotFoundException($"Cannot find path '{item}' because it does not exist."));
            }
        }
    }

    private void WriteNotFound(object target, Exception e) =>
        WriteInputError(e, ErrorIds.PathNotFound, ErrorCategory.ObjectNotFound, target, "Check the path; use -LiteralPath when the name contains [ ] or *.");
}
