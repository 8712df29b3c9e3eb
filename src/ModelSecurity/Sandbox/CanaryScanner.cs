using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;

namespace ModelSecurity.Sandbox;

/// <summary>
/// Looks for the decoy credentials in what the program produced: its output and the files it left under
/// -OutputPath. A decoy found means the program read the environment and tried to pass a credential on.
/// Literal matches only; bounded in files and bytes so a hostile output folder cannot stall the cmdlet.
/// </summary>
internal static class CanaryScanner
{
    public const int MaxFiles = 10_000;
    public const long MaxBytes = 256L * 1024 * 1024;
    private const int ChunkSize = 64 * 1024;

    /// <summary>"NAME in Where" for each decoy whose value appears in text.</summary>
    public static void ScanText(IReadOnlyList<KeyValuePair<string, string>> decoys, string text, string where, List<string> leaks)
    {
        foreach (KeyValuePair<string, string> decoy in decoys)
        {
            if (text.Contains(decoy.Value, StringComparison.Ordinal))
            {
                leaks.Add($"{decoy.Key} in {where}");
            }
        }
    }

    /// <summary>Scans regular files below a folder (symbolic links are not followed), within the fixed bounds.</summary>
    public static void ScanFolder(IReadOnlyList<KeyValuePair<string, string>> decoys, string folder, List<string> leaks, CancellationToken cancel)
    {
        if (decoys.Count == 0 || !Directory.Exists(folder))
        {
            return;
        }

        var needles = new List<(string Name, byte[] Bytes)>();
        int longest = 0;
        foreach (KeyValuePair<string, string> decoy in decoys)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(decoy.Value);
            needles.Add((decoy.Key, bytes));
            longest = Math.Max(longest, bytes.Length);
        }

        int files = 0;
        long budget = MaxBytes;
        var pending = new Stack<string>();
        pending.Push(folder);
        while (pending.Count > 0 && files < MaxFiles && budget > 0)
        {
            cancel.ThrowIfCancellationRequested();
            string directory = pending.Pop();
            IEnumerable<FileSystemInfo> entries;
            try
            {
                entries = new DirectoryInfo(directory).EnumerateFileSystemInfos();
                foreach (FileSystemInfo entry in entries)
                {
                    if (entry.LinkTarget is not null)
                    {
                        continue;
                    }

                    if (entry is DirectoryInfo)
                    {
                        pending.Push(entry.FullName);
                    }
                    else if (files < MaxFiles && budget > 0)
                    {
                        files++;
                        budget -= ScanFile(entry.FullName, needles, longest, budget, leaks);
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // An unreadable folder cannot hide a leak from the user: its files stay on disk for them to inspect.
            }
        }
    }

    private static long ScanFile(string path, List<(string Name, byte[] Bytes)> needles, int longest, long budget, List<string> leaks)
    {
        var found = new bool[needles.Count];
        long read = 0;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
            var buffer = new byte[ChunkSize + longest];
            int carried = 0;
            while (read < budget)
            {
                int n = stream.Read(buffer, carried, (int)Math.Min(ChunkSize, budget - read));
                if (n <= 0)
                {
                    break;
                }

                read += n;
                var window = new ReadOnlySpan<byte>(buffer, 0, carried + n);
                for (int i = 0; i < needles.Count; i++)
                {
                    found[i] |= window.IndexOf(needles[i].Bytes) >= 0;
                }

                // Keep the tail so a decoy split across two reads is still found.
                carried = Math.Min(longest - 1, window.Length);
                window.Slice(window.Length - carried).CopyTo(buffer);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return read;
        }

        for (int i = 0; i < needles.Count; i++)
        {
            if (found[i])
            {
                leaks.Add($"{needles[i].Name} in {path}");
            }
        }

        return read;
    }
}
