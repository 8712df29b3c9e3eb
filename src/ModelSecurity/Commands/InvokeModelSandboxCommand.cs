using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Security.Cryptography;
using Microsoft.PowerShell.Commands;
using ModelSecurity.Mcp;
using ModelSecurity.Sandbox;

namespace ModelSecurity.Commands;

/// <summary>
/// <para type="synopsis">Runs a program against model files inside isolation: no network, no secrets, no write access to the host.</para>
/// </summary>
/// <remarks>
/// ConfirmImpact is High so that anything weakening a default (-Network Host, a secret-looking -Environment
/// name) is confirmed; a run with every default intact asks only when -Confirm or -WhatIf asks for it.
/// </remarks>
[Cmdlet(VerbsLifecycle.Invoke, "ModelSandbox", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = ProgramSet)]
[OutputType(typeof(SandboxResult))]
public sealed class InvokeModelSandboxCommand : ModelSecurityCmdlet
{
    private const string ProgramSet = "Program";
    private const string McpServerSet = "McpServer";

    // Secret values as the server is started with them, mapped to the redacted form shown to people.
    private readonly Dictionary<string, string> _redactions = new(StringComparer.Ordinal);

    /// <summary>Model files or folders, bound read-only at the same absolute path inside; wildcards are expanded.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ProgramSet)]
    [Parameter(ParameterSetName = McpServerSet)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>The program to run: a name looked up in the sandbox's PATH, or an absolute path visible inside.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = ProgramSet)]
    [ValidateNotNullOrEmpty]
    public string FilePath { get; set; } = string.Empty;

    /// <summary>Arguments for the program, passed as they are (no shell).</summary>
    [Parameter(Position = 2, ParameterSetName = ProgramSet)]
    [AllowEmptyString]
    public string[] ArgumentList { get; set; } = Array.Empty<string>();

    /// <summary>
    /// An MCP server entry (Get-McpServer's McpServer, or any object with its property names) whose Command and
    /// Arguments are run as the program; a stdio server is sent the MCP handshake unless -StandardInput is given.
    /// </summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = McpServerSet)]
    [ValidateNotNull]
    public object? McpServer { get; set; }

    /// <summary>Lines written to the program's standard input (each followed by a newline), which is then closed.</summary>
    [Parameter]
    [AllowEmptyString]
    [AllowEmptyCollection]
    public string[]? StandardInput { get; set; }

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
        McpServer? server = null;
        string program = FilePath;
        IReadOnlyList<string> arguments = ArgumentList;
        if (ParameterSetName == McpServerSet)
        {
            server = ReadServer(McpServer!);
            if (server is null)
            {
                return;
            }

            program = server.WorkingDirectory is { Length: > 0 } folder && server.Command!.Contains('/', StringComparison.Ordinal) && !System.IO.Path.IsPathRooted(server.Command)
                ? System.IO.Path.Combine(folder, server.Command)
                : server.Command!;
            // Arguments shows secret-looking values redacted; the server is started with them as written.
            arguments = server.LaunchArguments.Count == server.Arguments.Count && server.LaunchArguments.Count > 0 ? server.LaunchArguments : server.Arguments;
            for (int i = 0; i < arguments.Count; i++)
            {
                if (!string.Equals(arguments[i], server.Arguments[i], StringComparison.Ordinal))
                {
                    _redactions[arguments[i]] = server.Arguments[i];
                }
            }
        }

        List<string>? models = ResolveModelPaths();
        if (models is null)
        {
            return;
        }

        string? serverFolder = null;
        if (server is not null)
        {
            serverFolder = AddServerPaths(server, models);
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

        string? resolvedProgram = ResolveProgram(program, backend.Kind, models, output);
        if (resolvedProgram is null)
        {
            return;
        }

        IReadOnlyList<KeyValuePair<string, string>> decoys = SandboxEnvironment.CreateDecoys();
        var request = new SandboxRequest
        {
            ModelPaths = models,
            FilePath = resolvedProgram,
            Arguments = arguments,
            OutputPath = output,
            WorkingDirectory = WorkingDirectory is null ? serverFolder : GetUnresolvedProviderPathFromPSPath(WorkingDirectory),
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

        // What is shown (prompt, Verbose, the result's CommandLine) never carries a configuration's secret values.
        string commandLine = ShellQuote.Join(launch.CommandLine.Select(a => _redactions.TryGetValue(a, out string? shown) ? shown : a).ToArray());
        if (MustAsk(weakened) && !ShouldProcess(
            $"Running in a {backend.Kind} sandbox: {commandLine}" + (weakened.Count > 0 ? " WEAKENED: " + string.Join("; ", weakened) : string.Empty),
            (server is null ? $"Run '{program}'" : $"Run the MCP server '{server.Name}' ({program})") + $" in a {backend.Kind} sandbox" + (weakened.Count > 0 ? " with these defaults weakened: " + string.Join("; ", weakened) + "?" : "?"),
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

            StandardInputScript? input = StandardInput is not null
                ? StandardInputScript.FromLines(StandardInput.Select(line => line ?? string.Empty).ToArray())
                : server is not null ? McpHandshake.Script(ModuleVersion()) : null;
            WriteVerbose("Sandbox command line: " + commandLine);
            WriteObject(SandboxExecution.Run(backend, request, launch, decoys, weakened, TimeSpan.FromSeconds(TimeoutSeconds), MaxOutputBytes, CancelToken, input, server is not null, commandLine));
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C: the process tree is already killed and the pipeline is stopping.
        }
        catch (Exception e) when (e is SandboxUnavailableException or IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(new ErrorRecord(e, ErrorIds.SandboxFailed, ErrorCategory.OperationStopped, program));
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

    private string? ResolveProgram(string filePath, SandboxBackendKind backend, List<string> models, string? output)
    {
        if (backend != SandboxBackendKind.Bubblewrap)
        {
            // The program lives in the image, not on the host.
            return filePath;
        }

        string? program;
        if (filePath.Contains('/', StringComparison.Ordinal))
        {
            program = System.IO.Path.GetFullPath(GetUnresolvedProviderPathFromPSPath(filePath));
            bool visible = HostTools.IsUnderSystemFolder(program) ||
                models.Any(m => HostTools.IsSameOrBelow(program, m)) ||
                (output is not null && HostTools.IsSameOrBelow(program, output));
            if (!File.Exists(program) || !visible)
            {
                string why = File.Exists(program) ? "is not visible inside the sandbox (only system folders, -Path and -OutputPath are)" : "does not exist";
                WritePathError(new FileNotFoundException($"The program '{program}' {why}."), ErrorIds.SandboxProgramNotFound, ErrorCategory.ObjectNotFound, filePath, "Install the program in a system folder, or add its folder to -Path.");
                return null;
            }
        }
        else
        {
            program = HostTools.FindSystemTool(filePath);
            if (program is null)
            {
                WritePathError(new FileNotFoundException($"'{filePath}' was not found in the sandbox's PATH ({SandboxDefaults.Path})."), ErrorIds.SandboxProgramNotFound, ErrorCategory.ObjectNotFound, filePath, "Give the program's absolute path, inside a system folder or a -Path folder.");
                return null;
            }
        }

        return program;
    }

    // The entry as an McpServer: the live type as it is; anything else (a job's deserialised copy, a PSCustomObject) by property name.
    private McpServer? ReadServer(object input)
    {
        McpServer? server = (input is PSObject wrapped ? wrapped.BaseObject : input) as McpServer ?? ServerFromProperties(PSObject.AsPSObject(input));
        if (server is not null)
        {
            // Lists set to null, or holding nulls, by whoever built the object, read as empty entries.
            server = Normalise(server);
        }
        else
        {
            WriteInputError(
                new ArgumentException("The -McpServer input has neither a Command nor a Url property: it is not an MCP server entry."),
                ErrorIds.SandboxMcpServerInvalid, ErrorCategory.InvalidArgument, input, "Pipe the output of Get-McpServer, or an object with its property names (Name, Transport, Command, Arguments).");
            return null;
        }

        if (server.Transport == McpTransport.Http)
        {
            WriteInputError(
                new ArgumentException($"The MCP server '{server.Name}' is remote ({server.Url}): there is nothing local to run in a sandbox."),
                ErrorIds.SandboxMcpServerRemote, ErrorCategory.InvalidArgument, input, "Only stdio servers, which the client starts as a local program, can be tried in the sandbox.");
            return null;
        }

        if (string.IsNullOrWhiteSpace(server.Command))
        {
            WriteInputError(
                new ArgumentException($"The MCP server '{server.Name}' names no command to run."),
                ErrorIds.SandboxMcpServerInvalid, ErrorCategory.InvalidArgument, input, "Check the server's entry in its configuration file.");
            return null;
        }

        if (server.EnvironmentNames.Count > 0)
        {
            WriteVerbose($"The configuration gives the MCP server '{server.Name}' these variables, whose values are not read: {string.Join(", ", server.EnvironmentNames)}. The sandbox sets none of them unless -Environment does.");
        }

        string package = server.Package is { Length: > 0 } p ? $"'{p}'" : "its package";
        switch (server.PackageManager)
        {
            case McpPackageManager.Npx or McpPackageManager.Uvx or McpPackageManager.Pipx when Network == SandboxNetwork.None:
                WriteWarning($"The MCP server '{server.Name}' is started by {server.Command}, which downloads {package} unless it is already installed. " +
                    "The sandbox has no network and its own empty HOME (the host's package caches are not visible), so the package must be installed in a system folder or a -Path folder; " +
                    "otherwise the run fails. -Network Host lets it download, after confirmation, and weakens the sandbox.");
                break;
            case McpPackageManager.Docker:
                WriteWarning($"The MCP server '{server.Name}' is started by {server.Command}, whose container engine is not reachable from inside the sandbox, so the run fails. " +
                    "To try the image isolated, run its server program with -Backend Docker or Podman and -Image.");
                break;
        }

        return server;
    }

    private static McpServer Normalise(McpServer server)
    {
        IReadOnlyList<string>? arguments = server.Arguments;
        IReadOnlyList<string>? names = server.EnvironmentNames;
        if (arguments is not null && names is not null && !arguments.Contains(null!) && !names.Contains(null!))
        {
            return server;
        }

        return new McpServer
        {
            Client = server.Client,
            ConfigPath = server.ConfigPath,
            Name = server.Name,
            Transport = server.Transport,
            Command = server.Command,
            Arguments = (arguments ?? Array.Empty<string>()).Select(a => a ?? string.Empty).ToArray(),
            PackageManager = server.PackageManager,
            Package = server.Package,
            RequestedVersion = server.RequestedVersion,
            EnvironmentNames = (names ?? Array.Empty<string>()).Where(n => n is not null).ToArray(),
            Url = server.Url,
            WorkingDirectory = server.WorkingDirectory,
        };
    }

    private static McpServer? ServerFromProperties(PSObject input)
    {
        string? command = Property<string>(input, "Command");
        string? url = Property<string>(input, "Url");
        if (input.Properties["Command"] is null && input.Properties["Url"] is null)
        {
            return null;
        }

        McpTransport transport = input.Properties["Transport"]?.Value is { } t && LanguagePrimitives.TryConvertTo(t, out McpTransport given)
            ? given
            : string.IsNullOrWhiteSpace(command) && !string.IsNullOrWhiteSpace(url) ? McpTransport.Http : McpTransport.Stdio;
        return new McpServer
        {
            Client = Property<string>(input, "Client") ?? string.Empty,
            ConfigPath = Property<string>(input, "ConfigPath") ?? string.Empty,
            Name = Property<string>(input, "Name") ?? string.Empty,
            Transport = transport,
            Command = command,
            Arguments = Property<string[]>(input, "Arguments") ?? Array.Empty<string>(),
            PackageManager = Property<McpPackageManager?>(input, "PackageManager") ?? McpPackageManager.None,
            Package = Property<string>(input, "Package"),
            RequestedVersion = Property<string>(input, "RequestedVersion"),
            EnvironmentNames = Property<string[]>(input, "EnvironmentNames") ?? Array.Empty<string>(),
            Url = url,
            WorkingDirectory = Property<string>(input, "WorkingDirectory"),
        };
    }

    private static T? Property<T>(PSObject input, string name) =>
        input.Properties[name]?.Value is { } value && LanguagePrimitives.TryConvertTo(value, out T converted) ? converted : default;

    // Binds the server's own files read-only: the command and each argument that is an existing local file or
    // folder, and its working folder. Returns the working folder to start in, when it exists.
    private string? AddServerPaths(McpServer server, List<string> models)
    {
        string? folder = server.WorkingDirectory is { Length: > 0 } w && System.IO.Path.IsPathRooted(w) && Directory.Exists(w)
            ? Trim(System.IO.Path.GetFullPath(w))
            : null;
        var candidates = new List<string>();
        if (folder is not null)
        {
            candidates.Add(folder);
        }

        foreach (string item in new[] { server.Command! }.Concat(server.Arguments))
        {
            if (string.IsNullOrWhiteSpace(item) || !item.Contains('/', StringComparison.Ordinal) || item.Contains('\0', StringComparison.Ordinal))
            {
                continue;
            }

            string? full = System.IO.Path.IsPathRooted(item) ? item : folder is null ? null : System.IO.Path.Combine(folder, item);
            if (full is not null && (File.Exists(full) || Directory.Exists(full)))
            {
                candidates.Add(Trim(System.IO.Path.GetFullPath(full)));
            }
        }

        string home = Trim(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile));
        foreach (string path in candidates.Distinct(StringComparer.Ordinal))
        {
            if (path == "/" || HostTools.SystemFolders.Any(s => HostTools.IsSameOrBelow(s, path) && s != path && !HostTools.IsUnderSystemFolder(path)) ||
                (home.Length > 1 && HostTools.IsSameOrBelow(home, path)))
            {
                WriteWarning($"The MCP server '{server.Name}' names '{path}', which is not bound into the sandbox: it is or holds the root, a system folder or your home folder. Bind what the server needs with -Path.");
                if (path == folder)
                {
                    folder = null;
                }

                continue;
            }

            if (!models.Contains(path, StringComparer.Ordinal))
            {
                WriteVerbose($"Binding the MCP server's path '{path}' read-only.");
                models.Add(path);
            }
        }

        models.Sort(StringComparer.Ordinal);
        return folder;
    }

    private string ModuleVersion() =>
        (MyInvocation.MyCommand.Module?.Version ?? typeof(InvokeModelSandboxCommand).Assembly.GetName().Version ?? new Version(0, 0)).ToString(3);

    private void WritePathError(Exception exception, string errorId, ErrorCategory category, object target, string? recommendedAction) =>
        WriteInputError(exception, errorId, category, target, recommendedAction);

    private static string Trim(string path) => path.Length > 1 ? path.TrimEnd('/') : path;
}
