using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Security.Cryptography;
using Microsoft.PowerShell.Commands;
using ModelSecurity.Sandbox;

namespace ModelSecurity.Commands;

/// <summary>
/// <para type="synopsis">Runs a program against model files inside isolation: no network, no secrets, no write access to the host.</para>
/// </summary>
/// <remarks>
/// ConfirmImpact is High so that anything weakening a default (-Network Host, a secret-looking -Environment
/// name) is confirmed; a run with every default intact asks only when -Confirm or -WhatIf asks for it.
/// </remarks>
[Cmdlet(VerbsLifecycle.Invoke, "ModelSandbox", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(SandboxResult))]
public sealed class InvokeModelSandboxCommand : ModelSecurityCmdlet
{
    /// <summary>Model files or folders, bound read-only at the same absolute path inside; wildcards are expanded.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>The program to run: a name looked up in the sandbox's PATH, or an absolute path visible inside.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string FilePath { get; set; } = string.Empty;

    /// <summary>Arguments for the program, passed as they are (no shell).</summary>
    [Parameter(Position = 2)]
    [AllowEmptyString]
    public string[] ArgumentList { get; set; } = Array.Empty<string>();

    /// <summary>The isolation backend; Auto takes the first that works.</summary>
    [Parameter]
    public SandboxBackendKind Backend { get; set; } = SandboxBackendKind.Auto;

    /// <summary>The container image for the Docker and Podman backends.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Image { get; set; }

    /// <summary>A host folder the program may write to (created when missing); the only writable host path.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? OutputPath { get; set; }

    /// <summary>Variables to set inside. Nothing else is taken from the caller's environment.</summary>
    [Parameter]
    [ValidateNotNull]
    public Hashtable? Environment { get; set; }

    /// <summary>None (default) or Host; Host weakens the sandbox and must be confirmed.</summary>
    [Parameter]
    public SandboxNetwork Network { get; set; } = SandboxNetwork.None;

    /// <summary>Seconds before the whole process tree is killed.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public int TimeoutSeconds { get; set; } = SandboxDefaults.TimeoutSeconds;

    /// <summary>Memory limit in MB (per process address space with Bubblewrap, the whole container with Docker/Podman).</summary>
    [Parameter]
    [ValidateRange(16, 1048576)]
    public int MemoryMB { get; set; } = SandboxDefaults.MemoryMB;

    /// <summary>The most processes and threads the program may have at once.</summary>
    [Parameter]
    [ValidateRange(1, 65536)]
    public int MaxProcesses { get; set; } = SandboxDefaults.MaxProcesses;

    /// <summary>The most bytes kept of standard output, and of standard error.</summary>
    [Parameter]
    [ValidateRange(1024, 1073741824)]
    public int MaxOutputBytes { get; set; } = SandboxDefaults.MaxOutputBytes;

    /// <summary>The program's working folder inside the sandbox; defaults to -OutputPath, else the private HOME.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? WorkingDirectory { get; set; }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        List<string>? models = ResolveModelPaths();
        if (models is null)
        {
            return;
        }

        string? output = ResolveOutputPath(models);
        if (OutputPath is not null && output is null)
        {
            return;
        }

        List<KeyValuePair<string, string>>? explicitVariables = ReadEnvironment();
        if (explicitVariables is null)
        {
            return;
        }

        var weakened = new List<string>();
        if (Network == SandboxNetwork.Host)
        {
            weakened.Add("network: the host's network (-Network Host)");
        }

        foreach (KeyValuePair<string, string> variable in explicitVariables.Where(v => SandboxEnvironment.IsSecretName(v.Key)))
        {
            weakened.Add($"secret: {variable.Key} passed in (-Environment)");
        }

