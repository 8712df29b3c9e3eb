using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ModelSecurity.Mcp;

/// <summary>An MCP configuration file that cannot be read as JSON or YAML; the message names the file and the position.</summary>
internal sealed class McpConfigException : Exception
{
    public McpConfigException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

/// <summary>
/// Reads the MCP servers out of one client configuration file. Every client's layout is recognised in
/// every file (<c>mcpServers</c> as a map or a list, VS Code's <c>servers</c> and <c>mcp.servers</c>,
/// Claude Code's <c>projects.&lt;path&gt;.mcpServers</c>, Continue's
/// <c>experimental.modelContextProtocolServers</c>), so a file given by path needs no client named.
/// JSON is read as JSONC (comments and trailing commas, as VS Code writes them).
/// </summary>
internal static class McpConfigReader
{
    /// <summary>Largest configuration file read (real ones are a few kilobytes; ~/.claude.json grows with history).</summary>
    public const long MaxFileBytes = 32L * 1024 * 1024;

    private const int MaxServers = 10_000;
    private const int MaxArguments = 1_000;
    private const int MaxYamlNodes = 200_000;
    private const int MaxDepth = 64;

    private static readonly JsonDocumentOptions JsonOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, MaxDepth = MaxDepth };

    /// <summary>The client a configuration file belongs to, from its name and folder; "Custom" when none fits.</summary>
    public static string ClientOf(string path)
    {
        string file = Path.GetFileName(path);
        string folder = Path.GetFileName(Path.GetDirectoryName(path) ?? string.Empty);
        string normalised = path.Replace('\\', '/');
        if (file.Equals("claude_desktop_config.json", StringComparison.OrdinalIgnoreCase))
        {
            return McpClients.ClaudeDesktop;
        }

        if (file.Equals(".claude.json", StringComparison.OrdinalIgnoreCase) || file.Equals(".mcp.json", StringComparison.OrdinalIgnoreCase))
        {
            return McpClients.ClaudeCode;
        }

        if (file.Equals("mcp_config.json", StringComparison.OrdinalIgnoreCase) && folder.Equals("windsurf", StringComparison.OrdinalIgnoreCase))
        {
            return McpClients.Windsurf;
        }

        if (folder.Equals(".cursor", StringComparison.OrdinalIgnoreCase))
        {
            return McpClients.Cursor;
        }

        if (folder.Equals(".vscode", StringComparison.OrdinalIgnoreCase) || normalised.Contains("/Code/User/", StringComparison.OrdinalIgnoreCase))
        {
            return McpClients.VSCode;
        }

        if (normalised.Contains("/.continue/", StringComparison.OrdinalIgnoreCase))
        {
            return McpClients.Continue;
        }

        return McpClients.Custom;
    }

