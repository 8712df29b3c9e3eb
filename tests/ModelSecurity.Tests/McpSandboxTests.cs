using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using ModelSecurity.Commands;
using ModelSecurity.Mcp;
using ModelSecurity.Sandbox;
using Xunit;

namespace ModelSecurity.Tests;

/// <summary>Standard input wiring, the MCP handshake and its parsing, and an MCP server run in bubblewrap.</summary>
public sealed class McpSandboxTests : IDisposable
{
    // A stdio MCP server: answers initialize and tools/list, and first tries the TCP port given as its
    // second argument, reporting on stderr whether it connected.
    private const string ServerScript = """
        import json, socket, sys
        try:
            socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3).close()
            sys.stderr.write("NETWORK: connected\n")
        except OSError as e:
            sys.stderr.write("NETWORK: blocked (%s)\n" % e)
        sys.stderr.flush()
        print("starting (a log line, not JSON)", flush=True)
        for line in sys.stdin:
            msg = json.loads(line)
            sys.stderr.write("GOT %s\n" % msg.get("method"))
            if "id" not in msg:
                continue
            if msg["method"] == "initialize":
                result = {"protocolVersion": msg["params"]["protocolVersion"], "capabilities": {"tools": {}},
                          "serverInfo": {"name": "tiny-test-server", "version": "0.0.7"}, "echo": msg["params"]}
            elif msg["method"] == "tools/list":
                result = {"tools": [{"name": "echo", "inputSchema": {"type": "object"}}, {"name": "add", "inputSchema": {"type": "object"}}]}
            else:
                result = {}
            print(json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": result}), flush=True)
        """;

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "ModelSecurity.McpSandboxTests." + Guid.NewGuid().ToString("N"));

    public McpSandboxTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Handshake_IsNewlineDelimitedJsonRpc_InitializeFirst()
    {
        StandardInputScript script = McpHandshake.Script("1.2.3");

        Assert.Equal(2, script.Steps.Count);
        string[] lines = script.Steps.SelectMany(s => s.Lines).ToArray();
        Assert.All(lines, l => Assert.DoesNotContain('\n', l));
        using JsonDocument initialize = JsonDocument.Parse(lines[0]);
        JsonElement root = initialize.RootElement;
        Assert.Equal("2.0", root.GetProperty("jsonrpc").GetString());
        Assert.Equal("initialize", root.GetProperty("method").GetString());
        Assert.Equal(1, root.GetProperty("id").GetInt32());
        Assert.Equal("2025-06-18", root.GetProperty("params").GetProperty("protocolVersion").GetString());
        Assert.Equal(JsonValueKind.Object, root.GetProperty("params").GetProperty("capabilities").ValueKind);
        Assert.Equal("ModelSecurity", root.GetProperty("params").GetProperty("clientInfo").GetProperty("name").GetString());
        Assert.Equal("1.2.3", root.GetProperty("params").GetProperty("clientInfo").GetProperty("version").GetString());

        using JsonDocument initialized = JsonDocument.Parse(lines[1]);
        Assert.Equal("notifications/initialized", initialized.RootElement.GetProperty("method").GetString());
        Assert.False(initialized.RootElement.TryGetProperty("id", out _));
        using JsonDocument list = JsonDocument.Parse(lines[2]);
        Assert.Equal("tools/list", list.RootElement.GetProperty("method").GetString());
        Assert.Equal(2, list.RootElement.GetProperty("id").GetInt32());

        // Each step waits for the answer to its own request: a response (result or error), not a request with that
        // id, and only once its line is complete. The output it looks at grows between calls.
        Func<string, bool> first = script.Steps[0].WaitUntil!;
        string output = "log line\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n";
        Assert.False(first(output));
        output += "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}";
        Assert.False(first(output));
        output += "\n";
        Assert.True(first(output));
        Assert.True(script.Steps[1].WaitUntil!("{\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":-32601}}\n"));
    }

    [Fact]
    public void Read_TakesServerInfoAndTools_PassingOverGarbage()
    {
        string output = string.Join('\n', new[]
        {
            "plain log text",
            "{ not json",
            "[1,2,3]",
            "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"serverInfo\":\"a string\"}}",
            new string('[', 5000) + new string(']', 5000),
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"protocolVersion\":\"2025-06-18\",\"serverInfo\":{\"name\":\"srv\",\"version\":3}}}",
            "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"tools\":[{\"name\":\"a\"},7,{\"title\":\"no name\"},{\"name\":\"" + new string('b', 1000) + "\"}]}}",
            "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"serverInfo\":{\"name\":\"later\"},\"tools\":[{\"name\":\"ignored\"}]}}",
        });

        (McpServerInfo? server, IReadOnlyList<string> tools) = McpHandshake.Read(output);

        Assert.NotNull(server);
        Assert.Equal("srv", server!.Name);
        Assert.Null(server.Version);
        Assert.Equal("2025-06-18", server.ProtocolVersion);
        Assert.Equal(new[] { "a", new string('b', McpHandshake.MaxTextChars) }, tools);
    }

    [Fact]
    public void Read_BoundsTheToolList_AndNeverThrows()
    {
        string many = "{\"id\":2,\"result\":{\"tools\":[" + string.Join(',', Enumerable.Range(0, 5000).Select(i => $"{{\"name\":\"t{i}\"}}")) + "]}}";
        Assert.Equal(McpHandshake.MaxTools, McpHandshake.Read(many).Tools.Count);

        var random = new Random(11);
        for (int i = 0; i < 200; i++)
        {
            var bytes = new byte[random.Next(1, 400)];
            random.NextBytes(bytes);
            string junk = "{\"result\":{\"tools\":[" + Encoding.Latin1.GetString(bytes) + "\n{\"result\":" + Encoding.UTF8.GetString(bytes);
            (McpServerInfo? server, IReadOnlyList<string> tools) = McpHandshake.Read(junk);
            Assert.Null(server);
            Assert.NotNull(tools);
        }

        Assert.Null(McpHandshake.Read(string.Empty).Server);
    }

    [Fact]
    public void StandardInput_ReachesTheProgram_ThenEndOfInput()
    {
        SandboxRun run = RunDirect(new[] { "/bin/cat" }, StandardInputScript.FromLines(new[] { "first", string.Empty, "dernière" }));

        Assert.Equal(0, run.ExitCode);
        Assert.False(run.TimedOut);
        Assert.Equal("first\n\ndernière\n", run.Output);
    }

    [Fact]
    public void StandardInput_ThatIsNeverRead_DoesNotBlockTheRun()
    {
        // 8 MB is far past a pipe's buffer: a writer on the calling thread would wait for ever.
        string[] lines = Enumerable.Repeat(new string('x', 1023), 8 * 1024).ToArray();
        var clock = Stopwatch.StartNew();

        SandboxRun run = RunDirect(new[] { "/bin/sh", "-c", "echo done" }, StandardInputScript.FromLines(lines));

        Assert.Equal("done\n", run.Output);
        Assert.False(run.TimedOut);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), clock.Elapsed.ToString());
    }

    [Fact]
    public void StandardInput_Steps_WaitForTheAnswerBeforeTheNextLine()
    {
        // The program answers only after reading the first line; the second step must come after the answer.
        var script = new StandardInputScript(new[]
        {
            new StandardInputStep(new[] { "one" }, text => text.Contains("ANSWER", StringComparison.Ordinal)),
            new StandardInputStep(new[] { "two" }, null),
        });

        SandboxRun run = RunDirect(new[] { "/bin/sh", "-c", "read a; sleep 0.3; echo ANSWER-$a; read b; echo got-$b; read c || echo EOF" }, script);

        Assert.Equal("ANSWER-one\ngot-two\nEOF\n", run.Output);
    }

    [Fact]
    public void Docker_PassesStandardInputThrough()
    {
        var docker = new OciBackend(SandboxBackendKind.Docker) { CliPath = "/usr/bin/docker", User = "1000:1000" };
        SandboxLaunch launch = docker.Prepare(new SandboxRequest { ModelPaths = new[] { "/m" }, FilePath = "cat", Image = "debian:12" });

        Assert.True(launch.CommandLine.ToList().IndexOf("--interactive") < launch.CommandLine.ToList().IndexOf("debian:12"));
    }

    [SkippableFact]
    public void McpServer_AnswersInitializeThroughThePipe_AndCannotReachTheNetwork()
    {
        string? python = SandboxReady();
        string script = Path.Combine(_folder, "server.py");
        File.WriteAllText(script, ServerScript);
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var server = new McpServer
            {
                Client = "Custom",
                Name = "tiny",
                Transport = McpTransport.Stdio,
                Command = python,
                Arguments = new[] { script, port.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                PackageManager = McpPackageManager.Local,
                EnvironmentNames = new[] { "TINY_API_KEY" },
            };
            using PowerShell shell = CreateShell();

            Collection<PSObject> output = shell.AddCommand("Invoke-ModelSandbox").AddParameter("McpServer", server).AddParameter("TimeoutSeconds", 60).AddParameter("Verbose", true).Invoke();

            Assert.False(shell.HadErrors, string.Join("; ", shell.Streams.Error));
            SandboxResult result = Assert.IsType<SandboxResult>(Assert.Single(output).BaseObject);
            Assert.False(result.TimedOut);
            Assert.Equal(0, result.ExitCode);
            Assert.Equal("tiny-test-server", result.McpServerInfo?.Name);
            Assert.Equal("0.0.7", result.McpServerInfo?.Version);
            Assert.Equal("2025-06-18", result.McpServerInfo?.ProtocolVersion);
            Assert.Equal(new[] { "echo", "add" }, result.McpTools);
            Assert.Contains("\"clientInfo\": {\"name\": \"ModelSecurity\"", result.Output, StringComparison.Ordinal);
            Assert.Contains("GOT initialize\nGOT notifications/initialized\nGOT tools/list\n", result.ErrorOutput, StringComparison.Ordinal);
            Assert.Contains("NETWORK: blocked", result.ErrorOutput, StringComparison.Ordinal);
            Assert.DoesNotContain("NETWORK: connected", result.ErrorOutput, StringComparison.Ordinal);
            Assert.False(listener.Pending());
            Assert.Contains(result.Enforced, e => e.Contains("no network", StringComparison.Ordinal));
            Assert.DoesNotContain("TINY_API_KEY", result.CommandLine, StringComparison.Ordinal);
            Assert.Contains(shell.Streams.Verbose, v => v.Message.Contains("TINY_API_KEY", StringComparison.Ordinal));
        }
        finally
        {
            listener.Stop();
        }
    }

    [Fact]
    public void McpServer_Remote_IsRefused_AndNothingRuns()
    {
        var server = new McpServer { Name = "remote", Transport = McpTransport.Http, Url = "https://mcp.example.com/mcp" };
        using PowerShell shell = CreateShell();

        Collection<PSObject> output = shell.AddCommand("Invoke-ModelSandbox").AddParameter("McpServer", server).Invoke();

        Assert.Empty(output);
        ErrorRecord error = Assert.Single(shell.Streams.Error);
        Assert.StartsWith(ErrorIds.SandboxMcpServerRemote + ",", error.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Contains("https://mcp.example.com/mcp", error.Exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void McpServer_NotAnEntry_IsRefused()
    {
        using PowerShell shell = CreateShell();

        Collection<PSObject> output = shell.AddScript("'just text' | Invoke-ModelSandbox").Invoke();

        Assert.Empty(output);
        Assert.StartsWith(ErrorIds.SandboxMcpServerInvalid + ",", Assert.Single(shell.Streams.Error).FullyQualifiedErrorId, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void McpServer_ByPropertyName_WithNullArguments_Runs()
    {
        SandboxReady();
        using PowerShell shell = CreateShell();

        Collection<PSObject> output = shell.AddScript("[pscustomobject]@{ Name = 'odd'; Command = 'true'; Arguments = @($null, 'x'); EnvironmentNames = $null } | Invoke-ModelSandbox").Invoke();

        Assert.False(shell.HadErrors, string.Join("; ", shell.Streams.Error));
        SandboxResult result = Assert.IsType<SandboxResult>(Assert.Single(output).BaseObject);
        Assert.Equal(0, result.ExitCode);
        Assert.EndsWith("/usr/bin/true '' x", result.CommandLine, StringComparison.Ordinal);
        Assert.Null(result.McpServerInfo);
    }

    [SkippableFact]
    public void McpServer_StartsWithTheSecretAsWritten_ButShowsItRedacted()
    {
        SandboxReady();
        using PowerShell shell = CreateShell();
        const string Secret = "ghp_0123456789abcdefghijklmnopqrstuvwxyz";
        var server = new McpServer
        {
            Client = "Custom",
            Name = "echoer",
            Command = "echo",
            Arguments = new[] { "--token", "ghp_…" },
            LaunchArguments = new[] { "--token", Secret },
        };

        Collection<PSObject> output = shell.AddCommand("Invoke-ModelSandbox").AddParameter("McpServer", server).AddParameter("StandardInput", Array.Empty<string>()).AddParameter("Verbose", true).Invoke();

        Assert.False(shell.HadErrors, string.Join("; ", shell.Streams.Error));
        SandboxResult result = Assert.IsType<SandboxResult>(Assert.Single(output).BaseObject);
        Assert.Contains(Secret, result.Output, StringComparison.Ordinal);
        Assert.EndsWith("/usr/bin/echo --token 'ghp_…'", result.CommandLine, StringComparison.Ordinal);
        Assert.DoesNotContain(shell.Streams.Verbose, v => v.Message.Contains(Secret, StringComparison.Ordinal));
    }

    private static SandboxRun RunDirect(string[] commandLine, StandardInputScript input) =>
        SandboxProcess.Run(new SandboxLaunch(commandLine, Array.Empty<string>()), 1024 * 1024, HangGuard.Limit, default, input);

    // python3 in a system folder, when bubblewrap works here; otherwise the test is skipped with the reason.
    private static string SandboxReady()
    {
        string? problem = new BubblewrapBackend().Probe();
        Skip.If(problem is not null, "bubblewrap cannot run here: " + problem);
        string? python = HostTools.FindSystemTool("python3");
        Skip.If(python is null, "python3 is not installed in a system folder");
        return python!;
    }

    private static PowerShell CreateShell()
    {
        InitialSessionState state = InitialSessionState.CreateDefault2();
        state.Commands.Add(new SessionStateCmdletEntry("Invoke-ModelSandbox", typeof(InvokeModelSandboxCommand), null));
        return PowerShell.Create(state);
    }
}
