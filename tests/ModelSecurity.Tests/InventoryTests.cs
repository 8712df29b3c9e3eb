using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text;
using ModelSecurity.Analysis;
using ModelSecurity.Formats;
using ModelSecurity.Integrity;
using ModelSecurity.Provenance;
using Xunit;

namespace ModelSecurity.Tests;

/// <summary>Get-ModelInventory over cache layouts built on disk, and its objects in the pipeline.</summary>
[Collection(nameof(HashShell))]
public sealed class InventoryTests
{
    private const string Commit = "89abcdef0123456789abcdef0123456789abcdef";
    private static readonly byte[] Gguf = Fixtures.Get("gguf-v3-le").Bytes;
    private static readonly byte[] Config = Encoding.ASCII.GetBytes("{\"model_type\":\"llama\"}");

    [Fact]
    public void HuggingFaceCache_ListsSnapshotFilesWithRepositoryRevisionFormatAndAddress_NotBlobsOrRefs()
    {
        using var cache = new CacheBuilder();
        string snapshot = cache.AddHubRepo("Qwen/Qwen3-0.6B-GGUF", Commit, new[] { ("model.gguf", Gguf, true), ("config.json", Config, false) });
        string blobs = Path.Combine(cache.Root, "hub", "models--Qwen--Qwen3-0.6B-GGUF", "blobs");
        File.WriteAllBytes(Path.Combine(blobs, new string('e', 64) + ".incomplete"), new byte[10]);

        ModelInventoryItem[] items = Inventory(Path.Combine(cache.Root, "hub"));

        Assert.Equal(new[] { "config.json", "model.gguf" }, items.Select(i => i.FileName).Order(StringComparer.Ordinal));
        ModelInventoryItem model = Assert.Single(items, i => i.FileName == "model.gguf");
        Assert.Equal(Path.Combine(snapshot, "model.gguf"), model.Path);
        Assert.Equal(ModelEcosystem.HuggingFace, model.Ecosystem);
        Assert.Equal("Qwen/Qwen3-0.6B-GGUF", model.Name);
        Assert.Equal("Qwen", model.Publisher);
        Assert.Equal(Commit, model.Revision);
        Assert.Equal("main", model.Tag);
        Assert.Equal("model.gguf", model.RepoPath);
        Assert.Equal(ModelFormat.Gguf, model.Format);
        Assert.Equal(Gguf.Length, model.Length);
        Assert.Equal("sha256:" + CacheBuilder.Sha256(Gguf), model.ContentAddress);
        Assert.Equal(Path.Combine(cache.Root, "hub"), model.CacheRoot);
        ModelInventoryItem config = Assert.Single(items, i => i.FileName == "config.json");
        Assert.Equal(ModelFormat.Json, config.Format);
        Assert.Equal("gitsha1:" + CacheBuilder.GitBlobSha1(Config), config.ContentAddress);
    }

    [Fact]
    public void Ollama_ListsEveryBlobWithModelTagAndMediaType_NotManifests()
    {
        using var cache = new CacheBuilder();
        cache.AddOllamaModel("llama3", "8b", new[] { ("application/vnd.ollama.image.model", Gguf), ("application/vnd.ollama.image.params", Config) });

        ModelInventoryItem[] items = Inventory(Path.Combine(cache.Root, "ollama"));

        Assert.Equal(3, items.Length); // config, model, params
        Assert.All(items, i => Assert.Equal(ModelEcosystem.Ollama, i.Ecosystem));
        Assert.All(items, i => Assert.Equal("llama3:8b", i.Name));
        ModelInventoryItem model = Assert.Single(items, i => i.MediaType == "application/vnd.ollama.image.model");
        Assert.Equal(ModelFormat.Gguf, model.Format);
        Assert.Equal("8b", model.Tag);
        Assert.Equal("sha256:" + CacheBuilder.Sha256(Gguf), model.ContentAddress);
    }

    [Fact]
    public void PlainFolder_ListsEveryFileAsLocal_ButNotChecksumSidecars()
    {
        using var cache = new CacheBuilder();
        cache.AddFile("models/a.gguf", Gguf);
        cache.AddFile("models/a.gguf.sha256", Encoding.ASCII.GetBytes(CacheBuilder.Sha256(Gguf)));
        cache.AddFile("models/x[1]/b.json", Config);

        ModelInventoryItem[] items = Inventory(Path.Combine(cache.Root, "models"));

        Assert.Equal(new[] { "a.gguf", "b.json" }, items.Select(i => i.FileName));
        Assert.All(items, i => Assert.Equal(ModelEcosystem.Local, i.Ecosystem));
        Assert.All(items, i => Assert.Null(i.Name));
        Assert.All(items, i => Assert.NotEqual(default, i.LastWriteTime));
    }