        ISandboxBackend backend;
        try
        {
            backend = SandboxBackends.Select(Backend, Image);
        }
        catch (SandboxUnavailableException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, ErrorIds.SandboxBackendUnavailable, ErrorCategory.NotInstalled, Backend)
            {
                ErrorDetails = new ErrorDetails(e.Message)
                {
                    RecommendedAction = "Install bubblewrap (Linux: apt-get install bubblewrap), or Docker/Podman with a working engine and pass -Image.",
                },
            });
            return;
        }

        string? program = ResolveProgram(backend.Kind, models, output);
        if (program is null)
        {
            return;
        }

        IReadOnlyList<KeyValuePair<string, string>> decoys = SandboxEnvironment.CreateDecoys();
        var request = new SandboxRequest
        {
            ModelPaths = models,
            FilePath = program,
            Arguments = ArgumentList,
            OutputPath = output,
            WorkingDirectory = WorkingDirectory is null ? null : GetUnresolvedProviderPathFromPSPath(WorkingDirectory),
            Environment = SandboxEnvironment.Build(decoys, explicitVariables),
            Network = Network,
            MemoryMB = MemoryMB,
            MaxProcesses = MaxProcesses,
            Image = Image,
            SandboxUserId = SandboxDefaults.FirstSandboxUserId + RandomNumberGenerator.GetInt32(SandboxDefaults.SandboxUserIdCount),
        };

        SandboxLaunch launch;
        try
        {
            launch = backend.Prepare(request);
        }
        catch (SandboxUnavailableException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, ErrorIds.SandboxBackendUnavailable, ErrorCategory.InvalidArgument, backend.Kind));
            return;
        }

        string commandLine = ShellQuote.Join(launch.CommandLine);
        if (MustAsk(weakened) && !ShouldProcess(
            $"Running in a {backend.Kind} sandbox: {commandLine}" + (weakened.Count > 0 ? " WEAKENED: " + string.Join("; ", weakened) : string.Empty),
            $"Run '{FilePath}' in a {backend.Kind} sandbox" + (weakened.Count > 0 ? " with these defaults weakened: " + string.Join("; ", weakened) + "?" : "?"),
            "Invoke-ModelSandbox"))
        {
            return;
        }

        try
        {
            // Created only now, so -WhatIf leaves the file system as it was.
            if (output is not null)
            {
                Directory.CreateDirectory(output);
            }

            WriteVerbose("Sandbox command line: " + commandLine);
            WriteObject(SandboxExecution.Run(backend, request, launch, decoys, weakened, TimeSpan.FromSeconds(TimeoutSeconds), MaxOutputBytes, CancelToken));
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C: the process tree is already killed and the pipeline is stopping.
        }
        catch (Exception e) when (e is SandboxUnavailableException or IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(new ErrorRecord(e, ErrorIds.SandboxFailed, ErrorCategory.OperationStopped, FilePath));
        }
    }

    // A run with every default intact is the safe path and does not prompt; any weakening does (ConfirmImpact High).
    private bool MustAsk(List<string> weakened)
    {
        if (weakened.Count > 0)
        {
            return true;
        }

        if (MyInvocation.BoundParameters.TryGetValue("WhatIf", out object? whatIf) && whatIf is SwitchParameter { IsPresent: true })
        {
            return true;
        }

        if (MyInvocation.BoundParameters.TryGetValue("Confirm", out object? confirm) && confirm is SwitchParameter { IsPresent: true })
        {
            return true;
        }

        object? preference = GetVariableValue("WhatIfPreference");
        return preference is true || (preference is SwitchParameter s && s.IsPresent) ||
            (GetVariableValue("ConfirmPreference") is ConfirmImpact impact && impact != ConfirmImpact.None && impact <= ConfirmImpact.Medium);
    }

    private List<string>? ResolveModelPaths()
    {
        var models = new List<string>();
        foreach (string path in Path)
        {
            System.Collections.ObjectModel.Collection<string> resolved;
            ProviderInfo provider;
            try
            {
                resolved = GetResolvedProviderPathFromPSPath(path, out provider);
            }
            catch (Exception e) when (e is ItemNotFoundException or System.Management.Automation.DriveNotFoundException)
            {
                WritePathError(e, ErrorIds.PathNotFound, ErrorCategory.ObjectNotFound, path, "Check the path of the model file or folder.");
                return null;
            }

            if (provider.ImplementingType != typeof(FileSystemProvider) || resolved.Count == 0)
            {
                WritePathError(new ArgumentException($"'{path}' names no file-system item."), ErrorIds.PathNotFound, ErrorCategory.ObjectNotFound, path, "Give model files or folders on a file-system drive.");
                return null;
            }

            foreach (string item in resolved)
            {
                string full = Trim(System.IO.Path.GetFullPath(item));
                if (full == "/" || HostTools.SystemFolders.Any(s => HostTools.IsSameOrBelow(s, full) && s != full && !HostTools.IsUnderSystemFolder(full)))
                {
                    WritePathError(new ArgumentException($"'{full}' would expose the whole host file system; give the model files or their own folder."), ErrorIds.SandboxPathInvalid, ErrorCategory.InvalidArgument, path, null);
                    return null;
                }

                if (!models.Contains(full, StringComparer.Ordinal))
                {
                    models.Add(full);
                }
            }
        }

        models.Sort(StringComparer.Ordinal);
        return models;
    }

    private string? ResolveOutputPath(List<string> models)
    {
        if (OutputPath is null)
        {
            return null;
        }

        string full = Trim(System.IO.Path.GetFullPath(GetUnresolvedProviderPathFromPSPath(OutputPath)));
        string? problem = null;
        if (full == "/" || HostTools.IsUnderSystemFolder(full) || HostTools.SystemFolders.Any(s => HostTools.IsSameOrBelow(s, full)))
        {
            problem = $"-OutputPath '{full}' is or contains a system folder.";
        }
        else if (models.Any(m => HostTools.IsSameOrBelow(m, full)))
        {
            problem = $"-OutputPath '{full}' is or contains a model path, which would make the model writable.";
        }
        else if (File.Exists(full))
        {
            problem = $"-OutputPath '{full}' is a file; give a folder.";
        }

        if (problem is not null)
        {
            WritePathError(new ArgumentException(problem), ErrorIds.SandboxPathInvalid, ErrorCategory.InvalidArgument, OutputPath, "Give a folder of its own for the program's output.");
            return null;
        }

        return full;
    }

    private List<KeyValuePair<string, string>>? ReadEnvironment()
    {
        var variables = new List<KeyValuePair<string, string>>();
        if (Environment is null)
        {
            return variables;
        }

        foreach (DictionaryEntry entry in Environment)
        {
            string name = entry.Key?.ToString() ?? string.Empty;
            if (!SandboxEnvironment.IsValidName(name))
            {
                WritePathError(new ArgumentException($"'{name}' is not a valid environment variable name."), ErrorIds.SandboxEnvironmentInvalid, ErrorCategory.InvalidArgument, name, "Use letters, digits and underscores, not starting with a digit.");
                return null;
            }

            variables.Add(new KeyValuePair<string, string>(name, LanguagePrimitives.ConvertTo<string>(entry.Value) ?? string.Empty));
        }

        variables.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return variables;
    }

    private string? ResolveProgram(SandboxBackendKind backend, List<string> models, string? output)
    {
        if (backend != SandboxBackendKind.Bubblewrap)
        {
            // The program lives in the image, not on the host.
            return FilePath;
        }

        string? program;
        if (FilePath.Contains('/', StringComparison.Ordinal))
        {
            program = System.IO.Path.GetFullPath(GetUnresolvedProviderPathFromPSPath(FilePath));
            bool visible = HostTools.IsUnderSystemFolder(program) ||
                models.Any(m => HostTools.IsSameOrBelow(program, m)) ||
                (output is not null && HostTools.IsSameOrBelow(program, output));
            if (!File.Exists(program) || !visible)
            {
                string why = File.Exists(program) ? "is not visible inside the sandbox (only system folders, -Path and -OutputPath are)" : "does not exist";
                WritePathError(new FileNotFoundException($"The program '{program}' {why}."), ErrorIds.SandboxProgramNotFound, ErrorCategory.ObjectNotFound, FilePath, "Install the program in a system folder, or add its folder to -Path.");
                return null;
            }
        }
        else
        {
            program = HostTools.FindSystemTool(FilePath);
            if (program is null)
            {
                WritePathError(new FileNotFoundException($"'{FilePath}' was not found in the sandbox's PATH ({SandboxDefaults.Path})."), ErrorIds.SandboxProgramNotFound, ErrorCategory.ObjectNotFound, FilePath, "Give the program's absolute path, inside a system folder or a -Path folder.");
                return null;
            }
        }

        return program;
    }

    private void WritePathError(Exception exception, string errorId, ErrorCategory category, object target, string? recommendedAction) =>
        WriteInputError(exception, errorId, category, target, recommendedAction);

    private static string Trim(string path) => path.Length > 1 ? path.TrimEnd('/') : path;
}
