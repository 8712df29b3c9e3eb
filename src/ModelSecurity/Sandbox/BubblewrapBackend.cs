using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace ModelSecurity.Sandbox;

/// <summary>
/// bubblewrap on Linux. A new mount namespace whose root is an empty tmpfs: the system folders bound
/// read-only, a private /tmp and HOME, the models bound read-only at their own paths, -OutputPath bound
/// read-write; new PID, IPC, UTS and (unless -Network Host) network namespaces; a new session; all
/// capabilities dropped; the sandbox dies with the cmdlet. Inside, prlimit sets the address-space and
/// process-count limits. A root caller's program runs as a one-off unprivileged uid (setpriv), because
/// the kernel does not apply the process-count limit to root.
/// </summary>
internal sealed class BubblewrapBackend : ISandboxBackend
{
    private const string InstallHint = "Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap) and util-linux (prlimit, setpriv)";

    private static readonly Lazy<string?> ProbeResult = new(ProbeOnce);
    private static readonly Lazy<string> HelpText = new(() =>
        HostTools.FindOnPath("bwrap") is { } bwrap ? HostTools.RunBriefly(new[] { bwrap, "--help" }, TimeSpan.FromSeconds(10))?.Output ?? string.Empty : string.Empty);

    private readonly bool _root;

    public BubblewrapBackend()
        : this(HostTools.IsLinux && HostTools.IsRoot)
    {
    }

    /// <summary>For tests: builds command lines as for a root or a non-root caller.</summary>
    internal BubblewrapBackend(bool root) => _root = root;

    public SandboxBackendKind Kind => SandboxBackendKind.Bubblewrap;

    internal string BwrapPath { get; init; } = HostTools.FindOnPath("bwrap") ?? "/usr/bin/bwrap";

    internal string PrlimitPath { get; init; } = HostTools.FindSystemTool("prlimit") ?? "/usr/bin/prlimit";

    internal string SetprivPath { get; init; } = HostTools.FindSystemTool("setpriv") ?? "/usr/bin/setpriv";

    /// <summary>bubblewrap 0.7 and later can cap a tmpfs's size.</summary>
    internal bool SupportsSize { get; init; } = HelpText.Value.Contains("--size", StringComparison.Ordinal);

    /// <summary>bubblewrap 0.8 and later can forbid nested user namespaces.</summary>
    internal bool SupportsDisableUserns { get; init; } = HelpText.Value.Contains("--disable-userns", StringComparison.Ordinal);

    /// <summary>Which of the system folders exist, and which are symbolic links (merged /usr).</summary>
    internal Func<string, (bool Exists, string? LinkTarget)> InspectFolder { get; init; } = Inspect;

    public string? Probe() => ProbeResult.Value;

