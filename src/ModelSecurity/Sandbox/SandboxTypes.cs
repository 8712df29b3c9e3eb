using System;
using System.Collections.Generic;

namespace ModelSecurity.Sandbox;

/// <summary>The isolation technology that runs the program.</summary>
public enum SandboxBackendKind
{
    /// <summary>The first usable backend: Bubblewrap on Linux, then Podman, then Docker (these two only with -Image).</summary>
    Auto,

    /// <summary>bubblewrap (bwrap) namespaces on Linux.</summary>
    Bubblewrap,

    /// <summary>A Docker container.</summary>
    Docker,

    /// <summary>A Podman container.</summary>
    Podman,
}

/// <summary>What network the program sees.</summary>
public enum SandboxNetwork
{
    /// <summary>A network namespace of its own with only a loopback device: no connection leaves the sandbox.</summary>
    None,

    /// <summary>The host's network (a weakening that needs confirmation).</summary>
    Host,
}

/// <summary>Everything a backend needs to build its command line; paths are absolute and resolved.</summary>
internal sealed class SandboxRequest
{
    public IReadOnlyList<string> ModelPaths { get; init; } = Array.Empty<string>();

    public string FilePath { get; init; } = string.Empty;

    public IReadOnlyList<string> Arguments { get; init; } = Array.Empty<string>();

    public string? OutputPath { get; init; }

    public string? WorkingDirectory { get; init; }

    /// <summary>Variables set inside, in order: PATH/LANG/HOME, the decoys, then what the caller passed.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Environment { get; init; } = Array.Empty<KeyValuePair<string, string>>();

    public SandboxNetwork Network { get; init; }

    public int MemoryMB { get; init; } = SandboxDefaults.MemoryMB;

    public int MaxProcesses { get; init; } = SandboxDefaults.MaxProcesses;

    public string? Image { get; init; }

    /// <summary>The unprivileged uid/gid the program runs as when the caller is root.</summary>
    public int SandboxUserId { get; init; } = SandboxDefaults.FirstSandboxUserId;
}

/// <summary>Defaults and fixed bounds shared by the cmdlet and the backends.</summary>
internal static class SandboxDefaults
{
    public const int TimeoutSeconds = 600;
    public const int MemoryMB = 4096;
    public const int MaxProcesses = 256;
    public const int MaxOutputBytes = 1024 * 1024;

    /// <summary>Size of the private /tmp and HOME file systems (kept in memory by the kernel).</summary>
    public const int TmpfsMB = 512;

    /// <summary>Home folder inside the sandbox.</summary>
    public const string Home = "/home/sandbox";

    /// <summary>PATH inside the sandbox.</summary>
    public const string Path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>One-off uids for root callers are drawn from [First, First + Count): far above login and subordinate-id ranges.</summary>
    public const int FirstSandboxUserId = 1_900_000_000;
    public const int SandboxUserIdCount = 100_000_000;
}

/// <summary>A backend's answer to "can you run this here?".</summary>
internal sealed class SandboxLaunch
{
    public SandboxLaunch(IReadOnlyList<string> commandLine, IReadOnlyList<string> enforced)
    {
        CommandLine = commandLine;
        Enforced = enforced;
    }

    /// <summary>The program and arguments to start; element 0 is an absolute path.</summary>
    public IReadOnlyList<string> CommandLine { get; }

    /// <summary>Each isolation measure the backend enforces for this run, in words.</summary>
    public IReadOnlyList<string> Enforced { get; }

    /// <summary>Variables for the backend's own process (not the sandboxed program); null inherits the caller's.</summary>
    public IReadOnlyDictionary<string, string>? LauncherEnvironment { get; init; }

    /// <summary>Stops what killing the launcher alone would leave running (a container); may be null.</summary>
    public Action? Stop { get; init; }

    /// <summary>The uid the sandbox writes -OutputPath files as, when it differs from the caller's; else null.</summary>
    public int? OutputOwnerId { get; init; }
}

/// <summary>No backend can run the request; the message says what to install or change.</summary>
public sealed class SandboxUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SandboxUnavailableException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public SandboxUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    public SandboxUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
