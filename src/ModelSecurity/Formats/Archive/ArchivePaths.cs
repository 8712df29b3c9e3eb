using System;
using System.Collections.Generic;

namespace ModelSecurity.Formats.Archive;

/// <summary>Member-name checks shared by the archive readers: what would escape an extraction folder.</summary>
internal static class ArchivePaths
{
    /// <summary>Why extracting <paramref name="name"/> would leave the extraction folder, or null when it would not.</summary>
    public static string? UnsafeReason(string name)
    {
        if (name.Contains('\\'))
        {
            return "it contains a backslash, a path separator on Windows";
        }

        if (name.StartsWith('/'))
        {
            return "it is an absolute path";
        }

        if (name.Length >= 2 && name[1] == ':' && IsAsciiLetter(name[0]))
        {
            return "it starts with a drive letter";
        }

        foreach (string part in name.Split('/'))
        {
            if (part == "..")
            {
                return "it has a '..' component";
            }
        }

        return null;
    }

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

        if (target.StartsWith('/') || target.Contains('\\')
            || (target.Length >= 2 && target[1] == ':' && IsAsciiLetter(target[0])))
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

    private static bool IsAsciiLetter(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z');
}
