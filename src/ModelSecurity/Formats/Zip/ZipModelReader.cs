using System;
using System.Collections.Generic;
using System.Linq;
using ModelSecurity.Analysis;
using ModelSecurity.Formats.Archive;

namespace ModelSecurity.Formats.Zip;

/// <summary>
/// Zip-based models and plain zips (PyTorch checkpoints, TorchScript, NumPy .npz, Keras, skops,
/// whose config members <see cref="ZipModelConfigs"/> analyses):
/// the central directory is authoritative as in PyTorch's reader, every structural oddity is
/// reported, and every member is judged by its content, not its name. Members are recognised from
/// their first bytes; only those whose format has a reader (pickles, arrays, archives) are read
/// whole, so tensor storages are never read.
/// </summary>
internal sealed class ZipModelReader : IModelReader
{
    // What torch.save writes under the archive's folder (caffe2/serialize/inline_container.cc).
    private static readonly HashSet<string> TorchRecords = new(StringComparer.Ordinal)
    {
        "data.pkl", "byteorder", "version", ".data/version", ".format_version", ".storage_alignment", ".data/serialization_id",
    };

    public void Read(ReadContext context)
    {
        ZipArchiveReader? zip = ZipArchiveReader.Open(context.Source, context.CancellationToken);
        if (zip is null)
        {
            context.Report(RuleIds.ArchiveMemberUnreadable, "No zip central directory or local header could be read, so no member was checked.", "archive");
            return;
        }

        ReadArchive(context, zip, prefixExpected: false);
    }

    /// <summary>
    /// Reports the archive's oddities and reads every member by content. <paramref name="prefixExpected"/>
    /// is true where data before the zip is the norm (a llamafile's runtime).
    /// </summary>
    internal static void ReadArchive(ReadContext context, ZipArchiveReader zip, bool prefixExpected)
    {
        var reported = new HashSet<string>(StringComparer.Ordinal);
        HashSet<string> encrypted = ReallyEncrypted(zip);
        foreach (string name in encrypted)
        {
            context.Report(RuleIds.ArchiveMemberUnreadable, "The member is encrypted (password-protected); its content could not be read.", $"member {name}");
        }

        // For an encrypted member, flag bits and the 12-byte encryption header are what encryption looks like, not a trick.
        ArchiveFindings.Report(
            context,
            zip.Anomalies.Where(a => (a.Member is null || !encrypted.Contains(a.Member)
                || a.Kind is not (ArchiveAnomalyKind.EncryptionFlag or ArchiveAnomalyKind.SizeMismatch or ArchiveAnomalyKind.Encrypted or ArchiveAnomalyKind.Corrupt))
                && !(prefixExpected && a.Kind == ArchiveAnomalyKind.PrependedData)),
            reported);

        IReadOnlyList<ZipEntry> entries = zip.Entries;
        if (context.Format is ModelFormat.PyTorchZip)
        {
            CheckTorchLayout(context, entries);
        }
        else if (context.Format is ModelFormat.TorchScript)
        {
            ReportTorchScriptCode(context, entries);
        }

        // Keras' config.json and skops' schema.json are analysed as what their loaders make of them.
        var configAnomalies = new List<ArchiveAnomaly>();
        HashSet<string> analysedConfigs = ZipModelConfigs.Read(context, zip, configAnomalies, encrypted);
        ArchiveFindings.Report(context, configAnomalies, reported);

        int examined = 0;
        foreach (ZipEntry entry in entries)
        {
            context.Checkpoint();
            if (entry.IsDirectory || encrypted.Contains(entry.Name))
            {
                continue;
            }

            if (++examined > context.Limits.MaxMembers)
            {
                context.Report(RuleIds.ArchiveMemberUnreadable, $"Only the first {context.Limits.MaxMembers:N0} members were examined.", "archive");
                break;
            }

            var anomalies = new List<ArchiveAnomaly>();
            ReadMember(context, zip, entry, anomalies, analysedConfigs);
            ArchiveFindings.Report(context, anomalies, reported);
        }
    }

    /// <summary>
    /// Members whose encryption flag is real: AES (method 99), or a stored member 12 bytes longer than
    /// its content (the traditional PKWARE header), or deflate data that does not inflate. A flag on
    /// plain, readable data is the CVE-2025-1945 trick instead, reported as such.
    /// </summary>
    private static HashSet<string> ReallyEncrypted(ZipArchiveReader zip)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (ZipEntry entry in zip.Entries)
        {
            if (!entry.IsEncrypted || entry.IsDirectory)
            {
                continue;
            }

            bool real = entry.Method == 99
                || (entry.Method == ZipEntry.Stored && entry.CompressedSize == entry.UncompressedSize + 12);
            if (!real && entry.Method == ZipEntry.Deflated)
            {
                var probe = new List<ArchiveAnomaly>();
                zip.ReadHead(entry, 64, probe);
                real = probe.Any(a => a.Kind == ArchiveAnomalyKind.Corrupt);
            }

            if (real)
            {
                names.Add(entry.Name);
            }
        }

