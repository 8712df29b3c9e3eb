using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using ModelSecurity.Mcp;

namespace ModelSecurity.Commands;

/// <summary>
/// <para type="synopsis">Checks MCP server entries for what auditors look for: unpinned packages, auto-install flags, plain-text secrets, plain HTTP, shell interpolation, world-writable paths, look-alike names and drift from a lock file.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "McpServer", DefaultParameterSetName = PathSet)]
[OutputType(typeof(McpServerTestResult))]
public sealed class TestMcpServerCommand : McpCmdlet
{
    private const string PathSet = "Path";
    private const string InputObjectSet = "InputObject";

    private readonly Dictionary<string, List<McpServer>> _reread = new(StringComparer.Ordinal);
    private McpServerAnalyzer? _analyzer;
    private bool _sawInput;

    /// <summary>MCP server entries from Get-McpServer; entries that come back from a job or remoting are read again from their ConfigPath.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    public PSObject? InputObject { get; set; }

    /// <summary>Configuration files to test instead of the clients' default locations (wildcards allowed).</summary>
    [Parameter(Position = 0, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string[]? Path { get; set; }

    /// <summary>A lock file written by Export-McpServerLock to check the servers against.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? LockPath { get; set; }

    /// <inheritdoc />
    protected override void BeginProcessing()
    {
        List<McpLockEntry>? entries = null;
        if (LockPath is not null)
        {
            string path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(LockPath);
            try
            {
                entries = McpLock.Read(path);
            }
            catch (InvalidDataException e)
            {
                ThrowTerminatingError(new ErrorRecord(e, ErrorIds.McpLockInvalid, ErrorCategory.InvalidData, LockPath));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                ThrowTerminatingError(new ErrorRecord(new FileNotFoundException($"The lock file '{path}' cannot be read: {e.Message}", path, e), ErrorIds.McpLockNotFound, ErrorCategory.ObjectNotFound, LockPath));
            }
        }

        _analyzer = new McpServerAnalyzer(McpLookalikes.Default, new McpVersionResolver(DefaultLocations().Home), entries);
    }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        _sawInput = true;
        if (ParameterSetName == InputObjectSet)
        {
            if (InputObject?.BaseObject is McpServer live)
            {
                Emit(live);
            }
            else if (InputObject is not null && Reread(InputObject) is { } server)
            {
                Emit(server);
            }

            return;
        }

        foreach (McpServer server in ReadServers(Path, null))
        {
            Emit(server);
        }
    }

    /// <inheritdoc />
    protected override void EndProcessing()
    {
        if (!_sawInput || _analyzer is null)
        {
            return;
        }

        foreach (McpServerTestResult orphan in _analyzer.Orphans())
        {
            WriteObject(orphan);
        }
    }

    /// <summary>
    /// A deserialised entry (Start-Job, Invoke-Command) carries no secrets and no exact arguments, so the
    /// entry is read again from its configuration file: what is tested is what the client would start now.
    /// </summary>
    private McpServer? Reread(PSObject input)
    {
        string? configPath = input.Properties["ConfigPath"]?.Value?.ToString();
        string? name = input.Properties["Name"]?.Value?.ToString();
        if (string.IsNullOrEmpty(configPath) || name is null)
        {
            WriteInputError(new ArgumentException($"'{input}' is not an MCP server entry: it has no ConfigPath and Name."), ErrorIds.McpServerInputInvalid, ErrorCategory.InvalidArgument, input,
                "Pipe the output of Get-McpServer, or use -Path with the configuration files.");
            return null;
        }

        string? client = input.Properties["Client"]?.Value?.ToString();
        string? project = input.Properties["Project"]?.Value?.ToString();
        if (!_reread.TryGetValue(configPath, out List<McpServer>? servers))
        {
            servers = ReadServers(new[] { WildcardPattern.Escape(configPath) }, null).ToList();
            _reread[configPath] = servers;
        }

        McpServer? found = servers.FirstOrDefault(s => s.Name == name && (project is null || s.Project == project) && (client is null || s.Client == client))
            ?? servers.FirstOrDefault(s => s.Name == name && (project is null || s.Project == project));
        if (found is null)
        {
            WriteInputError(new ItemNotFoundException($"'{configPath}' no longer configures an MCP server named '{name}'."), ErrorIds.McpServerInputInvalid, ErrorCategory.ObjectNotFound, input,
                "Run Get-McpServer again: the configuration changed since the entry was read.");
        }

        return found;
    }

    private void Emit(McpServer server)
    {
        CancelToken.ThrowIfCancellationRequested();
        McpServerTestResult result = _analyzer!.Test(server);
        WriteVerbose($"{result.Verdict} {server.Client}:{server.Name} ({result.Findings.Count} findings)");
        WriteObject(result);
    }
}
