using System;
using System.Linq;
using System.Collections.Generic;
using System.Threading;

namespace ModelSecurity.Sandbox;

/// <summary>Runs a prepared launch and turns what happened into a SandboxResult, canary checks included.</summary>
internal static class SandboxExecution
{
    public static SandboxResult Run(
        ISandboxBackend backend,
        SandboxRequest request,
        SandboxLaunch launch,
        IReadOnlyList<KeyValuePair<string, string>> decoys,
        IReadOnlyList<string> weakened,
        TimeSpan timeout,
        int maxOutputBytes,
        CancellationToken cancel,
        StandardInputScript? input = null,
        bool mcpServer = false,
        string? shownCommandLine = null)
    {
        OutputFolderOwner? lent = null;
        SandboxRun run;
        try
        {
            if (request.OutputPath is not null && launch.OutputOwnerId is int uid)
            {
                lent = OutputFolderOwner.Lend(request.OutputPath, uid);
            }

            run = SandboxProcess.Run(launch, maxOutputBytes, timeout, cancel, input);
        }
        finally
        {
            lent?.Restore();
        }

        var leaks = new List<string>();
        CanaryScanner.ScanText(decoys, run.Output, "Output", leaks);
        CanaryScanner.ScanText(decoys, run.ErrorOutput, "ErrorOutput", leaks);
        if (request.OutputPath is not null)
        {
            CanaryScanner.ScanFolder(decoys, request.OutputPath, leaks, cancel);
        }

        (McpServerInfo? server, IReadOnlyList<string> tools) = mcpServer ? McpHandshake.Read(run.Output) : (null, Array.Empty<string>());
        return new SandboxResult(
            backend.Kind,
            shownCommandLine ?? ShellQuote.Join(launch.CommandLine),
            run.ExitCode,
            run.Output,
            run.ErrorOutput,
            run.TimedOut,
            run.Duration,
            request.Network,
            weakened,
            leaks,
            run.Truncated,
            launch.Enforced,
            request.OutputPath)
        {
            McpServerInfo = server,
            McpTools = tools,
            Program = request.FilePath,
            ModelPath = request.ModelPaths.ToArray(),
        };
    }
}
