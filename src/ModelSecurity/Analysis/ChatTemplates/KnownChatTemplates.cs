using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace ModelSecurity.Analysis.ChatTemplates;

/// <summary>
/// Hashes of official chat templates and their model family, loaded once from the embedded
/// <c>Data/chat-templates.json</c>. A template whose hash is listed is byte-identical to an official one.
/// </summary>
internal static class KnownChatTemplates
{
    private const string ResourceName = "ModelSecurity.Data.chat-templates.json";

    private static readonly Lazy<Dictionary<string, string>> Templates = new(Load);

    /// <summary>Every family with at least one known template, ordered.</summary>
    public static IReadOnlyCollection<string> Families =>
        Templates.Value.Values.Distinct(StringComparer.Ordinal).OrderBy(f => f, StringComparer.Ordinal).ToList();

    /// <summary>The family whose official template has this SHA-256 (hex, any case), or null.</summary>
    public static string? FamilyOf(string sha256)
    {
        ArgumentNullException.ThrowIfNull(sha256);
        return Templates.Value.TryGetValue(sha256.ToLowerInvariant(), out string? family) ? family : null;
    }

    private static Dictionary<string, string> Load()
    {
        using Stream stream = typeof(KnownChatTemplates).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Embedded resource '{ResourceName}' is missing.");
        using JsonDocument document = JsonDocument.Parse(stream);
        var templates = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (JsonElement entry in document.RootElement.GetProperty("templates").EnumerateArray())
        {
            templates[entry.GetProperty("sha256").GetString()!.ToLowerInvariant()] = entry.GetProperty("family").GetString()!;
        }

        return templates;
    }
}
