using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;

namespace ModelSecurity.Mcp;

/// <summary>
/// Where the common MCP clients keep their configuration on this OS, for a home folder, an application
/// data folder and a project folder. <c>MODELSECURITY_HOME</c>, when set, stands in for the home folder
/// (and the application data folders under it), so tests and audits of another user's profile can point
/// the cmdlets elsewhere.
/// </summary>
internal sealed class McpConfigLocations
{
    /// <summary>The environment variable that overrides the home folder.</summary>
    public const string HomeVariable = "MODELSECURITY_HOME";

    private const int MaxBlockFiles = 1_000;

    public McpConfigLocations(string home, string appData, string project, OSPlatform os)
    {
        Home = home;
        AppData = appData;
        Project = project;
        Os = os;
    }

    public string Home { get; }

    /// <summary>%APPDATA% on Windows, ~/Library/Application Support on macOS, $XDG_CONFIG_HOME or ~/.config on Linux.</summary>
    public string AppData { get; }

    /// <summary>The folder whose project-level files (.mcp.json, .vscode/mcp.json, .cursor/mcp.json, .continue/mcpServers) are read.</summary>
    public string Project { get; }

    public OSPlatform Os { get; }

    /// <summary>The locations of the current user, or of <c>MODELSECURITY_HOME</c> when it is set.</summary>
    public static McpConfigLocations ForCurrentUser(string project, Func<string, string?>? environment = null)
    {
        Func<string, string?> env = environment ?? Environment.GetEnvironmentVariable;
        OSPlatform os = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? OSPlatform.Windows
            : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? OSPlatform.OSX : OSPlatform.Linux;
        string? overridden = env(HomeVariable);
        if (!string.IsNullOrEmpty(overridden))
        {
            return new McpConfigLocations(overridden!, DefaultAppData(overridden!, os, null), project, os);
        }

        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string appData = os == OSPlatform.Windows
            ? env("APPDATA") is { Length: > 0 } roaming ? roaming : DefaultAppData(home, os, null)
            : DefaultAppData(home, os, env("XDG_CONFIG_HOME"));
        return new McpConfigLocations(home, appData, project, os);
    }

    /// <summary>The application data folder under <paramref name="home"/> for <paramref name="os"/>.</summary>
    public static string DefaultAppData(string home, OSPlatform os, string? xdgConfigHome) =>
        os == OSPlatform.Windows ? Path.Combine(home, "AppData", "Roaming")
        : os == OSPlatform.OSX ? Path.Combine(home, "Library", "Application Support")
        : !string.IsNullOrEmpty(xdgConfigHome) ? xdgConfigHome! : Path.Combine(home, ".config");

    /// <summary>Every configuration file a client would read, existing or not, with its client.</summary>
    public IEnumerable<(string Client, string Path)> Candidates()
    {
        yield return (McpClients.ClaudeDesktop, Path.Combine(AppData, "Claude", "claude_desktop_config.json"));
        if (Os != OSPlatform.Windows)
        {
            // Claude Desktop on Linux (community builds) also uses ~/.config/Claude.
            string linux = Path.Combine(Home, ".config", "Claude", "claude_desktop_config.json");
            if (!linux.Equals(Path.Combine(AppData, "Claude", "claude_desktop_config.json"), StringComparison.Ordinal))
            {
                yield return (McpClients.ClaudeDesktop, linux);
            }
        }

        yield return (McpClients.ClaudeCode, Path.Combine(Home, ".claude.json"));
        yield return (McpClients.ClaudeCode, Path.Combine(Project, ".mcp.json"));

        string codeUser = Path.Combine(AppData, "Code", "User");
        yield return (McpClients.VSCode, Path.Combine(codeUser, "mcp.json"));
        yield return (McpClients.VSCode, Path.Combine(codeUser, "settings.json"));
        yield return (McpClients.VSCode, Path.Combine(Project, ".vscode", "mcp.json"));
        yield return (McpClients.VSCode, Path.Combine(Project, ".vscode", "settings.json"));

        yield return (McpClients.Cursor, Path.Combine(Home, ".cursor", "mcp.json"));
        yield return (McpClients.Cursor, Path.Combine(Project, ".cursor", "mcp.json"));

        yield return (McpClients.Windsurf, Path.Combine(Home, ".codeium", "windsurf", "mcp_config.json"));

        yield return (McpClients.Continue, Path.Combine(Home, ".continue", "config.yaml"));
        yield return (McpClients.Continue, Path.Combine(Home, ".continue", "config.json"));
        foreach (string folder in new[] { Path.Combine(Home, ".continue", "mcpServers"), Path.Combine(Project, ".continue", "mcpServers") })
        {
            foreach (string file in BlockFiles(folder))
            {
                yield return (McpClients.Continue, file);
            }
        }
    }

    /// <summary>The candidates that exist, each once (a project folder that is the home folder is read once).</summary>
    public IEnumerable<(string Client, string Path)> Existing() =>
        Candidates().Where(c => File.Exists(c.Path)).GroupBy(c => Path.GetFullPath(c.Path), PathComparer).Select(g => g.First());

    private static StringComparer PathComparer => RuntimeInformation.IsOSPlatform(OSPlatform.Linux) ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase;

    private static IEnumerable<string> BlockFiles(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return Array.Empty<string>();
        }

        try
        {
            return Directory.EnumerateFiles(folder)
                .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
                .Take(MaxBlockFiles).OrderBy(f => f, StringComparer.Ordinal).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Array.Empty<string>();
        }
    }
}
