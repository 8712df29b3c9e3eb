using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text.Json;

namespace ModelSecurity.Integrity.Signing;

/// <summary>One resource as the signed statement lists it.</summary>
internal sealed record SignedResource(string Name, string Algorithm, byte[] Digest);

/// <summary>
/// The in-toto Statement v1 inside a model signature: predicate https://model_signing/signature/v1.0
/// (resources, serialization, a root digest as the one subject), or the legacy
/// https://model_signing/Digests/v0.1 (one subject per file, no root digest).
/// </summary>
internal sealed class ModelSigningStatement
{
    public const string StatementType = "https://in-toto.io/Statement/v1";
    public const string PredicateV1 = "https://model_signing/signature/v1.0";
    public const string PredicateV01 = "https://model_signing/Digests/v0.1";

    /// <summary>The model name model_signing gives a legacy statement, which has none.</summary>
    public const string LegacyModelName = "compat-undefined-not-present";

    /// <summary>More resources than any real model has; bounds memory on a hostile payload.</summary>
    private const int MaxResources = 10_000_000;

    private ModelSigningStatement(string predicateType, string modelName, string? rootDigestHex, IReadOnlyList<SignedResource> resources, ModelHashMethod method, string hashType, long shardSize, bool allowSymlinks, IReadOnlyList<string> ignorePaths)
    {
        PredicateType = predicateType;
        ModelName = modelName;
        RootDigestHex = rootDigestHex;
        Resources = resources;
        Method = method;
        HashType = hashType;
        ShardSize = shardSize;
        AllowSymlinks = allowSymlinks;
        IgnorePaths = ignorePaths;
    }

    public string PredicateType { get; }

    public bool IsLegacy => PredicateType == PredicateV01;

    public string ModelName { get; }

    /// <summary>The subject's sha256 (null for the legacy predicate).</summary>
    public string? RootDigestHex { get; }

    public IReadOnlyList<SignedResource> Resources { get; }

    public ModelHashMethod Method { get; }

    public string HashType { get; }

    public long ShardSize { get; }

    public bool AllowSymlinks { get; }

    public IReadOnlyList<string> IgnorePaths { get; }

    /// <summary>
    /// The statement bytes exactly as model_signing v1.x writes them (protobuf's MessageToJson:
    /// two-space indent, no final newline), resources in the order given.
    /// </summary>
    public static byte[] Write(string modelName, IReadOnlyList<ModelResource> resources, HashingSettings settings)
    {
        byte[] root = ModelDirectoryHasher.RootDigest(EnumerateDigests(resources));
        var json = new PythonJsonWriter(2);
        json.StartObject();
        json.String("_type", StatementType);
        json.StartArray("subject");
        json.StartObject();
        json.String("name", modelName);
        json.StartObject("digest");
        json.String("sha256", Convert.ToHexString(root).ToLowerInvariant());
        json.EndObject();
        json.EndObject();
        json.EndArray();
        json.String("predicateType", PredicateV1);
        json.StartObject("predicate");
        json.StartArray("resources");
        foreach (ModelResource resource in resources)
        {
            json.StartObject();
            json.String("algorithm", "sha256");
            json.String("name", resource.Name);
            json.String("digest", Convert.ToHexString(resource.Digest).ToLowerInvariant());
            json.EndObject();
        }

        json.EndArray();
        json.StartObject("serialization");
        json.Bool("allow_symlinks", settings.AllowSymlinks);
        json.String("method", settings.Method == ModelHashMethod.Shards ? "shards" : "files");
        json.String("hash_type", "sha256");
        if (settings.Method == ModelHashMethod.Shards)
        {
            json.Number("shard_size", settings.ShardSize);
        }

        json.StartArray("ignore_paths");
        foreach (string path in settings.IgnorePaths)
        {
            json.String(null, path);
        }

        json.EndArray();
        json.EndObject();
        json.EndObject();
        json.EndObject();
        return json.ToUtf8();
    }

    /// <summary>Reads a statement; InvalidDataException says what is wrong with it.</summary>
    public static ModelSigningStatement Parse(byte[] payload)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(payload, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"the signed payload is not JSON: {e.Message}", e);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            string type = Json.RequiredString(root, "_type", "statement");
            if (type != StatementType)
            {
                throw new InvalidDataException($"the statement type is '{type}', not '{StatementType}'");
            }

