using System;
using System.Collections.Generic;

namespace ModelSecurity.Sandbox;

/// <summary>The outcome of one Invoke-ModelSandbox run.</summary>
public sealed class SandboxResult
{
    internal SandboxResult(
        SandboxBackendKind backend,
        string commandLine,
        int exitCode,
        string output,
        string errorOutput,
        bool timedOut,
        TimeSpan duration,
        SandboxNetwork network,
        IReadOnlyList<string> weakened,
        IReadOnlyList<string> canaryLeaks,
        bool outputTruncated,
        IReadOnlyList<string> enforced,
        string? outputPath)
    {
        Backend = backend;
        CommandLine = commandLine;
        ExitCode = exitCode;
        Output = output;
        ErrorOutput = errorOutput;
        TimedOut = timedOut;
        Duration = duration;
        Network = network;
        Weakened = weakened;
        CanaryLeaks = canaryLeaks;
        OutputTruncated = outputTruncated;
        Enforced = enforced;
        OutputPath = outputPath;
    }

    /// <summary>The backend that ran the program.</summary>
    public SandboxBackendKind Backend { get; }

    /// <summary>The exact backend command line, quoted for a POSIX shell.</summary>
    public string CommandLine { get; }

    /// <summary>The program's exit code (the killed backend's code when TimedOut).</summary>
    public int ExitCode { get; }

    /// <summary>Standard output, up to -MaxOutputBytes.</summary>
    public string Output { get; }

    /// <summary>Standard error, up to -MaxOutputBytes (backend errors such as a missing program appear here).</summary>
    public string ErrorOutput { get; }

    /// <summary>True when -TimeoutSeconds elapsed and the whole process tree was killed.</summary>
    public bool TimedOut { get; }

    /// <summary>Wall-clock time from start to exit.</summary>
    public TimeSpan Duration { get; }

    /// <summary>The network the program had: None unless -Network Host was confirmed.</summary>
    public SandboxNetwork Network { get; }

    /// <summary>Each default that was weakened for this run (empty when all defaults held).</summary>
    public IReadOnlyList<string> Weakened { get; }

    /// <summary>Each decoy credential that showed up in the output or in a file under -OutputPath, with where.</summary>
    public IReadOnlyList<string> CanaryLeaks { get; }

    /// <summary>True when standard output or error exceeded -MaxOutputBytes and was cut.</summary>
    public bool OutputTruncated { get; }

    /// <summary>The isolation measures the backend enforced, in words (what the result can be trusted for).</summary>
    public IReadOnlyList<string> Enforced { get; }

    /// <summary>The only writable host folder, or null.</summary>
    public string? OutputPath { get; }

    /// <summary>The program that was run, as it was given (a name looked up inside, or a path).</summary>
    public string Program { get; internal init; } = string.Empty;

    /// <summary>The model files and folders bound read-only into the sandbox.</summary>
    public IReadOnlyList<string> ModelPath { get; internal init; } = Array.Empty<string>();

    /// <summary>For an MCP server run: the server's name, version and protocol version from its answer to initialize; null when it gave none.</summary>
    public McpServerInfo? McpServerInfo { get; internal init; }

    /// <summary>For an MCP server run: the names of the tools its tools/list answer listed (at most 1024); empty otherwise.</summary>
    public IReadOnlyList<string> McpTools { get; internal init; } = Array.Empty<string>();
}
