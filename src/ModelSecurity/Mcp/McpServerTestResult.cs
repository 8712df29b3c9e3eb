using System;
using System.Collections.Generic;
using ModelSecurity.Analysis;

namespace ModelSecurity.Mcp;

/// <summary>What Test-McpServer found for one MCP server (or for a lock entry whose server is gone).</summary>
public sealed class McpServerTestResult
{
    internal McpServerTestResult(McpServer? server, McpLockEntry? locked, IReadOnlyList<ModelFinding> findings)
    {
        Server = server;
        Client = server?.Client ?? locked?.Client ?? string.Empty;
        Name = server?.Name ?? locked?.Name ?? string.Empty;
        Path = server?.ConfigPath ?? locked?.ConfigPath ?? string.Empty;
        Package = server?.Package ?? locked?.Package;
        RequestedVersion = server?.RequestedVersion;
        LockedVersion = locked?.Version;
        Findings = findings;
        ScanVerdict verdict = ScanVerdict.Clean;
        foreach (ModelFinding finding in findings)
        {
            if (finding.Verdict > verdict)
            {
                verdict = finding.Verdict;
            }
        }

        Verdict = verdict;
    }

    /// <summary>Clean, or Suspicious when a finding needs a decision before the server is trusted.</summary>
    public ScanVerdict Verdict { get; }

    /// <summary>The client whose configuration names the server.</summary>
    public string Client { get; }

    /// <summary>The server's name.</summary>
    public string Name { get; }

    /// <summary>The configuration file (reports key results by it).</summary>
    public string Path { get; }

    /// <summary>The package, image or local path.</summary>
    public string? Package { get; }

    /// <summary>The version the configuration asks for, or null.</summary>
    public string? RequestedVersion { get; }

    /// <summary>The version the lock file records, when -LockPath was given and has the server.</summary>
    public string? LockedVersion { get; }

    /// <summary>What was found, most severe first.</summary>
    public IReadOnlyList<ModelFinding> Findings { get; }

    /// <summary>The server tested; null for a lock entry whose server no configuration has.</summary>
    public McpServer? Server { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Verdict} {Client}:{Name}";
}
