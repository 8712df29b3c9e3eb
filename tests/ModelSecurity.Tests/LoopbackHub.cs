using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Tasks;

namespace ModelSecurity.Tests;

/// <summary>
/// A Hugging Face API stand-in on 127.0.0.1 (a free port) that serves recorded model-info answers
/// by request path and records what it was asked, headers included.
/// </summary>
internal sealed class LoopbackHub : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, string> _answers = new(StringComparer.Ordinal);
    private readonly Task _loop;

    public LoopbackHub()
    {
        Port = FreePort();
        Endpoint = $"http://127.0.0.1:{Port}";
        _listener.Prefixes.Add(Endpoint + "/");
        _listener.Start();
        _loop = Task.Run(Serve);
    }

    public int Port { get; }

    public string Endpoint { get; }

    /// <summary>Every request: path and query, and its Authorization header.</summary>
    public ConcurrentQueue<(string PathAndQuery, string? Authorization)> Requests { get; } = new();

    /// <summary>Serves <paramref name="json"/> for <c>/api/models/{repo}/revision/{revision}</c>.</summary>
    public void AddModel(string repo, string revision, string json) => _answers[$"/api/models/{repo}/revision/{revision}"] = json;

    /// <summary>A port that nothing listens on (taken and released).</summary>
    public static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
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
            // The loop ends with the listener.
        }
    }

    private async Task Serve()
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

            Requests.Enqueue((context.Request.Url!.PathAndQuery, context.Request.Headers["Authorization"]));
            bool known = _answers.TryGetValue(context.Request.Url.AbsolutePath, out string? json);
            context.Response.StatusCode = known ? 200 : 404;
            if (!known)
            {
                context.Response.Headers["X-Error-Code"] = "RepoNotFound";
            }

            byte[] body = Encoding.UTF8.GetBytes(json ?? "{\"error\":\"Repository not found\"}");
            context.Response.ContentType = "application/json";
            context.Response.ContentLength64 = body.Length;
            await context.Response.OutputStream.WriteAsync(body).ConfigureAwait(false);
            context.Response.Close();
        }
    }
}
