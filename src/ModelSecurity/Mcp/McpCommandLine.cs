using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace ModelSecurity.Mcp;

/// <summary>What a stdio server's command line says about the package it runs.</summary>
internal sealed record McpLaunch(
    McpPackageManager PackageManager,
    string? Package,
    string? RequestedVersion,
    IReadOnlyList<(string Flag, int Index)> AutoInstallFlags,
    IReadOnlyList<string> DockerEnvironmentNames,
    string? ShellName,
    string? ShellScript);

/// <summary>
/// Reads the command and arguments of a stdio MCP server the way the launcher named by the command would:
/// <c>npx</c>/<c>npm exec</c>/<c>pnpm dlx</c>/<c>yarn dlx</c>/<c>bunx</c>, <c>uvx</c>/<c>uv tool run</c>,
/// <c>pipx run</c>, <c>docker</c>/<c>podman run</c>, a shell with <c>-c</c>, an interpreter with a script,
/// or a program given by path. Nothing is run.
/// </summary>
internal static class McpCommandLine
{
    private static readonly System.Buffers.SearchValues<char> SpecOperators = System.Buffers.SearchValues.Create("=<>~!; ");

    private static readonly System.Buffers.SearchValues<char> RangeCharacters = System.Buffers.SearchValues.Create("^~><*| ,!");

    private static readonly string[] Interpreters = { "node", "nodejs", "python", "python3", "py", "deno", "bun", "ruby", "perl", "php", "java", "dotnet" };

    private static readonly string[] Shells = { "sh", "bash", "zsh", "dash", "ksh", "fish", "cmd", "powershell", "pwsh" };

    // npx/npm exec options that take a value (the package is then that value for --package).
    // The options that name the package to run, for npx, uvx and pipx.
    private static readonly string[] NpxSpecOptions = { "--package", "-p" };
    private static readonly string[] UvSpecOptions = { "--from" };
    private static readonly string[] PipxSpecOptions = { "--spec" };

    private static readonly string[] NpxValueOptions = { "-p", "--package", "-c", "--call", "--registry", "--cache", "--userconfig", "-w", "--workspace" };

    private static readonly string[] UvValueOptions =
    {
        "--from", "--with", "--with-editable", "--with-requirements", "-p", "--python", "--index", "--default-index", "--index-url", "-i", "--extra-index-url",
        "--find-links", "-f", "--directory", "--project", "--env-file", "--cache-dir", "--config-file", "--constraints", "-c", "--overrides", "--build-constraints",
        "--index-strategy", "--keyring-provider", "--resolution", "--prerelease", "--exclude-newer", "--link-mode", "--refresh-package", "--reinstall-package",
        "--upgrade-package", "-P", "--color", "--allow-insecure-host", "--python-preference",
    };

    private static readonly string[] PipxValueOptions = { "--spec", "--python", "--index-url", "-i", "--pip-args", "--backend", "--fetch-python" };

    // docker/podman run options that take a value; anything else starting with '-' is a flag.
    private static readonly HashSet<string> DockerValueOptions = new(StringComparer.Ordinal)
    {
        "-e", "--env", "--env-file", "-v", "--volume", "--mount", "-p", "--publish", "--name", "--network", "--net", "-w", "--workdir", "-u", "--user",
        "--entrypoint", "-l", "--label", "--label-file", "--platform", "--pull", "-m", "--memory", "--memory-swap", "--memory-reservation", "--cpus", "-c",
        "--cpu-shares", "--cpuset-cpus", "--cpuset-mems", "--add-host", "--device", "--cap-add", "--cap-drop", "--security-opt", "--tmpfs", "--ulimit",
        "-h", "--hostname", "--runtime", "--restart", "--log-driver", "--log-opt", "--ipc", "--pid", "--uts", "--userns", "--group-add", "--gpus", "--dns",
        "--dns-search", "--dns-option", "--cidfile", "--shm-size", "--stop-signal", "--stop-timeout", "--health-cmd", "--health-interval", "--health-retries",
        "--health-timeout", "--health-start-period", "--expose", "--link", "--volumes-from", "-a", "--attach", "--cgroup-parent", "--cgroupns", "--ip", "--ip6",
        "--mac-address", "--network-alias", "--pids-limit", "--storage-opt", "--sysctl", "--isolation", "--kernel-memory", "--oom-score-adj", "--domainname",
        "--blkio-weight", "--device-read-bps", "--device-write-bps", "--annotation", "--arch", "--os", "--secret", "--hooks-dir", "--pod", "--requires",
    };

