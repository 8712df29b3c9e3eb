using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;

namespace ModelSecurity.Provenance;

/// <summary>
/// Finds names that imitate popular models or publishers (typosquats): <c>qwen35:27b</c> for
/// <c>qwen3.5:27b</c>, <c>meta-lama/…</c> for <c>meta-llama/…</c>, Cyrillic letters, zero-width
/// characters, <c>I</c>/<c>l</c>/<c>1</c>, <c>0</c>/<c>o</c>, <c>rn</c>/<c>m</c>. Names are compared
/// in two normal forms: a loose form (case, separators, confusable scripts and invisible characters
/// removed) and a skeleton (the loose form with look-alike glyphs folded), then by
/// Damerau-Levenshtein distance with a threshold that grows with the length of the name.
/// </summary>
/// <remarks>
/// A name on the popular list, or an exact registry namespace, is never a look-alike. A name that
/// differs from a popular one only in its digits (llama3.3 beside llama3.2, qwen4 beside qwen3) is
/// taken for another version, not a typo, unless it is the same name with its separators dropped
/// (qwen35 for qwen3.5), which is how the typosquat of a version number looks.
/// </remarks>
internal sealed class Lookalikes
{
    private const string ResourceName = "ModelSecurity.Data.popular-models.json";
    private const int MaxNameLength = 256;

    // Words squatters append to an official namespace ("mistralai-official", "qwen-team").
    private static readonly string[] SquatSuffixes = { "official", "offical", "ai", "org", "team", "hf", "inc", "llm", "labs", "models", "hub" };

    private static readonly Dictionary<char, char> Confusables = BuildConfusables();

    private static readonly Lazy<Lookalikes> Embedded = new(() =>
    {
        using Stream stream = typeof(Lookalikes).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Embedded resource '{ResourceName}' is missing.");
        using JsonDocument document = JsonDocument.Parse(stream);
        string[] List(string name) => document.RootElement.GetProperty(name).EnumerateArray().Select(e => e.GetString()!).ToArray();
        return new Lookalikes(List("ollama"), List("huggingFace"), List("licenses"));
    });

    private readonly HashSet<string> _licenses;

    private Lookalikes(string[] ollama, string[] huggingFace, string[] licenses)
    {
        OllamaModels = ollama;
        HuggingFaceRepos = huggingFace;
        _licenses = new HashSet<string>(licenses, StringComparer.OrdinalIgnoreCase);
    }

    public static Lookalikes Default => Embedded.Value;

    /// <summary>Popular Ollama library model names (no tags).</summary>
    public IReadOnlyList<string> OllamaModels { get; }

    /// <summary>Popular Hugging Face repository ids.</summary>
    public IReadOnlyList<string> HuggingFaceRepos { get; }

    /// <summary>True for a licence id a card may name that counts as clear.</summary>
    public bool IsKnownLicense(string id) => _licenses.Contains(id.Trim());

    /// <summary>
    /// The popular Ollama name <paramref name="model"/> imitates (with <paramref name="tag"/> appended
    /// when given), or null. <paramref name="ns"/> is the namespace (<c>library</c> for official models).
    /// </summary>
    public string? CheckOllama(string ns, string model, string? tag, PublisherRegistry registry)
    {
        string? target = Match(model, OllamaModels, allowDistance: true);
        if (target is null && registry.FindOllama(ns) is null && !ns.Equals(OllamaManifest.DefaultNamespace, StringComparison.OrdinalIgnoreCase))
        {
            // A user namespace dressed up as the official one ("librarry/llama3.1").
            string? official = Match(ns, registry.OllamaNamespaces.ToList(), allowDistance: true);
            if (official is not null)
            {
                return official.Equals(OllamaManifest.DefaultNamespace, StringComparison.OrdinalIgnoreCase)
                    ? WithTag(model, tag)
                    : official + "/" + WithTag(model, tag);
            }
        }

        return target is null ? null : WithTag(target, tag);
    }

    /// <summary>The popular Hugging Face repository (or official namespace) <c>ns/repo</c> imitates, or null.</summary>
    public string? CheckHuggingFace(string ns, string repo, PublisherRegistry registry)
    {
        string id = ns + "/" + repo;
        if (HuggingFaceRepos.Contains(id, StringComparer.OrdinalIgnoreCase))
        {
            return null;
        }

        if (registry.FindHuggingFace(ns) is not null)
        {
            // An official namespace cannot be squatted; only a disguised spelling of one of its popular repositories is reported.
            string[] own = HuggingFaceRepos.Where(r => r.StartsWith(ns + "/", StringComparison.OrdinalIgnoreCase)).Select(RepoPart).ToArray();
            string? disguised = Match(repo, own, allowDistance: false);
            return disguised is null ? null : registry.CanonicalHuggingFace(ns) + "/" + disguised;
        }

        List<string> namespaces = registry.HuggingFaceNamespaces.ToList();
        string? officialNs = Match(ns, namespaces, allowDistance: true) ?? SquatOf(ns, namespaces);
        if (officialNs is not null)
        {
            string canonical = registry.CanonicalHuggingFace(officialNs) ?? officialNs;
            string[] own = HuggingFaceRepos.Where(r => r.StartsWith(canonical + "/", StringComparison.OrdinalIgnoreCase)).Select(RepoPart).ToArray();
            string? popularRepo = own.FirstOrDefault(r => r.Equals(repo, StringComparison.OrdinalIgnoreCase)) ?? Match(repo, own, allowDistance: true);
            return canonical + "/" + (popularRepo ?? repo);
        }

        // Reuploads under another name are common and legitimate; a disguised spelling of a popular repository is not.
        foreach (string popular in HuggingFaceRepos)
        {
            string popularRepo = RepoPart(popular);
            if (Loose(repo) != Loose(popularRepo) && Skeleton(repo) == Skeleton(popularRepo))
            {
                return popular;
            }
        }

        return null;
    }

