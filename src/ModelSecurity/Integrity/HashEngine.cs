using System;
using System.Buffers;
using System.Globalization;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Threading;

namespace ModelSecurity.Integrity;

/// <summary>
/// Hashes a file in one sequential pass: large reads into one pooled buffer, every requested digest
/// fed from the same bytes. Memory is the buffer and nothing else, whatever the file's size; the
/// cancellation token is checked once per buffer, so Ctrl+C stops a 70 GB file within milliseconds.
/// </summary>
internal static class HashEngine
{
    /// <summary>Read size: large enough that system calls and P/Invoke cost nothing next to SHA-256, small enough to stay in L2/L3.</summary>
    public const int BufferSize = 1024 * 1024;

    /// <summary>
    /// Computes <paramref name="kinds"/> over the file at <paramref name="path"/> (links are followed).
    /// <paramref name="onRead"/> is called with the size of each read, from this thread.
    /// </summary>
    /// <exception cref="IOException">The file cannot be read, or changed length while it was read.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5350", Justification = "Git names blobs by SHA-1; the value is compared with what git computed, not relied on as a security primitive alone.")]
    public static FileDigests Compute(string path, DigestKinds kinds, CancellationToken cancellationToken, Action<int>? onRead = null)
    {
        if (kinds == DigestKinds.None)
        {
            kinds = DigestKinds.Sha256;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0, FileOptions.SequentialScan);
        long length = stream.Length;
        using IncrementalHash? sha256 = kinds.HasFlag(DigestKinds.Sha256) ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        using IncrementalHash? sha512 = kinds.HasFlag(DigestKinds.Sha512) ? IncrementalHash.CreateHash(HashAlgorithmName.SHA512) : null;
        using IncrementalHash? gitSha1 = kinds.HasFlag(DigestKinds.GitBlobSha1) ? IncrementalHash.CreateHash(HashAlgorithmName.SHA1) : null;
        gitSha1?.AppendData(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"blob {length}\0")));

        byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        long total = 0;
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int read = stream.Read(buffer, 0, BufferSize);
                if (read == 0)
                {
                    break;
                }

                total += read;
                sha256?.AppendData(buffer, 0, read);
                sha512?.AppendData(buffer, 0, read);
                gitSha1?.AppendData(buffer, 0, read);
                onRead?.Invoke(read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (total != length)
        {
            // The git blob id commits to the length read at open; a file that grew or shrank is being written.
            throw new IOException($"The file '{path}' changed length while it was hashed ({length:N0} bytes at open, {total:N0} read); hash it again when it is complete.");
        }

        return new FileDigests(total)
        {
            Sha256 = sha256 is null ? null : Hex(sha256.GetHashAndReset()),
            Sha512 = sha512 is null ? null : Hex(sha512.GetHashAndReset()),
            GitBlobSha1 = gitSha1 is null ? null : Hex(gitSha1.GetHashAndReset()),
        };
    }

    public static string Hex(byte[] digest) => Convert.ToHexString(digest).ToLowerInvariant();
}
