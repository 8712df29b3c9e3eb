using System;
using System.IO;
using System.Runtime.CompilerServices;
using SharpCompress.Compressors.BZip2;
using SharpCompress.Compressors.Deflate64;
using SharpCompress.Compressors.LZMA;
using SharpCompress.Compressors.PPMd;
using SharpCompress.Compressors.Xz;
using SharpCompress.Compressors.ZStandard;
using SharpCompress.Compressors.ZStandard.Unsafe;
using SharpCompressionMode = SharpCompress.Compressors.CompressionMode;

namespace ModelSecurity.Formats.Archive;

/// <summary>
/// Every use of SharpCompress, behind methods that return plain streams. Callers never mention its
/// types, so the gzip, zlib, LZ4 and tar paths never depend on it; should the assembly fail to load
/// (a damaged install), calling one of these throws a load exception that
/// <see cref="IsLibraryMissing"/> recognises and the member is reported as unreadable, not clean.
/// </summary>
internal static class SharpCompressCodecs
{
    // zstd's own default: frames that need a larger window are refused, never allocated.
    private const int ZstdMaxWindowLog = 27;

    /// <summary>True when <paramref name="e"/> says the codec library (or one of its dependencies) could not be loaded.</summary>
    public static bool IsLibraryMissing(Exception e) => e is FileLoadException or FileNotFoundException or TypeLoadException or BadImageFormatException;

    /// <summary>7-Zip's x86 branch filter (BCJ), the same algorithm as xz's x86 filter.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Stream BcjX86(Stream input)
    {
        var filter = new SharpCompress.Compressors.Xz.Filters.X86Filter();
        filter.Init(Array.Empty<byte>());
        filter.SetBaseStream(input);
        return filter;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Stream Bzip2(Stream input, bool concatenated, bool leaveOpen) =>
        BZip2Stream.Create(input, SharpCompressionMode.Decompress, concatenated, leaveOpen);

    /// <summary>One .xz stream (not the ones that may follow it).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Stream Xz(Stream input) => new XZStream(input);

    /// <summary>
    /// LZMA (5 property bytes) or LZMA2 (1 byte). The decoder's window grows with its output, so the
    /// dictionary size in the properties allocates nothing by itself.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Stream Lzma(byte[] properties, Stream input, long inputSize, long outputSize, bool isLzma2, bool leaveOpen) =>
        LzmaStream.Create(properties, input, inputSize, outputSize, null, isLzma2, leaveOpen);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Stream Zstd(Stream input, bool leaveOpen)
    {
        var zstd = new DecompressionStream(input, checkEndOfStream: true, leaveOpen: leaveOpen);
        zstd.SetParameter(ZSTD_dParameter.ZSTD_d_windowLogMax, ZstdMaxWindowLog);
        return zstd;
    }

    /// <summary>7-Zip's PPMd (variant H); the caller has checked the model size in the properties.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Stream Ppmd(byte[] properties, Stream input) => PpmdStream.Create(new PpmdProperties(properties), input, compress: false);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Stream Deflate64(Stream input) => new Deflate64Stream(input, SharpCompressionMode.Decompress);
}
