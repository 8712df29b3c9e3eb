using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using ModelSecurity.Sandbox;
using Xunit;

namespace ModelSecurity.Tests;

/// <summary>Sandbox command lines, environment filtering and canary scanning, without running anything.</summary>
public sealed class SandboxTests : IDisposable
{
    private static readonly KeyValuePair<string, string>[] NoVariables = Array.Empty<KeyValuePair<string, string>>();
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "ModelSecurity.SandboxTests." + Guid.NewGuid().ToString("N"));

    public SandboxTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static SandboxRequest Request(SandboxNetwork network = SandboxNetwork.None, string? output = "/srv/out", params string[] models) => new()
    {
        ModelPaths = models.Length > 0 ? models : new[] { "/data/models/llama" },
        FilePath = "/usr/bin/python3",
        Arguments = new[] { "-c", "print(1)" },
        OutputPath = output,
        Environment = SandboxEnvironment.Build(new[] { new KeyValuePair<string, string>("HF_TOKEN", "hf_decoy") }, new[] { new KeyValuePair<string, string>("MODEL", "tiny") }),
        Network = network,
        MemoryMB = 512,
        MaxProcesses = 64,
        Image = "python:3.12-slim",
        SandboxUserId = 1_900_000_042,
    };

    private static BubblewrapBackend Bwrap(bool root, bool size = true) => new(root)
    {
        BwrapPath = "/usr/bin/bwrap",
        PrlimitPath = "/usr/bin/prlimit",
        SetprivPath = "/usr/bin/setpriv",
        SupportsSize = size,
        SupportsDisableUserns = true,
        InspectFolder = folder => folder switch
        {
            "/usr" or "/etc" => (true, null),
            "/bin" => (true, "usr/bin"),
            "/lib" => (true, "usr/lib"),
            _ => (false, null),
        },
    };

    private static bool HasSequence(IReadOnlyList<string> args, params string[] sequence)
    {
        for (int i = 0; i + sequence.Length <= args.Count; i++)
        {
            if (sequence.Select((s, j) => args[i + j] == s).All(x => x))
            {
                return true;
            }
        }

        return false;
    }

    private static int IndexOf(IReadOnlyList<string> args, string value) => args.ToList().IndexOf(value);

    [Fact]
    public void Bubblewrap_Root_IsolatesEverythingAndRunsAsOneOffUid()
    {
        SandboxLaunch launch = Bwrap(root: true).Prepare(Request());
        IReadOnlyList<string> a = launch.CommandLine;

        Assert.Equal("/usr/bin/bwrap", a[0]);
        foreach (string flag in new[] { "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--new-session", "--clearenv" })
        {
            Assert.Contains(flag, a);
        }

        Assert.True(HasSequence(a, "--cap-drop", "ALL"));
        Assert.True(HasSequence(a, "--ro-bind", "/usr", "/usr"));
        Assert.True(HasSequence(a, "--symlink", "usr/bin", "/bin"));
        Assert.True(HasSequence(a, "--ro-bind", "/etc", "/etc"));
        Assert.DoesNotContain("/opt", a);
        Assert.True(HasSequence(a, "--perms", "1777", "--size", "536870912", "--tmpfs", "/tmp"));
        Assert.True(HasSequence(a, "--tmpfs", "/home/sandbox"));
        Assert.True(HasSequence(a, "--perms", "0755", "--dir", "/data"));
        Assert.True(HasSequence(a, "--perms", "0755", "--dir", "/data/models"));
        Assert.True(HasSequence(a, "--ro-bind", "/data/models/llama", "/data/models/llama"));
        Assert.True(HasSequence(a, "--bind", "/srv/out", "/srv/out"));
        Assert.True(HasSequence(a, "--chdir", "/srv/out"));
        Assert.True(HasSequence(a, "--", "/usr/bin/prlimit", "--as=536870912", "--nproc=64", "--core=0", "--", "/usr/bin/setpriv", "--reuid=1900000042", "--regid=1900000042"));
        Assert.Contains("--no-new-privs", a);
        Assert.Contains("--bounding-set=-all", a);
        Assert.Equal(new[] { "/usr/bin/python3", "-c", "print(1)" }, a.Skip(a.Count - 3));
        Assert.Equal(1_900_000_042, launch.OutputOwnerId);
        Assert.DoesNotContain("--unshare-user", a);

        // The read-only model bind comes before the writable output bind, and the environment is set only after --clearenv.
        Assert.True(IndexOf(a, "--clearenv") < IndexOf(a, "--setenv"));
        Assert.True(HasSequence(a, "--setenv", "HF_TOKEN", "hf_decoy"));
        Assert.True(HasSequence(a, "--setenv", "MODEL", "tiny"));
        Assert.Contains(launch.Enforced, e => e.Contains("no network", StringComparison.Ordinal));
    }

    [Fact]
    public void Bubblewrap_NonRoot_UsesUserNamespaceWithoutCapabilitiesOrSetpriv()
    {
        SandboxLaunch launch = Bwrap(root: false).Prepare(Request());

        Assert.True(HasSequence(launch.CommandLine, "/usr/bin/bwrap", "--unshare-user", "--disable-userns"));
        Assert.DoesNotContain("--cap-add", launch.CommandLine);
        Assert.DoesNotContain("/usr/bin/setpriv", launch.CommandLine);
        Assert.Null(launch.OutputOwnerId);
    }

    [Fact]
    public void Bubblewrap_HostNetwork_KeepsTheHostNetworkOnly()
    {
        SandboxLaunch launch = Bwrap(root: true).Prepare(Request(SandboxNetwork.Host));

        Assert.DoesNotContain("--unshare-net", launch.CommandLine);
        Assert.Contains("--unshare-pid", launch.CommandLine);
        Assert.DoesNotContain(launch.Enforced, e => e.Contains("no network", StringComparison.Ordinal));
    }

    [Fact]
    public void Bubblewrap_NoOutputPath_BindsNothingWritableAndStartsInHome()
    {
        SandboxLaunch launch = Bwrap(root: true).Prepare(Request(output: null));

        Assert.DoesNotContain("--bind", launch.CommandLine);
        Assert.True(HasSequence(launch.CommandLine, "--chdir", "/home/sandbox"));
        Assert.Contains("no writable host folder", launch.Enforced);
    }

    [Fact]
    public void Bubblewrap_ModelInsideSystemFolder_IsNotBoundAgain_AndOldBwrapGetsNoSize()
    {
        SandboxLaunch launch = Bwrap(root: true, size: false).Prepare(Request(SandboxNetwork.None, null, "/usr/share/models/a.gguf", "/tmp/m/b.gguf"));

        Assert.DoesNotContain("/usr/share/models/a.gguf", launch.CommandLine);
        Assert.True(HasSequence(launch.CommandLine, "--ro-bind", "/tmp/m/b.gguf", "/tmp/m/b.gguf"));
        Assert.False(HasSequence(launch.CommandLine, "--dir", "/tmp"));
        Assert.DoesNotContain("--size", launch.CommandLine);
    }

    [Fact]
    public void Oci_Docker_BuildsALockedDownContainer()
    {
        var docker = new OciBackend(SandboxBackendKind.Docker) { CliPath = "/usr/bin/docker", User = "1000:1000", ContainerName = "modelsecurity-sandbox-test" };

        SandboxLaunch launch = docker.Prepare(Request());
        IReadOnlyList<string> a = launch.CommandLine;

        Assert.True(HasSequence(a, "/usr/bin/docker", "run", "--rm", "--name", "modelsecurity-sandbox-test", "--read-only"));
        Assert.True(HasSequence(a, "--network", "none"));
        Assert.True(HasSequence(a, "--cap-drop", "ALL"));
        Assert.True(HasSequence(a, "--security-opt", "no-new-privileges"));
        Assert.True(HasSequence(a, "--pids-limit", "64"));
        Assert.True(HasSequence(a, "--memory", "512m", "--memory-swap", "512m"));
        Assert.True(HasSequence(a, "--user", "1000:1000"));
        Assert.True(HasSequence(a, "-v", "/data/models/llama:/data/models/llama:ro"));
        Assert.True(HasSequence(a, "-v", "/srv/out:/srv/out"));
        Assert.True(HasSequence(a, "-e", "HF_TOKEN=hf_decoy"));
        Assert.True(HasSequence(a, "--entrypoint", "/usr/bin/python3", "python:3.12-slim", "-c", "print(1)"));
        Assert.Equal(a.Count(x => x == "-e"), Request().Environment.Count);
        Assert.NotNull(launch.Stop);
        Assert.Null(launch.OutputOwnerId);
    }

    [Fact]
    public void Oci_RootCaller_RunsAsOneOffUid_AndHostNetworkIsExplicit()
    {
        var podman = new OciBackend(SandboxBackendKind.Podman) { CliPath = "/usr/bin/podman", User = string.Empty };

        SandboxLaunch launch = podman.Prepare(Request(SandboxNetwork.Host));

        Assert.Equal("/usr/bin/podman", launch.CommandLine[0]);
        Assert.True(HasSequence(launch.CommandLine, "--user", "1900000042:1900000042"));
        Assert.True(HasSequence(launch.CommandLine, "--network", "host"));
        Assert.Equal(1_900_000_042, launch.OutputOwnerId);
    }

    [Fact]
    public void Oci_RefusesWithoutImage_AndPathsThatVolumeSyntaxCannotCarry()
    {
        var docker = new OciBackend(SandboxBackendKind.Docker) { CliPath = "/usr/bin/docker", User = "1000:1000" };
        SandboxRequest noImage = Request();
        noImage = new SandboxRequest { ModelPaths = noImage.ModelPaths, FilePath = noImage.FilePath, Environment = noImage.Environment };

        Assert.Contains("-Image", Assert.Throws<SandboxUnavailableException>(() => docker.Prepare(noImage)).Message, StringComparison.Ordinal);
        Assert.Throws<SandboxUnavailableException>(() => docker.Prepare(Request(SandboxNetwork.None, null, "/data/a:b")));
    }

    [Theory]
    [InlineData("HF_TOKEN", true)]
    [InlineData("HUGGING_FACE_HUB_TOKEN", true)]
    [InlineData("AWS_ACCESS_KEY_ID", true)]
    [InlineData("AWS_REGION", true)]
    [InlineData("GITHUB_TOKEN", true)]
    [InlineData("OPENAI_API_KEY", true)]
    [InlineData("MY_SERVICE_KEY", true)]
    [InlineData("client_secret", true)]
    [InlineData("DB_PASSWORD_FILE", true)]
    [InlineData("MODEL_NAME", false)]
    [InlineData("CUDA_VISIBLE_DEVICES", false)]
    [InlineData("KEYBOARD", false)]
    public void SecretNames_AreRecognised(string name, bool secret) => Assert.Equal(secret, SandboxEnvironment.IsSecretName(name));

    [Fact]
    public void Environment_NeverTakesFromTheCaller_AndExplicitReplacesDecoy()
    {
        string name = "MS_SANDBOX_TEST_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(name, "from-caller");
        try
        {
            IReadOnlyList<KeyValuePair<string, string>> decoys = SandboxEnvironment.CreateDecoys();
            var built = SandboxEnvironment.Build(decoys, new[] { new KeyValuePair<string, string>("HF_TOKEN", "mine"), new KeyValuePair<string, string>("PATH", "/opt/bin") });
            var names = built.Select(v => v.Key).ToList();

            Assert.DoesNotContain(name, names);
            Assert.Equal(names.Distinct().Count(), names.Count);
            Assert.Equal("mine", built.Single(v => v.Key == "HF_TOKEN").Value);
            Assert.Equal("/opt/bin", built.Single(v => v.Key == "PATH").Value);
            Assert.Equal("/home/sandbox", built.Single(v => v.Key == "HOME").Value);
            Assert.Contains(built, v => v.Key == "GITHUB_TOKEN" && v.Value.StartsWith("ghp_", StringComparison.Ordinal));
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    [Fact]
    public void Decoys_AreFreshEachRunAndShapedLikeRealTokens()
    {
        var first = SandboxEnvironment.CreateDecoys().ToDictionary(d => d.Key, d => d.Value);
        var second = SandboxEnvironment.CreateDecoys().ToDictionary(d => d.Key, d => d.Value);

        Assert.Equal(new[] { "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "HF_TOKEN", "OPENAI_API_KEY" }, first.Keys.Order(StringComparer.Ordinal));
        Assert.Matches("^hf_[A-Za-z0-9]{34}$", first["HF_TOKEN"]);
        Assert.Matches("^AKIA[A-Z2-7]{16}$", first["AWS_ACCESS_KEY_ID"]);
        Assert.Equal(40, first["AWS_SECRET_ACCESS_KEY"].Length);
        Assert.All(first.Keys, k => Assert.NotEqual(first[k], second[k]));
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("", "''")]
    [InlineData("a b", "'a b'")]
    [InlineData("it's", "'it'\\''s'")]
    [InlineData("$HOME", "'$HOME'")]
    public void ShellQuote_QuotesForPosixShell(string argument, string quoted) => Assert.Equal(quoted, ShellQuote.Quote(argument));

    [Fact]
    public void CanaryScanner_FindsDecoysInTextAndFiles_AcrossReadBoundaries_NotThroughLinks()
    {
        var decoys = new[] { new KeyValuePair<string, string>("HF_TOKEN", "hf_" + new string('Q', 34)), new KeyValuePair<string, string>("GITHUB_TOKEN", "ghp_" + new string('Z', 36)) };
        var leaks = new List<string>();
        CanaryScanner.ScanText(decoys, "nothing", "Output", leaks);
        CanaryScanner.ScanText(decoys, "x " + decoys[1].Value, "ErrorOutput", leaks);
        Assert.Equal(new[] { "GITHUB_TOKEN in ErrorOutput" }, leaks);

        // The decoy straddles the scanner's 64 KiB read.
        var bytes = new List<byte>(new byte[(64 * 1024) - 10]);
        bytes.AddRange(Encoding.UTF8.GetBytes(decoys[0].Value));
        string deep = Path.Combine(_folder, "a", "b");
        Directory.CreateDirectory(deep);
        File.WriteAllBytes(Path.Combine(deep, "blob.bin"), bytes.ToArray());
        string outside = Path.Combine(_folder, "outside.txt");
        File.WriteAllText(Path.Combine(_folder, "..", Path.GetFileName(_folder) + ".outside"), decoys[1].Value);
        File.WriteAllText(outside, "clean");
        File.CreateSymbolicLink(Path.Combine(deep, "link"), Path.Combine(_folder, "..", Path.GetFileName(_folder) + ".outside"));
        try
        {
            leaks.Clear();
            CanaryScanner.ScanFolder(decoys, _folder, leaks, default);
            Assert.Equal(new[] { "HF_TOKEN in " + Path.Combine(deep, "blob.bin") }, leaks);
        }
        finally
        {
            File.Delete(Path.Combine(_folder, "..", Path.GetFileName(_folder) + ".outside"));
        }
    }
}
