using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using ModelSecurity.Commands;
using ModelSecurity.Integrity;
using Xunit;

namespace ModelSecurity.Tests;

/// <summary>
/// In-process runspaces with the hashing and inventory cmdlets. The hash cache of the whole test run
/// lives in one temporary folder (MODELSECURITY_CACHE_DIR is process-wide, so it is set once).
/// </summary>
internal static class HashShell
{
    private static readonly Lazy<string> CacheFolder = new(() =>
    {
        string folder = Path.Combine(Path.GetTempPath(), "ms-hashcache-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(folder);
        Environment.SetEnvironmentVariable(HashCache.DirectoryVariable, folder);
        return folder;
    });

    public static string CacheDirectory => CacheFolder.Value;

    public static PowerShell Create()
    {
        _ = CacheFolder.Value;
        InitialSessionState state = InitialSessionState.CreateDefault2();
        state.Commands.Add(new SessionStateCmdletEntry("Confirm-ModelHash", typeof(ConfirmModelHashCommand), null));
        state.Commands.Add(new SessionStateCmdletEntry("Get-ModelInventory", typeof(GetModelInventoryCommand), null));
        state.Commands.Add(new SessionStateCmdletEntry("New-ModelManifest", typeof(NewModelManifestCommand), null));
        state.Commands.Add(new SessionStateCmdletEntry("Test-ModelFile", typeof(TestModelFileCommand), null));
        return PowerShell.Create(state);
    }

    /// <summary>Runs Confirm-ModelHash with the given parameters and returns its results (errors are left in the shell).</summary>
    public static ModelHashResult[] Confirm(PowerShell shell, IDictionary<string, object?> parameters)
    {
        shell.AddCommand("Confirm-ModelHash");
        foreach (KeyValuePair<string, object?> p in parameters)
        {
            if (p.Value is null)
            {
                shell.AddParameter(p.Key);
            }
            else
            {
                shell.AddParameter(p.Key, p.Value);
            }
        }

        return shell.Invoke().Select(o => Assert.IsType<ModelHashResult>(o.BaseObject)).ToArray();
    }

    public static ModelHashResult[] Confirm(params (string Name, object? Value)[] parameters)
    {
        using PowerShell shell = Create();
        ModelHashResult[] results = Confirm(shell, parameters.ToDictionary(p => p.Name, p => p.Value));
        Assert.False(shell.HadErrors, string.Join("; ", shell.Streams.Error));
        return results;
    }

    public static ModelHashResult ByName(this IEnumerable<ModelHashResult> results, string fileName) =>
        Assert.Single(results, r => Path.GetFileName(r.Path) == fileName);
}
