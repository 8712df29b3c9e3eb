using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;

namespace ModelSecurity.Formats.Archive;

/// <summary>
/// Compressed streams and 7-Zip archives by their magic: 7z, gzip, bzip2, xz, LZ4 frame, Zstandard,
/// joblib's <c>ZF</c> zlib files, bare zlib and "lzma alone". What is inside is read by the archive
/// reader, not here.
/// </summary>
internal sealed class CompressionSniffer : IFormatSniffer
{
    private static readonly byte[] SevenZip = { 0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C };
    private static readonly byte[] Xz = { 0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00 };
    private static readonly byte[] Lz4 = { 0x04, 0x22, 0x4D, 0x18 };
    private static readonly byte[] Zstd = { 0x28, 0xB5, 0x2F, 0xFD };
    private static readonly byte[] JoblibZfile = { (byte)'Z', (byte)'F', (byte)'0', (byte)'x' };

    public FormatMatch? Sniff(SniffContext context)
    {
        byte[] head = context.Head;
        if (context.StartsWith(SevenZip))
        {
            return new FormatMatch(ModelFormat.SevenZip, "7-Zip archive");
        }

        if (head.Length >= 3 && head[0] == 0x1F && head[1] == 0x8B && head[2] == 0x08)
        {
            return new FormatMatch(ModelFormat.Gzip, "gzip-compressed data");
        }

        if (head.Length >= 4 && head[0] == (byte)'B' && head[1] == (byte)'Z' && head[2] == (byte)'h' && head[3] is >= (byte)'1' and <= (byte)'9')
        {
            return new FormatMatch(ModelFormat.Bzip2, "bzip2-compressed data");
        }

        if (context.StartsWith(Xz))
        {
            return new FormatMatch(ModelFormat.Xz, "xz-compressed data");
        }

        if (context.StartsWith(Lz4))
        {
            return new FormatMatch(ModelFormat.Lz4, "LZ4 frame");
        }

        if (context.StartsWith(Zstd))
        {
            return new FormatMatch(ModelFormat.Zstd, "Zstandard-compressed data");
        }

        if (context.StartsWith(JoblibZfile))
        {
            return new FormatMatch(ModelFormat.Zlib, "joblib zlib file (ZF header)", FormatMatch.Item("Container", "joblib ZF"));
        }

        if (IsZlibHeader(head, context.HeadIsWholeFile))
        {
            return new FormatMatch(ModelFormat.Zlib, "zlib-compressed data");
        }

        if (IsLzmaAloneHeader(head))
        {
            return new FormatMatch(ModelFormat.Lzma, "LZMA-compressed data (lzma alone)");
        }

        return null;
    }

    // RFC 1950: CM = 8 (deflate), CINFO <= 7, and (CMF*256 + FLG) divisible by 31; no preset dictionary.
    private static bool IsZlibHeader(byte[] head, bool wholeFile) =>
        head.Length >= 3
        && (head[0] & 0x0F) == 8
        && (head[0] >> 4) <= 7
        && ((head[0] << 8) | head[1]) % 31 == 0
        && (head[1] & 0x20) == 0
        && Inflates(head, 2, wholeFile);

    // Two header bytes pass the checksum by chance once in 31, and a few bytes of text ("x^2 ...") often
    // decode as deflate: all the bytes held must inflate, and a whole stream must end with its Adler-32.
    private static bool Inflates(byte[] head, int start, bool wholeFile)
    {
        const int MaxOutput = 1024 * 1024;
        uint a = 1;
        uint b = 0;
        long total = 0;
        try
        {
            using var input = new MemoryStream(head, start, head.Length - start, writable: false);
            using var inflater = new DeflateStream(input, CompressionMode.Decompress);
            byte[] buffer = new byte[8192];
            int read;
            while ((read = inflater.Read(buffer, 0, buffer.Length)) > 0)
            {
                total += read;
                if (total >= MaxOutput)
                {
                    return true;
                }

                for (int i = 0; i < read; i++)
                {
                    a = (a + buffer[i]) % 65521;
                    b = (b + a) % 65521;
                }
            }
        }
        catch (InvalidDataException)
        {
            return false;
        }

        return total > 0
            && (!wholeFile || (head.Length - start >= 4 && BinaryPrimitives.ReadUInt32BigEndian(head.AsSpan(head.Length - 4)) == ((b << 16) | a)));
    }

    // .lzma: properties byte (lc/lp/pb, < 225), dictionary size, then uncompressed size (or all ones).
    private static bool IsLzmaAloneHeader(byte[] head)
    {
        if (head.Length < 13 || head[0] >= 225)
        {
            return false;
        }

        uint dictionary = BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(1));
        bool dictionaryPlausible = dictionary >= 4096 && (IsPowerOfTwo(dictionary) || IsPowerOfTwo(dictionary - (dictionary >> 2)) || IsPowerOfTwo((dictionary / 3) * 2));
        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(head.AsSpan(5));
        return dictionaryPlausible && (size == ulong.MaxValue || size < (1UL << 44));
    }

    private static bool IsPowerOfTwo(uint value) => value != 0 && (value & (value - 1)) == 0;
}
