using System;
using System.Collections.Generic;
using System.Linq;
using ModelSecurity.Analysis;

namespace ModelSecurity.Formats.Archive;

/// <summary>
/// Compressed streams (gzip, bzip2, xz, LZMA, LZ4, Zstandard, zlib and joblib's ZF files): the
/// stream is decompressed within the per-file limits and what comes out is read by content, like a
/// member of an archive (a joblib dump, a tar, a pickle...).
/// </summary>
internal sealed class CompressedReader : IModelReader
{
    public void Read(ReadContext context)
    {
        long limit = Math.Min(context.Limits.MaxMemberBytes, context.Limits.MaxExtractedBytes - context.Scan.ExtractedBytes);
        DecompressedData data = Decompressor.Decompress(context.Format, context.Source, Math.Max(0, limit), context.CancellationToken);
        ArchiveFindings.Report(context, data.Anomalies);
        context.Scan.ExtractedBytes += data.Data.Length;
        if (context.Member is null)
        {
            context.Scan.Metadata["DecompressedLength"] = (long)data.Data.Length;
        }

        if (data.Data.Length > 0)
        {
            context.ScanNested($"<{context.Format.ToString().ToLowerInvariant()}>", data.Data);
        }
        else if (data.Anomalies.Count == 0)
        {
            context.Report(RuleIds.ArchiveMemberUnreadable, "The stream decompresses to nothing.", "archive");
        }
    }
}

/// <summary>
/// Tar archives (legacy PyTorch tar checkpoints, NeMo, plain tars), listed the way Python's tarfile
/// lists them: every oddity reported (traversal, links, hidden data), every regular member judged by
/// content; members whose format has a reader are read whole, the rest only by their first bytes.
/// </summary>
internal sealed class TarModelReader : IModelReader
{
    private static readonly string[] TorchTarPickles = { "sys_info", "pickle", "storages", "tensors" };

    public void Read(ReadContext context)
    {
        TarArchiveReader? tar = TarArchiveReader.Open(context.Source, context.CancellationToken);
        if (tar is null)
        {
            context.Report(RuleIds.ArchiveMemberUnreadable, "No tar header could be read, so no member was checked.", "archive");
            return;
        }

        // NeMo's model_config.yaml is read by content like every member: the YAML reader grades its Hydra targets.
        ArchiveFindings.Report(context, tar.Anomalies);

        int examined = 0;
        foreach (TarEntry entry in tar.Entries)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            if (!entry.IsRegularFile || entry.Size == 0)
            {
                continue;
            }

            if (++examined > context.Limits.MaxMembers)
            {
                context.Report(RuleIds.ArchiveMemberUnreadable, $"Only the first {context.Limits.MaxMembers:N0} members were examined.", "archive");
                break;
            }

            byte[] head = tar.ReadHead(entry, context.Limits.MemberSniffBytes);
            FormatMatch match = ReadContext.DetectHead(head, entry.Size);

            // The legacy PyTorch tar loader unpickles these members whatever their first bytes are.
            bool torchPickle = context.Format == ModelFormat.PyTorchTar && TorchTarPickles.Contains(LeafName(entry.Name));
            if (!ModelReaders.Has(match.Format) && !torchPickle)
            {
                context.ScanNested(entry.Name, head);
                continue;
            }

            long size = Math.Min(entry.Size, context.Limits.MaxMemberBytes);
            if (!context.TryReserve(size, entry.Name))
            {
                continue;
            }

            byte[] data = tar.ReadAll(entry, context.Limits.MaxMemberBytes, out bool truncated);
            if (truncated && entry.Size > context.Limits.MaxMemberBytes)
            {
                context.Report(RuleIds.ArchiveMemberUnreadable, $"The member is {entry.Size:N0} bytes; only the first {context.Limits.MaxMemberBytes:N0} were checked.", $"member {entry.Name}");
            }

            context.ScanNested(entry.Name, data);
        }
    }

    private static string LeafName(string name)
    {
        string trimmed = name.TrimEnd('/');
        int slash = trimmed.LastIndexOf('/');
        return slash < 0 ? trimmed : trimmed.Substring(slash + 1);
    }
}

/// <summary>
/// 7-Zip archives (the nullifAI technique packs a PyTorch model in 7z so scanners skip it): members
/// are listed, every oddity reported, and each member decoded within the limits and read by content.
/// </summary>
internal sealed class SevenZipModelReader : IModelReader
{
    public void Read(ReadContext context)
    {
        SevenZipArchiveReader? archive = SevenZipArchiveReader.Open(context.Source, context.CancellationToken);
        if (archive is null)
        {
            context.Report(RuleIds.ArchiveMemberUnreadable, "The 7-Zip headers could not be read, so no member was checked.", "archive");
            return;
        }

        var reported = new HashSet<string>(StringComparer.Ordinal);
        ArchiveFindings.Report(context, archive.Anomalies, reported);
        int examined = 0;
        foreach (ArchiveMember member in archive.Members)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            if (member.IsDirectory || member.Size == 0)
            {
                continue;
            }

            if (++examined > context.Limits.MaxMembers)
            {
                context.Report(RuleIds.ArchiveMemberUnreadable, $"Only the first {context.Limits.MaxMembers:N0} members were examined.", "archive");
                break;
            }

            if (member.IsEncrypted)
            {
                context.Report(RuleIds.ArchiveMemberUnreadable, "The member is encrypted; its content could not be read.", $"member {member.Name}");
                continue;
            }

            long size = Math.Min(member.Size, context.Limits.MaxMemberBytes);
            if (!context.TryReserve(size, member.Name))
            {
                continue;
            }

            ArchiveMemberData data = archive.Read(member, context.Limits.MaxMemberBytes, context.CancellationToken);
            ArchiveFindings.Report(context, data.Anomalies, reported);
            if (data.Data.Length > 0)
            {
                context.ScanNested(member.Name, data.Data);
            }
        }
    }
}
