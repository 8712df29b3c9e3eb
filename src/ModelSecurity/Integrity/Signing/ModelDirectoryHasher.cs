using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;

namespace ModelSecurity.Integrity.Signing;

/// <summary>How a model folder is cut into signed resources (OpenSSF Model Signing serialization methods).</summary>
public enum ModelHashMethod
{
    /// <summary>One resource per file ("files").</summary>
    Files,

    /// <summary>Each file cut into fixed-size shards, one resource per shard ("shards").</summary>
    Shards,
}

/// <summary>One signed item: a file, or a byte range of a file, with its digest.</summary>
internal sealed class ModelResource
{
    public ModelResource(string path, long start, long end, byte[] digest, bool sharded)
    {
        RelativePath = path;
        Start = start;
        End = end;
        Digest = digest;
        Name = sharded ? $"{path}:{start}:{end}" : path;
    }

    /// <summary>The name recorded in the statement: the POSIX relative path, plus ":start:end" for shards.</summary>
    public string Name { get; }

    /// <summary>POSIX path relative to the model folder.</summary>
    public string RelativePath { get; }

    /// <summary>First byte of a shard (0 for whole files).</summary>
    public long Start { get; }

    /// <summary>End of a shard, exclusive (the length for whole files).</summary>
    public long End { get; }

    /// <summary>Raw SHA-256 digest.</summary>
    public byte[] Digest { get; }
}

/// <summary>A file found in the model folder, before hashing.</summary>
internal readonly record struct ModelFileEntry(string RelativePath, string FullPath, long Length);

/// <summary>What decides the resources of a folder; recorded in the statement's serialization block.</summary>
internal sealed class HashingSettings
{
    public const long DefaultShardSize = 1_000_000_000;

    public HashingSettings(ModelHashMethod method, long shardSize, bool allowSymlinks, IReadOnlyList<string> ignorePaths)
    {
        Method = method;
        ShardSize = shardSize;
        AllowSymlinks = allowSymlinks;
        IgnorePaths = ignorePaths;
    }

    public ModelHashMethod Method { get; }

    public long ShardSize { get; }

    public bool AllowSymlinks { get; }

    /// <summary>Relative POSIX paths; each ignores itself and everything below it.</summary>
    public IReadOnlyList<string> IgnorePaths { get; }
}

/// <summary>A model folder cannot be hashed the way the signature asks (a link, an unreadable file).</summary>
internal sealed class ModelHashingException : Exception
{
    public ModelHashingException(string message, bool isSymlink = false, Exception? inner = null)
        : base(message, inner)
    {
        IsSymlink = isSymlink;
    }

    public bool IsSymlink { get; }
}

/// <summary>
/// Hashes a model folder the way sigstore/model-transparency v1.x does: every file below the folder
/// (hidden ones too) except the ignored paths, names as POSIX relative paths, resources sorted as
/// Python sorts PurePosixPath keys, and the root digest as SHA-256 over the raw resource digests.
/// </summary>
internal static class ModelDirectoryHasher
{
    /// <summary>Paths model_signing always leaves out (its ignore_git_paths default).</summary>
    public static readonly IReadOnlyList<string> DefaultIgnorePaths = new[] { ".git", ".gitattributes", ".github", ".gitignore" };

    /// <summary>
    /// The ignore path as model_signing records it: POSIX, relative to the model folder, no "./" and
    /// no trailing slash. A relative input is taken relative to the folder. Null when it is outside the folder.
    /// </summary>
    public static string? ToRelativeIgnorePath(string modelFolder, string path)
    {
        string full = System.IO.Path.GetFullPath(System.IO.Path.Combine(modelFolder, path));
        string relative = System.IO.Path.GetRelativePath(modelFolder, full);
        if (relative == "." || relative == ".." || relative.StartsWith(".." + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal) || System.IO.Path.IsPathRooted(relative))
        {
            return null;
        }

        return ToPosix(relative);
    }

    /// <summary>Every file that would be signed, in no particular order; throws ModelHashingException for links that are not allowed.</summary>
    public static List<ModelFileEntry> ListFiles(string modelFolder, HashingSettings settings, CancellationToken cancel)
    {
        var files = new List<ModelFileEntry>();
        var pending = new Stack<DirectoryInfo>();
        pending.Push(new DirectoryInfo(modelFolder));
        while (pending.Count > 0)
        {
            cancel.ThrowIfCancellationRequested();
            DirectoryInfo directory = pending.Pop();
            FileSystemInfo[] entries;
            try
            {
                entries = directory.GetFileSystemInfos();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ModelHashingException($"The folder '{directory.FullName}' cannot be listed: {e.Message}", inner: e);
            }

            foreach (FileSystemInfo entry in entries)
            {
                string relative = ToPosix(System.IO.Path.GetRelativePath(modelFolder, entry.FullName));
                if (IsIgnored(relative, settings.IgnorePaths))
                {
                    continue;
                }

                if (entry.LinkTarget is not null)
                {
                    if (!settings.AllowSymlinks)
                    {
                        throw new ModelHashingException($"'{relative}' is a symbolic link; links are only signed and verified with -AllowSymlinks.", isSymlink: true);
                    }

                    // A link is hashed as the content it points to; links to folders are not followed,
                    // so a link back up the tree cannot make the walk endless.
                    FileSystemInfo? target = entry.ResolveLinkTarget(returnFinalTarget: true);
                    if (target is FileInfo { Exists: true } targetFile)
                    {
                        files.Add(new ModelFileEntry(relative, entry.FullName, targetFile.Length));
                    }

                    continue;
                }

                if (entry is DirectoryInfo subdirectory)
                {
                    pending.Push(subdirectory);
                }
                else if (entry is FileInfo file)
                {
                    // FIFOs, sockets and devices report length 0 and are never opened (hashed as empty),
                    // so a special file cannot block the walk.
                    files.Add(new ModelFileEntry(relative, file.FullName, file.Length));
                }
            }
        }

        return files;
    }

