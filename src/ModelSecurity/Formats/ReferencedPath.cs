using System;
using System.IO;
using System.Text.RegularExpressions;

namespace ModelSecurity.Formats;

/// <summary>
/// Paths a model names for its loader to open (ONNX external data, file names in TensorFlow graphs).
/// A path is judged raw, before any normalisation, because loaders differ in how they normalise:
/// CVE-2024-27318 bypassed onnx's fix for CVE-2022-25882 with "subdir/../../x", which normalises to
/// an escape only after the check.
/// </summary>
internal static class ReferencedPath
{
    private static readonly Regex Scheme = new(@"^([A-Za-z][A-Za-z0-9+.\-]*://|file:)", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);
    private static readonly Regex HostPort = new(@"^(localhost|[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+|\[[0-9A-Fa-f:]+\]):\d{1,5}$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);

    /// <summary>Why <paramref name="path"/> leaves the folder it is meant to be relative to, or null when it stays inside.</summary>
    public static string? Escape(string path)
    {
        if (path.Length == 0)
        {
            return null;
        }

        foreach (char c in path)
        {
            if (c < ' ')
            {
                return c == '\0'
                    ? "it holds a NUL character (C and Python cut the path there, so the checked and the opened path differ)"
                    : "it holds control characters";
            }
        }

        if (path.StartsWith(@"\\", StringComparison.Ordinal) || path.StartsWith("//", StringComparison.Ordinal))
        {
            return "it is a UNC or network path";
        }

        if (path[0] is '/' or '\\')
        {
            return "it is an absolute path";
        }

        if (path.Length >= 2 && path[1] == ':' && char.IsAsciiLetter(path[0]))
        {
            return "it starts with a drive letter";
        }

        if (path[0] == '~')
        {
            return "it starts at a home folder";
        }

        if (Scheme.IsMatch(path))
        {
            return "it is a URL";
        }

        foreach (string segment in path.Split('/', '\\'))
        {
            if (segment.Trim() == "..")
            {
                return "it climbs out with '..'";
            }
        }

        return null;
    }

    /// <summary>True when the text names a remote endpoint (a URL with a network scheme, or host:port).</summary>
    public static bool IsRemote(string text) =>
        text.Contains("://", StringComparison.Ordinal) && !text.StartsWith("file://", StringComparison.OrdinalIgnoreCase)
        || HostPort.IsMatch(text);

    /// <summary>
    /// For a relative path that does not escape by name: where it really leads once symbolic links on
    /// disk are followed. Returns a reason when it leads outside <paramref name="folder"/>, null otherwise
    /// (including when the file does not exist: there is then nothing to read).
    /// </summary>
    public static string? EscapeThroughLinks(string folder, string relative)
    {
        try
        {
            string root = RealPath(Path.GetFullPath(folder));
            string target = RealPath(Path.GetFullPath(Path.Combine(folder, relative.Replace('\\', '/'))));
            string prefix = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
            StringComparison comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            return target.StartsWith(prefix, comparison) ? null : $"a symbolic link on the way makes it resolve to '{target}', outside the model's folder";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>The path with every symbolic link along it resolved (at most 40, like the kernel).</summary>
    private static string RealPath(string full)
    {
        string? root = Path.GetPathRoot(full);
        string current = root ?? string.Empty;
        string[] parts = full.Substring(current.Length).Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        int links = 0;
        foreach (string part in parts)
        {
            current = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (info.Exists && info.LinkTarget is not null)
            {
                if (++links > 40)
                {
                    break;
                }

                FileSystemInfo? resolved = info.ResolveLinkTarget(returnFinalTarget: true);
                if (resolved is not null)
                {
                    current = RealPath(Path.GetFullPath(resolved.FullName));
                }
            }
        }

        return current;
    }
}