    public SandboxLaunch Prepare(SandboxRequest request)
    {
        var args = new List<string> { BwrapPath };
        var enforced = new List<string>();

        if (!_root)
        {
            // An unprivileged caller needs a user namespace; it is also where the process count is counted.
            args.Add("--unshare-user");
            if (SupportsDisableUserns)
            {
                args.Add("--disable-userns");
            }

            enforced.Add(SupportsDisableUserns ? "user namespace (no nested user namespaces)" : "user namespace");
        }

        args.Append("--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try");
        enforced.Add("PID, IPC and UTS namespaces");
        if (request.Network == SandboxNetwork.None)
        {
            args.Add("--unshare-net");
            enforced.Add("network namespace with loopback only (no network)");
        }

        args.Append("--die-with-parent", "--new-session", "--cap-drop", "ALL");
        enforced.Add("new session; all capabilities dropped; no new privileges");
        if (_root)
        {
            // Only for setpriv, which drops them with the bounding set before the program starts.
            args.Append("--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP");
        }

        var visible = new List<string>();
        foreach (string folder in HostTools.SystemFolders)
        {
            (bool exists, string? target) = InspectFolder(folder);
            if (!exists)
            {
                continue;
            }

            if (target is not null)
            {
                args.Append("--symlink", target, folder);
            }
            else
            {
                args.Append("--ro-bind", folder, folder);
                visible.Add(folder);
            }
        }

        enforced.Add("system folders read-only (" + string.Join(", ", visible) + ")");
        args.Append("--proc", "/proc", "--dev", "/dev");
        args.Append("--perms", "1777");
        AddSize(args);
        args.Append("--tmpfs", "/tmp", "--perms", "0755", "--dir", "/home", "--perms", "1777");
        AddSize(args);
        args.Append("--tmpfs", SandboxDefaults.Home);
        enforced.Add(SupportsSize
            ? $"private /tmp and HOME ({SandboxDefaults.Home}), {SandboxDefaults.TmpfsMB} MB each; host home and /tmp not visible"
            : $"private /tmp and HOME ({SandboxDefaults.Home}), size not capped (bubblewrap before 0.7); host home and /tmp not visible");

        var made = new HashSet<string>(StringComparer.Ordinal) { "/", "/tmp", "/home", SandboxDefaults.Home };
        foreach (string model in request.ModelPaths)
        {
            if (HostTools.IsUnderSystemFolder(model))
            {
                continue;
            }

            AddParents(args, made, model);
            args.Append("--ro-bind", model, model);
        }

        enforced.Add("model paths read-only at their own paths");
        if (request.OutputPath is not null)
        {
            AddParents(args, made, request.OutputPath);
            args.Append("--bind", request.OutputPath, request.OutputPath);
            enforced.Add("-OutputPath the only writable host folder");
        }
        else
        {
            enforced.Add("no writable host folder");
        }

        args.Append("--chdir", request.WorkingDirectory ?? request.OutputPath ?? SandboxDefaults.Home, "--clearenv");
        foreach (KeyValuePair<string, string> variable in request.Environment)
        {
            args.Append("--setenv", variable.Key, variable.Value);
        }

        enforced.Add("environment cleared; only PATH, LANG, HOME, TMPDIR, decoys and -Environment set");

        long addressSpace = request.MemoryMB * 1024L * 1024L;
        args.Append(
            "--", PrlimitPath,
            "--as=" + addressSpace.ToString(CultureInfo.InvariantCulture),
            "--nproc=" + request.MaxProcesses.ToString(CultureInfo.InvariantCulture),
            "--core=0", "--");
        enforced.Add($"address space {request.MemoryMB} MB per process (RLIMIT_AS)");
        int? owner = null;
        if (_root)
        {
            string id = request.SandboxUserId.ToString(CultureInfo.InvariantCulture);
            args.Append(
                SetprivPath, "--reuid=" + id, "--regid=" + id, "--clear-groups",
                "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs", "--");
            enforced.Add($"{request.MaxProcesses} processes (RLIMIT_NPROC) for one-off uid {id}");
            owner = request.SandboxUserId;
        }
        else
        {
            enforced.Add($"{request.MaxProcesses} processes (RLIMIT_NPROC) in the sandbox's user namespace");
        }

        args.Add(request.FilePath);
        args.AddRange(request.Arguments);
        return new SandboxLaunch(args, enforced)
        {
            LauncherEnvironment = new Dictionary<string, string>(StringComparer.Ordinal) { ["PATH"] = SandboxDefaults.Path },
            OutputOwnerId = owner,
        };
    }

    private void AddSize(List<string> args)
    {
        if (SupportsSize)
        {
            args.Append("--size", (SandboxDefaults.TmpfsMB * 1024L * 1024L).ToString(CultureInfo.InvariantCulture));
        }
    }

    // bwrap creates missing parents with restrictive modes; create them world-readable so the sandbox user can walk in.
    private static void AddParents(List<string> args, HashSet<string> made, string path)
    {
        var parents = new List<string>();
        for (string? parent = Path.GetDirectoryName(path); parent is not null && parent != "/"; parent = Path.GetDirectoryName(parent))
        {
            parents.Add(parent);
        }

        parents.Reverse();
        foreach (string parent in parents.Where(p => !HostTools.IsUnderSystemFolder(p)))
        {
            if (made.Add(parent))
            {
                args.Append("--perms", "0755", "--dir", parent);
            }
        }
    }

    private static (bool Exists, string? LinkTarget) Inspect(string folder)
    {
        var info = new DirectoryInfo(folder);
        if (info.LinkTarget is { } target)
        {
            return (true, target);
        }

        return (info.Exists, null);
    }

    private static string? ProbeOnce()
    {
        if (!HostTools.IsLinux)
        {
            return "bubblewrap runs on Linux only.";
        }

        string? bwrap = HostTools.FindOnPath("bwrap");
        if (bwrap is null)
        {
            return "bwrap was not found. " + InstallHint + ".";
        }

        bool root = HostTools.IsRoot;
        foreach (string tool in root ? new[] { "prlimit", "setpriv", "true" } : new[] { "prlimit", "true" })
        {
            if (HostTools.FindSystemTool(tool) is null)
            {
                return $"{tool} was not found in /usr/bin or /bin. " + InstallHint + ".";
            }
        }

        if (!HelpText.Value.Contains("--perms", StringComparison.Ordinal))
        {
            return "this bwrap is older than 0.5 (no --perms). Install a newer bubblewrap.";
        }

        var probe = new List<string> { bwrap };
        if (!root)
        {
            probe.Add("--unshare-user");
        }

        probe.Append(
            "--unshare-net", "--unshare-pid", "--unshare-ipc", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--", HostTools.FindSystemTool("true")!);
        var outcome = HostTools.RunBriefly(probe, TimeSpan.FromSeconds(10));
        if (outcome is null)
        {
            return "bwrap could not be started or did not finish its self-test.";
        }

        if (outcome.Value.ExitCode != 0)
        {
            return "bwrap cannot create namespaces here (" + outcome.Value.Output.Trim() +
                "). Allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 or user.max_user_namespaces > 0), or run in a container that permits them.";
        }

        return null;
    }
}
