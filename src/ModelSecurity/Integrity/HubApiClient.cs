using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading;

namespace ModelSecurity.Integrity;

/// <summary>What the hub says about one file of a revision.</summary>
internal sealed record HubFile(string? LfsSha256, string? BlobId, long? Size);

/// <summary>The files of one repository revision, as the hub API lists them.</summary>
internal sealed record HubRevision(string Repository, string Revision, string? Commit, IReadOnlyDictionary<string, HubFile> Files);

/// <summary>The hub could not answer; the message says why and what to check.</summary>
internal sealed class HubApiException : Exception
{
    public HubApiException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    public HubApiException()
    {
    }

    public HubApiException(string message)
        : base(message)
    {
    }
}

/// <summary>
/// A small client for the Hugging Face model API (formats.md §7.1):
/// <c>GET {endpoint}/api/models/{repo}/revision/{rev}?blobs=true</c>, whose <c>siblings</c> carry
/// <c>lfs.sha256</c> for LFS files and <c>blobId</c> (the git blob id) for the rest. The token (from
/// <c>HF_TOKEN</c>) goes only into the Authorization header and is never shown. Each revision is
/// asked for once per client, failures included, so an offline machine gives one error, not one per file.
/// </summary>
internal sealed class HubApiClient : IDisposable
{
    public const string DefaultEndpoint = "https://huggingface.co";
    private const long MaxResponseBytes = 32L * 1024 * 1024;
    private const int MaxSiblings = 200_000;
    private static readonly Regex RepoId = new(@"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}/[A-Za-z0-9_.\-]{1,96}$", RegexOptions.CultureInvariant);

    private readonly HttpClient _http;
    private readonly Dictionary<(string, string), object> _answers = new();