    /// <summary>Case, separators, invisible characters, accents and confusable Cyrillic/Greek letters removed.</summary>
    internal static string Loose(string name)
    {
        string text = name.Length > MaxNameLength ? name.Substring(0, MaxNameLength) : name;
        var builder = new StringBuilder(text.Length);
        foreach (char raw in text.Normalize(NormalizationForm.FormKD))
        {
            UnicodeCategory category = CharUnicodeInfo.GetUnicodeCategory(raw);
            if (category is UnicodeCategory.Format or UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.SpacingCombiningMark)
            {
                continue;
            }

            char c = Confusables.TryGetValue(raw, out char latin) ? latin : char.ToLowerInvariant(raw);
            if (char.IsLetterOrDigit(c))
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    /// <summary>The loose form with glyphs that look alike folded together (rn/m, vv/w, cl/d, 1/i/l, 0/o).</summary>
    internal static string Skeleton(string name)
    {
        string loose = Loose(name).Replace("rn", "m", StringComparison.Ordinal).Replace("vv", "w", StringComparison.Ordinal).Replace("cl", "d", StringComparison.Ordinal);
        var builder = new StringBuilder(loose.Length);
        foreach (char c in loose)
        {
            builder.Append(c switch
            {
                '1' or 'i' or 'l' => 'l',
                '0' => 'o',
                _ => c,
            });
        }

        return builder.ToString();
    }

    /// <summary>Optimal-string-alignment (restricted Damerau-Levenshtein) distance; stops early past <paramref name="limit"/>.</summary>
    internal static int Distance(string a, string b, int limit = int.MaxValue)
    {
        if (Math.Abs(a.Length - b.Length) > limit)
        {
            return limit + 1;
        }

        int[,] d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (int j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            int rowMin = int.MaxValue;
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                int value = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    value = Math.Min(value, d[i - 2, j - 2] + 1);
                }

                d[i, j] = value;
                rowMin = Math.Min(rowMin, value);
            }

            if (rowMin > limit)
            {
                return limit + 1;
            }
        }

        return d[a.Length, b.Length];
    }

    /// <summary>Edits allowed for a name whose skeleton has <paramref name="length"/> characters.</summary>
    internal static int Threshold(int length) => length >= 10 ? 2 : length >= 5 ? 1 : 0;

    /// <summary>
    /// The entry of <paramref name="popular"/> that <paramref name="candidate"/> imitates, or null when it
    /// is one of them (case aside) or imitates none.
    /// </summary>
    internal static string? Match(string candidate, IReadOnlyList<string> popular, bool allowDistance)
    {
        if (candidate.Length == 0 || popular.Any(p => p.Equals(candidate, StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }

        string loose = Loose(candidate);
        if (loose.Length == 0)
        {
            return null;
        }

        // The same name with separators, case, accents or invisible characters changed.
        string? same = popular.FirstOrDefault(p => Loose(p) == loose);
        if (same is not null)
        {
            return same;
        }

        // Another version of a popular model (only digits differ) is not a typo.
        string letters = Letters(loose);
        if (popular.Any(p => Letters(Loose(p)) == letters))
        {
            return null;
        }

        string skeleton = Skeleton(candidate);
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string p in popular)
        {
            string other = Skeleton(p);
            int limit = allowDistance ? Threshold(other.Length) : 0;
            int distance = Distance(skeleton, other, limit);
            if (distance <= limit && distance < bestDistance)
            {
                best = p;
                bestDistance = distance;
            }
        }

        return best;
    }

    /// <summary>An official namespace with a squatter's word added: "mistralai-official", "qwen-team".</summary>
    private static string? SquatOf(string ns, IReadOnlyList<string> namespaces)
    {
        string loose = Loose(ns);
        foreach (string official in namespaces)
        {
            string o = Loose(official);
            if (o.Length < 4 || loose.Length <= o.Length)
            {
                continue;
            }

            string rest = loose.StartsWith(o, StringComparison.Ordinal) ? loose.Substring(o.Length)
                : loose.EndsWith(o, StringComparison.Ordinal) ? loose.Substring(0, loose.Length - o.Length)
                : string.Empty;
            if (rest.Length > 0 && Array.IndexOf(SquatSuffixes, rest) >= 0)
            {
                return official;
            }
        }

        return null;
    }

    private static string Letters(string loose) => new(loose.Where(c => !char.IsDigit(c)).ToArray());

    private static string RepoPart(string id) => id.Substring(id.IndexOf('/', StringComparison.Ordinal) + 1);

    private static string WithTag(string model, string? tag) => string.IsNullOrEmpty(tag) ? model : model + ":" + tag;

    private static Dictionary<char, char> BuildConfusables()
    {
        // Cyrillic and Greek letters drawn like Latin ones (Unicode confusables, the common subset).
        const string from = "аеорсухіјѕԁһӏкмтвнАВЕКМНОРСТХУІЈЅαοριυνκτΑΒΕΖΗΙΚΜΝΟΡΤΥΧıɡ";
        const string to = "aeopcyxijsdhlkmtbhabekmhopctxyijsaopiuvktabezhikmnoptyxig";
        var map = new Dictionary<char, char>();
        for (int i = 0; i < from.Length; i++)
        {
            map[from[i]] = to[i];
        }

        return map;
    }
}