    /// <summary>Reads <paramref name="command"/> and <paramref name="args"/>.</summary>
    public static McpLaunch Read(string? command, IReadOnlyList<string> args)
    {
        var autoInstall = new List<(string, int)>();
        if (string.IsNullOrWhiteSpace(command))
        {
            return new McpLaunch(McpPackageManager.None, null, null, autoInstall, Array.Empty<string>(), null, null);
        }

        string program = ProgramName(command!);
        switch (program)
        {
            case "npx" or "bunx":
                return Npm(args, 0, autoInstall);
            case "npm" when args.Count > 0 && args[0] is "exec" or "x":
                return Npm(args, 1, autoInstall);
            case "pnpm" or "yarn" when args.Count > 0 && args[0] == "dlx":
                return Npm(args, 1, autoInstall);
            case "pnpx":
                return Npm(args, 0, autoInstall);
            case "bun" when args.Count > 0 && args[0] == "x":
                return Npm(args, 1, autoInstall);
            case "uvx":
                return Uv(args, 0);
            case "uv" when args.Count > 1 && args[0] == "tool" && args[1] == "run":
                return Uv(args, 2);
            case "pipx" when args.Count > 0 && args[0] == "run":
                return Pipx(args, 1);
            case "docker" or "podman" or "nerdctl" when args.Count > 0 && (args[0] == "run" || (args.Count > 1 && args[0] == "container" && args[1] == "run")):
                return Docker(args, args[0] == "run" ? 1 : 2, autoInstall);
        }

        if (Shells.Contains(program))
        {
            string? script = ShellScript(program, args);
            return new McpLaunch(McpPackageManager.None, null, null, autoInstall, Array.Empty<string>(), program, script);
        }

        if (Interpreters.Contains(program))
        {
            string? script = InterpreterScript(program, args);
            if (script is not null)
            {
                return new McpLaunch(McpPackageManager.Local, script, null, autoInstall, Array.Empty<string>(), null, null);
            }
        }

        if (IsPath(command!))
        {
            return new McpLaunch(McpPackageManager.Local, command, null, autoInstall, Array.Empty<string>(), null, null);
        }

        return new McpLaunch(McpPackageManager.None, null, null, autoInstall, Array.Empty<string>(), null, null);
    }

    /// <summary>The program's name without folder, extension (.exe, .cmd, .bat, .ps1) or a Python version suffix kept.</summary>
    internal static string ProgramName(string command)
    {
        string name = command.Trim().Trim('"');
        int slash = Math.Max(name.LastIndexOf('/'), name.LastIndexOf('\\'));
        name = name.Substring(slash + 1).ToLowerInvariant();
        foreach (string ext in new[] { ".exe", ".cmd", ".bat", ".ps1" })
        {
            if (name.EndsWith(ext, StringComparison.Ordinal))
            {
                return name.Substring(0, name.Length - ext.Length);
            }
        }

        return name;
    }

    /// <summary>Splits an npm package spec into name and version: <c>@scope/pkg@1.2.3</c>, <c>pkg@latest</c>, <c>pkg</c>.</summary>
    internal static (string Name, string? Version) SplitNpmSpec(string spec)
    {
        if (spec.Contains("://", StringComparison.Ordinal) || spec.StartsWith("github:", StringComparison.OrdinalIgnoreCase) || spec.StartsWith("git+", StringComparison.OrdinalIgnoreCase)
            || spec.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            return (spec, null);
        }

        int at = spec.LastIndexOf('@');
        return at > 0 ? (spec.Substring(0, at), NullIfEmpty(spec.Substring(at + 1))) : (spec, null);
    }

    /// <summary>Splits a Python requirement into name and version: <c>pkg==1.2</c>, <c>pkg@1.2</c> (uvx), <c>pkg&gt;=1</c> (kept as the range).</summary>
    internal static (string Name, string? Version) SplitPythonSpec(string spec)
    {
        int at = spec.IndexOf('@', StringComparison.Ordinal);
        if (at > 0 && !spec.Contains("://", StringComparison.Ordinal))
        {
            return (spec.Substring(0, at).Trim(), NullIfEmpty(spec.Substring(at + 1).Trim()));
        }

        int op = spec.AsSpan().IndexOfAny(SpecOperators);
        if (op <= 0)
        {
            return (spec.Trim(), null);
        }

        string name = spec.Substring(0, op).Trim();
        string rest = spec.Substring(op).Trim();
        return rest.StartsWith("==", StringComparison.Ordinal) && !rest.Contains(',', StringComparison.Ordinal) && !rest.Contains('*', StringComparison.Ordinal)
            ? (name, NullIfEmpty(rest.Substring(2).Trim()))
            : (name, NullIfEmpty(rest));
    }

