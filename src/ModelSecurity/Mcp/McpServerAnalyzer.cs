using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using ModelSecurity.Analysis;

namespace ModelSecurity.Mcp;

/// <summary>
/// The checks of Test-McpServer on one server entry: pinning, auto-install flags, plain-text secrets,
/// plain HTTP, shell interpolation, world-writable paths, look-alike names and, with a lock, drift.
/// Findings quote secrets only in their redacted form.
/// </summary>
internal sealed class McpServerAnalyzer
{
    private static readonly Regex ShellInterpolation = new(
        @"\$\(|`|\$\{|\$[A-Za-z_]|\$env:|&&|\|\||;|\||&|%[A-Za-z_][A-Za-z0-9_]*%|>|<|\b(iex|Invoke-Expression)\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    private static readonly string[] WorldWritableRoots = { "/tmp/", "/var/tmp/", "/dev/shm/", "/private/tmp/", "/private/var/tmp/" };

    private readonly McpLookalikes _lookalikes;
    private readonly McpVersionResolver? _resolver;
    private readonly IReadOnlyList<McpLockEntry>? _lock;

    public McpServerAnalyzer(McpLookalikes lookalikes, McpVersionResolver? resolver = null, IReadOnlyList<McpLockEntry>? lockEntries = null)
    {
        _lookalikes = lookalikes;
        _resolver = resolver;
        _lock = lockEntries;
    }

    /// <summary>Lock entries matched so far (the rest, at the end, are servers that are gone).</summary>
    public HashSet<McpLockEntry> Matched { get; } = new();

    public McpServerTestResult Test(McpServer server)
    {
        var findings = new List<ModelFinding>();
        McpLaunch launch = McpCommandLine.Read(server.Command, server.LaunchArguments.Count > 0 ? server.LaunchArguments : server.Arguments);

        CheckPinning(server, findings);
        foreach (var (flag, index) in launch.AutoInstallFlags)
        {
            string what = server.PackageManager == McpPackageManager.Docker
                ? $"'{flag}' pulls the image again on every start"
                : $"'{flag}' lets {server.Command} install {server.Package ?? "the package"} without asking";
            findings.Add(RuleCatalogue.Finding(RuleIds.McpAutoInstall, what + ".", $"args[{index}]"));
        }

        foreach (McpPlainSecret secret in server.PlainSecrets)
        {
            findings.Add(RuleCatalogue.Finding(RuleIds.McpPlainSecret, $"The value at {secret.Location} {secret.Reason}: {secret.Redacted} (redacted).", secret.Location));
        }

        CheckHttp(server, findings);
        if (launch.ShellName is not null && launch.ShellScript is { Length: > 0 } script)
        {
            Match match = ShellInterpolation.Match(script);
            if (match.Success)
            {
                findings.Add(RuleCatalogue.Finding(RuleIds.McpShellInterpolation,
                    $"{server.Command} runs a command line that uses '{match.Value}' (substitution, expansion, chaining or a pipe); what it starts cannot be pinned or reviewed as one program.",
                    "command"));
            }
        }

        CheckWorldWritable(server, findings);
        if (_lookalikes.Check(server.PackageManager, server.Package) is { } imitated)
        {
            findings.Add(RuleCatalogue.Finding(RuleIds.McpLookalike, $"'{server.Package}' is not '{imitated}' but is spelled almost like it.", "package"));
        }

        McpLockEntry? locked = null;
        if (_lock is not null)
        {
            locked = McpLock.Find(_lock, server);
            CheckLock(server, locked, findings);
        }

        findings.Sort((a, b) => b.Severity.CompareTo(a.Severity));
        return new McpServerTestResult(server, locked, findings);
    }

    /// <summary>Results for lock entries no tested server matched (servers that are gone).</summary>
    public IEnumerable<McpServerTestResult> Orphans()
    {
        if (_lock is null)
        {
            yield break;
        }

        foreach (McpLockEntry entry in _lock.Where(e => !Matched.Contains(e)))
        {
            var finding = RuleCatalogue.Finding(RuleIds.McpLockOrphan,
                $"The lock records {entry.Client} server '{entry.Name}' ({entry.Package ?? entry.Url ?? "no package"}) from {entry.ConfigPath}, but no configuration read has it.", "lock");
            yield return new McpServerTestResult(null, entry, new[] { finding });
        }
    }

    private static void CheckPinning(McpServer server, List<ModelFinding> findings)
    {
        if (server.Transport != McpTransport.Stdio || server.Package is null
            || server.PackageManager is not (McpPackageManager.Npx or McpPackageManager.Uvx or McpPackageManager.Pipx or McpPackageManager.Docker)
            || McpCommandLine.IsExact(server.PackageManager, server.RequestedVersion))
        {
            return;
        }

        string? v = server.RequestedVersion;
        string detail = server.PackageManager switch
        {
            McpPackageManager.Docker when v is null => $"The image {server.Package} has no tag or digest: every pull takes whatever 'latest' is then.",
            McpPackageManager.Docker => $"The image {server.Package}:{v} has no sha256 digest; tags can be moved to other images.",
            _ when v is null => $"{server.Command} runs {server.Package} with no version: every start can fetch a newer release.",
            _ => $"{server.Command} runs {server.Package} at '{v}', a tag or range rather than one release.",
        };
        findings.Add(RuleCatalogue.Finding(RuleIds.McpUnpinned, detail, "package"));
    }

    private static void CheckHttp(McpServer server, List<ModelFinding> findings)
    {
        var urls = new List<(string Url, string Location)>();
        if (server.Url is not null)
        {
            urls.Add((server.Url, "url"));
        }

        // Bridges that connect a stdio client to a remote server (mcp-remote URL).
        if (server.Package is "mcp-remote" or "mcp-proxy" or "supergateway")
        {
            for (int i = 0; i < server.Arguments.Count; i++)
            {
                if (server.Arguments[i].StartsWith("http://", StringComparison.OrdinalIgnoreCase) || server.Arguments[i].StartsWith("ws://", StringComparison.OrdinalIgnoreCase))
                {
                    urls.Add((server.Arguments[i], $"args[{i}]"));
                }
            }
        }

        foreach (var (url, location) in urls)
        {
            if (Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == "ws") && !IsLoopback(uri))
            {
                findings.Add(RuleCatalogue.Finding(RuleIds.McpPlainHttp, $"{uri.Scheme}://{uri.Authority} is reached without TLS.", location));
            }
        }
    }

