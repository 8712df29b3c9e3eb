using System;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Threading;
using System.Threading.Tasks;

namespace ModelSecurity.Provenance;

/// <summary>
/// The one HTTP GET both registry clients make: bounded response size, a timeout, and every failure
/// turned into an <see cref="OnlineLookupException"/> with a stable id (never an exception dump).
/// </summary>
internal static class RegistryHttp
{
    /// <summary>Largest API response read (model info with thousands of siblings stays well under).</summary>
    public const int MaxResponseBytes = 16 * 1024 * 1024;

    private static readonly Lazy<HttpClient> Shared = new(() =>
    {
        var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = true, MaxAutomaticRedirections = 5, AutomaticDecompression = DecompressionMethods.All })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("ModelSecurity", typeof(RegistryHttp).Assembly.GetName().Version?.ToString(3) ?? "0"));
        return client;
    });

    /// <summary>GET <paramref name="uri"/>; null when <paramref name="allowNotFound"/> and the answer is 404.</summary>
    public static byte[]? Get(Uri uri, string? accept, TimeSpan timeout, CancellationToken cancel, bool allowNotFound = false)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeoutSource.CancelAfter(timeout);
        try
        {
            return GetAsync(uri, accept, allowNotFound, timeoutSource.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            throw new OnlineLookupException(OnlineLookupException.Unreachable, $"{uri.GetLeftPart(UriPartial.Authority)} did not answer within {timeout.TotalSeconds:0} seconds ({uri}).");
        }
        catch (HttpRequestException e)
        {
            throw new OnlineLookupException(OnlineLookupException.Unreachable, $"{uri.GetLeftPart(UriPartial.Authority)} cannot be reached: {e.Message}", e);
        }
    }

    private static async Task<byte[]?> GetAsync(Uri uri, string? accept, bool allowNotFound, CancellationToken cancel)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (accept is not null)
        {
            request.Headers.Accept.ParseAdd(accept);
        }

        using HttpResponseMessage response = await Shared.Value.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return allowNotFound ? null : throw new OnlineLookupException(OnlineLookupException.NotFound, $"{uri} does not exist (HTTP 404){ErrorText(response)}.");
        }

        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            throw new OnlineLookupException(OnlineLookupException.AccessDenied, $"{uri} refused access (HTTP {(int)response.StatusCode}){ErrorText(response)}: the repository is private or gated.");
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new OnlineLookupException(OnlineLookupException.InvalidResponse, $"{uri} answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}{ErrorText(response)}.");
        }

        if (response.Content.Headers.ContentLength > MaxResponseBytes)
        {
            throw new OnlineLookupException(OnlineLookupException.InvalidResponse, $"{uri} sent {response.Content.Headers.ContentLength:N0} bytes, more than the {MaxResponseBytes:N0} accepted.");
        }

        using var stream = await response.Content.ReadAsStreamAsync(cancel).ConfigureAwait(false);
        using var buffer = new System.IO.MemoryStream();
        byte[] chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancel).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxResponseBytes)
            {
                throw new OnlineLookupException(OnlineLookupException.InvalidResponse, $"{uri} sent more than the {MaxResponseBytes:N0} bytes accepted.");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static string ErrorText(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Error-Message", out var values) ? ": " + string.Join(" ", values) : string.Empty;
}
