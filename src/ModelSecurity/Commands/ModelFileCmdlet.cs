using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.IO;
using System.Management.Automation;
using System.Runtime.InteropServices;
using Microsoft.PowerShell.Commands;

namespace ModelSecurity.Commands;

/// <summary>
/// Base of cmdlets that take model files: <c>-Path</c> (wildcards), <c>-LiteralPath</c> (alias
/// <c>PSPath</c>, so <c>Get-ChildItem | Verb-Noun</c> binds it) and the module's own objects. Folders
/// are expanded to every file below them (symbolic links to folders are not followed, so a cache
/// cannot send the walk round in a loop). A file reached twice in one call is processed once.
/// </summary>
public abstract class ModelFileCmdlet : ModelSecurityCmdlet
{
    /// <summary>Parameter set of <c>-Path</c>.</summary>
    protected const string PathSet = "Path";

    /// <summary>Parameter set of <c>-LiteralPath</c>.</summary>
    protected const string LiteralPathSet = "LiteralPath";

    /// <summary>Parameter set of <c>-InputObject</c>.</summary>
    protected const string InputObjectSet = "InputObject";

    // Windows and macOS file names are case-insensitive (by default), Linux's are not.
    private readonly HashSet<string> _seen = new(
        RuntimeInformation.IsOSPlatform(OSPlatform.Linux) ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase);

    /// <summary>Files or folders; wildcards are expanded.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>Files or folders, used exactly as written (brackets and asterisks are not wildcards).</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralPathSet)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = Array.Empty<string>();

    /// <summary>Objects from this module that name a file, such as the results of Test-ModelFile.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    [ValidateNotNull]
    public IModelFileReference? InputObject { get; set; }

    /// <summary>
    /// The files this record names, resolved and expanded; problems are written as errors and skipped.
    /// </summary>
    protected IEnumerable<string> ResolveInputFiles()
    {
        switch (ParameterSetName)
        {
            case InputObjectSet:
                foreach (string file in ExpandLiteral(InputObject!.Path, InputObject))
                {
                    yield return file;
                }

                break;
            case LiteralPathSet:
                foreach (string path in LiteralPath)
                {
                    foreach (string file in ExpandLiteral(path, path))
                    {
                        yield return file;
                    }
                }

                break;
            default:
                foreach (string path in Path)
                {
                    foreach (string file in ExpandWildcard(path))
                    {
                        yield return file;
                    }
                }

                break;
        }
    }

    /// <summary>
    /// Whether a file found by expanding a folder is processed (files named directly always are).
    /// Cmdlets that skip cache bookkeeping override it.
    /// </summary>
    protected virtual bool IncludeFromFolder(string file) => true;

    private IEnumerable<string> ExpandWildcard(string path)
    {
        Collection<string>? resolved = null;
        ProviderInfo? provider = null;
        try
        {
            resolved = new Collection<string>(GetResolvedProviderPathFromPSPath(path, out provider));
        }
        catch (ItemNotFoundException e)
        {
            WriteNotFound(path, e);
        }
        catch (System.Management.Automation.DriveNotFoundException e)
        {
            WriteNotFound(path, e);
        }

        if (resolved is null || provider is null)
        {
            yield break;
        }

        if (!IsFileSystem(provider, path))
        {
            yield break;
        }

        if (resolved.Count == 0)
        {
            WriteNotFound(path, new ItemNotFoundException($"No file matches the path '{path}'."));
        }

        foreach (string item in resolved)
        {
            foreach (string file in ExpandExisting(item))
            {
                yield return file;
            }
        }
    }

    private IEnumerable<string> ExpandLiteral(string path, object target)
    {
        string resolved;
        ProviderInfo provider;
        try
        {
            resolved = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out provider, out _);
        }
        catch (System.Management.Automation.DriveNotFoundException e)
        {
            WriteNotFound(target, e);
            yield break;
        }

        if (!IsFileSystem(provider, target))
        {
            yield break;
        }

        if (!File.Exists(resolved) && !Directory.Exists(resolved))
        {
            WriteNotFound(target, new ItemNotFoundException($"Cannot find path '{resolved}' because it does not exist."));
            yield break;
        }

        foreach (string file in ExpandExisting(resolved))
        {
            yield return file;
        }
    }

    private IEnumerable<string> ExpandExisting(string fullPath)
    {
        if (!Directory.Exists(fullPath))
        {
            if (_seen.Add(fullPath))
            {
                yield return fullPath;
            }

            yield break;
        }

        var pending = new Stack<string>();
        pending.Push(fullPath);
        while (pending.Count > 0)
        {
            CancelToken.ThrowIfCancellationRequested();
            string directory = pending.Pop();
            string[] files;
            string[] subdirectories;
            try
            {
                files = Directory.GetFiles(directory);
                subdirectories = Directory.GetDirectories(directory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                WriteInputError(e, ErrorIds.DirectoryUnreadable, ErrorCategory.ReadError, directory, "Check that you may list this folder, then scan it again.");
                continue;
            }

            Array.Sort(files, StringComparer.Ordinal);
            foreach (string file in files)
            {
                if (IncludeFromFolder(file) && _seen.Add(file))
                {
                    yield return file;
                }
            }

            Array.Sort(subdirectories, StringComparer.Ordinal);
            for (int i = subdirectories.Length - 1; i >= 0; i--)
            {
                if ((File.GetAttributes(subdirectories[i]) & FileAttributes.ReparsePoint) == 0)
                {
                    pending.Push(subdirectories[i]);
                }
            }
        }

    }

    private bool IsFileSystem(ProviderInfo provider, object target)
    {
        if (provider.ImplementingType == typeof(FileSystemProvider))
        {
            return true;
        }

        WriteInputError(
            new ArgumentException($"The path '{target}' is on the {provider.Name} provider; only file-system paths can be scanned."),
            ErrorIds.PathNotFileSystem,
            ErrorCategory.InvalidArgument,
            target,
            "Give a path on a file-system drive.");
        return false;
    }

    private void WriteNotFound(object target, Exception e) =>
        WriteInputError(e, ErrorIds.PathNotFound, ErrorCategory.ObjectNotFound, target, "Check the path; use -LiteralPath when the name contains [ ] or *.");
}