    /// <summary>Reads <paramref name="path"/>; <paramref name="problems"/> collects entries that were skipped and why.</summary>
    /// <exception cref="McpConfigException">The file is not valid JSON/YAML, or not an object at the top.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file cannot be read.</exception>
    public static List<McpServer> Read(string path, string client, List<string> problems)
    {
        var info = new FileInfo(path);
        if (info.Length > MaxFileBytes)
        {
            throw new McpConfigException($"{path}: the file is {info.Length:N0} bytes, more than the {MaxFileBytes:N0} read from an MCP configuration.");
        }

        string text = File.ReadAllText(path);
        bool yaml = path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);
        JsonObject root = yaml ? ParseYaml(text, path) : ParseJson(text, path);
        return ReadRoot(root, path, client, problems);
    }

    /// <summary>Parses JSONC; a syntax error names the file, line and position (both from 1).</summary>
    internal static JsonObject ParseJson(string text, string path)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text.TrimStart('\uFEFF'), new JsonNodeOptions { PropertyNameCaseInsensitive = false }, JsonOptions);
        }
        catch (JsonException e)
        {
            long line = (e.LineNumber ?? 0) + 1;
            long position = (e.BytePositionInLine ?? 0) + 1;
            string reason = e.Message;
            int cut = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (cut > 0)
            {
                reason = reason.Substring(0, cut).TrimEnd();
            }

            throw new McpConfigException($"{path}: not valid JSON at line {line}, position {position}: {reason}", e);
        }

        return node as JsonObject ?? throw new McpConfigException($"{path}: the top of the file is not a JSON object, so it holds no MCP servers.");
    }

    /// <summary>Parses YAML into the same tree JSON gives (scalars as strings).</summary>
    internal static JsonObject ParseYaml(string text, string path)
    {
        var stream = new YamlStream();
        try
        {
            using var reader = new StringReader(text);
            stream.Load(reader);
        }
        catch (YamlException e)
        {
            throw new McpConfigException($"{path}: not valid YAML at line {e.Start.Line}, position {e.Start.Column}: {e.Message}", e);
        }

        if (stream.Documents.Count == 0)
        {
            return new JsonObject();
        }

        int budget = MaxYamlNodes;
        return Convert(stream.Documents[0].RootNode, 0, ref budget, path) as JsonObject
            ?? throw new McpConfigException($"{path}: the top of the file is not a YAML mapping, so it holds no MCP servers.");
    }

    private static JsonNode? Convert(YamlNode node, int depth, ref int budget, string path)
    {
        if (depth > MaxDepth || --budget < 0)
        {
            throw new McpConfigException($"{path}: the YAML is nested deeper than {MaxDepth} levels or has more than {MaxYamlNodes:N0} nodes.");
        }

        switch (node)
        {
            case YamlMappingNode map:
                var obj = new JsonObject();
                foreach (var pair in map.Children)
                {
                    string key = pair.Key is YamlScalarNode k ? k.Value ?? string.Empty : pair.Key.ToString();
                    obj[key] = Convert(pair.Value, depth + 1, ref budget, path);
                }

                return obj;
            case YamlSequenceNode sequence:
                var array = new JsonArray();
                foreach (YamlNode child in sequence.Children)
                {
                    array.Add(Convert(child, depth + 1, ref budget, path));
                }

                return array;
            case YamlScalarNode scalar:
                return scalar.Value is null || (scalar.Style == YamlDotNet.Core.ScalarStyle.Plain && scalar.Value is "" or "~" or "null") ? null : JsonValue.Create(scalar.Value);
            default:
                return null;
        }
    }

    private static List<McpServer> ReadRoot(JsonObject root, string path, string client, List<string> problems)
    {
        var servers = new List<McpServer>();
        void Collect(JsonNode? container, string where, string? project)
        {
            switch (container)
            {
                case JsonObject map:
                    foreach (var pair in map)
                    {
                        Add(pair.Key, pair.Value, where + "." + pair.Key, project);
                    }

                    break;
                case JsonArray list:
                    for (int i = 0; i < list.Count; i++)
                    {
                        JsonNode? item = list[i];
                        string? name = (item as JsonObject)?["name"] is JsonValue v && v.TryGetValue(out string? n) ? n : null;
                        Add(name ?? $"server{i + 1}", item, $"{where}[{i}]", project);
                    }

                    break;
            }
        }

        void Add(string name, JsonNode? entry, string where, string? project)
        {
            if (servers.Count >= MaxServers)
            {
                return;
            }

            if (entry is not JsonObject obj)
            {
                problems.Add($"{path}: {where} is not an object; skipped.");
                return;
            }

            servers.Add(ReadEntry(obj, name, path, client, project, where));
        }

        Collect(root["mcpServers"], "mcpServers", null);
        Collect(root["servers"], "servers", null);
        Collect(root["mcp.servers"], "mcp.servers", null);
        if (root["mcp"] is JsonObject mcp)
        {
            Collect(mcp["servers"], "mcp.servers", null);
        }

        if (root["experimental"] is JsonObject experimental)
        {
            Collect(experimental["modelContextProtocolServers"], "experimental.modelContextProtocolServers", null);
        }

        if (root["projects"] is JsonObject projects)
        {
            foreach (var project in projects)
            {
                if (project.Value is JsonObject p)
                {
                    Collect(p["mcpServers"], $"projects.{project.Key}.mcpServers", project.Key);
                }
            }
        }

        return servers;
    }

    /// <summary>One server entry; values of environment variables and headers are looked at for secrets, then dropped.</summary>
    internal static McpServer ReadEntry(JsonObject entry, string name, string path, string client, string? project, string where)
    {
        // Continue's older config.json nests the launch under "transport".
        JsonObject launch = entry["transport"] is JsonObject nested ? nested : entry;
        string? type = Text(launch["type"]) ?? Text(entry["type"]);
        string? command = Text(launch["command"]);
        string? url = Text(launch["url"]) ?? Text(launch["serverUrl"]) ?? Text(launch["httpUrl"]) ?? Text(entry["url"]) ?? Text(entry["serverUrl"]);
        var args = new List<string>();
        if (launch["args"] is JsonArray array)
        {
            foreach (JsonNode? a in array.Take(MaxArguments))
            {
                args.Add(Text(a) ?? string.Empty);
            }
        }
        else if (Text(launch["args"]) is { } single)
        {
            args.Add(single);
        }

        var secrets = new List<McpPlainSecret>();
        var envNames = new List<string>();
        foreach (var (key, value) in Pairs(launch["env"] ?? entry["env"]))
        {
            envNames.Add(key);
            if (value is not null && McpSecrets.Classify(key, value) is { } reason)
            {
                secrets.Add(new McpPlainSecret($"env.{key}", McpSecrets.Redact(value), reason));
            }
        }

        var headerNames = new List<string>();
        foreach (var (key, value) in Pairs(launch["headers"] ?? entry["headers"] ?? (launch["requestOptions"] as JsonObject)?["headers"]))
        {
            headerNames.Add(key);
            if (value is not null && (McpSecrets.Classify(key, value) is { } reason
                || (key.Equals("Authorization", StringComparison.OrdinalIgnoreCase) && McpSecrets.Classify("token", value) is { } auth && (reason = auth) is not null)))
            {
                secrets.Add(new McpPlainSecret($"headers.{key}", McpSecrets.Redact(value), reason));
            }
        }

        McpLaunch facts = McpCommandLine.Read(command, args);
        List<string> shown = RedactArguments(args, facts.PackageManager == McpPackageManager.Docker, secrets);
        foreach (string dockerEnv in facts.DockerEnvironmentNames)
        {
            if (!envNames.Contains(dockerEnv, StringComparer.Ordinal))
            {
                envNames.Add(dockerEnv);
            }
        }

        string? shownUrl = url;
        if (url is not null && McpSecrets.RedactUrl(url, out string? urlReason) is { } redactedUrl)
        {
            shownUrl = redactedUrl;
            secrets.Add(new McpPlainSecret("url", redactedUrl, urlReason!));
        }

        bool remote = type is not null && (type.Equals("http", StringComparison.OrdinalIgnoreCase) || type.Equals("sse", StringComparison.OrdinalIgnoreCase)
            || type.Equals("streamable-http", StringComparison.OrdinalIgnoreCase) || type.Equals("streamableHttp", StringComparison.OrdinalIgnoreCase)
            || type.Equals("websocket", StringComparison.OrdinalIgnoreCase))
            || (command is null && url is not null);

        return new McpServer
        {
            Client = client,
            ConfigPath = path,
            Name = name,
            Transport = remote ? McpTransport.Http : McpTransport.Stdio,
            Command = remote ? null : command,
            Arguments = remote ? Array.Empty<string>() : shown,
            PackageManager = remote ? McpPackageManager.None : facts.PackageManager,
            Package = remote ? null : facts.Package,
            RequestedVersion = remote ? null : facts.RequestedVersion,
            EnvironmentNames = envNames,
            Url = remote ? shownUrl : null,
            WorkingDirectory = Text(launch["cwd"]) ?? Text(launch["workingDirectory"]) ?? Text(entry["cwd"]),
            HeaderNames = headerNames,
            Project = project,
            PlainSecrets = secrets,
            LaunchArguments = remote ? Array.Empty<string>() : args,
        };
    }

    /// <summary>The arguments with credential values redacted (and every docker -e value, since variable values are never kept).</summary>
    internal static List<string> RedactArguments(IReadOnlyList<string> args, bool docker, List<McpPlainSecret> secrets)
    {
        var shown = new List<string>(args.Count);
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            string where = $"args[{i}]";
            string? previous = i > 0 ? args[i - 1] : null;

            // docker -e NAME=value / --env NAME=value / -eNAME=value.
            if (docker && (previous is "-e" or "--env" || a.StartsWith("--env=", StringComparison.Ordinal) || (a.StartsWith("-e", StringComparison.Ordinal) && a.Length > 2 && a[2] != '-')))
            {
                string body = previous is "-e" or "--env" ? a : a.StartsWith("--env=", StringComparison.Ordinal) ? a.Substring(6) : a.Substring(2);
                string prefix = a.Substring(0, a.Length - body.Length);
                int eq = body.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0)
                {
                    string key = body.Substring(0, eq);
                    string value = body.Substring(eq + 1);
                    if (McpSecrets.Classify(key, value) is { } reason)
                    {
                        secrets.Add(new McpPlainSecret(where, McpSecrets.Redact(value), reason));
                    }

                    shown.Add(prefix + key + "=" + (value.Length == 0 || McpSecrets.IsReference(value) ? value : McpSecrets.Redact(value)));
                    continue;
                }
            }

            // --token=value, NAME=value.
            int equals = a.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && !a.Contains("://", StringComparison.Ordinal))
            {
                string key = a.Substring(0, equals).TrimStart('-');
                string value = a.Substring(equals + 1);
                if (McpSecrets.Classify(key, value) is { } reason)
                {
                    secrets.Add(new McpPlainSecret(where, McpSecrets.Redact(value), reason));
                    shown.Add(string.Concat(a.AsSpan(0, equals + 1), McpSecrets.Redact(value)));
                    continue;
                }
            }

            // --token value.
            if (previous is not null && previous.StartsWith('-') && !previous.Contains('=', StringComparison.Ordinal) && McpSecrets.IsSecretName(previous.TrimStart('-'))
                && McpSecrets.Classify(previous.TrimStart('-'), a) is { } named)
            {
                secrets.Add(new McpPlainSecret(where, McpSecrets.Redact(a), named));
                shown.Add(McpSecrets.Redact(a));
                continue;
            }

            // --header "Authorization: Bearer …" (mcp-remote and friends).
            int colon = a.IndexOf(": ", StringComparison.Ordinal);
            if (colon > 0 && a.Substring(0, colon).All(c => char.IsLetterOrDigit(c) || c == '-' || c == '_'))
            {
                string header = a.Substring(0, colon);
                string value = a.Substring(colon + 2);
                string? reason = McpSecrets.Classify(header, value)
                    ?? (header.Equals("Authorization", StringComparison.OrdinalIgnoreCase) ? McpSecrets.Classify("token", value) : null);
                if (reason is not null)
                {
                    secrets.Add(new McpPlainSecret(where, header + ": " + McpSecrets.Redact(value), reason));
                    shown.Add(header + ": " + McpSecrets.Redact(value));
                    continue;
                }
            }

            if (a.Contains("://", StringComparison.Ordinal) && McpSecrets.RedactUrl(a, out string? urlReason) is { } redactedUrl)
            {
                secrets.Add(new McpPlainSecret(where, redactedUrl, urlReason!));
                shown.Add(redactedUrl);
                continue;
            }

            if (McpSecrets.LooksLikeToken(a))
            {
                secrets.Add(new McpPlainSecret(where, McpSecrets.Redact(a), "has the shape of an access token"));
                shown.Add(McpSecrets.Redact(a));
                continue;
            }

            shown.Add(a);
        }

        return shown;
    }

    private static IEnumerable<(string Key, string? Value)> Pairs(JsonNode? node)
    {
        if (node is JsonObject map)
        {
            foreach (var pair in map.Take(MaxArguments))
            {
                yield return (pair.Key, Text(pair.Value));
            }
        }
        else if (node is JsonArray list)
        {
            // Continue YAML may list "NAME=value" strings.
            foreach (JsonNode? item in list.Take(MaxArguments))
            {
                if (Text(item) is { } text)
                {
                    int eq = text.IndexOf('=', StringComparison.Ordinal);
                    yield return eq > 0 ? (text.Substring(0, eq), text.Substring(eq + 1)) : (text, null);
                }
            }
        }
    }

    private static string? Text(JsonNode? node)
    {
        if (node is not JsonValue value)
        {
            return null;
        }

        if (value.TryGetValue(out string? s))
        {
            return s;
        }

        return value.GetValueKind() switch
        {
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.ToJsonString(),
            _ => null,
        };
    }
}

/// <summary>The client names Get-McpServer reports and -Client accepts.</summary>
internal static class McpClients
{
    public const string ClaudeDesktop = nameof(ClaudeDesktop);
    public const string ClaudeCode = nameof(ClaudeCode);
    public const string VSCode = nameof(VSCode);
    public const string Cursor = nameof(Cursor);
    public const string Windsurf = nameof(Windsurf);
    public const string Continue = nameof(Continue);
    public const string Custom = nameof(Custom);

    public static readonly string[] All = { ClaudeDesktop, ClaudeCode, VSCode, Cursor, Windsurf, Continue, Custom };
}
