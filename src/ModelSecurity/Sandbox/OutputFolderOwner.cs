using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;

namespace ModelSecurity.Sandbox;

/// <summary>
/// When a root caller's program runs as a one-off uid, -OutputPath is handed to that uid for the run and
/// everything in it handed back to the folder's owner afterwards (symbolic links re-owned themselves, never
/// followed; the kernel clears set-user-ID bits on the way).
/// </summary>
internal sealed class OutputFolderOwner
{
    private readonly string _folder;
    private readonly uint _uid;
    private readonly uint _gid;

    private OutputFolderOwner(string folder, uint uid, uint gid)
    {
        _folder = folder;
        _uid = uid;
        _gid = gid;
    }

    /// <summary>Gives the folder to the sandbox uid and returns how to give it back.</summary>
    public static OutputFolderOwner Lend(string folder, int sandboxUid)
    {
        string? stat = HostTools.FindSystemTool("stat");
        var outcome = stat is null ? null : HostTools.RunBriefly(new[] { stat, "-c", "%u %g", folder }, TimeSpan.FromSeconds(10));
        string[] ids = outcome is { ExitCode: 0 } ? outcome.Value.Output.Trim().Split(' ') : Array.Empty<string>();
        if (ids.Length != 2 ||
            !uint.TryParse(ids[0], NumberStyles.None, CultureInfo.InvariantCulture, out uint uid) ||
            !uint.TryParse(ids[1], NumberStyles.None, CultureInfo.InvariantCulture, out uint gid))
        {
            throw new IOException($"Could not read the owner of '{folder}'.");
        }

        Change(folder, (uint)sandboxUid, (uint)sandboxUid);
        return new OutputFolderOwner(folder, uid, gid);
    }

    /// <summary>Gives the folder and everything below it back to its owner.</summary>
    public void Restore()
    {
        var pending = new Stack<string>();
        pending.Push(_folder);
        Change(_folder, _uid, _gid);
        while (pending.Count > 0)
        {
            string directory = pending.Pop();
            IEnumerable<FileSystemInfo> entries;
            try
            {
                entries = new DirectoryInfo(directory).EnumerateFileSystemInfos();
                foreach (FileSystemInfo entry in entries)
                {
                    Change(entry.FullName, _uid, _gid);
                    if (entry is DirectoryInfo && entry.LinkTarget is null)
                    {
                        pending.Push(entry.FullName);
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Root reads every folder; a folder that vanished mid-walk has nothing left to re-own.
            }
        }
    }

    private static void Change(string path, uint uid, uint gid)
    {
        if (NativeMethods.lchown(path, uid, gid) != 0)
        {
            throw new IOException($"Could not change the owner of '{path}' (errno {Marshal.GetLastPInvokeError()}).");
        }
    }
}