    /// <summary>Hashes the folder into sorted resources (files and shards are hashed in parallel).</summary>
    public static List<ModelResource> Hash(string modelFolder, HashingSettings settings, CancellationToken cancel)
    {
        List<ModelFileEntry> files = ListFiles(modelFolder, settings, cancel);
        var work = new List<(ModelFileEntry File, long Start, long End)>();
        foreach (ModelFileEntry file in files)
        {
            if (settings.Method == ModelHashMethod.Files)
            {
                work.Add((file, 0, file.Length));
                continue;
            }

            // model_signing's shard endpoints: shard_size, 2*shard_size, ... and always the length;
            // an empty file has no shard at all.
            long start = 0;
            while (start < file.Length)
            {
                long end = file.Length - start > settings.ShardSize ? start + settings.ShardSize : file.Length;
                work.Add((file, start, end));
                start = end;
            }
        }

        var resources = new ModelResource[work.Count];
        var options = new ParallelOptions { CancellationToken = cancel, MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount) };
        try
        {
            Parallel.For(0, work.Count, options, i =>
            {
                (ModelFileEntry file, long start, long end) = work[i];
                byte[] digest;
                try
                {
                    digest = end == start ? SHA256.HashData(Array.Empty<byte>()) : StreamingSha256.HashRange(file.FullPath, start, end, cancel);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new ModelHashingException($"'{file.RelativePath}' cannot be read: {e.Message}", inner: e);
                }

                resources[i] = new ModelResource(file.RelativePath, start, end, digest, settings.Method == ModelHashMethod.Shards);
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            Exception first = e.InnerExceptions[0];
            if (first is ModelHashingException or OperationCanceledException)
            {
                throw first;
            }

            throw;
        }

        var sorted = resources.ToList();
        sorted.Sort(ResourceOrder.Instance);
        return sorted;
    }

    /// <summary>SHA-256 over the raw digests of the resources in the order given.</summary>
    public static byte[] RootDigest(IEnumerable<byte[]> digests)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (byte[] digest in digests)
        {
            hash.AppendData(digest);
        }

        return hash.GetHashAndReset();
    }

    /// <summary>True when the path is an ignore path or below one (Python's is_relative_to).</summary>
    public static bool IsIgnored(string relativePath, IReadOnlyList<string> ignorePaths)
    {
        foreach (string ignored in ignorePaths)
        {
            if (relativePath.Length == ignored.Length
                ? string.Equals(relativePath, ignored, StringComparison.Ordinal)
                : relativePath.Length > ignored.Length && relativePath[ignored.Length] == '/' && relativePath.StartsWith(ignored, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Canonical form of a path: forward slashes, no "." components, no empty components.</summary>
    public static string ToPosix(string path)
    {
        string[] parts = path.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        return string.Join('/', parts.Where(p => p != "."));
    }
}

/// <summary>
/// The order of model_signing's <c>sorted()</c> over manifest keys: the path component by component
/// (each compared by Unicode code point, a shorter prefix first), then shard start and end as numbers.
/// So "a/b" &lt; "a-b" &lt; "a.b", and "f:2:10" &lt; "f:10:12", unlike plain string order.
/// </summary>
internal sealed class ResourceOrder : IComparer<ModelResource>
{
    public static readonly ResourceOrder Instance = new();

    public int Compare(ModelResource? x, ModelResource? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null || y is null)
        {
            return x is null ? -1 : 1;
        }

        int byPath = ComparePaths(x.RelativePath, y.RelativePath);
        if (byPath != 0)
        {
            return byPath;
        }

        int byStart = x.Start.CompareTo(y.Start);
        return byStart != 0 ? byStart : x.End.CompareTo(y.End);
    }

    /// <summary>PurePosixPath ordering of two POSIX relative paths.</summary>
    public static int ComparePaths(string x, string y)
    {
        string[] a = x.Split('/', StringSplitOptions.RemoveEmptyEntries);
        string[] b = y.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            int c = CompareCodePoints(a[i], b[i]);
            if (c != 0)
            {
                return c;
            }
        }

        return a.Length.CompareTo(b.Length);
    }

    /// <summary>Python str ordering: by code point, so characters beyond U+FFFF sort after every BMP character.</summary>
    public static int CompareCodePoints(string x, string y)
    {
        int i = 0;
        int j = 0;
        while (i < x.Length && j < y.Length)
        {
            int a = char.IsSurrogatePair(x, i) ? char.ConvertToUtf32(x, i) : x[i];
            int b = char.IsSurrogatePair(y, j) ? char.ConvertToUtf32(y, j) : y[j];
            if (a != b)
            {
                return a < b ? -1 : 1;
            }

            i += a > 0xFFFF ? 2 : 1;
            j += b > 0xFFFF ? 2 : 1;
        }

        if (i < x.Length)
        {
            return 1;
        }

        return j < y.Length ? -1 : 0;
    }
}
