using System;

namespace ModelSecurity.Formats.Archive;

/// <summary>
/// The checksums compressed streams and archives carry: CRC-32 (gzip, 7z; the zip reader's
/// <see cref="Zip.Crc32"/> does the work), Adler-32 (zlib) and xxHash32 (LZ4 frames). One-shot over
/// data already in memory.
/// </summary>
internal static class Checksums
{
    private const uint XxPrime1 = 2654435761U;
    private const uint XxPrime2 = 2246822519U;
    private const uint XxPrime3 = 3266489917U;
    private const uint XxPrime4 = 668265263U;
    private const uint XxPrime5 = 374761393U;

    public static uint Crc32(byte[] data, int offset, int count) => Crc32(0, data, offset, count);

    /// <summary>Continues a CRC-32 (IEEE 802.3, as zlib computes it) from <paramref name="crc"/>.</summary>
    public static uint Crc32(uint crc, byte[] data, int offset, int count) =>
        Zip.Crc32.Append(crc, data.AsSpan(offset, count));

    public static uint Adler32(byte[] data, int offset, int count)
    {
        const uint Modulus = 65521;

        // 5552 is the most bytes whose sums cannot overflow 32 bits before the modulo (zlib's NMAX).
        uint a = 1;
        uint b = 0;
        int end = offset + count;
        int i = offset;
        while (i < end)
        {
            int chunkEnd = Math.Min(end, i + 5552);
            for (; i < chunkEnd; i++)
            {
                a += data[i];
                b += a;
            }

            a %= Modulus;
            b %= Modulus;
        }

        return (b << 16) | a;
    }

    public static uint XxHash32(byte[] data, int offset, int count, uint seed = 0)
    {
        int end = offset + count;
        int i = offset;
        uint h;
        if (count >= 16)
        {
            uint v1 = seed + XxPrime1 + XxPrime2;
            uint v2 = seed + XxPrime2;
            uint v3 = seed;
            uint v4 = seed - XxPrime1;
            for (; i <= end - 16; i += 16)
            {
                v1 = XxRound(v1, ReadUInt32(data, i));
                v2 = XxRound(v2, ReadUInt32(data, i + 4));
                v3 = XxRound(v3, ReadUInt32(data, i + 8));
                v4 = XxRound(v4, ReadUInt32(data, i + 12));
            }

            h = RotateLeft(v1, 1) + RotateLeft(v2, 7) + RotateLeft(v3, 12) + RotateLeft(v4, 18);
        }
        else
        {
            h = seed + XxPrime5;
        }

        h += (uint)count;
        for (; i <= end - 4; i += 4)
        {
            h += ReadUInt32(data, i) * XxPrime3;
            h = RotateLeft(h, 17) * XxPrime4;
        }

        for (; i < end; i++)
        {
            h += data[i] * XxPrime5;
            h = RotateLeft(h, 11) * XxPrime1;
        }

        h ^= h >> 15;
        h *= XxPrime2;
        h ^= h >> 13;
        h *= XxPrime3;
        h ^= h >> 16;
        return h;
    }

    private static uint XxRound(uint acc, uint lane) => RotateLeft(acc + (lane * XxPrime2), 13) * XxPrime1;

    private static uint RotateLeft(uint value, int bits) => (value << bits) | (value >> (32 - bits));

    private static uint ReadUInt32(byte[] data, int offset) =>
        (uint)(data[offset] | (data[offset + 1] << 8) | (data[offset + 2] << 16) | (data[offset + 3] << 24));

}
