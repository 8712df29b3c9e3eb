using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using System.Threading;

namespace ModelSecurity.Provenance;

/// <summary>What the Hugging Face API says about one repository (formats.md §7.1).</summary>
internal sealed record HubModelInfo(
    string Id,
    string? Author,
    string? Sha,
    string Gated,
    bool Private,
    long? Downloads,
    long? Likes,
    string? LastModified,
    string? CreatedAt,
    string? CardLicense,
    IReadOnlyList<string> CardBaseModels,
    bool? ScansDone,
    IReadOnlyList<string> FilesWithIssues);

/// <summary>What the Hugging Face API says about a namespace: organisation or user, and verification.</summary>
internal sealed record HubNamespaceInfo(string Name, string Type, bool? IsVerified, string? FullName);

/// <summary>
/// A read-only Hugging Face API client: model info (with the security scan status), organisation and
/// user overviews, open discussions. Anonymous requests only. The endpoint is the parameter, else
/// <c>HF_ENDPOINT</c>, else https://huggingface.co.
/// </summary>
internal sealed class HubClient
{
    public const string DefaultEndpoint = "https://huggingface.co";

    private static readonly JsonDocumentOptions JsonOptions = new() { MaxDepth = 64 };

    public HubClient(Uri? endpoint, TimeSpan timeout)
    {
        Endpoint = endpoint ?? ResolveEndpoint(Environment.GetEnvironmentVariable("HF_ENDPOINT"));
        Timeout = timeout;
    }

    public Uri Endpoint { get; }

    public TimeSpan Timeout { get; }

    /// <summary>The endpoint HF_ENDPOINT names, or the public hub.</summary>
    public static Uri ResolveEndpoint(string? environmentValue) =>
        !string.IsNullOrWhiteSpace(environmentValue) && Uri.TryCreate(environmentValue.Trim().TrimEnd('/'), UriKind.Absolute, out Uri? uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
            ? uri
            : new Uri(DefaultEndpoint);

    /// <summary><c>GET /api/models/{repo}[/revision/{rev}]?securityStatus=true</c>.</summary>
    public HubModelInfo GetModel(string repoId, string? revision, CancellationToken cancel)
    {
        string path = "api/models/" + EscapeRepo(repoId) + (revision is null ? "" : "/revision/" + Uri.EscapeDataString(revision)) + "?securityStatus=true";
        using JsonDocument document = GetJson(path, cancel);
        JsonElement root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || Text(root, "id") is not string id)
        {
            throw Invalid(path, "the answer is not model info (no 'id')");
        }

        string gated = root.TryGetProperty("gated", out JsonElement g) ? g.ValueKind switch
        {
            JsonValueKind.False => "false",
            JsonValueKind.True => "true",
            JsonValueKind.String => g.GetString() ?? "false",
            _ => "false",
        } : "false";

        string? cardLicense = null;
        var baseModels = new List<string>();
        if (root.TryGetProperty("cardData", out JsonElement card) && card.ValueKind == JsonValueKind.Object)
        {
            cardLicense = Text(card, "license");
            if (card.TryGetProperty("base_model", out JsonElement bm))
            {
                baseModels.AddRange(bm.ValueKind == JsonValueKind.String ? new[] { bm.GetString()! }
                    : bm.ValueKind == JsonValueKind.Array ? bm.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).Take(64) : Array.Empty<string>());
            }
        }

