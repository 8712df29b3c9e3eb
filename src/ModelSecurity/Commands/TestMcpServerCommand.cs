using System;
using System.Collections.Generic;
using System.IO;
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

    private McpServerAnalyzer? _analyzer;
    private bool _sawInput;

    /// <summary>MCP server entries from Get-McpServer.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    public McpServer? InputObject { get; set; }

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
            if (InputObject is not null)
            {
                Emit(InputObject);
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

    private void Emit(McpServer server)
    {
        CancelToken.ThrowIfCancellationRequested();
        McpServerTestResult result = _analyzer!.Test(server);
        WriteVerbose($"{result.Verdict} {server.Client}:{server.Name} ({result.Findings.Count} findings)");
        WriteObject(result);
    }
}
