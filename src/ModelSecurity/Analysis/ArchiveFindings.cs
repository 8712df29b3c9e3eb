using System;
using System.Collections.Generic;
using ModelSecurity.Formats.Archive;

namespace ModelSecurity.Analysis;

/// <summary>Turns container oddities (zip, tar, 7z, compressed streams) into findings of the MS-ARC rules.</summary>
internal static class ArchiveFindings
{
    /// <summary>Reports each anomaly once, located at its member inside <paramref name="context"/>'s content.</summary>
    public static void Report(ReadContext context, IEnumerable<ArchiveAnomaly> anomalies, HashSet<string>? reported = null)
    {
        reported ??= new HashSet<string>(StringComparer.Ordinal);
        foreach (ArchiveAnomaly anomaly in anomalies)
        {
            if (!reported.Add(anomaly.ToString()))
            {
                continue;
            }

            string location = anomaly.Member is null ? "archive" : $"member {anomaly.Member}";
            context.Report(RuleFor(anomaly), anomaly.Detail, location);
        }
    }

    private static string RuleFor(ArchiveAnomaly anomaly) => anomaly.Kind switch
    {
        ArchiveAnomalyKind.LocalNameMismatch => RuleIds.ZipNameMismatch,
        ArchiveAnomalyKind.EncryptionFlag or ArchiveAnomalyKind.PatchedDataFlag => RuleIds.ZipFlagBits,
        ArchiveAnomalyKind.CrcMismatch => RuleIds.ZipCrcMismatch,
        ArchiveAnomalyKind.DuplicateName => RuleIds.ArchiveDuplicateName,
        ArchiveAnomalyKind.UnsafeName => anomaly.Member is not null && ArchivePaths.EscapesFolder(anomaly.Member) ? RuleIds.ArchivePathTraversal : RuleIds.ArchiveHiddenData,
        ArchiveAnomalyKind.Encrypted or ArchiveAnomalyKind.UnsupportedMethod or ArchiveAnomalyKind.LocalHeaderMissing
            or ArchiveAnomalyKind.Corrupt or ArchiveAnomalyKind.Truncated or ArchiveAnomalyKind.MemberTooLarge => RuleIds.ArchiveMemberUnreadable,
        ArchiveAnomalyKind.CompressionBomb => RuleIds.ArchiveBomb,
        ArchiveAnomalyKind.Link or ArchiveAnomalyKind.SpecialMember => RuleIds.ArchiveLink,
        _ => RuleIds.ArchiveHiddenData,
    };
}
