using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Threading;
using ModelSecurity.Provenance;

namespace ModelSecurity.Mcp;

/// <summary>A resolved release: the version, the registry's integrity value when known, and where it came from.</summary>
internal sealed record McpResolvedVersion(string Version, string? Integrity, string Source);

/// <summary>
/// Finds the exact release a server runs: the version its configuration pins; else the one in the local
/// caches (npx's ~/.npm/_npx, uv tools, pipx venvs); else, online, the npm registry's or PyPI's latest.
/// Never guesses: what cannot be found is null, with the reason.
/// </summary>
internal sealed class McpVersionResolver
{
    public static readonly Uri DefaultNpmRegistry = new("https://registry.npmjs.org/");
    public static readonly Uri DefaultPyPI = new("https://pypi.org/");

    private const int MaxCacheFolders = 10_000;

    // npm's rules for a package name (lower case, URL-safe, at most one scope); PyPI's for a project name.
    private static readonly System.Text.RegularExpressions.Regex NpmName = new(@"^(@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9~][a-z0-9._~-]*$", System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    private static readonly System.Text.RegularExpressions.Regex PyPIName = new(@"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$", System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    private const long MaxManifestBytes = 1024 * 1024;

    private readonly string _home;
    private readonly Func<string, string?> _environment;

    public McpVersionResolver(string home, Func<string, string?>? environment = null)
    {
        _home = home;
        _environment = environment ?? Environment.GetEnvironmentVariable;
    }

    /// <summary>The npm registry for online look-ups; null for none (offline).</summary>
    public Uri? NpmRegistry { get; init; }

    /// <summary>The PyPI index for online look-ups; null for none (offline).</summary>
    public Uri? PyPI { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The release <paramref name="server"/> runs, or null with <paramref name="reason"/>.</summary>
    /// <exception cref="OnlineLookupException">An online look-up failed.</exception>
    public McpResolvedVersion? Resolve(McpServer server, CancellationToken cancel, out string? reason)
    {
        reason = null;
        string? package = server.Package;
        if (server.Transport != McpTransport.Stdio || package is null
            || server.PackageManager is not (McpPackageManager.Npx or McpPackageManager.Uvx or McpPackageManager.Pipx or McpPackageManager.Docker))
        {
            reason = "the server is not fetched from a registry";
            return null;
        }

        bool registryName = server.PackageManager switch
        {
            McpPackageManager.Npx => package.Length <= 214 && NpmName.IsMatch(package),
            McpPackageManager.Uvx or McpPackageManager.Pipx => package.Length <= 200 && PyPIName.IsMatch(package),
            _ => true,
        };
        if (!registryName)
        {
            // A git URL, tarball or local folder: nothing a registry or cache can vouch for.
            reason = $"'{package}' is not a registry package name";
            return null;
        }

        if (McpCommandLine.IsExact(server.PackageManager, server.RequestedVersion))
        {
            string version = server.RequestedVersion!;
            string? integrity = null;
            if (server.PackageManager == McpPackageManager.Docker)
            {
                int at = version.IndexOf("sha256:", StringComparison.OrdinalIgnoreCase);
                integrity = version.Substring(at);
            }
            else if (server.PackageManager == McpPackageManager.Npx && NpmRegistry is not null)
            {
                integrity = Npm(package, version, cancel)?.Integrity;
            }

            return new McpResolvedVersion(version, integrity, "Config");
        }

        McpResolvedVersion? cached = ResolveOffline(server);
        if (cached is not null)
        {
            return cached;
        }

        switch (server.PackageManager)
        {
            case McpPackageManager.Npx when NpmRegistry is not null:
                string tag = server.RequestedVersion is { } requested && !requested.Any(c => c is '^' or '~' or '>' or '<' or '*' or ' ' or '|') ? requested : "latest";
                if (server.RequestedVersion is not null && tag != server.RequestedVersion)
                {
                    reason = $"the configuration asks for the range '{server.RequestedVersion}', which only npm itself resolves";
                    return null;
                }

                var found = Npm(package, tag, cancel);
                reason = found is null ? $"the npm registry has no '{tag}' of {package}" : null;
                return found;
            case McpPackageManager.Uvx or McpPackageManager.Pipx when PyPI is not null:
                if (server.RequestedVersion is not null)
                {
                    reason = $"the configuration asks for the range '{server.RequestedVersion}', which only the installer resolves";
                    return null;
                }

                var latest = Pypi(package, cancel);
                reason = latest is null ? $"PyPI has no project {package}" : null;
                return latest;
            case McpPackageManager.Docker:
                reason = "an image tag's digest is known only to the registry; pin the image as name@sha256:...";
                return null;
            default:
                reason = NpmRegistry is null && PyPI is null
                    ? "no version is pinned and none is in the local caches (use -Online to ask the registry)"
                    : "no version is pinned and none is in the local caches";
                return null;
        }
    }

    /// <summary>The version in the local caches, or null.</summary>
    public McpResolvedVersion? ResolveOffline(McpServer server)
    {
        if (server.Package is null)
        {
            return null;
        }

        return server.PackageManager switch
        {
            McpPackageManager.Npx => NpxCache(server.Package),
            McpPackageManager.Uvx => PythonTool(server.Package, UvToolFolders(), "UvTools"),
            McpPackageManager.Pipx => PythonTool(server.Package, PipxFolders(), "Pipx"),
            _ => null,
        };
    }

    private McpResolvedVersion? NpxCache(string package)
    {
        string cache = _environment("npm_config_cache") is { Length: > 0 } configured ? configured
            : RuntimeInformation.IsOSPlatform(OSPlatform.Windows) && _environment("LOCALAPPDATA") is { Length: > 0 } local && _environment(McpConfigLocations.HomeVariable) is null
                ? Path.Combine(local, "npm-cache")
                : Path.Combine(_home, ".npm");
        string npx = Path.Combine(cache, "_npx");
        if (!Directory.Exists(npx))
        {
            return null;
        }

        // Several npx runs can leave several versions; the most recently installed one is what npx reuses.
        (string Version, DateTime Written)? best = null;
        foreach (string folder in SafeFolders(npx))
        {
            string manifest = Path.Combine(new[] { folder, "node_modules" }.Concat(package.Split('/')).Append("package.json").ToArray());
            if (ReadJsonVersion(manifest) is { } version)
            {
                DateTime written = File.GetLastWriteTimeUtc(manifest);
                if (best is null || written > best.Value.Written)
                {
                    best = (version, written);
                }
            }
        }

        return best is null ? null : new McpResolvedVersion(best.Value.Version, null, "NpxCache");
    }

    private IEnumerable<string> UvToolFolders()
    {
        if (_environment("UV_TOOL_DIR") is { Length: > 0 } configured)
        {
            yield return configured;
        }

        string data = _environment("XDG_DATA_HOME") is { Length: > 0 } xdg && _environment(McpConfigLocations.HomeVariable) is null ? xdg : Path.Combine(_home, ".local", "share");
        yield return Path.Combine(data, "uv", "tools");
        yield return Path.Combine(_home, "AppData", "Roaming", "uv", "tools");
    }

    private IEnumerable<string> PipxFolders()
    {
        yield return Path.Combine(_home, ".local", "pipx", "venvs");
        yield return Path.Combine(_home, ".local", "share", "pipx", "venvs");
        yield return Path.Combine(_home, "pipx", "venvs");
    }

    // <tools>/<name>/lib/pythonX.Y/site-packages/<name>-<version>.dist-info (Lib/site-packages on Windows).
    private static McpResolvedVersion? PythonTool(string package, IEnumerable<string> roots, string source)
    {
        string normalised = Normalise(package);
        foreach (string root in roots)
        {
            string tool = Path.Combine(root, package);
            if (!Directory.Exists(tool))
            {
                tool = Path.Combine(root, normalised);
                if (!Directory.Exists(tool))
                {
                    continue;
                }
            }

            var sitePackages = new List<string> { Path.Combine(tool, "Lib", "site-packages") };
            string lib = Path.Combine(tool, "lib");
            if (Directory.Exists(lib))
            {
                sitePackages.AddRange(SafeFolders(lib).Select(p => Path.Combine(p, "site-packages")));
            }

            foreach (string site in sitePackages.Where(Directory.Exists))
            {
                foreach (string distInfo in SafeFolders(site).Where(d => d.EndsWith(".dist-info", StringComparison.OrdinalIgnoreCase)))
                {
                    string stem = Path.GetFileName(distInfo);
                    stem = stem.Substring(0, stem.Length - ".dist-info".Length);
                    int dash = stem.LastIndexOf('-');
                    if (dash > 0 && Normalise(stem.Substring(0, dash)) == normalised)
                    {
                        return new McpResolvedVersion(stem.Substring(dash + 1), null, source);
                    }
                }
            }
        }

        return null;
    }

    private McpResolvedVersion? Npm(string package, string versionOrTag, CancellationToken cancel)
    {
        var uri = new Uri(NpmRegistry!, package + "/" + Uri.EscapeDataString(versionOrTag));
        byte[]? body = RegistryHttp.Get(uri, "application/json", Timeout, cancel, allowNotFound: true);
        if (body is null)
        {
            return null;
        }

        using JsonDocument document = Parse(body, uri);
        JsonElement root = document.RootElement;
        string version = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("version", out JsonElement v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()! : throw new OnlineLookupException(OnlineLookupException.InvalidResponse, $"{uri} answered without a version.");
        string? integrity = root.TryGetProperty("dist", out JsonElement dist) && dist.ValueKind == JsonValueKind.Object
            && dist.TryGetProperty("integrity", out JsonElement i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null;
        return new McpResolvedVersion(version, integrity, "NpmRegistry");
    }

    private McpResolvedVersion? Pypi(string package, CancellationToken cancel)
    {
        var uri = new Uri(PyPI!, "pypi/" + Uri.EscapeDataString(package) + "/json");
        byte[]? body = RegistryHttp.Get(uri, "application/json", Timeout, cancel, allowNotFound: true);
        if (body is null)
        {
            return null;
        }

        using JsonDocument document = Parse(body, uri);
        JsonElement root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("info", out JsonElement info) || info.ValueKind != JsonValueKind.Object
            || !info.TryGetProperty("version", out JsonElement v) || v.ValueKind != JsonValueKind.String)
        {
            throw new OnlineLookupException(OnlineLookupException.InvalidResponse, $"{uri} answered without info.version.");
        }

        string version = v.GetString()!;
        string? integrity = null;
        if (root.TryGetProperty("urls", out JsonElement urls) && urls.ValueKind == JsonValueKind.Array)
        {
            // The sdist's digest identifies the release the way npm's integrity does.
            foreach (JsonElement file in urls.EnumerateArray())
            {
                if (file.ValueKind == JsonValueKind.Object && file.TryGetProperty("packagetype", out JsonElement type) && type.ValueKind == JsonValueKind.String && type.GetString() == "sdist"
                    && file.TryGetProperty("digests", out JsonElement digests) && digests.ValueKind == JsonValueKind.Object
                    && digests.TryGetProperty("sha256", out JsonElement sha) && sha.ValueKind == JsonValueKind.String)
                {
                    integrity = "sha256:" + sha.GetString();
                }
            }
        }

        return new McpResolvedVersion(version, integrity, "PyPI");
    }

    private static JsonDocument Parse(byte[] body, Uri uri)
    {
        try
        {
            return JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            throw new OnlineLookupException(OnlineLookupException.InvalidResponse, $"{uri} answered with something that is not JSON.", e);
        }
    }

    private static string? ReadJsonVersion(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length > MaxManifestBytes)
            {
                return null;
            }

            using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(path));
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("version", out JsonElement v) && v.ValueKind == JsonValueKind.String
                ? v.GetString() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    private static IEnumerable<string> SafeFolders(string folder)
    {
        try
        {
            return Directory.EnumerateDirectories(folder).Take(MaxCacheFolders).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Array.Empty<string>();
        }
    }

    private static string Normalise(string name) => new string(name.ToLowerInvariant().Select(c => c is '-' or '.' ? '_' : c).ToArray());
}
