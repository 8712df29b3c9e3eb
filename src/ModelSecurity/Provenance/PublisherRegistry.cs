using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace ModelSecurity.Provenance;

/// <summary>What kind of publisher a registry entry is.</summary>
internal enum PublisherKind
{
    /// <summary>Publishes its own models.</summary>
    Organisation,

    /// <summary>Republishes other publishers' models, converted or quantised.</summary>
    Quantiser,

    /// <summary>The registry operator's own namespace (Ollama's <c>library</c>).</summary>
    Registry,

    /// <summary>A person.</summary>
    Individual,
}

/// <summary>One publisher: its exact namespaces and how far it is trusted, and why.</summary>
internal sealed record Publisher(
    string Name,
    PublisherKind Kind,
    TrustLevel Trust,
    string Reason,
    IReadOnlyList<string> HuggingFace,
    IReadOnlyList<string> Ollama,
    string Origin);

/// <summary>
/// Publishers and their exact Hugging Face and Ollama namespaces: the embedded
/// <c>Data/publishers.json</c>, overridden by a policy file's <c>publishers</c> array. Namespaces are
/// compared case-insensitively (both services treat names that way); anything close but not equal
/// is for <see cref="Lookalikes"/> to judge, never a match.
/// </summary>
internal sealed class PublisherRegistry
{
    private const string ResourceName = "ModelSecurity.Data.publishers.json";
    private const int MaxPolicyPublishers = 10_000;

    private static readonly Lazy<PublisherRegistry> Embedded = new(() =>
    {
        using Stream stream = typeof(PublisherRegistry).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Embedded resource '{ResourceName}' is missing.");
        using var reader = new StreamReader(stream);
        return new PublisherRegistry(Parse(reader.ReadToEnd(), "the built-in publisher registry", "built-in registry"));
    });

    private readonly Dictionary<string, Publisher> _huggingFace = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Publisher> _ollama = new(StringComparer.OrdinalIgnoreCase);

    private PublisherRegistry(IEnumerable<Publisher> publishers)
    {
        Publishers = publishers.ToList();
        foreach (Publisher publisher in Publishers)
        {
            foreach (string ns in publisher.HuggingFace)
            {
                _huggingFace[ns] = publisher;
            }

            foreach (string ns in publisher.Ollama)
            {
                _ollama[ns] = publisher;
            }
        }
    }

    /// <summary>The built-in registry.</summary>
    public static PublisherRegistry Default => Embedded.Value;

    public IReadOnlyList<Publisher> Publishers { get; }

    /// <summary>Every Hugging Face namespace in the registry.</summary>
    public IEnumerable<string> HuggingFaceNamespaces => _huggingFace.Keys;

    /// <summary>Every Ollama namespace in the registry.</summary>
    public IEnumerable<string> OllamaNamespaces => _ollama.Keys;

    /// <summary>
    /// This registry with a policy file's publishers laid over it: a policy entry replaces the built-in
    /// entry of the same name, and a namespace it lists is its alone.
    /// </summary>
    /// <exception cref="InvalidDataException">The policy is not valid JSON of the documented shape.</exception>
    public PublisherRegistry WithPolicy(string json, string fileName)
    {
        List<Publisher> overrides = Parse(json, $"the policy file '{fileName}'", "policy " + fileName, optional: true);
        if (overrides.Count == 0)
        {
            return this;
        }

        var names = new HashSet<string>(overrides.Select(p => p.Name), StringComparer.OrdinalIgnoreCase);
        var claimedHf = new HashSet<string>(overrides.SelectMany(p => p.HuggingFace), StringComparer.OrdinalIgnoreCase);
        var claimedOllama = new HashSet<string>(overrides.SelectMany(p => p.Ollama), StringComparer.OrdinalIgnoreCase);
        IEnumerable<Publisher> kept = Publishers
            .Where(p => !names.Contains(p.Name))
            .Select(p => p with
            {
                HuggingFace = p.HuggingFace.Where(n => !claimedHf.Contains(n)).ToArray(),
                Ollama = p.Ollama.Where(n => !claimedOllama.Contains(n)).ToArray(),
            });
        return new PublisherRegistry(kept.Concat(overrides));
    }

