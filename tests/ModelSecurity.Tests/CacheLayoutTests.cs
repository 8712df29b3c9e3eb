using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using ModelSecurity.Provenance;
using Xunit;

namespace ModelSecurity.Tests;

public class CacheLayoutTests
{
    private const string Commit = "0123456789abcdef0123456789abcdef01234567";

    [Fact]
    public void HubSnapshotLinkGivesRepositoryRevisionRefAndSha256()
    {
        using var cache = new CacheBuilder();
        byte[] weights = Encoding.ASCII.GetBytes("weights");
        byte[] config = Encoding.ASCII.GetBytes("{}");
        string snapshot = cache.AddHubRepo("Qwen/Qwen3-8B", Commit, new[] { ("model.safetensors", weights, true), ("config.json", config, false) });

        CacheLocation model = CacheLayouts.Identify(Path.Combine(snapshot, "model.safetensors"))!;
        Assert.Equal(ModelEcosystem.HuggingFace, model.Ecosystem);
        Assert.Equal(CacheItemKind.File, model.Kind);
        Assert.Equal("Qwen/Qwen3-8B", model.Name);
        Assert.Equal("Qwen", model.Publisher);
        Assert.Equal("Qwen3-8B", model.Repository);
        Assert.Equal(Commit, model.Revision);
        Assert.Equal("main", model.Tag);
        Assert.Equal("model.safetensors", model.RepoPath);
        Assert.Equal("sha256:" + CacheBuilder.Sha256(weights), model.ContentAddress);
        Assert.Equal(Path.Combine(cache.Root, "hub"), model.CacheRoot);

        CacheLocation small = CacheLayouts.Identify(Path.Combine(snapshot, "config.json"))!;
        Assert.Equal("gitsha1:" + CacheBuilder.GitBlobSha1(config), small.ContentAddress);
    }

    [Fact]
    public void HubSnapshotCopiesTakeTheirAddressFromTheTreeListing()
    {
        using var cache = new CacheBuilder();
        byte[] weights = Encoding.ASCII.GetBytes("weights");
        string snapshot = cache.AddHubRepo("google/gemma-3-4b-it", Commit, new[] { ("sub/model.gguf", weights, true) }, copies: true, writeTree: true);
        CacheLocation model = CacheLayouts.Identify(Path.Combine(snapshot, "sub", "model.gguf"))!;
        Assert.Equal("sub/model.gguf", model.RepoPath);
        Assert.Equal("sha256:" + CacheBuilder.Sha256(weights), model.ContentAddress);
        Assert.Contains(model.Evidence, e => e.Contains("trees/", StringComparison.Ordinal));
    }

    [Fact]
    public void HubBlobsAndBookkeepingAreTold()
    {
        using var cache = new CacheBuilder();
        byte[] weights = Encoding.ASCII.GetBytes("weights");
        cache.AddHubRepo("meta-llama/Llama-3.1-8B", Commit, new[] { ("model.safetensors", weights, true) });
        string repo = Path.Combine(cache.Root, "hub", "models--meta-llama--Llama-3.1-8B");
        CacheLocation blob = CacheLayouts.Identify(Path.Combine(repo, "blobs", CacheBuilder.Sha256(weights)))!;
        Assert.Equal(CacheItemKind.Blob, blob.Kind);
        Assert.Equal("meta-llama/Llama-3.1-8B", blob.Name);
        Assert.Equal("sha256:" + CacheBuilder.Sha256(weights), blob.ContentAddress);
        Assert.Equal(CacheItemKind.Bookkeeping, CacheLayouts.Identify(Path.Combine(repo, "refs", "main"))!.Kind);
        Assert.Equal(CacheItemKind.IncompleteBlob, CacheLayouts.Identify(Path.Combine(repo, "blobs", CacheBuilder.Sha256(weights) + ".incomplete"))!.Kind);
    }

    [Fact]
    public void OllamaBlobIsNamedByEveryManifestThatUsesIt()
    {
        using var cache = new CacheBuilder();
        byte[] gguf = Encoding.ASCII.GetBytes("GGUF-model-bytes");
        cache.AddOllamaModel("llama3.2", "3b", new[] { ("application/vnd.ollama.image.model", gguf) });
        cache.AddOllamaModel("llama3.2", "latest", new[] { ("application/vnd.ollama.image.model", gguf) });
        cache.AddOllamaModel("qwen3", "8b", new[] { ("application/vnd.ollama.image.model", gguf) }, ns: "someone");

        CacheLocation blob = CacheLayouts.Identify(cache.OllamaBlob(gguf))!;
        Assert.Equal(ModelEcosystem.Ollama, blob.Ecosystem);
        Assert.Equal(CacheItemKind.Blob, blob.Kind);
        Assert.Equal("sha256:" + CacheBuilder.Sha256(gguf), blob.ContentAddress);
        Assert.Equal("application/vnd.ollama.image.model", blob.MediaType);
        Assert.Contains("llama3.2:3b", blob.AlsoNamedBy);
        Assert.Contains("llama3.2:latest", blob.AlsoNamedBy);
        Assert.Contains("someone/qwen3:8b", blob.AlsoNamedBy);
        Assert.Equal(Path.Combine(cache.Root, "ollama"), blob.CacheRoot);
    }

