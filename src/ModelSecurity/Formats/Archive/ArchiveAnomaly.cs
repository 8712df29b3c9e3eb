namespace ModelSecurity.Formats.Archive;

/// <summary>
/// Something about a container (zip, tar, 7z, compressed stream) that a strict reader and the real
/// loader would disagree on, or that limits what could be read. The analysis turns each into a finding.
/// </summary>
internal enum ArchiveAnomalyKind
{
    /// <summary>Anything not covered below; the detail says what.</summary>
    Other = 0,

    /// <summary>A zip local header names the member differently from the central directory (CVE-2025-1944).</summary>
    LocalNameMismatch,

    /// <summary>A member's data does not match its stored CRC-32 (CVE-2025-10156).</summary>
    CrcMismatch,

    /// <summary>Encryption flag bits (0x0001 / 0x0040) set: CPython refuses, PyTorch ignores them (CVE-2025-1945).</summary>
    EncryptionFlag,

    /// <summary>The "patched data" flag bit 0x0020 is set (CVE-2025-1945).</summary>
    PatchedDataFlag,

    /// <summary>A member really is encrypted, so its content could not be read.</summary>
    Encrypted,

    /// <summary>A compression method the reader cannot decode, so the member was not read.</summary>
    UnsupportedMethod,

    /// <summary>Two members with the same name (loaders disagree on which one wins).</summary>
    DuplicateName,

    /// <summary>Bytes in the file that belong to no member and no directory record.</summary>
    DataOutsideEntries,

    /// <summary>Two members' data overlap.</summary>
    OverlappingEntries,

    /// <summary>A member name that escapes the extraction folder: <c>..</c>, absolute, drive letter, backslash.</summary>
    UnsafeName,

    /// <summary>A link member (symlink or hard link), with its target in the detail.</summary>
    Link,

    /// <summary>A device, FIFO or other special member.</summary>
    SpecialMember,

    /// <summary>The local header of a member is missing or unreadable.</summary>
    LocalHeaderMissing,

    /// <summary>Sizes disagree between headers, or with the data actually present.</summary>
    SizeMismatch,

    /// <summary>Decompressed size or ratio past the bomb limits; reading stopped there.</summary>
    CompressionBomb,

    /// <summary>Data prepended before the archive (a polyglot or self-extractor).</summary>
    PrependedData,

    /// <summary>The directory or member list is incomplete (truncated, or a count limit was reached).</summary>
    Truncated,

    /// <summary>The container's structure is corrupt where the reader needed it.</summary>
    Corrupt,

    /// <summary>A member is larger than the reader's limit, so only its beginning was examined.</summary>
    MemberTooLarge,
}

/// <summary>One oddity in a container, with the member it concerns (null for the whole container).</summary>
internal sealed class ArchiveAnomaly
{
    public ArchiveAnomaly(ArchiveAnomalyKind kind, string? member, string detail)
    {
        Kind = kind;
        Member = member;
        Detail = detail;
    }

    public ArchiveAnomalyKind Kind { get; }

    public string? Member { get; }

    public string Detail { get; }

    /// <inheritdoc />
    public override string ToString() => Member is null ? $"{Kind}: {Detail}" : $"{Kind} at {Member}: {Detail}";
}
