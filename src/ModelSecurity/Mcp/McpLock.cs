using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace ModelSecurity.Mcp;

/// <summary>One server as a lock file records it: which server, and the exact release it was reviewed at.</summary>
public sealed class McpLockEntry
{
    /// <summary>The client whose configuration names the server.</summary>
    public string Client { get; init; } = string.Empty;

    /// <summary>The configuration file the server was read from.</summary>
    public string ConfigPath { get; init; } = string.Empty;

    /// <summary>The project folder of a per-project entry (Claude Code), or null.</summary>
    public string? Project { get; init; }

    /// <summary>The server's name in the configuration.</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>Stdio or Http.</summary>
    public McpTransport Transport { get; init; }

    /// <summary>What fetches or starts the server.</summary>
    public McpPackageManager PackageManager { get; init; }

    /// <summary>The package, image or local path.</summary>
    public string? Package { get; init; }

    /// <summary>The exact version (image: tag@digest or digest); null when it could not be resolved.</summary>
    public string? Version { get; init; }

    /// <summary>The registry's integrity value for that version (npm dist.integrity, an image digest), when known.</summary>
    public string? Integrity { get; init; }

    /// <summary>Where the version came from: Config, NpxCache, UvTools, Pipx, NpmRegistry, PyPI; null when unresolved.</summary>
    public string? ResolvedFrom { get; init; }

    /// <summary>The URL of a remote server (credentials redacted).</summary>
    public string? Url { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"{Client}:{Name} {Package}@{Version ?? "(unresolved)"}";
}

/// <summary>
/// The lock file Export-McpServerLock writes and Test-McpServer -LockPath reads (schema in about_ModelSecurity):
/// <c>{ "lockVersion": 1, "generator": "...", "servers": [ { client, configPath, project, name, transport,
/// packageManager, package, version, integrity, resolvedFrom, url } ] }</c>.
/// </summary>
internal static class McpLock
{
    public const int Version = 1;

    private const long MaxBytes = 16L * 1024 * 1024;
    private const int MaxEntries = 100_000;

    public static void Write(string path, IEnumerable<McpLockEntry> entries)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteNumber("lockVersion", Version);
            json.WriteString("generator", "ModelSecurity " + (typeof(McpLock).Assembly.GetName().Version?.ToString(3) ?? "0"));
            json.WriteStartArray("servers");
            foreach (McpLockEntry e in entries)
            {
                json.WriteStartObject();
                json.WriteString("client", e.Client);
                json.WriteString("configPath", e.ConfigPath);
                WriteNullable(json, "project", e.Project);
                json.WriteString("name", e.Name);
                json.WriteString("transport", e.Transport.ToString());
                json.WriteString("packageManager", e.PackageManager.ToString());
                WriteNullable(json, "package", e.Package);
                WriteNullable(json, "version", e.Version);
                WriteNullable(json, "integrity", e.Integrity);
                WriteNullable(json, "resolvedFrom", e.ResolvedFrom);
                WriteNullable(json, "url", e.Url);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        string? folder = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        File.WriteAllBytes(path, buffer.ToArray());
    }

    /// <exception cref="InvalidDataException">The file is not a lock of this version.</exception>
    public static List<McpLockEntry> Read(string path)
    {
        var info = new FileInfo(path);
        if (info.Length > MaxBytes)
        {
            throw new InvalidDataException($"{path}: the lock file is {info.Length:N0} bytes, more than the {MaxBytes:N0} read.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON at line {(e.LineNumber ?? 0) + 1}, position {(e.BytePositionInLine ?? 0) + 1}.", e);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("lockVersion", out JsonElement version) || version.ValueKind != JsonValueKind.Number
                || version.GetInt32() != Version || !root.TryGetProperty("servers", out JsonElement servers) || servers.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException($"{path}: not an MCP server lock (an object with \"lockVersion\": {Version} and a \"servers\" array).");
            }

            var entries = new List<McpLockEntry>();
            int index = 0;
            foreach (JsonElement e in servers.EnumerateArray())
            {
                if (entries.Count >= MaxEntries)
                {
                    throw new InvalidDataException($"{path}: more than {MaxEntries:N0} servers.");
                }

                if (e.ValueKind != JsonValueKind.Object || Text(e, "name") is not { Length: > 0 } name || Text(e, "client") is not { Length: > 0 } client)
                {
                    throw new InvalidDataException($"{path}: servers[{index}] has no \"client\" and \"name\".");
                }

                entries.Add(new McpLockEntry
                {
                    Client = client,
                    ConfigPath = Text(e, "configPath") ?? string.Empty,
                    Project = Text(e, "project"),
                    Name = name,
                    Transport = Enum.TryParse(Text(e, "transport"), true, out McpTransport t) ? t : McpTransport.Stdio,
                    PackageManager = Enum.TryParse(Text(e, "packageManager"), true, out McpPackageManager m) ? m : McpPackageManager.None,
                    Package = Text(e, "package"),
                    Version = Text(e, "version"),
                    Integrity = Text(e, "integrity"),
                    ResolvedFrom = Text(e, "resolvedFrom"),
                    Url = Text(e, "url"),
                });
                index++;
            }

            return entries;
        }
    }

    /// <summary>The entry for <paramref name="server"/>: same client, file, project and name; else the only one with the same client, project and name.</summary>
    public static McpLockEntry? Find(IReadOnlyList<McpLockEntry> entries, McpServer server)
    {
        McpLockEntry? exact = entries.FirstOrDefault(e => Same(e.Client, server.Client) && e.Name == server.Name && e.Project == server.Project
            && string.Equals(e.ConfigPath, server.ConfigPath, StringComparison.Ordinal));
        if (exact is not null)
        {
            return exact;
        }

        var loose = entries.Where(e => Same(e.Client, server.Client) && e.Name == server.Name && e.Project == server.Project).Take(2).ToList();
        return loose.Count == 1 ? loose[0] : null;
    }

    private static bool Same(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static void WriteNullable(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }
}