            string predicateType = Json.RequiredString(root, "predicateType", "statement");
            JsonElement subjects = Json.Required(root, "subject", JsonValueKind.Array, "statement");
            return predicateType switch
            {
                PredicateV1 => ParseV1(root, subjects),
                PredicateV01 => ParseLegacy(subjects),
                _ => throw new InvalidDataException($"the predicate type '{predicateType}' is not a model signature ({PredicateV1})"),
            };
        }
    }

    private static ModelSigningStatement ParseV1(JsonElement root, JsonElement subjects)
    {
        if (subjects.GetArrayLength() != 1)
        {
            throw new InvalidDataException($"the statement has {subjects.GetArrayLength()} subjects; a model signature has exactly one");
        }

        JsonElement subject = subjects[0];
        string modelName = subject.ValueKind == JsonValueKind.Object && subject.TryGetProperty("name", out JsonElement n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : string.Empty;
        JsonElement digest = Json.Required(subject, "digest", JsonValueKind.Object, "subject");
        string rootHex = Json.RequiredString(digest, "sha256", "subject digest").ToLowerInvariant();
        JsonElement predicate = Json.Required(root, "predicate", JsonValueKind.Object, "statement");
        JsonElement serialization = Json.Required(predicate, "serialization", JsonValueKind.Object, "predicate");
        string methodName = Json.RequiredString(serialization, "method", "serialization");
        ModelHashMethod method = methodName switch
        {
            "files" => ModelHashMethod.Files,
            "shards" => ModelHashMethod.Shards,
            _ => throw new NotSupportedException($"the serialization method '{methodName}' is not supported (files and shards are)"),
        };
        string hashType = Json.RequiredString(serialization, "hash_type", "serialization");
        long shardSize = 0;
        if (method == ModelHashMethod.Shards)
        {
            JsonElement size = Json.Required(serialization, "shard_size", JsonValueKind.Number, "serialization");
            if (!size.TryGetDouble(out double value) || value < 1 || value > long.MaxValue || Math.Floor(value) != value)
            {
                throw new InvalidDataException($"the shard size {size.GetRawText()} is not a positive whole number");
            }

            shardSize = (long)value;
        }

        bool allowSymlinks = serialization.TryGetProperty("allow_symlinks", out JsonElement links) && links.ValueKind == JsonValueKind.True;
        var ignorePaths = new List<string>();
        if (serialization.TryGetProperty("ignore_paths", out JsonElement ignore) && ignore.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement path in ignore.EnumerateArray())
            {
                if (path.ValueKind == JsonValueKind.String && ModelDirectoryHasher.ToPosix(path.GetString()!) is { Length: > 0 } posix)
                {
                    ignorePaths.Add(posix);
                }
            }
        }

        JsonElement resources = Json.Required(predicate, "resources", JsonValueKind.Array, "predicate");
        if (resources.GetArrayLength() > MaxResources)
        {
            throw new InvalidDataException($"the statement lists {resources.GetArrayLength()} resources, more than {MaxResources}");
        }

        var list = new List<SignedResource>(resources.GetArrayLength());
        foreach (JsonElement resource in resources.EnumerateArray())
        {
            string name = Json.RequiredString(resource, "name", "resource");
            string algorithm = Json.RequiredString(resource, "algorithm", $"resource '{name}'");
            byte[] value = Json.Hex(Json.RequiredString(resource, "digest", $"resource '{name}'"), $"the digest of resource '{name}'");
            list.Add(new SignedResource(name, algorithm, value));
        }

        return new ModelSigningStatement(PredicateV1, modelName, rootHex, list, method, hashType, shardSize, allowSymlinks, ignorePaths);
    }

    private static ModelSigningStatement ParseLegacy(JsonElement subjects)
    {
        if (subjects.GetArrayLength() > MaxResources)
        {
            throw new InvalidDataException($"the statement lists {subjects.GetArrayLength()} subjects, more than {MaxResources}");
        }

        var list = new List<SignedResource>(subjects.GetArrayLength());
        foreach (JsonElement subject in subjects.EnumerateArray())
        {
            string name = Json.RequiredString(subject, "name", "subject");
            JsonElement digest = Json.Required(subject, "digest", JsonValueKind.Object, $"subject '{name}'");
            list.Add(new SignedResource(name, "sha256", Json.Hex(Json.RequiredString(digest, "sha256", $"subject '{name}'"), $"the digest of '{name}'")));
        }

        return new ModelSigningStatement(PredicateV01, LegacyModelName, null, list, ModelHashMethod.Files, "sha256", 0, false, Array.Empty<string>());
    }

    private static IEnumerable<byte[]> EnumerateDigests(IReadOnlyList<ModelResource> resources)
    {
        foreach (ModelResource resource in resources)
        {
            yield return resource.Digest;
        }
    }
}

/// <summary>Small checked accessors for the signature's JSON; every failure names what is missing.</summary>
internal static class Json
{
    public static JsonElement Required(JsonElement parent, string name, JsonValueKind kind, string where)
    {
        if (parent.ValueKind != JsonValueKind.Object || !parent.TryGetProperty(name, out JsonElement value))
        {
            throw new InvalidDataException($"the {where} has no '{name}'");
        }

        if (value.ValueKind != kind)
        {
            throw new InvalidDataException($"'{name}' in the {where} is {value.ValueKind.ToString().ToLowerInvariant()}, not {kind.ToString().ToLowerInvariant()}");
        }

        return value;
    }

    public static string RequiredString(JsonElement parent, string name, string where) =>
        Required(parent, name, JsonValueKind.String, where).GetString()!;

    public static byte[] Base64(string value, string what)
    {
        try
        {
            return Convert.FromBase64String(value);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"{what} is not valid base64", e);
        }
    }

    public static byte[] Hex(string value, string what)
    {
        if (value.Length == 0 || value.Length % 2 != 0)
        {
            throw new InvalidDataException($"{what} is not hexadecimal: '{value}'");
        }

        try
        {
            return Convert.FromHexString(value);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"{what} is not hexadecimal: '{value}'", e);
        }
    }

    public static string Number(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Number => value.GetRawText(),
        _ => string.Empty,
    };

    public static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);
}
