using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;

namespace ModelSecurity.Sandbox;

/// <summary>Finding and briefly running the host tools the backends rely on.</summary>
internal static class HostTools
{
    /// <summary>System folders: bound read-only into a bubblewrap sandbox, and the only places its helpers are taken from.</summary>
    public static readonly string[] SystemFolders = { "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt" };

    public static bool IsLinux => RuntimeInformation.IsOSPlatform(OSPlatform.Linux);

    public static bool IsRoot => !OperatingSystem.IsWindows() && NativeMethods.geteuid() == 0;

    /// <summary>The first executable of that name in the sandbox PATH's folders (all inside system folders).</summary>
    public static string? FindSystemTool(string name)
    {
        foreach (string folder in SandboxDefaults.Path.Split(':'))
        {
            string candidate = Path.Combine(folder, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>The first executable of that name on the caller's PATH, then in the sandbox PATH's folders.</summary>
    public static string? FindOnPath(string name)
    {
        string[] folders = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (string folder in folders)
        {
            string candidate = Path.Combine(folder, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return FindSystemTool(name);
    }

    /// <summary>True when a path is one of the system folders or inside one.</summary>
    public static bool IsUnderSystemFolder(string path)
    {
        foreach (string folder in SystemFolders)
        {
            if (IsSameOrBelow(path, folder))
            {
                return true;
            }
        }

        return false;
    }

    public static bool IsSameOrBelow(string path, string folder) =>
        string.Equals(path, folder, StringComparison.Ordinal) ||
        path.StartsWith(folder.TrimEnd('/') + "/", StringComparison.Ordinal);

    /// <summary>Runs a short command with a deadline; returns its exit code and output, or null when it could not run or timed out.</summary>
    public static (int ExitCode, string Output)? RunBriefly(IReadOnlyList<string> commandLine, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(commandLine[0])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        for (int i = 1; i < commandLine.Count; i++)
        {
            start.ArgumentList.Add(commandLine[i]);
        }

        try
        {
            using Process process = Process.Start(start)!;
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit((int)timeout.TotalMilliseconds))
            {
                process.Kill(entireProcessTree: true);
                return null;
            }

            process.WaitForExit();
            return (process.ExitCode, output.GetAwaiter().GetResult() + error.GetAwaiter().GetResult());
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return null;
        }
    }
}

/// <summary>Appending several arguments at once to a command line.</summary>
internal static class ArgumentListExtensions
{
    public static void Append(this List<string> arguments, params string[] items) => arguments.AddRange(items);
}
