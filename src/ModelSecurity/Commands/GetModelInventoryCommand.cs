using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Runtime.InteropServices;
using Microsoft.PowerShell.Commands;
using ModelSecurity.Provenance;

namespace ModelSecurity.Commands;

/// <summary>
/// <para type="synopsis">Lists every model file in the known model caches of this machine, or in the given folders.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "ModelInventory", DefaultParameterSetName = PathSet)]
[OutputType(typeof(ModelInventoryItem))]
public sealed class GetModelInventoryCommand : ModelSecurityCmdlet
{
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";

    private readonly HashSet<string> _seen = new(RuntimeInformation.IsOSPlatform(OSPlatform.Linux) ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase);

    /// <summary>Folders (or files) to inventory; wildcards are expanded. Without it, the known caches of this OS.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Path { get; set; }

    /// <summary>Folders (or files), used exactly as written.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralPathSet)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[]? LiteralPath { get; set; }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        if (ParameterSetName == LiteralPathSet)
        {
            foreach (string path in LiteralPath!)
            {
                string resolved = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out ProviderInfo provider, out _);
                if (CheckProvider(provider, path))
                {
                    if (File.Exists(resolved) || Directory.Exists(resolved))
                    {
                        Inventory(resolved);
                    }
                    else
                    {
                        WriteInputError(new ItemNotFoundException($"Cannot find path '{resolved}' because it does not exist."), ErrorIds.PathNotFound, ErrorCategory.ObjectNotFound, path,
                            "Check the path.");
                    }
                }
            }

            return;
        }

        if (Path is null)
        {
            foreach ((ModelEcosystem ecosystem, string root) in CacheLayouts.KnownRoots())
            {
                WriteVerbose($"{ecosystem} cache: {root}");
                Inventory(root);
            }

            return;
        }

        foreach (string path in Path)
        {
            ProviderInfo? provider = null;
            IEnumerable<string> resolved;
            try
            {
                resolved = GetResolvedProviderPathFromPSPath(path, out provider);
            }
            catch (Exception e) when (e is ItemNotFoundException or System.Management.Automation.DriveNotFoundException)
            {
                WriteInputError(e, ErrorIds.PathNotFound, ErrorCategory.ObjectNotFound, path, "Check the path; use -LiteralPath when the name contains [ ] or *.");
                continue;
            }

            if (CheckProvider(provider, path))
            {
                foreach (string item in resolved)
                {
                    Inventory(item);
                }
            }
        }
    }

    private void Inventory(string root)
    {
        foreach (string file in ModelInventory.Files(root, OnUnreadable, CancelToken))
        {
            if (!_seen.Add(file))
            {
                continue;
            }

            ModelInventoryItem item = ModelInventory.Describe(file);
            if (item.Problem is not null)
            {
                WriteInputError(new IOException(item.Problem), ErrorIds.FileUnreadable, ErrorCategory.ReadError, file, "Check that the file can be read; it is listed with Format Unknown.");
            }

            WriteObject(item);
        }
    }

    private void OnUnreadable(string directory, Exception e) =>
        WriteInputError(e, ErrorIds.DirectoryUnreadable, ErrorCategory.ReadError, directory, "Check that you may list this folder.");

    private bool CheckProvider(ProviderInfo? provider, string path)
    {
        if (provider?.ImplementingType == typeof(FileSystemProvider))
        {
            return true;
        }

        WriteInputError(new ArgumentException($"The path '{path}' is on the {provider?.Name} provider; only file-system paths can be inventoried."),
            ErrorIds.PathNotFileSystem, ErrorCategory.InvalidArgument, path, "Give a path on a file-system drive.");
        return false;
    }
}
