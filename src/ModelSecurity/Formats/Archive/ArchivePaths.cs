using System;
using System.Collections.Generic;

namespace ModelSecurity.Formats.Archive;

/// <summary>Member-name checks shared by the archive readers: what would escape an extraction folder.</summary>
internal static class ArchivePaths
{
    /// <summary>
    /// What is unsafe about extracting a member of this name (every reason, joined), or null when
    /// nothing is: a NUL, an absolute path, a drive letter, a backslash, a '..' component.
    /// </summary>
    public static string? UnsafeReason(string name)
    {
        var reasons = new List<string>();
        if (name.Contains('\0'))
        {
            reasons.Add("it contains a NUL character (CPython's zipfile cuts the name there)");
        }

        if (name.StartsWith('/') || name.StartsWith('\\'))
        {
            reasons.Add("it is an absolute path");
        }

        if (HasDriveLetter(name))
        {
            reasons.Add("it starts with a drive letter");
        }

        if (name.Contains('\\'))
        {
            reasons.Add("it contains a backslash, a path separator on Windows");
        }

        if (Array.IndexOf(name.Split('/', '\\'), "..") >= 0)
        {
            reasons.Add("it has a '..' component");
        }

        return reasons.Count == 0 ? null : string.Join("; ", reasons);
    }

    /// <summary>
    /// True when extracting the name writes outside the target folder: absolute, drive letter or a
    /// '..' component (backslashes read as separators). A backslash alone only makes a subfolder.
    /// </summary>
    public static bool EscapesFolder(string name) =>
        name.StartsWith('/') || name.StartsWith('\\') || HasDriveLetter(name) || Array.IndexOf(name.Split('/', '\\'), "..") >= 0;

    /// <summary>
    /// True when a link target, resolved from <paramref name="directory"/> (the link's folder inside
    /// the archive; empty for hard links, whose targets are archive names), leaves the archive root.
    /// </summary>
    public static bool Escapes(string directory, string target)
    {
        if (target.Length == 0)
        {
            return false;
        }

        if (target.StartsWith('/') || target.Contains('\\') || HasDriveLetter(target))
        {
            return true;
        }

        var stack = new List<string>();
        foreach (string part in (directory.Length > 0 ? directory + "/" + target : target).Split('/'))
        {
            if (part.Length == 0 || part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (stack.Count == 0)
                {
                    return true;
                }

                stack.RemoveAt(stack.Count - 1);
            }
            else
            {
                stack.Add(part);
            }
        }

        return false;
    }

    /// <summary>The folder part of an archive name ("a/b/c" gives "a/b").</summary>
    public static string Directory(string name)
    {
        int slash = name.TrimEnd('/').LastIndexOf('/');
        return slash < 0 ? string.Empty : name.Substring(0, slash);
    }

    private static bool HasDriveLetter(string name) =>
        name.Length >= 2 && name[1] == ':' && name[0] is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z');
}
