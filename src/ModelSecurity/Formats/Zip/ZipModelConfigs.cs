using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json;
using ModelSecurity.Analysis;
using ModelSecurity.Formats.Archive;

namespace ModelSecurity.Formats.Zip;

/// <summary>
/// The config members that make a zip a Keras 3 model or a skops model: Keras' <c>config.json</c>
/// (what load_model deserialises) with <c>metadata.json</c> (the Keras version), skops'
/// <c>schema.json</c>. They are read whole (bounded) and analysed here; every other member is
/// still read by content by <see cref="ZipModelReader"/>.
/// </summary>
internal static class ZipModelConfigs
{
    /// <summary>Largest metadata.json read.</summary>
    public const int MaxMetadataBytes = 64 * 1024;

    // What keras.saving.save_model writes (saving_lib.py); anything else is reported, then scanned by content.
    private static readonly string[] KerasMembers = { "metadata.json", "config.json", "model.weights.h5", "model.weights.npz" };

    /// <summary>
    /// Analyses the format's config members; returns the names of the members analysed here, which the
    /// member scan need not read again when their content is JSON.
    /// </summary>
    public static HashSet<string> Read(ReadContext context, ZipArchiveReader zip, List<ArchiveAnomaly> anomalies, ISet<string> encrypted)
    {
        _ = encrypted ?? throw new ArgumentNullException(nameof(encrypted));
        var analysed = new HashSet<string>(StringComparer.Ordinal);
        if (context.Format == ModelFormat.Keras)
        {
            ReadKeras(context, zip, anomalies, analysed, encrypted);
        }
        else if (context.Format == ModelFormat.Skops)
        {
            ReadSkops(context, zip, anomalies, analysed, encrypted);
        }

        return analysed;
    }

    private static void ReadKeras(ReadContext context, ZipArchiveReader zip, List<ArchiveAnomaly> anomalies, HashSet<string> analysed, ISet<string> encrypted)
    {
        foreach (ZipEntry entry in Named(zip, "metadata.json", encrypted))
        {
            byte[] data = zip.ReadAll(entry, MaxMetadataBytes, anomalies, context.CancellationToken).Data;
            ReadKerasMetadata(context, data);
        }

        List<ZipEntry> configs = Named(zip, "config.json", encrypted).ToList();
        if (configs.Count == 0)
        {
            context.Report(RuleIds.KerasConfigUnreadable, "The Keras archive has no config.json, so the model's layers could not be checked.", "archive");
        }

        foreach (ZipEntry entry in configs)
        {
            if (ReadText(context, zip, entry, KerasConfigAnalysis.MaxChars, anomalies, RuleIds.KerasConfigUnreadable) is { } json)
            {
                KerasConfigAnalysis.Analyze(context, json, $"member {entry.Name}");
                analysed.Add(entry.Name);
            }
        }

        string[] unexpected = zip.Entries
            .Where(e => !e.IsDirectory && !KerasMembers.Contains(e.Name, StringComparer.Ordinal) && !e.Name.StartsWith("assets/", StringComparison.Ordinal))
            .Select(e => e.Name)
            .ToArray();
        if (unexpected.Length > 0)
        {
            context.Report(
                RuleIds.ArchiveUnexpectedMember,
                $"{unexpected.Length:N0} member(s) that Keras does not write: {string.Join(", ", unexpected.Take(8))}{(unexpected.Length > 8 ? ", ..." : string.Empty)}. Each was scanned by content.",
                "archive");
        }
    }

    private static void ReadKerasMetadata(ReadContext context, byte[] data)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(data, new JsonDocumentOptions { MaxDepth = 16 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            foreach ((string property, string key) in new[] { ("keras_version", "KerasVersion"), ("date_saved", "KerasDateSaved") })
            {
                if (document.RootElement.TryGetProperty(property, out JsonElement value) && value.ValueKind == JsonValueKind.String && !context.Scan.Metadata.Contains(key))
                {
                    context.Scan.Metadata[key] = PythonReferences.Clip(value.GetString()!, 40);
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // JsonDocument checks a string's UTF-8 only when it is read (InvalidOperationException).
            context.Report(RuleIds.DocumentMalformed, $"metadata.json is not valid JSON: {e.Message}", "member metadata.json");
        }
    }

    private static void ReadSkops(ReadContext context, ZipArchiveReader zip, List<ArchiveAnomaly> anomalies, HashSet<string> analysed, ISet<string> encrypted)
    {
        List<ZipEntry> schemas = Named(zip, "schema.json", encrypted).ToList();
        if (schemas.Count == 0)
        {
            context.Report(RuleIds.SkopsSchemaUnreadable, "The skops archive has no schema.json, so the types it loads could not be checked.", "archive");
        }

        foreach (ZipEntry entry in schemas)
        {
            if (entry.UncompressedSize > SkopsSchemaAnalysis.MaxBytes)
            {
                context.Report(RuleIds.SkopsSchemaUnreadable, $"schema.json is {entry.UncompressedSize:N0} bytes, more than the {SkopsSchemaAnalysis.MaxBytes:N0} analysed.", $"member {entry.Name}");
                continue;
            }

            if (!context.TryReserve(entry.UncompressedSize, entry.Name))
            {
                continue;
            }

            byte[] data = zip.ReadAll(entry, SkopsSchemaAnalysis.MaxBytes, anomalies, context.CancellationToken).Data;
            SkopsSchemaAnalysis.Analyze(context, data, $"member {entry.Name}");
            analysed.Add(entry.Name);
        }
    }

    private static string? ReadText(ReadContext context, ZipArchiveReader zip, ZipEntry entry, int maxBytes, List<ArchiveAnomaly> anomalies, string rule)
    {
        if (entry.UncompressedSize > maxBytes)
        {
            context.Report(rule, $"{entry.Name} is {entry.UncompressedSize:N0} bytes, more than the {maxBytes:N0} analysed.", $"member {entry.Name}");
            return null;
        }

        if (!context.TryReserve(entry.UncompressedSize, entry.Name))
        {
            return null;
        }

        byte[] data = zip.ReadAll(entry, maxBytes, anomalies, context.CancellationToken).Data;
        return Encoding.UTF8.GetString(data);
    }

    private static IEnumerable<ZipEntry> Named(ZipArchiveReader zip, string name, ISet<string> encrypted) =>
        zip.Entries.Where(e => !e.IsDirectory && e.Name == name && !encrypted.Contains(e.Name));
}
