using System.Runtime.InteropServices;

namespace ModelSecurity.Sandbox;

/// <summary>The few libc calls .NET does not wrap: who we are, and giving files back to their owner.</summary>
internal static class NativeMethods
{
    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern uint geteuid();

    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern uint getegid();

    // lchown: a symbolic link the sandbox left behind is re-owned itself, never the file it points to.
    [DllImport("libc", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int lchown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint owner, uint group);
}