    [Fact]
    public void Inventory_PipesIntoConfirmModelHashAndTestModelFile()
    {
        using var cache = new CacheBuilder();
        cache.AddHubRepo("org/model", Commit, new[] { ("model.gguf", Gguf, true), ("config.json", Config, false) });
        cache.AddFile("loose/model.gguf", Gguf);

        using PowerShell hashes = HashShell.Create();
        ModelHashResult[] results = hashes.AddCommand("Get-ModelInventory").AddParameter("LiteralPath", cache.Root)
            .AddCommand("Confirm-ModelHash").Invoke().Select(o => (ModelHashResult)o.BaseObject).ToArray();
        using PowerShell scans = HashShell.Create();
        ModelScanResult[] scanned = scans.AddCommand("Get-ModelInventory").AddParameter("LiteralPath", cache.Root)
            .AddCommand("Test-ModelFile").Invoke().Select(o => (ModelScanResult)o.BaseObject).ToArray();

        Assert.False(hashes.HadErrors, string.Join("; ", hashes.Streams.Error));
        Assert.Equal(3, results.Length);
        Assert.Equal(2, results.Count(r => r.Status == ModelHashStatus.Match));
        Assert.Equal(ModelHashStatus.NoReference, Assert.Single(results, r => r.Path.Contains("loose", StringComparison.Ordinal)).Status);
        Assert.Equal(3, scanned.Length);
    }

    [Fact]
    public void IncidentResponse_ExpectedBadHash_FindsEveryCopy()
    {
        using var cache = new CacheBuilder();
        byte[] bad = Encoding.ASCII.GetBytes("the poisoned model");
        cache.AddHubRepo("org/model", Commit, new[] { ("model.gguf", bad, true) });
        cache.AddFile(".lmstudio/models/org/model/model.gguf", bad);
        cache.AddFile("elsewhere/renamed.bin", bad);
        cache.AddFile("elsewhere/fine.bin", Gguf);

        using PowerShell shell = HashShell.Create();
        string[] copies = shell.AddCommand("Get-ModelInventory").AddParameter("LiteralPath", cache.Root)
            .AddCommand("Confirm-ModelHash").AddParameter("Expected", CacheBuilder.Sha256(bad))
            .Invoke().Select(o => (ModelHashResult)o.BaseObject).Where(r => r.Status == ModelHashStatus.Match).Select(r => r.Path).ToArray();

        Assert.Equal(3, copies.Length);
        Assert.DoesNotContain(copies, c => c.EndsWith("fine.bin", StringComparison.Ordinal));
    }

    [Fact]
    public void NoPath_UsesTheKnownCachesFromTheEnvironment()
    {
        using var cache = new CacheBuilder();
        cache.AddHubRepo("org/model", Commit, new[] { ("model.gguf", Gguf, true) });
        cache.AddOllamaModel("phi3", "mini", new[] { ("application/vnd.ollama.image.model", Gguf) });
        var saved = new[] { "HF_HUB_CACHE", "OLLAMA_MODELS" }.ToDictionary(n => n, Environment.GetEnvironmentVariable);
        Environment.SetEnvironmentVariable("HF_HUB_CACHE", Path.Combine(cache.Root, "hub"));
        Environment.SetEnvironmentVariable("OLLAMA_MODELS", Path.Combine(cache.Root, "ollama"));
        try
        {
            using PowerShell shell = HashShell.Create();
            ModelInventoryItem[] items = shell.AddCommand("Get-ModelInventory").Invoke().Select(o => (ModelInventoryItem)o.BaseObject).ToArray();

            Assert.Contains(items, i => i.Ecosystem == ModelEcosystem.HuggingFace && i.Name == "org/model");
            Assert.Contains(items, i => i.Ecosystem == ModelEcosystem.Ollama && i.Name == "phi3:mini" && i.Format == ModelFormat.Gguf);
        }
        finally
        {
            foreach (var pair in saved)
            {
                Environment.SetEnvironmentVariable(pair.Key, pair.Value);
            }
        }
    }

    [Fact]
    public void MissingPath_IsPathNotFound()
    {
        using PowerShell shell = HashShell.Create();
        shell.AddCommand("Get-ModelInventory").AddParameter("LiteralPath", Path.Combine(Path.GetTempPath(), "no-such-" + Guid.NewGuid().ToString("N"))).Invoke();

        Assert.StartsWith("PathNotFound,", Assert.Single(shell.Streams.Error).FullyQualifiedErrorId, StringComparison.Ordinal);
    }

    private static ModelInventoryItem[] Inventory(string path)
    {
        using PowerShell shell = HashShell.Create();
        ModelInventoryItem[] items = shell.AddCommand("Get-ModelInventory").AddParameter("Path", path).Invoke().Select(o => Assert.IsType<ModelInventoryItem>(o.BaseObject)).ToArray();
        Assert.False(shell.HadErrors, string.Join("; ", shell.Streams.Error));
        return items;
    }
}
