using System;

namespace ModelSecurity.Formats.Zip;

/// <summary>
/// One zip member as the central directory describes it (the record PyTorch's miniz reader trusts),
/// or as its local header does when the archive has no usable central directory. The data offset
/// always comes from the member's own local header, as every loader computes it.
/// </summary>
internal sealed class ZipEntry
{
    /// <summary>General-purpose flag bit 0: traditional PKWARE encryption.</summary>
    public const ushort EncryptedFlag = 0x0001;

    /// <summary>General-purpose flag bit 3: sizes and CRC follow the data in a data descriptor.</summary>
    public const ushort DataDescriptorFlag = 0x0008;

    /// <summary>General-purpose flag bit 5: compressed patched data.</summary>
    public const ushort PatchedDataFlag = 0x0020;

    /// <summary>General-purpose flag bit 6: strong encryption.</summary>
    public const ushort StrongEncryptionFlag = 0x0040;

    /// <summary>General-purpose flag bit 11: the name is UTF-8 (otherwise CP437).</summary>
    public const ushort Utf8NameFlag = 0x0800;

    /// <summary>Compression method 0.</summary>
    public const ushort Stored = 0;

    /// <summary>Compression method 8.</summary>
    public const ushort Deflated = 8;

    private readonly byte[] _rawName;

    internal ZipEntry(
        int index,
        string name,
        byte[] rawName,
        ushort flags,
        ushort localFlags,
        ushort method,
        uint crc32,
        long compressedSize,
        long uncompressedSize,
        long localHeaderOffset,
        long dataOffset,
        ushort versionMadeBy,
        uint externalAttributes,
        bool sizesKnown)
    {
        Index = index;
        Name = name;
        _rawName = rawName;
        Flags = flags;
        LocalFlags = localFlags;
        Method = method;
        Crc32 = crc32;
        CompressedSize = compressedSize;
        UncompressedSize = uncompressedSize;
        LocalHeaderOffset = localHeaderOffset;
        DataOffset = dataOffset;
        VersionMadeBy = versionMadeBy;
        ExternalAttributes = externalAttributes;
        SizesKnown = sizesKnown;
    }

    /// <summary>Position in <see cref="ZipArchiveReader.Entries"/>.</summary>
    public int Index { get; }

    /// <summary>The name from the central directory: UTF-8 when flag bit 11 is set, else CP437.</summary>
    public string Name { get; }

    /// <summary>General-purpose flags from the central directory (from the local header when there is none).</summary>
    public ushort Flags { get; }

    /// <summary>General-purpose flags from the local header (equal to <see cref="Flags"/> when it is missing).</summary>
    public ushort LocalFlags { get; }

    /// <summary>Compression method: 0 stored, 8 deflate; anything else is not read.</summary>
    public ushort Method { get; }

    /// <summary>The CRC-32 the directory records for the uncompressed content.</summary>
    public uint Crc32 { get; }

    /// <summary>Bytes of (compressed) data after the local header; ZIP64 sizes included.</summary>
    public long CompressedSize { get; }

    /// <summary>Declared size of the content; loaders stop there.</summary>
    public long UncompressedSize { get; }

    /// <summary>Absolute file offset of the local header (prepended bytes included).</summary>
    public long LocalHeaderOffset { get; }

    /// <summary>
    /// Absolute file offset of the data: local header offset + 30 + the local header's name and extra
    /// lengths, as miniz computes it; -1 when there is no local header at <see cref="LocalHeaderOffset"/>.
    /// </summary>
    public long DataOffset { get; }

    /// <summary>"Version made by": the high byte is the host system (3 = Unix).</summary>
    public ushort VersionMadeBy { get; }

    /// <summary>External attributes; on Unix hosts the high 16 bits are the file mode.</summary>
    public uint ExternalAttributes { get; }

    /// <summary>
    /// False only for a member found by walking local headers whose sizes sit in a data descriptor:
    /// its sizes are then the rest of the file, and its end and CRC cannot be checked.
    /// </summary>
    public bool SizesKnown { get; }

    /// <summary>True when the name ends with '/' (the only test the loaders share).</summary>
    public bool IsDirectory => Name.EndsWith('/');

    /// <summary>Flag bit 0x0001 or 0x0040 set in either header.</summary>
    public bool IsEncrypted => ((Flags | LocalFlags) & (EncryptedFlag | StrongEncryptionFlag)) != 0;

    /// <summary>Flag bit 3 set in either header: a data descriptor follows the data.</summary>
    public bool HasDataDescriptor => ((Flags | LocalFlags) & DataDescriptorFlag) != 0;

    /// <summary>A Unix host and a symbolic-link file mode (its content is the link target).</summary>
    public bool IsSymbolicLink => VersionMadeBy >> 8 == 3 && ((ExternalAttributes >> 16) & 0xF000) == 0xA000;

    /// <summary>True when the data is available to read: a local header was found.</summary>
    public bool HasLocalHeader => DataOffset >= 0;

    /// <summary>The name's bytes as stored (loaders such as PyTorch compare bytes, not decoded text).</summary>
    public ReadOnlySpan<byte> RawName => _rawName;

    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>What <see cref="ZipArchiveReader.ReadAll"/> read from one member.</summary>
internal sealed class ZipMemberData
{
    public ZipMemberData(byte[] data, bool truncated, bool crcVerified)
    {
        Data = data;
        Truncated = truncated;
        CrcVerified = crcVerified;
    }

    /// <summary>The decompressed content, or its beginning when <see cref="Truncated"/>.</summary>
    public byte[] Data { get; }

    /// <summary>
    /// The data is not the whole member: a limit stopped the read (size limit, bomb limit), or the
    /// member could not be read to its declared end (file or deflate stream ended, corrupt data,
    /// unsupported method). The anomalies say which.
    /// </summary>
    public bool Truncated { get; }

    /// <summary>The whole member was read and its CRC-32 matches the directory's.</summary>
    public bool CrcVerified { get; }
}