    [Fact]
    public void OllamaManifestWithTraversalDigestIsRecordedAsAnError()
    {
        using var cache = new CacheBuilder();
        string manifest = cache.AddFile("ollama/manifests/registry.ollama.ai/library/evil/latest",
            Encoding.ASCII.GetBytes("{\"schemaVersion\":2,\"layers\":[{\"mediaType\":\"application/vnd.ollama.image.model\",\"digest\":\"../../../etc/passwd\",\"size\":1}]}"));
        OllamaManifest parsed = OllamaStore.Load(Path.Combine(cache.Root, "ollama")).Manifests[0];
        Assert.Empty(parsed.Layers);
        Assert.Contains("CVE-2024-37032", parsed.Error, StringComparison.Ordinal);
        Assert.Equal(CacheItemKind.Manifest, CacheLayouts.Identify(manifest)!.Kind);
        Assert.Equal("evil:latest", CacheLayouts.Identify(manifest)!.Name);
    }

    [Fact]
    public void LMStudioLlamaCppTextGenerationWebUIGpt4AllAndJanAreRecognised()
    {
        using var cache = new CacheBuilder();
        byte[] data = Encoding.ASCII.GetBytes("GGUF");
        CacheLocation lm = CacheLayouts.Identify(cache.AddFile(".lmstudio/models/lmstudio-community/Qwen3-8B-GGUF/Qwen3-8B-Q4_K_M.gguf", data))!;
        Assert.Equal((ModelEcosystem.LMStudio, "lmstudio-community/Qwen3-8B-GGUF", "lmstudio-community"), (lm.Ecosystem, lm.Name, lm.Publisher));

        string flat = cache.AddFile("elsewhere/bartowski_Llama-3.2-1B-Instruct-GGUF_Llama-3.2-1B-Instruct-Q4_K_M.gguf", data);
        File.WriteAllText(flat + ".json", "{\"url\":\"https://huggingface.co/bartowski/Llama-3.2-1B-Instruct-GGUF/resolve/main/Llama-3.2-1B-Instruct-Q4_K_M.gguf\",\"etag\":\"x\"}");
        CacheLocation llama = CacheLayouts.Identify(flat)!;
        Assert.Equal((ModelEcosystem.LlamaCpp, "bartowski/Llama-3.2-1B-Instruct-GGUF", "main", "Llama-3.2-1B-Instruct-Q4_K_M.gguf"), (llama.Ecosystem, llama.Name, llama.Revision, llama.RepoPath));

        string tgw = cache.AddFile("models/TheBloke_Mistral-7B_main/model.safetensors", data);
        File.WriteAllText(Path.Combine(Path.GetDirectoryName(tgw)!, "huggingface-metadata.txt"), "url: https://huggingface.co/TheBloke/Mistral-7B\nbranch: main\n");
        CacheLocation webui = CacheLayouts.Identify(tgw)!;
        Assert.Equal((ModelEcosystem.TextGenerationWebUI, "TheBloke/Mistral-7B", "main"), (webui.Ecosystem, webui.Name, webui.Revision));

        Assert.Equal(ModelEcosystem.GPT4All, CacheLayouts.Identify(cache.AddFile(".local/share/nomic.ai/GPT4All/orca-mini-3b.gguf", data))!.Ecosystem);
        CacheLocation jan = CacheLayouts.Identify(cache.AddFile("jan/models/llama3.2-3b-instruct/model.gguf", data))!;
        Assert.Equal((ModelEcosystem.Jan, "llama3.2-3b-instruct"), (jan.Ecosystem, jan.Name));
        Assert.Null(CacheLayouts.Identify(cache.AddFile("downloads/model.gguf", data)));
    }

    [Fact]
    public void KnownRootsHonourTheEnvironment()
    {
        using var cache = new CacheBuilder();
        string hub = Directory.CreateDirectory(Path.Combine(cache.Root, "custom-hub")).FullName;
        string ollama = Directory.CreateDirectory(Path.Combine(cache.Root, "custom-ollama")).FullName;
        string home = Directory.CreateDirectory(Path.Combine(cache.Root, "home")).FullName;
        Directory.CreateDirectory(Path.Combine(home, ".lmstudio", "models"));
        var env = new Dictionary<string, string> { ["HF_HUB_CACHE"] = hub, ["OLLAMA_MODELS"] = ollama };
        IReadOnlyList<(ModelEcosystem Ecosystem, string Root)> roots = CacheLayouts.KnownRoots(n => env.TryGetValue(n, out string? v) ? v : null, home);
        Assert.Contains((ModelEcosystem.HuggingFace, hub), roots);
        Assert.Contains((ModelEcosystem.Ollama, ollama), roots);
        Assert.Contains((ModelEcosystem.LMStudio, Path.Combine(home, ".lmstudio", "models")), roots);
        Assert.DoesNotContain(roots, r => r.Root.StartsWith(Path.Combine(home, ".cache"), StringComparison.Ordinal));
    }
}
