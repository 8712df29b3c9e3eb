using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace ModelSecurity.Tests;

/// <summary>
/// A loopback HTTP server that answers with recorded registry responses by path and query
/// (anything else is 404), and remembers the requests it got. Disposing stops it.
/// </summary>
internal sealed class RecordedRegistry : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, (int Status, string Body)> _responses = new(StringComparer.Ordinal);
    private readonly Task _loop;

    public RecordedRegistry()
    {
        int port = FreePort();
        Endpoint = new Uri($"http://127.0.0.1:{port}");
        _listener.Prefixes.Add(Endpoint.AbsoluteUri);
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public Uri Endpoint { get; }

    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>The Authorization header of each request, in the order of <see cref="Requests"/>.</summary>
    public ConcurrentQueue<string?> Authorizations { get; } = new();

    /// <summary>Answers <paramref name="pathAndQuery"/> (as sent, e.g. <c>/api/models/org/x?securityStatus=true</c>).</summary>
    public RecordedRegistry Answer(string pathAndQuery, string body, int status = 200)
    {
        lock (_responses)
        {
            _responses[pathAndQuery] = (status, body);
        }

        return this;
    }

    /// <summary>A port nothing listens on (for the offline case).</summary>
    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The loop ends with the listener; how does not matter.
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            string key = context.Request.Url!.PathAndQuery;
            Requests.Enqueue(key);
            Authorizations.Enqueue(context.Request.Headers["Authorization"]);
            (int status, string body) answer;
            lock (_responses)
            {
                answer = _responses.TryGetValue(key, out var found) ? found : (404, "{\"error\":\"Repository not found\"}");
            }

            byte[] bytes = Encoding.UTF8.GetBytes(answer.body);
            context.Response.StatusCode = answer.status;
            if (answer.status == 404)
            {
                context.Response.Headers["X-Error-Code"] = "RepoNotFound"; // as the hub says it
            }

            context.Response.ContentType = "application/json";
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
            context.Response.Close();
        }
    }
}
