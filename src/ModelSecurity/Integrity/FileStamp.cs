using System;
using System.IO;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ModelSecurity.Integrity;

/// <summary>
/// What says a file is unchanged since it was last hashed: its resolved path, size, modification
/// time, and where the OS gives one, a file id and change time. A file replaced by another of the same
/// size and mtime (a rename over it, a restored backup) has another id; a write that resets mtime
/// (<c>touch -d</c>) still moves the change time, which no user call can set.
/// </summary>
/// <remarks>
/// Linux: <c>statx(2)</c>, whose buffer layout is fixed by the kernel ABI on every architecture, gives
/// device, inode and ctime. Windows: <c>GetFileInformationByHandle</c> gives the volume serial and
/// file index. Elsewhere (macOS: its <c>stat</c> layout and symbol name differ by architecture, too
/// fragile to bind by hand) the key is path, size, mtime and birth time, and <see cref="FileId"/> is null.
/// </remarks>
internal readonly record struct FileStamp(string Path, long Length, long LastWriteTicks, long ChangeTicks, string? FileId)
{
    /// <summary>Reads the stamp of <paramref name="path"/>, following symbolic links to the file they name.</summary>
    /// <exception cref="FileNotFoundException">The path (or a link's target) does not exist.</exception>
    public static FileStamp Read(string path)
    {
        string target = ResolveFinal(path);
        var info = new FileInfo(target);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"The file '{path}' does not exist" + (target == path ? "." : $" (it links to '{target}')."), path);
        }

        long length = info.Length;
        long mtime = info.LastWriteTimeUtc.Ticks;
        long change = info.CreationTimeUtc.Ticks;
        string? id = null;
        if (OperatingSystem.IsLinux() && LinuxStatx.TryRead(target, out string linuxId, out long ctime))
        {
            id = linuxId;
            change = ctime;
        }
        else if (OperatingSystem.IsWindows() && WindowsFileIndex.TryRead(target, out string windowsId))
        {
            id = windowsId;
        }

        return new FileStamp(target, length, mtime, change, id);
    }

    /// <summary>The file a path finally names, following every symbolic link; the path itself when it is no link.</summary>
    public static string ResolveFinal(string path)
    {
        try
        {
            FileSystemInfo? target = new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true);
            return target is null ? System.IO.Path.GetFullPath(path) : target.FullName;
        }
        catch (IOException)
        {
            // A link loop or an unreadable link: the path itself is what will fail to open, with a clear error.
            return System.IO.Path.GetFullPath(path);
        }
    }

    private static class LinuxStatx
    {
        private const int AtFdCwd = -100;
        private const uint StatxBasicStats = 0x7ff;
        private static bool _unavailable;

        public static bool TryRead(string path, out string id, out long ctimeTicks)
        {
            id = "";
            ctimeTicks = 0;
            if (_unavailable)
            {
                return false;
            }

            byte[] buffer = new byte[256];
            try
            {
                if (NativeMethods.statx(AtFdCwd, NullTerminated(path), 0, StatxBasicStats, buffer) != 0)
                {
                    return false;
                }
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // An old C library without statx: fall back to the portable stamp.
                _unavailable = true;
                return false;
            }

            // struct statx: stx_ino at 32, stx_ctime {s64 sec, u32 nsec} at 96, stx_dev_major/minor at 136/140.
            ulong inode = BitConverter.ToUInt64(buffer, 32);
            long seconds = BitConverter.ToInt64(buffer, 96);
            uint nanoseconds = BitConverter.ToUInt32(buffer, 104);
            uint major = BitConverter.ToUInt32(buffer, 136);
            uint minor = BitConverter.ToUInt32(buffer, 140);
            id = FormattableString.Invariant($"{major}:{minor}:{inode}");
            ctimeTicks = (seconds * TimeSpan.TicksPerSecond) + (nanoseconds / 100);
            return true;
        }
    }

    private static byte[] NullTerminated(string path)
    {
        byte[] bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(path) + 1];
        System.Text.Encoding.UTF8.GetBytes(path, 0, path.Length, bytes, 0);
        return bytes;
    }

    private static class WindowsFileIndex
    {
        public static bool TryRead(string path, out string id)
        {
            id = "";
            try
            {
                using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                if (!NativeMethods.GetFileInformationByHandle(handle, out NativeMethods.ByHandleFileInformation info))
                {
                    return false;
                }

                id = FormattableString.Invariant($"{info.VolumeSerialNumber:x8}:{info.FileIndexHigh:x8}{info.FileIndexLow:x8}");
                return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return false;
            }
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int statx(int dirfd, byte[] path, int flags, uint mask, [Out] byte[] buffer);

        [DllImport("kernel32.dll", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
        [return: MarshalAs(UnmanagedType.Bool)]
        internal static extern bool GetFileInformationByHandle(SafeFileHandle file, out ByHandleFileInformation information);

        [StructLayout(LayoutKind.Sequential, Pack = 4)] // FILETIME is two DWORDs: 4-byte aligned
        internal struct ByHandleFileInformation
        {
            public uint FileAttributes;
            public long CreationTime;
            public long LastAccessTime;
            public long LastWriteTime;
            public uint VolumeSerialNumber;
            public uint FileSizeHigh;
            public uint FileSizeLow;
            public uint NumberOfLinks;
            public uint FileIndexHigh;
            public uint FileIndexLow;
        }
    }
}