        return names;
    }

    private static void ReadMember(ReadContext context, ZipArchiveReader zip, ZipEntry entry, List<ArchiveAnomaly> anomalies, HashSet<string> analysedConfigs)
    {
        byte[] head = zip.ReadHead(entry, context.Limits.MemberSniffBytes, anomalies);
        if (head.Length == 0)
        {
            return;
        }

        FormatMatch match = ReadContext.DetectHead(head, entry.UncompressedSize);
        if (match.Format == ModelFormat.Json && analysedConfigs.Contains(entry.Name))
        {
            return;
        }

        bool pickleName = entry.Name.EndsWith(".pkl", StringComparison.OrdinalIgnoreCase);
        if (!ModelReaders.Has(match.Format) && !pickleName)
        {
            // Data, text and formats without a reader: the head says all there is to say.
            context.ScanNested(entry.Name, head);
            return;
        }

        if (match.Format.IsPickleFamily() && !pickleName && context.Format is ModelFormat.PyTorchZip or ModelFormat.TorchScript)
        {
            context.Report(
                RuleIds.ArchiveUnexpectedMember,
                $"The member holds {match.Description} under a name that does not say so; torch.load(pickle_file=...) and other loaders can still unpickle it (CVE-2025-1889).",
                $"member {entry.Name}");
        }

        // A stored HDF5 member (Keras' model.weights.h5) is read in place: its reader wants a few headers, not the weights.
        if (match.Format == ModelFormat.Hdf5 && entry.Method == ZipEntry.Stored && !entry.IsEncrypted && entry.HasLocalHeader
            && entry.CompressedSize == entry.UncompressedSize && entry.DataOffset + entry.UncompressedSize <= context.Source.Length)
        {
            using var window = new ModelFileSourceStream(context.Source, entry.DataOffset, entry.UncompressedSize, bufferSize: 8 * 1024);
            using var member = new ModelFileSource(window);
            context.ScanNested(entry.Name, member);
            return;
        }

        long size = Math.Min(entry.UncompressedSize, context.Limits.MaxMemberBytes);
        if (!context.TryReserve(size, entry.Name))
        {
            return;
        }

        ZipMemberData data = zip.ReadAll(entry, context.Limits.MaxMemberBytes, anomalies, context.CancellationToken);
        context.ScanNested(entry.Name, data.Data);
    }

    private static void CheckTorchLayout(ReadContext context, IReadOnlyList<ZipEntry> entries)
    {
        if (entries.Count == 0)
        {
            return;
        }

        // PyTorch's reader takes the archive folder from the first name, up to '/'.
        string first = entries[0].Name;
        int slash = first.IndexOf('/');
        if (slash <= 0)
        {
            context.Report(
                RuleIds.ArchiveUnexpectedMember,
                $"The first member '{first}' is not in a folder: torch.load refuses such an archive (\"file in archive is not in a subdirectory\"), so something else is meant to read it.",
                $"member {first}");
            return;
        }

        string prefix = first.Substring(0, slash + 1);
        var unexpected = new List<string>();
        foreach (ZipEntry entry in entries)
        {
            string name = entry.Name;
            if (!name.StartsWith(prefix, StringComparison.Ordinal))
            {
                unexpected.Add(name);
                continue;
            }

            string record = name.Substring(prefix.Length);
            if (!TorchRecords.Contains(record) && !IsStorageRecord(record) && record.Length > 0)
            {
                unexpected.Add(name);
            }
        }

        if (unexpected.Count > 0)
        {
            context.Report(
                RuleIds.ArchiveUnexpectedMember,
                $"{unexpected.Count:N0} member(s) that torch.save does not write: {string.Join(", ", unexpected.Take(8))}{(unexpected.Count > 8 ? ", ..." : string.Empty)}. Each was scanned by content.",
                "archive");
        }

        if (!entries.Any(e => e.Name == prefix + "data.pkl"))
        {
            context.Report(
                RuleIds.ArchiveUnexpectedMember,
                $"There is no {prefix}data.pkl, the record torch.load unpickles; another member is meant to be loaded.",
                "archive");
        }
    }

    private static bool IsStorageRecord(string record)
    {
        if (!record.StartsWith("data/", StringComparison.Ordinal) || record.Length == 5)
        {
            return false;
        }

        for (int i = 5; i < record.Length; i++)
        {
            if (record[i] is < '0' or > '9')
            {
                return false;
            }
        }

        return true;
    }

    private static void ReportTorchScriptCode(ReadContext context, IReadOnlyList<ZipEntry> entries)
    {
        string[] code = entries
            .Where(e => !e.IsDirectory && e.Name.Contains("/code/") || e.Name.StartsWith("code/", StringComparison.Ordinal))
            .Select(e => e.Name)
            .ToArray();
        string listed = code.Length == 0
            ? "no code/ member was found, but the archive's constants.pkl makes torch.load hand it to torch.jit.load"
            : $"{code.Length:N0} code file(s): {string.Join(", ", code.Take(8))}{(code.Length > 8 ? ", ..." : string.Empty)}";
        context.Report(RuleIds.TorchScriptCode, $"TorchScript archive with {listed}.", "archive");
    }
}
