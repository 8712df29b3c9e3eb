using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;

namespace ModelSecurity.Sandbox;

/// <summary>What an MCP server said about itself in its answer to <c>initialize</c>.</summary>
public sealed class McpServerInfo
{
    internal McpServerInfo(string? name, string? version, string? protocolVersion)
    {
        Name = name;
        Version = version;
        ProtocolVersion = protocolVersion;
    }

    /// <summary>serverInfo.name, as the server gave it.</summary>
    public string? Name { get; }

    /// <summary>serverInfo.version, as the server gave it.</summary>
    public string? Version { get; }

    /// <summary>The protocol version the server answered with.</summary>
    public string? ProtocolVersion { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Name} {Version} (MCP {ProtocolVersion})";
}

/// <summary>
/// The MCP stdio handshake a client performs (initialize, notifications/initialized, tools/list) as
/// newline-delimited JSON-RPC 2.0, and the facts read back from the server's answers. Reading never
/// throws: lines that are not JSON, or not the answers looked for, are passed over.
/// </summary>
internal static class McpHandshake
{
    public const string ProtocolVersion = "2025-06-18";
    public const string ClientName = "ModelSecurity";

    // Bounds on what is read back: a line longer than this is not parsed, and at most this many tool names are kept.
    internal const int MaxLineChars = 4 * 1024 * 1024;
    internal const int MaxTools = 1024;
    internal const int MaxTextChars = 256;

    private const int InitializeId = 1;
    private const int ToolsListId = 2;

    /// <summary>initialize, waiting for its answer; then the initialized notification and tools/list, waiting for that answer; then end of input.</summary>
    public static StandardInputScript Script(string clientVersion) => new(new[]
    {
        new StandardInputStep(new[] { Initialize(clientVersion) }, AnswerSeen(InitializeId)),
        new StandardInputStep(new[] { Notification("notifications/initialized"), Request(ToolsListId, "tools/list", null) }, AnswerSeen(ToolsListId)),
    });

    public static string Initialize(string clientVersion) => Request(InitializeId, "initialize", w =>
    {
        w.WriteString("protocolVersion", ProtocolVersion);
        w.WriteStartObject("capabilities");
        w.WriteEndObject();
        w.WriteStartObject("clientInfo");
        w.WriteString("name", ClientName);
        w.WriteString("version", clientVersion);
        w.WriteEndObject();
    });

    /// <summary>serverInfo and protocolVersion from the first answer that has them, and the tool names of the first tools/list answer.</summary>
    public static (McpServerInfo? Server, IReadOnlyList<string> Tools) Read(string output)
    {
        McpServerInfo? server = null;
        List<string>? tools = null;
        foreach (JsonElement result in Results(output))
        {
            if (server is null && result.TryGetProperty("serverInfo", out JsonElement info) && info.ValueKind == JsonValueKind.Object)
            {
                server = new McpServerInfo(Text(info, "name"), Text(info, "version"), Text(result, "protocolVersion"));
            }

            if (tools is null && result.TryGetProperty("tools", out JsonElement list) && list.ValueKind == JsonValueKind.Array)
            {
                tools = new List<string>();
                foreach (JsonElement tool in list.EnumerateArray())
                {
                    if (tools.Count == MaxTools)
                    {
                        break;
                    }

                    if (tool.ValueKind == JsonValueKind.Object && Text(tool, "name") is { } name)
                    {
                        tools.Add(name);
                    }
                }
            }

            if (server is not null && tools is not null)
            {
                break;
            }
        }

        return (server, (IReadOnlyList<string>?)tools ?? Array.Empty<string>());
    }

    // True once the output holds a JSON-RPC response (result or error) with that id; reads each complete line once.
    private static Func<string, bool> AnswerSeen(int id)
    {
        int scanned = 0;
        return output =>
        {
            int end = output.LastIndexOf('\n');
            if (end < scanned)
            {
                return false;
            }

            string fresh = output.Substring(scanned, end + 1 - scanned);
            scanned = end + 1;
            foreach (JsonElement message in Messages(fresh))
            {
                if (message.TryGetProperty("id", out JsonElement got) && got.ValueKind == JsonValueKind.Number &&
                    got.TryGetInt32(out int value) && value == id &&
                    (message.TryGetProperty("result", out _) || message.TryGetProperty("error", out _)))
                {
                    return true;
                }
            }

            return false;
        };
    }

    private static IEnumerable<JsonElement> Results(string output)
    {
        foreach (JsonElement message in Messages(output))
        {
            if (message.TryGetProperty("result", out JsonElement result) && result.ValueKind == JsonValueKind.Object)
            {
                yield return result;
            }
        }
    }

    private static IEnumerable<JsonElement> Messages(string output)
    {
        using var lines = new StringReader(output);
        string? line;
        while ((line = lines.ReadLine()) is not null)
        {
            string trimmed = line.Trim();
            if (trimmed.Length < 2 || trimmed.Length > MaxLineChars || trimmed[0] != '{')
            {
                continue;
            }

            JsonElement? message = null;
            try
            {
                using JsonDocument document = JsonDocument.Parse(trimmed, new JsonDocumentOptions { MaxDepth = 64 });
                message = document.RootElement.Clone();
            }
            catch (JsonException)
            {
                // Not JSON: log text on stdout, or a cut-off line.
            }

            if (message is { ValueKind: JsonValueKind.Object } m)
            {
                yield return m;
            }
        }
    }

    private static string? Text(JsonElement parent, string name)
    {
        if (!parent.TryGetProperty(name, out JsonElement value) || value.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        string text = value.GetString() ?? string.Empty;
        return text.Length > MaxTextChars ? text[..MaxTextChars] : text;
    }

    private static string Notification(string method) => Message(w => w.WriteString("method", method));

    private static string Request(int id, string method, Action<Utf8JsonWriter>? parameters) => Message(w =>
    {
        w.WriteNumber("id", id);
        w.WriteString("method", method);
        if (parameters is not null)
        {
            w.WriteStartObject("params");
            parameters(w);
            w.WriteEndObject();
        }
    });

    // One object on one line: the compact writer escapes control characters, so no message holds a newline.
    private static string Message(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("jsonrpc", "2.0");
            body(writer);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