    public Publisher? FindHuggingFace(string? ns) => ns is not null && _huggingFace.TryGetValue(ns, out Publisher? p) ? p : null;

    public Publisher? FindOllama(string? ns) => ns is not null && _ollama.TryGetValue(ns, out Publisher? p) ? p : null;

    /// <summary>The exact spelling the registry has for a namespace (for messages).</summary>
    public string? CanonicalHuggingFace(string ns) =>
        FindHuggingFace(ns)?.HuggingFace.FirstOrDefault(n => n.Equals(ns, StringComparison.OrdinalIgnoreCase));

    private static List<Publisher> Parse(string json, string what, string origin, bool optional = false)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{Capital(what)} is not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            var result = new List<Publisher>();
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{Capital(what)} must hold a JSON object.");
            }

            if (!document.RootElement.TryGetProperty("publishers", out JsonElement list))
            {
                return optional ? result : throw new InvalidDataException($"{Capital(what)} has no publishers array.");
            }

            if (list.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException($"In {what}, publishers must be an array of objects.");
            }

            int index = 0;
            foreach (JsonElement entry in list.EnumerateArray())
            {
                if (++index > MaxPolicyPublishers)
                {
                    throw new InvalidDataException($"{Capital(what)} lists more than {MaxPolicyPublishers} publishers.");
                }

                result.Add(ParseEntry(entry, what, index, origin));
            }

            return result;
        }
    }

    private static Publisher ParseEntry(JsonElement entry, string what, int index, string origin)
    {
        string where = $"In {what}, publishers[{index - 1}]";
        if (entry.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{where} is a {entry.ValueKind}, not an object.");
        }

        string name = Text(entry, "name") ?? throw new InvalidDataException($"{where} has no name.");
        string trustText = Text(entry, "trust") ?? throw new InvalidDataException($"{where} ('{name}') has no trust (High, Medium, Low or Unknown).");
        if (!Enum.TryParse(trustText, ignoreCase: true, out TrustLevel trust) || !Enum.IsDefined(trust) || int.TryParse(trustText, out _))
        {
            throw new InvalidDataException($"{where} ('{name}') has trust '{trustText}'; use High, Medium, Low or Unknown.");
        }

        string kindText = Text(entry, "kind") ?? "organisation";
        if (!Enum.TryParse(kindText, ignoreCase: true, out PublisherKind kind) || !Enum.IsDefined(kind) || int.TryParse(kindText, out _))
        {
            throw new InvalidDataException($"{where} ('{name}') has kind '{kindText}'; use organisation, quantiser, registry or individual.");
        }

        string[] hf = Names(entry, "huggingFace", where, name);
        string[] ollama = Names(entry, "ollama", where, name);
        if (hf.Length == 0 && ollama.Length == 0)
        {
            throw new InvalidDataException($"{where} ('{name}') names no huggingFace or ollama namespace.");
        }

        string reason = Text(entry, "reason") ?? $"Rated {trust} by {origin}";
        return new Publisher(name, kind, trust, reason, hf, ollama, origin);
    }

    private static string[] Names(JsonElement entry, string property, string where, string name)
    {
        if (!entry.TryGetProperty(property, out JsonElement list))
        {
            return Array.Empty<string>();
        }

        if (list.ValueKind != JsonValueKind.Array || list.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(e.GetString())))
        {
            throw new InvalidDataException($"{where} ('{name}'): {property} must be an array of namespace strings.");
        }

        string[] names = list.EnumerateArray().Select(e => e.GetString()!.Trim()).ToArray();
        string? bad = names.FirstOrDefault(n => n.Contains('/', StringComparison.Ordinal) || n.Length > 96);
        return bad is null ? names : throw new InvalidDataException($"{where} ('{name}'): '{bad}' is not a namespace (no '/', at most 96 characters).");
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString())
            ? value.GetString()!.Trim()
            : null;

    private static string Capital(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text.Substring(1);
}
