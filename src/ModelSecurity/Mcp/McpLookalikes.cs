using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using ModelSecurity.Provenance;

namespace ModelSecurity.Mcp;

/// <summary>
/// Well-known MCP server packages (Data/mcp-servers.json) and the look-alike test of
/// <see cref="Lookalikes"/> applied to them, per ecosystem: npm names for npx, PyPI names for uvx and
/// pipx, image names for docker.
/// </summary>
internal sealed class McpLookalikes
{
    private const string ResourceName = "ModelSecurity.Data.mcp-servers.json";

    // A bare name shorter than this ("mcp") is too generic to call a scope swap a squat.
    private const int MinScopedBareName = 8;

    private static readonly Lazy<McpLookalikes> Embedded = new(() =>
    {
        using Stream stream = typeof(McpLookalikes).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Embedded resource '{ResourceName}' is missing.");
        using JsonDocument document = JsonDocument.Parse(stream);
        string[] List(string name) => document.RootElement.GetProperty(name).EnumerateArray().Select(e => e.GetString()!).ToArray();
        return new McpLookalikes(List("npm"), List("pypi"), List("images"));
    });

    private McpLookalikes(string[] npm, string[] pypi, string[] images)
    {
        Npm = npm;
        PyPI = pypi;
        Images = images;
    }

    public static McpLookalikes Default => Embedded.Value;

    public IReadOnlyList<string> Npm { get; }

    public IReadOnlyList<string> PyPI { get; }

    public IReadOnlyList<string> Images { get; }

    /// <summary>The well-known server <paramref name="package"/> imitates, or null.</summary>
    public string? Check(McpPackageManager manager, string? package)
    {
        if (string.IsNullOrWhiteSpace(package))
        {
            return null;
        }

        switch (manager)
        {
            case McpPackageManager.Npx:
                return Lookalikes.Match(package!, Npm, allowDistance: true) ?? ScopeSwap(package!);
            case McpPackageManager.Uvx or McpPackageManager.Pipx:
                return Lookalikes.Match(package!, PyPI, allowDistance: true);
            case McpPackageManager.Docker:
                string image = package!;
                foreach (string prefix in new[] { "docker.io/", "index.docker.io/", "registry-1.docker.io/" })
                {
                    if (image.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                    {
                        image = image.Substring(prefix.Length);
                    }
                }

                if (image.StartsWith("library/", StringComparison.OrdinalIgnoreCase))
                {
                    image = image.Substring("library/".Length);
                }

                return Lookalikes.Match(image, Images, allowDistance: true);
            default:
                return null;
        }
    }

    // "@someone/server-filesystem" or "server-filesystem" for "@modelcontextprotocol/server-filesystem".
    private string? ScopeSwap(string package)
    {
        if (Npm.Contains(package, StringComparer.OrdinalIgnoreCase))
        {
            return null;
        }

        string bare = Bare(package);
        return Npm.FirstOrDefault(known => known.StartsWith('@') && Bare(known).Length >= MinScopedBareName
            && Lookalikes.Loose(Bare(known)) == Lookalikes.Loose(bare) && !Npm.Contains(package, StringComparer.OrdinalIgnoreCase));
    }

    private static string Bare(string package) => package.StartsWith('@') && package.IndexOf('/', StringComparison.Ordinal) is int slash and > 0 ? package.Substring(slash + 1) : package;
}
