using System;
using System.Collections.Generic;
using System.Linq;
using ModelSecurity.Formats.Zip;

namespace ModelSecurity.Formats.Zip;

/// <summary>
/// Zip archives, told apart by their members: PyTorch (<c>data.pkl</c>), TorchScript
/// (<c>constants.pkl</c> or <c>code/</c>), Keras 3 (<c>config.json</c> + metadata/weights),
/// skops (<c>schema.json</c>), NumPy <c>.npz</c> (only <c>.npy</c> members), else a plain zip.
/// </summary>
internal sealed class ZipSniffer : IFormatSniffer
{
    public FormatMatch? Sniff(SniffContext context)
    {
        if (ZipDirectory.IsEmptyArchive(context.Head))
        {
            return new FormatMatch(ModelFormat.Zip, "empty zip archive", FormatMatch.Item("MemberCount", 0));
        }

        if (!ZipDirectory.StartsWithLocalHeader(context.Head))
        {
            return null;
        }

        ZipDirectory? directory = ZipDirectory.TryRead(context);
        return directory is null
            ? new FormatMatch(ModelFormat.Zip, "zip archive (no readable directory)")
            : Classify(directory, prefixed: false);
    }

    /// <summary>Names the kind of zip from its member list.</summary>
    internal static FormatMatch Classify(ZipDirectory directory, bool prefixed)
    {
        IReadOnlyList<string> names = directory.Names;
        var items = new List<KeyValuePair<string, object>>
        {
            FormatMatch.Item("MemberCount", names.Count),
        };
        if (!directory.FromCentralDirectory)
        {
            items.Add(FormatMatch.Item("ZipDirectory", "local headers only (central directory missing or unreadable)"));
        }

        if (prefixed || directory.ArchiveStart > 0)
        {
            items.Add(FormatMatch.Item("ZipPrefixBytes", directory.ArchiveStart));
        }

        string suffix = prefixed || directory.ArchiveStart > 0 ? " after prepended data" : string.Empty;
        KeyValuePair<string, object>[] metadata = items.ToArray();

        if (names.Any(n => LeafIs(n, "constants.pkl") || n.Contains("code/__torch__/")))
        {
            return new FormatMatch(ModelFormat.TorchScript, "TorchScript archive" + suffix, metadata);
        }

        if (names.Any(n => LeafIs(n, "data.pkl")))
        {
            return new FormatMatch(ModelFormat.PyTorchZip, "PyTorch zip checkpoint" + suffix, metadata);
        }

        if (names.Contains("config.json") && (names.Contains("metadata.json") || names.Any(n => n.StartsWith("model.weights.", StringComparison.Ordinal))))
        {
            return new FormatMatch(ModelFormat.Keras, "Keras 3 model archive" + suffix, metadata);
        }

        if (names.Contains("schema.json"))
        {
            return new FormatMatch(ModelFormat.Skops, "skops model archive" + suffix, metadata);
        }

        if (names.Count > 0 && names.All(n => n.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)))
        {
            return new FormatMatch(ModelFormat.NumPyArchive, "NumPy .npz archive" + suffix, metadata);
        }

        return new FormatMatch(ModelFormat.Zip, "zip archive" + suffix, metadata);
    }

    private static bool LeafIs(string name, string leaf) =>
        name.Equals(leaf, StringComparison.Ordinal) || name.EndsWith("/" + leaf, StringComparison.Ordinal);
}

/// <summary>
/// Last resort: a zip whose end record is found at the end of a file that starts with something
/// else (CPython's zipfile and many tools accept prepended data).
/// </summary>
internal sealed class PrefixedZipSniffer : IFormatSniffer
{
    public FormatMatch? Sniff(SniffContext context)
    {
        if (context.Length < 22)
        {
            return null;
        }

        ZipDirectory? directory = ZipDirectory.TryRead(context);
        return directory is null || directory.Names.Count == 0 ? null : ZipSniffer.Classify(directory, prefixed: true);
    }
}
