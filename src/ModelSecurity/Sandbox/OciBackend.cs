using System;
using System.Collections.Generic;
using System.Globalization;
using System.Security.Cryptography;

namespace ModelSecurity.Sandbox;

/// <summary>
/// Docker or Podman: one throw-away container from -Image with no network, a read-only root, a private
/// /tmp and HOME, all capabilities dropped, no new privileges, a process and memory limit, the models
/// bound read-only at their own paths and only the variables the cmdlet sets.
/// </summary>
internal sealed class OciBackend : ISandboxBackend
{
    private readonly string _cli;
    private readonly Lazy<string?> _probe;

    public OciBackend(SandboxBackendKind kind)
    {
        Kind = kind;
        _cli = kind == SandboxBackendKind.Podman ? "podman" : "docker";
        CliPath = HostTools.FindOnPath(_cli);
        _probe = new Lazy<string?>(ProbeOnce);
    }

    public SandboxBackendKind Kind { get; }

    internal string? CliPath { get; init; }

    /// <summary>The uid:gid the container runs as.</summary>
    internal string User { get; init; } = HostTools.IsRoot || OperatingSystem.IsWindows()
        ? string.Empty
        : NativeMethods.geteuid().ToString(CultureInfo.InvariantCulture) + ":" + NativeMethods.getegid().ToString(CultureInfo.InvariantCulture);

    /// <summary>The container name, so a timeout can kill the container and not only the CLI.</summary>
    internal string ContainerName { get; init; } = "modelsecurity-sandbox-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();

    public string? Probe() => _probe.Value;

    public SandboxLaunch Prepare(SandboxRequest request)
    {
        if (string.IsNullOrEmpty(request.Image))
        {
            throw new SandboxUnavailableException($"The {Kind} backend needs -Image: the container image that has the program (for example -Image python:3.12-slim).");
        }

        foreach (string path in Paths(request))
        {
            if (path.Contains(':', StringComparison.Ordinal) || path.Contains(',', StringComparison.Ordinal))
            {
                throw new SandboxUnavailableException($"The path '{path}' contains ':' or ',', which {_cli} -v cannot bind. Rename it or use the Bubblewrap backend.");
            }
        }

        string user = User.Length > 0 ? User : request.SandboxUserId.ToString(CultureInfo.InvariantCulture) + ":" + request.SandboxUserId.ToString(CultureInfo.InvariantCulture);
        var args = new List<string>
        {
            CliPath ?? _cli, "run", "--rm", "--name", ContainerName,
            "--read-only",
            "--tmpfs", $"/tmp:rw,nosuid,nodev,size={SandboxDefaults.TmpfsMB}m,mode=1777",
            "--tmpfs", $"{SandboxDefaults.Home}:rw,nosuid,nodev,size={SandboxDefaults.TmpfsMB}m,mode=1777",
            "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges",
            "--pids-limit", request.MaxProcesses.ToString(CultureInfo.InvariantCulture),
            "--memory", request.MemoryMB.ToString(CultureInfo.InvariantCulture) + "m",
            "--memory-swap", request.MemoryMB.ToString(CultureInfo.InvariantCulture) + "m",
            "--user", user,

            // Standard input reaches the program (it is closed at once unless -StandardInput or an MCP handshake writes to it).
            "--interactive",
        };
        var enforced = new List<string>
        {
            "container with read-only root; private /tmp and HOME",
            "all capabilities dropped; no new privileges",
            $"{request.MaxProcesses} processes (--pids-limit)",
            $"memory {request.MemoryMB} MB for the whole container (--memory)",
            $"runs as uid:gid {user}",
        };
        if (request.Network == SandboxNetwork.None)
        {
            args.Append("--network", "none");
            enforced.Add("no network (--network none)");
        }
        else
        {
            args.Append("--network", "host");
        }

        foreach (string model in request.ModelPaths)
        {
            args.Append("-v", model + ":" + model + ":ro");
        }

        enforced.Add("model paths read-only at their own paths");
        if (request.OutputPath is not null)
        {
            args.Append("-v", request.OutputPath + ":" + request.OutputPath);
            enforced.Add("-OutputPath the only writable host folder");
        }

        args.Append("-w", request.WorkingDirectory ?? request.OutputPath ?? SandboxDefaults.Home);
        foreach (KeyValuePair<string, string> variable in request.Environment)
        {
            args.Append("-e", variable.Key + "=" + variable.Value);
        }

        enforced.Add("only PATH, LANG, HOME, TMPDIR, decoys and -Environment set");
        args.Append("--entrypoint", request.FilePath, request.Image!);
        args.AddRange(request.Arguments);
        string cli = CliPath ?? _cli;
        string name = ContainerName;
        return new SandboxLaunch(args, enforced)
        {
            Stop = () => HostTools.RunBriefly(new[] { cli, "kill", name }, TimeSpan.FromSeconds(15)),
            OutputOwnerId = User.Length > 0 ? null : request.SandboxUserId,
        };
    }

    private static IEnumerable<string> Paths(SandboxRequest request)
    {
        foreach (string model in request.ModelPaths)
        {
            yield return model;
        }

        if (request.OutputPath is not null)
        {
            yield return request.OutputPath;
        }
    }

    private string? ProbeOnce()
    {
        string install = Kind == SandboxBackendKind.Podman
            ? "Install Podman (https://podman.io/docs/installation)"
            : "Install Docker and start its engine (https://docs.docker.com/engine/install/)";
        if (CliPath is null)
        {
            return $"{_cli} was not found. {install}.";
        }

        // The client alone is not enough: a daemon (Docker) or a working runtime (Podman) must answer.
        string[] check = Kind == SandboxBackendKind.Podman
            ? new[] { CliPath, "info", "--format", "{{.Host.Arch}}" }
            : new[] { CliPath, "version", "--format", "{{.Server.Version}}" };
        var outcome = HostTools.RunBriefly(check, TimeSpan.FromSeconds(10));
        if (outcome is null || outcome.Value.ExitCode != 0 || outcome.Value.Output.Trim().Length == 0)
        {
            string detail = outcome is null ? "it did not answer" : outcome.Value.Output.Trim();
            return $"{_cli} has no working engine ({detail}). {install}.";
        }

        return null;
    }
}