        bool? scansDone = null;
        var issues = new List<string>();
        if (root.TryGetProperty("securityRepoStatus", out JsonElement security) && security.ValueKind == JsonValueKind.Object)
        {
            scansDone = security.TryGetProperty("scansDone", out JsonElement done) && done.ValueKind is JsonValueKind.True or JsonValueKind.False ? done.GetBoolean() : null;
            if (security.TryGetProperty("filesWithIssues", out JsonElement files) && files.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement file in files.EnumerateArray().Take(100))
                {
                    issues.Add(file.ValueKind == JsonValueKind.String ? file.GetString()!
                        : file.ValueKind == JsonValueKind.Object ? $"{Text(file, "path") ?? "?"}{(Text(file, "level") is string level ? " (" + level + ")" : "")}"
                        : file.ToString());
                }
            }
        }

        return new HubModelInfo(
            id,
            Text(root, "author"),
            Text(root, "sha"),
            gated,
            root.TryGetProperty("private", out JsonElement p) && p.ValueKind == JsonValueKind.True,
            Number(root, "downloads"),
            Number(root, "likes"),
            Text(root, "lastModified"),
            Text(root, "createdAt"),
            cardLicense,
            baseModels,
            scansDone,
            issues);
    }

    /// <summary>Organisation overview, else user overview; null when neither exists.</summary>
    public HubNamespaceInfo? GetNamespace(string name, CancellationToken cancel)
    {
        string escaped = Uri.EscapeDataString(name);
        using (JsonDocument? org = GetJsonOrNull($"api/organizations/{escaped}/overview", cancel))
        {
            if (org is not null && org.RootElement.ValueKind == JsonValueKind.Object)
            {
                bool? verified = org.RootElement.TryGetProperty("isVerified", out JsonElement v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;
                return new HubNamespaceInfo(name, "org", verified ?? false, Text(org.RootElement, "fullname"));
            }
        }

        using JsonDocument? user = GetJsonOrNull($"api/users/{escaped}/overview", cancel);
        return user is not null && user.RootElement.ValueKind == JsonValueKind.Object
            ? new HubNamespaceInfo(name, Text(user.RootElement, "type") ?? "user", null, Text(user.RootElement, "fullname"))
            : null;
    }

    /// <summary>Open discussions and pull requests of a repository: (number, title).</summary>
    public IReadOnlyList<(long Number, string Title)> GetOpenDiscussions(string repoId, CancellationToken cancel)
    {
        using JsonDocument? document = GetJsonOrNull("api/models/" + EscapeRepo(repoId) + "/discussions?status=open", cancel);
        var result = new List<(long, string)>();
        if (document is null || document.RootElement.ValueKind != JsonValueKind.Object
            || !document.RootElement.TryGetProperty("discussions", out JsonElement list) || list.ValueKind != JsonValueKind.Array)
        {
            return result;
        }

        foreach (JsonElement item in list.EnumerateArray().Take(1000))
        {
            if (item.ValueKind == JsonValueKind.Object && Text(item, "title") is string title
                && (Text(item, "status") ?? "open").Equals("open", StringComparison.OrdinalIgnoreCase))
            {
                result.Add((Number(item, "num") ?? 0, title));
            }
        }

        return result;
    }

    private JsonDocument GetJson(string path, CancellationToken cancel) =>
        GetJsonOrNull(path, cancel, allowNotFound: false)!;

    private JsonDocument? GetJsonOrNull(string path, CancellationToken cancel, bool allowNotFound = true)
    {
        var uri = new Uri(Endpoint.AbsoluteUri.TrimEnd('/') + "/" + path);
        byte[]? body = RegistryHttp.Get(uri, "application/json", Timeout, cancel, allowNotFound);
        if (body is null)
        {
            return null;
        }

        try
        {
            return JsonDocument.Parse(body, JsonOptions);
        }
        catch (JsonException e)
        {
            throw Invalid(path, "the answer is not valid JSON (" + e.Message + ")");
        }
    }

    private OnlineLookupException Invalid(string path, string why) =>
        new(OnlineLookupException.InvalidResponse, $"{Endpoint.AbsoluteUri.TrimEnd('/')}/{path}: {why}.");

    private static string EscapeRepo(string repoId) => string.Join("/", repoId.Split('/').Select(Uri.EscapeDataString));

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static long? Number(JsonElement element, string name) =>
        element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long n) ? n : null;
}
