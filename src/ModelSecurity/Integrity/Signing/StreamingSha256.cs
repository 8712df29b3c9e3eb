using System;
using System.Buffers;
using System.IO;
using System.Security.Cryptography;
using System.Threading;

namespace ModelSecurity.Integrity.Signing;

/// <summary>
/// SHA-256 of a whole file or of a byte range of it, read in 1 MiB blocks so memory does not grow
/// with the file. (Signing keeps this small helper of its own; it will use the module's hashing
/// engine once both are merged.)
/// </summary>
internal static class StreamingSha256
{
    private const int BufferSize = 1 << 20;

    /// <summary>The digest of bytes [start, end) of the file; throws IOException when the file is shorter.</summary>
    public static byte[] HashRange(string path, long start, long end, CancellationToken cancel)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        return HashRange(stream, start, end, cancel);
    }

    /// <summary>The digest of the whole file.</summary>
    public static byte[] HashFile(string path, CancellationToken cancel)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        return HashRange(stream, 0, long.MaxValue, cancel);
    }

    private static byte[] HashRange(Stream stream, long start, long end, CancellationToken cancel)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            stream.Position = start;
            long remaining = end - start;
            while (remaining > 0)
            {
                cancel.ThrowIfCancellationRequested();
                int read = stream.Read(buffer, 0, (int)Math.Min(BufferSize, remaining));
                if (read == 0)
                {
                    if (end == long.MaxValue)
                    {
                        break;
                    }

                    throw new IOException($"The file ended at byte {end - remaining}, before the end of the signed range {start}-{end}.");
                }

                hash.AppendData(buffer, 0, read);
                remaining -= read;
            }

            return hash.GetHashAndReset();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