    internal static bool IsLoopback(Uri uri)
    {
        string host = uri.IdnHost.Trim('[', ']');
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out IPAddress? address) && IPAddress.IsLoopback(address));
    }

    private static void CheckWorldWritable(McpServer server, List<ModelFinding> findings)
    {
        var paths = new List<(string Path, string Location)>();
        if (server.PackageManager == McpPackageManager.Local && server.Package is not null)
        {
            string package = server.Package;
            if (!IsRooted(package) && server.WorkingDirectory is { } cwd && IsRooted(cwd))
            {
                package = Path.Combine(cwd, package);
            }

            paths.Add((package, "package"));
        }

        if (server.Command is not null && IsRooted(server.Command) && server.Command != server.Package)
        {
            paths.Add((server.Command, "command"));
        }

        if (server.WorkingDirectory is { } wd && IsRooted(wd))
        {
            paths.Add((wd, "cwd"));
        }

        foreach (var (path, location) in paths)
        {
            if (WritableByOthers(path) is { } why)
            {
                findings.Add(RuleCatalogue.Finding(RuleIds.McpWorldWritable, $"{path}: {why}.", location));
                return;
            }
        }
    }

    private static bool IsRooted(string path) => path.StartsWith('/') || (path.Length > 2 && path[1] == ':' && (path[2] == '\\' || path[2] == '/')) || path.StartsWith(@"\\", StringComparison.Ordinal);

    /// <summary>Why other users can write <paramref name="path"/> or a folder above it, or null.</summary>
    internal static string? WritableByOthers(string path)
    {
        string unix = path.Replace('\\', '/');
        foreach (string root in WorldWritableRoots)
        {
            if (unix.StartsWith(root, StringComparison.Ordinal) || unix + "/" == root)
            {
                return $"it is under {root.TrimEnd('/')}, which every local user can write";
            }
        }

        if (unix.StartsWith("C:/Windows/Temp/", StringComparison.OrdinalIgnoreCase) || unix.StartsWith("C:/Users/Public/", StringComparison.OrdinalIgnoreCase)
            || unix.StartsWith("C:/ProgramData/", StringComparison.OrdinalIgnoreCase) && unix.Count(c => c == '/') == 2)
        {
            return "it is under a folder that every local user can write";
        }

        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows) || !path.StartsWith('/'))
        {
            return null;
        }

        try
        {
            string? current = path;
            for (int depth = 0; current is not null && depth < 64; depth++)
            {
                if (File.Exists(current) || Directory.Exists(current))
                {
                    UnixFileMode mode = File.GetUnixFileMode(current);
                    if ((mode & UnixFileMode.OtherWrite) != 0)
                    {
                        return current == path ? "its mode lets every local user write it" : $"{current} has a mode that lets every local user write it";
                    }
                }

                current = Path.GetDirectoryName(current);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return null;
    }

    private void CheckLock(McpServer server, McpLockEntry? locked, List<ModelFinding> findings)
    {
        if (locked is null)
        {
            findings.Add(RuleCatalogue.Finding(RuleIds.McpNotLocked, $"The lock has no entry for {server.Client} server '{server.Name}'.", "lock"));
            return;
        }

        Matched.Add(locked);
        if (!string.Equals(locked.Package, server.Package, StringComparison.OrdinalIgnoreCase) || locked.PackageManager != server.PackageManager)
        {
            findings.Add(RuleCatalogue.Finding(RuleIds.McpLockDrift,
                $"The lock records {locked.PackageManager} '{locked.Package ?? "(none)"}'; the configuration now runs {server.PackageManager} '{server.Package ?? "(none)"}'.", "package"));
            return;
        }

        if (!string.Equals(locked.Url, server.Url, StringComparison.Ordinal))
        {
            findings.Add(RuleCatalogue.Finding(RuleIds.McpLockDrift, $"The lock records the URL {locked.Url ?? "(none)"}; the configuration now has {server.Url ?? "(none)"}.", "url"));
            return;
        }

        if (locked.Version is null)
        {
            return;
        }

        string? current = McpCommandLine.IsExact(server.PackageManager, server.RequestedVersion) ? server.RequestedVersion : _resolver?.ResolveOffline(server)?.Version;
        if (current is null)
        {
            findings.Add(RuleCatalogue.Finding(RuleIds.McpLockDrift,
                $"The lock pins {locked.Version}, but the configuration asks for {(server.RequestedVersion is null ? "no version" : $"'{server.RequestedVersion}'")} and no cached release confirms it: the next start can fetch another one.", "version"));
        }
        else if (!string.Equals(current, locked.Version, StringComparison.Ordinal))
        {
            findings.Add(RuleCatalogue.Finding(RuleIds.McpLockDrift, $"The lock pins {locked.Version}; the server now runs {current}.", "version"));
        }
    }
}
