using System;
using System.Collections.Generic;

namespace ModelSecurity.Mcp;

/// <summary>How an MCP client talks to a server.</summary>
public enum McpTransport
{
    /// <summary>The client starts the server as a child process and speaks JSON-RPC over its standard input and output.</summary>
    Stdio,

    /// <summary>The server is remote: streamable HTTP or server-sent events at a URL.</summary>
    Http,
}

/// <summary>What starts a stdio server, by the command its configuration names.</summary>
public enum McpPackageManager
{
    /// <summary>Nothing recognised: a program on PATH, or a remote server.</summary>
    None,

    /// <summary><c>npx</c> (or <c>npm exec</c>, <c>pnpm dlx</c>, <c>bunx</c>, <c>yarn dlx</c>): fetches an npm package and runs it.</summary>
    Npx,

    /// <summary><c>uvx</c> (or <c>uv tool run</c>): fetches a PyPI package and runs it.</summary>
    Uvx,

    /// <summary><c>pipx run</c>: fetches a PyPI package and runs it.</summary>
    Pipx,

    /// <summary><c>docker run</c> or <c>podman run</c>: pulls an image and runs it.</summary>
    Docker,

    /// <summary>A script or program given by path (<c>node /path/server.js</c>, <c>python server.py</c>, <c>/opt/srv/bin</c>).</summary>
    Local,
}

/// <summary>One MCP server entry from one client's configuration file, as <c>Get-McpServer</c> reports it.</summary>
/// <remarks>Environment variable and header values are never kept: only their names.</remarks>
public sealed class McpServer
{
    /// <summary>The client whose configuration names the server (ClaudeDesktop, ClaudeCode, VSCode, Cursor, Windsurf, Continue, or Custom).</summary>
    public string Client { get; init; } = string.Empty;

    /// <summary>Full path of the configuration file.</summary>
    public string ConfigPath { get; init; } = string.Empty;

    /// <summary>The server's name (its key in the configuration).</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>Stdio (a local process) or Http (a remote URL).</summary>
    public McpTransport Transport { get; init; }

    /// <summary>The program the client starts (stdio), as written in the configuration.</summary>
    public string? Command { get; init; }

    /// <summary>The program's arguments, as written in the configuration.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = Array.Empty<string>();

    /// <summary>What fetches or starts the server: Npx, Uvx, Pipx, Docker, Local, or None.</summary>
    public McpPackageManager PackageManager { get; init; }

    /// <summary>The package, image or local path that is the server (without its version).</summary>
    public string? Package { get; init; }

    /// <summary>The version, tag or digest the configuration asks for; null when it asks for none (whatever is latest).</summary>
    public string? RequestedVersion { get; init; }

    /// <summary>Names of the environment variables the server receives (values are never read out).</summary>
    public IReadOnlyList<string> EnvironmentNames { get; init; } = Array.Empty<string>();

    /// <summary>The URL of a remote (Http) server.</summary>
    public string? Url { get; init; }

    /// <summary>The working folder the client starts the server in, when the configuration sets one.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Names of the HTTP headers the client sends to a remote server (values are never read out).</summary>
    public IReadOnlyList<string> HeaderNames { get; init; } = Array.Empty<string>();

    /// <summary>The project folder a per-project entry belongs to (Claude Code's <c>projects</c> in ~/.claude.json); null for entries that apply everywhere.</summary>
    public string? Project { get; init; }

    /// <summary>
    /// Values in the configuration that look like credentials written in plain text, each as where it is and
    /// its redacted form; the values themselves are never kept. Test-McpServer reports them.
    /// </summary>
    internal IReadOnlyList<McpPlainSecret> PlainSecrets { get; init; } = Array.Empty<McpPlainSecret>();

    /// <summary>
    /// The arguments exactly as the configuration writes them, for running the server. <see cref="Arguments"/>
    /// shows secret-looking values redacted; this list is internal so it never reaches output.
    /// </summary>
    internal IReadOnlyList<string> LaunchArguments { get; init; } = Array.Empty<string>();

    /// <inheritdoc />
    public override string ToString() => $"{Client}:{Name}";
}

/// <summary>A credential written in plain text in an MCP configuration: where, and its redacted form.</summary>
internal sealed record McpPlainSecret(string Location, string Redacted, string Reason);