    public HubApiClient(string endpoint, string? token, TimeSpan timeout)
    {
        if (!Uri.TryCreate(endpoint.TrimEnd('/'), UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new ArgumentException($"The endpoint '{endpoint}' is not an http or https URL.", nameof(endpoint));
        }

        Endpoint = uri.ToString().TrimEnd('/');
        _http = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.All, AllowAutoRedirect = true }) { Timeout = timeout };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("ModelSecurity", typeof(HubApiClient).Assembly.GetName().Version?.ToString(3) ?? "0"));
        if (!string.IsNullOrWhiteSpace(token))
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Trim());
        }
    }

    public string Endpoint { get; }

    /// <summary>The endpoint from -Endpoint, else <c>HF_ENDPOINT</c>, else huggingface.co.</summary>
    public static string ResolveEndpoint(string? parameter) =>
        !string.IsNullOrWhiteSpace(parameter) ? parameter
        : Environment.GetEnvironmentVariable("HF_ENDPOINT") is { Length: > 0 } fromEnvironment ? fromEnvironment
        : DefaultEndpoint;

    /// <summary>The file list of <paramref name="repository"/> at <paramref name="revision"/>.</summary>
    /// <exception cref="HubApiException">The hub could not be reached or refused; the message says why.</exception>
    public HubRevision GetRevision(string repository, string revision, CancellationToken cancellationToken)
    {
        lock (_answers)
        {
            if (_answers.TryGetValue((repository, revision), out object? known))
            {
                return known as HubRevision ?? throw (HubApiException)known;
            }
        }

        object answer;
        try
        {
            answer = Fetch(repository, revision, cancellationToken);
        }
        catch (HubApiException e)
        {
            answer = e;
        }

        lock (_answers)
        {
            _answers[(repository, revision)] = answer;
        }

        return answer as HubRevision ?? throw (HubApiException)answer;
    }

    public void Dispose() => _http.Dispose();

    private HubRevision Fetch(string repository, string revision, CancellationToken cancellationToken)
    {
        if (!RepoId.IsMatch(repository) || repository.Contains("..", StringComparison.Ordinal))
        {
            throw new HubApiException($"'{repository}' is not a Hugging Face repository id (org/name); the hub was not asked.");
        }

        var url = new Uri($"{Endpoint}/api/models/{repository}/revision/{Uri.EscapeDataString(revision)}?blobs=true");
        string body;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            using HttpResponseMessage response = _http.Send(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                string code = response.Headers.TryGetValues("X-Error-Code", out IEnumerable<string>? codes) ? codes.FirstOrDefault() ?? "" : "";
                string why = (int)response.StatusCode switch
                {
                    401 or 403 => "the repository is private or gated; set HF_TOKEN to a token that may read it",
                    404 => code == "RevisionNotFound" ? $"the revision '{revision}' does not exist" : "the repository does not exist (or is private)",
                    429 => "the hub is rate-limiting this machine; try again later or set HF_TOKEN",
                    _ => "the hub answered with an error",
                };
                throw new HubApiException($"The Hugging Face API at {Endpoint} answered {(int)response.StatusCode} {code} for {repository}@{revision}: {why}.".Replace("  ", " ", StringComparison.Ordinal));
            }

            if (response.Content.Headers.ContentLength > MaxResponseBytes)
            {
                throw new HubApiException($"The Hugging Face API's answer for {repository}@{revision} is larger than {MaxResponseBytes:N0} bytes; refused.");
            }

            using Stream stream = response.Content.ReadAsStream(cancellationToken);
            using var limited = new MemoryStream();
            byte[] buffer = new byte[81920];
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (limited.Length + read > MaxResponseBytes)
                {
                    throw new HubApiException($"The Hugging Face API's answer for {repository}@{revision} is larger than {MaxResponseBytes:N0} bytes; refused.");
                }

                limited.Write(buffer, 0, read);
            }

            body = System.Text.Encoding.UTF8.GetString(limited.GetBuffer(), 0, (int)limited.Length);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            throw new HubApiException($"Could not reach the Hugging Face API at {Endpoint} ({e.Message}). Check the network connection, or point -Endpoint or HF_ENDPOINT at a reachable mirror; without -Online only local references are used.", e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            // HttpClient reports its own timeout as a cancellation that is not the caller's.
            throw new HubApiException($"The Hugging Face API at {Endpoint} did not answer within {_http.Timeout.TotalSeconds:N0} seconds for {repository}@{revision}.", e);
        }

        return Parse(repository, revision, body);
    }

    /// <summary>Reads the model-info answer; only the fields needed for hashes are used.</summary>
    internal static HubRevision Parse(string repository, string revision, string body)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 32 });
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("siblings", out JsonElement siblings) || siblings.ValueKind != JsonValueKind.Array)
            {
                throw new HubApiException($"The Hugging Face API's answer for {repository}@{revision} has no \"siblings\" list.");
            }

            var files = new Dictionary<string, HubFile>(StringComparer.Ordinal);
            foreach (JsonElement sibling in siblings.EnumerateArray().Take(MaxSiblings))
            {
                if (sibling.ValueKind != JsonValueKind.Object || Text(sibling, "rfilename") is not string name)
                {
                    continue;
                }

                string? lfs = null;
                if (sibling.TryGetProperty("lfs", out JsonElement l) && l.ValueKind == JsonValueKind.Object)
                {
                    lfs = Hex(Text(l, "sha256") ?? Text(l, "oid"), 64);
                }

                long? size = sibling.TryGetProperty("size", out JsonElement s) && s.TryGetInt64(out long n) ? n : null;
                files[name] = new HubFile(lfs, Hex(Text(sibling, "blobId"), 40), size);
            }

            return new HubRevision(repository, revision, Hex(Text(root, "sha"), 40), files);
        }
        catch (JsonException e)
        {
            throw new HubApiException($"The Hugging Face API's answer for {repository}@{revision} is not valid JSON ({e.Message}).", e);
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string? Hex(string? text, int length) =>
        text is not null && text.Length == length && text.All(Uri.IsHexDigit) ? text.ToLowerInvariant() : null;
}