    /// <summary>Splits an image reference into name and tag/digest: <c>ghcr.io/o/i:1.2@sha256:…</c> gives <c>ghcr.io/o/i</c> and <c>1.2@sha256:…</c>.</summary>
    internal static (string Name, string? Version) SplitImage(string image)
    {
        string name = image;
        string? digest = null;
        int at = image.IndexOf('@', StringComparison.Ordinal);
        if (at > 0)
        {
            digest = image.Substring(at + 1);
            name = image.Substring(0, at);
        }

        string? tag = null;
        int colon = name.LastIndexOf(':');
        if (colon > name.LastIndexOf('/'))
        {
            tag = name.Substring(colon + 1);
            name = name.Substring(0, colon);
        }

        string? version = tag is null ? digest : digest is null ? tag : tag + "@" + digest;
        return (name, NullIfEmpty(version));
    }

    /// <summary>True when <paramref name="version"/> names one exact release (not a range, dist-tag or mutable image tag).</summary>
    internal static bool IsExact(McpPackageManager manager, string? version)
    {
        if (string.IsNullOrWhiteSpace(version))
        {
            return false;
        }

        if (manager == McpPackageManager.Docker)
        {
            return version!.Contains("sha256:", StringComparison.OrdinalIgnoreCase);
        }

        string v = version!.Trim();
        if (v.Equals("latest", StringComparison.OrdinalIgnoreCase) || v.Equals("next", StringComparison.OrdinalIgnoreCase) || v.Equals("canary", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return char.IsDigit(v[0]) && v.AsSpan().IndexOfAny(RangeCharacters) < 0 && !v.Split('.').Any(p => p is "x" or "X");
    }

    private static McpLaunch Npm(IReadOnlyList<string> args, int start, List<(string, int)> autoInstall) =>
        PackageLauncher(McpPackageManager.Npx, args, start, NpxSpecOptions, NpxValueOptions, autoInstall, SplitNpmSpec);

    private static McpLaunch Uv(IReadOnlyList<string> args, int start) =>
        PackageLauncher(McpPackageManager.Uvx, args, start, UvSpecOptions, UvValueOptions, null, SplitPythonSpec);

    private static McpLaunch Pipx(IReadOnlyList<string> args, int start) =>
        PackageLauncher(McpPackageManager.Pipx, args, start, PipxSpecOptions, PipxValueOptions, null, SplitPythonSpec);

    /// <summary>
    /// npx (and its kin), uvx and pipx run: the package is the value of a spec option (--package/-p, --from,
    /// --spec) when given, else the first argument that is not an option (or the one after "--"); options in
    /// <paramref name="valueOptions"/> take a value. With <paramref name="autoInstall"/>, -y/--yes are recorded there.
    /// </summary>
    private static McpLaunch PackageLauncher(
        McpPackageManager manager,
        IReadOnlyList<string> args,
        int start,
        string[] specOptions,
        string[] valueOptions,
        List<(string, int)>? autoInstall,
        Func<string, (string Name, string? Version)> split)
    {
        string? spec = null;
        string? first = null;
        for (int i = start; i < args.Count; i++)
        {
            string a = args[i];
            if (a == "--")
            {
                first ??= i + 1 < args.Count ? args[i + 1] : null;
                break;
            }

            if (autoInstall is not null && (a is "-y" or "--yes" || a.StartsWith("--yes=", StringComparison.Ordinal) && !a.EndsWith("=false", StringComparison.Ordinal)))
            {
                autoInstall.Add((a, i));
                continue;
            }

            string? inline = specOptions.FirstOrDefault(o => o.StartsWith("--", StringComparison.Ordinal) && a.StartsWith(o + "=", StringComparison.Ordinal));
            if (inline is not null)
            {
                spec ??= a.Substring(inline.Length + 1);
                continue;
            }

            if (valueOptions.Contains(a))
            {
                if (specOptions.Contains(a) && i + 1 < args.Count)
                {
                    spec ??= args[i + 1];
                }

                i++;
                continue;
            }

            if (a.StartsWith('-'))
            {
                continue;
            }

            first = a;
            break;
        }

        string? chosen = spec ?? first;
        IReadOnlyList<(string, int)> flags = autoInstall ?? (IReadOnlyList<(string, int)>)Array.Empty<(string, int)>();
        if (chosen is null)
        {
            return new McpLaunch(manager, null, null, flags, Array.Empty<string>(), null, null);
        }

        var (name, version) = split(chosen);
        return new McpLaunch(manager, name, version, flags, Array.Empty<string>(), null, null);
    }

    private static McpLaunch Docker(IReadOnlyList<string> args, int start, List<(string, int)> autoInstall)
    {
        var env = new List<string>();
        string? image = null;
        for (int i = start; i < args.Count; i++)
        {
            string a = args[i];
            if (a == "--")
            {
                image = i + 1 < args.Count ? args[i + 1] : null;
                break;
            }

            if (!a.StartsWith('-') || a == "-")
            {
                image = a;
                break;
            }

            string option = a;
            string? value = null;
            int eq = a.IndexOf('=', StringComparison.Ordinal);
            if (a.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                option = a.Substring(0, eq);
                value = a.Substring(eq + 1);
            }
            else if (!a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2 && DockerValueOptions.Contains(a.Substring(0, 2)))
            {
                // -eNAME=value, -p8080:80: a short option glued to its value.
                option = a.Substring(0, 2);
                value = a.Substring(2);
            }
            else if (DockerValueOptions.Contains(a))
            {
                value = i + 1 < args.Count ? args[i + 1] : null;
                i++;
            }

            if ((option is "-e" or "--env") && value is not null)
            {
                int equals = value.IndexOf('=', StringComparison.Ordinal);
                env.Add(equals > 0 ? value.Substring(0, equals) : value);
            }

            if (option == "--pull" && string.Equals(value, "always", StringComparison.OrdinalIgnoreCase))
            {
                autoInstall.Add((a + (eq > 0 ? string.Empty : " always"), i));
            }
        }

        if (image is null)
        {
            return new McpLaunch(McpPackageManager.Docker, null, null, autoInstall, env, null, null);
        }

        var (name, version) = SplitImage(image);
        return new McpLaunch(McpPackageManager.Docker, name, version, autoInstall, env, null, null);
    }

    private static string? ShellScript(string shell, IReadOnlyList<string> args)
    {
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            bool isCommandFlag = shell switch
            {
                "cmd" => a.Equals("/c", StringComparison.OrdinalIgnoreCase) || a.Equals("/k", StringComparison.OrdinalIgnoreCase),
                "powershell" or "pwsh" => a.Equals("-c", StringComparison.OrdinalIgnoreCase) || a.Equals("-command", StringComparison.OrdinalIgnoreCase)
                    || a.Equals("-encodedcommand", StringComparison.OrdinalIgnoreCase) || a.Equals("-e", StringComparison.OrdinalIgnoreCase) || a.Equals("-ec", StringComparison.OrdinalIgnoreCase),
                _ => a.StartsWith('-') && !a.StartsWith("--", StringComparison.Ordinal) && a.Contains('c', StringComparison.Ordinal),
            };
            if (isCommandFlag)
            {
                return i + 1 < args.Count ? string.Join(" ", args.Skip(i + 1)) : string.Empty;
            }
        }

        return null;
    }

    private static string? InterpreterScript(string interpreter, IReadOnlyList<string> args)
    {
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (a is "-e" or "--eval" or "-c" or "-m" or "-p" or "--print")
            {
                return null; // inline code or a module: no file to point at
            }

            if (a == "-jar" && interpreter == "java")
            {
                return i + 1 < args.Count ? args[i + 1] : null;
            }

            if (a.StartsWith('-'))
            {
                continue;
            }

            return interpreter is "deno" or "bun" or "dotnet" && a is "run" ? (i + 1 < args.Count && !args[i + 1].StartsWith('-') ? args[i + 1] : null) : a;
        }

        return null;
    }

    private static bool IsPath(string command) =>
        command.Contains('/', StringComparison.Ordinal) || command.Contains('\\', StringComparison.Ordinal) || Path.IsPathRooted(command);

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
