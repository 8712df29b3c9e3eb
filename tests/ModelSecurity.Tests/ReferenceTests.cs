using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text;
using ModelSecurity.Integrity;
using Xunit;

namespace ModelSecurity.Tests;

/// <summary>
/// Confirm-ModelHash against every source of reference values: caches (Hugging Face, Ollama,
/// text-generation-webui), manifests, sidecars, -Expected and the hub API on a loopback server.
/// </summary>
[Collection(nameof(HashShell))]
public sealed class ReferenceTests
{
    private const string Commit = "0123456789abcdef0123456789abcdef01234567";
    private static readonly byte[] Weights = Encoding.ASCII.GetBytes("GGUF weights that are large in real life");
    private static readonly byte[] Adapter = Encoding.ASCII.GetBytes("second LFS file");
    private static readonly byte[] Config = Encoding.ASCII.GetBytes("{\"model_type\":\"llama\"}");
    private static readonly byte[] Tokenizer = Encoding.ASCII.GetBytes("{\"bos_token\":\"<s>\"}");

    [Fact]
    public void HuggingFaceCache_TamperedLfsBlobAndTamperedSmallFile_AreMismatch_IntactOnesMatch()
    {
        using var cache = new CacheBuilder();
        string snapshot = AddRepo(cache, copies: false);
        string repo = Path.Combine(cache.Root, "hub", "models--org--model");
        // Tamper in place: the blob keeps the name of the published bytes.
        File.WriteAllBytes(Path.Combine(repo, "blobs", CacheBuilder.Sha256(Weights)), Encoding.ASCII.GetBytes("GGUF weights with a backdoor in them"));
        File.WriteAllBytes(Path.Combine(repo, "blobs", CacheBuilder.GitBlobSha1(Config)), Encoding.ASCII.GetBytes("{\"model_type\":\"evil\"}"));

        ModelHashResult[] results = HashShell.Confirm(("Path", Path.Combine(cache.Root, "hub")));

        // One result per snapshot file: blobs are checked through the links, refs are bookkeeping.
        Assert.Equal(4, results.Length);
        Assert.All(results, r => Assert.StartsWith(snapshot, r.Path, StringComparison.Ordinal));
        Assert.All(results, r => Assert.Equal(HashReferenceSource.HuggingFaceCache, r.ExpectedSource));
        ModelHashResult weights = results.ByName("model.gguf");
        Assert.Equal(ModelHashStatus.Mismatch, weights.Status);
        Assert.Equal(ModelHashAlgorithm.SHA256, weights.Algorithm);
        Assert.Equal(CacheBuilder.Sha256(Weights), weights.Expected);
        ModelHashResult config = results.ByName("config.json");
        Assert.Equal(ModelHashStatus.Mismatch, config.Status);
        Assert.Equal(ModelHashAlgorithm.GitBlobSHA1, config.Algorithm);
        Assert.Equal(CacheBuilder.GitBlobSha1(Config), config.Expected);
        Assert.Equal(ModelHashStatus.Match, results.ByName("adapter.safetensors").Status);
        ModelHashResult tokenizer = results.ByName("tokenizer.json");
        Assert.Equal(ModelHashStatus.Match, tokenizer.Status);
        Assert.Equal(CacheBuilder.GitBlobSha1(Tokenizer), tokenizer.Hash);
    }

    [Fact]
    public void HuggingFaceCache_CopiesInsteadOfLinks_AreCheckedAgainstTheTreeListing()
    {
        using var cache = new CacheBuilder();
        string snapshot = AddRepo(cache, copies: true);
        File.WriteAllBytes(Path.Combine(snapshot, "model.gguf"), Encoding.ASCII.GetBytes("swapped"));
        File.WriteAllBytes(Path.Combine(snapshot, "config.json"), Encoding.ASCII.GetBytes("{}"));

        ModelHashResult[] results = HashShell.Confirm(("LiteralPath", snapshot));

        Assert.Equal(ModelHashStatus.Mismatch, results.ByName("model.gguf").Status);
        Assert.Equal(ModelHashStatus.Mismatch, results.ByName("config.json").Status);
        Assert.Equal(ModelHashStatus.Match, results.ByName("adapter.safetensors").Status);
        Assert.Equal(ModelHashStatus.Match, results.ByName("tokenizer.json").Status);
    }

    [Fact]
    public void HuggingFaceCache_IncompleteBlob_IsNotVerified_AndAMissingBlobIsMissing()
    {
        using var cache = new CacheBuilder();
        string snapshot = AddRepo(cache, copies: false);
        string blobs = Path.Combine(cache.Root, "hub", "models--org--model", "blobs");
        string partial = Path.Combine(blobs, CacheBuilder.Sha256(Encoding.ASCII.GetBytes("whole file")) + ".incomplete");
        File.WriteAllBytes(partial, Encoding.ASCII.GetBytes("whole"));
        File.Delete(Path.Combine(blobs, CacheBuilder.Sha256(Adapter)));

        ModelHashResult incomplete = Assert.Single(HashShell.Confirm(("LiteralPath", partial)));
        ModelHashResult[] walk = HashShell.Confirm(("LiteralPath", snapshot));

        Assert.Equal(ModelHashStatus.NoReference, incomplete.Status);
        Assert.Contains("partial download", incomplete.Detail, StringComparison.Ordinal);
        Assert.Equal(ModelHashStatus.Missing, walk.ByName("adapter.safetensors").Status);
        Assert.Equal(ModelHashStatus.Match, walk.ByName("model.gguf").Status);
    }

    [Fact]
    public void Ollama_TamperedBlobAndManifestNamingAMissingLayer_AreBothReported()
    {
        using var cache = new CacheBuilder();
        byte[] model = Encoding.ASCII.GetBytes("GGUF ollama model layer");
        byte[] template = Encoding.ASCII.GetBytes("{{ .Prompt }}");
        string missingDigest = "sha256:" + new string('a', 64);
        string manifest = cache.AddOllamaModel("llama3", "8b", new[] { ("application/vnd.ollama.image.model", model), ("application/vnd.ollama.image.template", template) },
            missingLayers: new[] { ("application/vnd.ollama.image.license", missingDigest) });
        File.WriteAllBytes(cache.OllamaBlob(model), Encoding.ASCII.GetBytes("GGUF tampered model layer"));

        ModelHashResult[] store = HashShell.Confirm(("Path", Path.Combine(cache.Root, "ollama")));
        ModelHashResult[] fromManifest = HashShell.Confirm(("LiteralPath", manifest));

        foreach (ModelHashResult[] results in new[] { store, fromManifest })
        {
            // Config, model, template and the missing license: each blob once, the manifest itself not at all.
            Assert.Equal(4, results.Length);
            Assert.All(results, r => Assert.Equal(HashReferenceSource.OllamaManifest, r.ExpectedSource));
            Assert.Equal(ModelHashStatus.Mismatch, results.ByName("sha256-" + CacheBuilder.Sha256(model)).Status);
            Assert.Equal(ModelHashStatus.Match, results.ByName("sha256-" + CacheBuilder.Sha256(template)).Status);
            ModelHashResult missing = results.ByName("sha256-" + new string('a', 64));
            Assert.Equal(ModelHashStatus.Missing, missing.Status);
            Assert.Null(missing.Hash);
            Assert.Equal(new string('a', 64), missing.Expected);
            Assert.Contains("llama3:8b", missing.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Ollama_BlobNoManifestNames_IsCheckedAgainstItsName()
    {
        using var cache = new CacheBuilder();
        byte[] orphan = Encoding.ASCII.GetBytes("orphan");
        string blob = cache.AddFile("ollama/blobs/sha256-" + CacheBuilder.Sha256(orphan), orphan);

        ModelHashResult result = Assert.Single(HashShell.Confirm(("LiteralPath", blob)));

        Assert.Equal(ModelHashStatus.Match, result.Status);
        Assert.Equal(HashReferenceSource.OllamaBlobName, result.ExpectedSource);
    }

    [Fact]
    public void NoReference_IsNeverMatch_AndQuietIsFalse()
    {
        using var cache = new CacheBuilder();
        string file = cache.AddFile("loose/model.gguf", Weights);

        ModelHashResult result = Assert.Single(HashShell.Confirm(("LiteralPath", file)));
        using PowerShell shell = HashShell.Create();
        object quiet = shell.AddCommand("Confirm-ModelHash").AddParameter("LiteralPath", file).AddParameter("Quiet").Invoke().Single().BaseObject;

        Assert.Equal(ModelHashStatus.NoReference, result.Status);
        Assert.Equal(HashReferenceSource.None, result.ExpectedSource);
        Assert.Null(result.Expected);
        Assert.Equal(CacheBuilder.Sha256(Weights), result.Hash);
        Assert.False(Assert.IsType<bool>(quiet));
    }

    [Fact]
    public void Expected_Sha256AndSha512_AndQuietIsTrueOnlyWhenEveryFileMatches()
    {
        using var cache = new CacheBuilder();
        string file = cache.AddFile("loose/model.gguf", Weights);
        string sha512 = Convert.ToHexString(System.Security.Cryptography.SHA512.HashData(Weights));

        ModelHashResult match = Assert.Single(HashShell.Confirm(("LiteralPath", file), ("Expected", CacheBuilder.Sha256(Weights).ToUpperInvariant())));
        ModelHashResult match512 = Assert.Single(HashShell.Confirm(("LiteralPath", file), ("Expected", sha512)));
        ModelHashResult mismatch = Assert.Single(HashShell.Confirm(("LiteralPath", file), ("Expected", new string('0', 64))));
        using PowerShell shell = HashShell.Create();
        object quiet = shell.AddCommand("Confirm-ModelHash").AddParameter("LiteralPath", file).AddParameter("Expected", CacheBuilder.Sha256(Weights)).AddParameter("Quiet").Invoke().Single().BaseObject;

        Assert.Equal((ModelHashStatus.Match, HashReferenceSource.Parameter, ModelHashAlgorithm.SHA256), (match.Status, match.ExpectedSource, match.Algorithm));
        Assert.Equal((ModelHashStatus.Match, ModelHashAlgorithm.SHA512), (match512.Status, match512.Algorithm));
        Assert.Equal(sha512.ToLowerInvariant(), match512.Hash);
        Assert.Equal(ModelHashStatus.Mismatch, mismatch.Status);
        Assert.True(Assert.IsType<bool>(quiet));
    }

    [Theory]
    [InlineData("xyz", null)]
    [InlineData("0123", null)]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000", "SHA512")]
    public void Expected_Invalid_StopsWithExpectedInvalid(string expected, string? algorithm)
    {
        using var cache = new CacheBuilder();
        string file = cache.AddFile("model.gguf", Weights);
        using PowerShell shell = HashShell.Create();
        shell.AddCommand("Confirm-ModelHash").AddParameter("LiteralPath", file).AddParameter("Expected", expected);
        if (algorithm is not null)
        {
            shell.AddParameter("Algorithm", algorithm);
        }

        var error = Assert.Throws<CmdletInvocationException>(() => shell.Invoke());
        Assert.StartsWith("ExpectedInvalid,", ((IContainsErrorRecord)error).ErrorRecord.FullyQualifiedErrorId, StringComparison.Ordinal);
    }

    [Fact]
    public void Algorithm_Sha512_IsUsedForFilesWithoutReference()
    {
        using var cache = new CacheBuilder();
        string file = cache.AddFile("model.gguf", Weights);

        ModelHashResult result = Assert.Single(HashShell.Confirm(("LiteralPath", file), ("Algorithm", "SHA512")));

        Assert.Equal(ModelHashAlgorithm.SHA512, result.Algorithm);
        Assert.Equal(128, result.Hash!.Length);
    }

    [Fact]
    public void Sidecars_Sha256AndSha512_AreReferences_AndAreNotCheckedThemselves()
    {
        using var cache = new CacheBuilder();
        string a = cache.AddFile("models/a.gguf", Weights);
        string b = cache.AddFile("models/b.gguf", Adapter);
        cache.AddFile("models/a.gguf.sha256", Encoding.ASCII.GetBytes(CacheBuilder.Sha256(Weights) + "  a.gguf\n"));
        cache.AddFile("models/b.gguf.sha512", Encoding.ASCII.GetBytes(new string('1', 128)));

        ModelHashResult[] results = HashShell.Confirm(("LiteralPath", Path.GetDirectoryName(a)));

        Assert.Equal(2, results.Length);
        Assert.Equal((ModelHashStatus.Match, HashReferenceSource.Sidecar), (results.ByName("a.gguf").Status, results.ByName("a.gguf").ExpectedSource));
        Assert.Equal((ModelHashStatus.Mismatch, ModelHashAlgorithm.SHA512), (results.ByName("b.gguf").Status, results.ByName("b.gguf").Algorithm));
        Assert.Equal(b, results.ByName("b.gguf").Path);
    }

    [Fact]
    public void Sha256SumsList_ReportsMatchMismatchMissingAndUnlisted()
    {
        using var cache = new CacheBuilder();
        string folder = Path.Combine(cache.Root, "pinned");
        cache.AddFile("pinned/model.gguf", Weights);
        cache.AddFile("pinned/sub/config.json", Encoding.ASCII.GetBytes("{\"changed\":true}"));
        cache.AddFile("pinned/dropped.pkl", Encoding.ASCII.GetBytes("extra"));
        string sums = cache.AddFile("pinned/SHA256SUMS", Encoding.ASCII.GetBytes(
            $"# pinned\n{CacheBuilder.Sha256(Weights)} *model.gguf\n{CacheBuilder.Sha256(Config)}  ./sub/config.json\nSHA256 (gone.bin) = {CacheBuilder.Sha256(Adapter)}\n"));

        ModelHashResult[] results = HashShell.Confirm(("ManifestPath", sums));

        Assert.Equal(4, results.Length);
        Assert.Equal(ModelHashStatus.Match, results.ByName("model.gguf").Status);
        Assert.Equal(ModelHashStatus.Mismatch, results.ByName("config.json").Status);
        Assert.Equal(ModelHashStatus.Missing, results.ByName("gone.bin").Status);
        ModelHashResult extra = results.ByName("dropped.pkl");
        Assert.Equal(ModelHashStatus.Unlisted, extra.Status);
        Assert.Null(extra.Hash);
        Assert.All(results, r => Assert.Equal(HashReferenceSource.Manifest, r.ExpectedSource));
        Assert.All(results, r => Assert.StartsWith(folder, r.Path, StringComparison.Ordinal));
    }

    [Fact]
    public void ManifestPath_WithPath_IsAReferenceForTheGivenFilesOnly()
    {
        using var cache = new CacheBuilder();
        string model = cache.AddFile("pinned/model.gguf", Weights);
        cache.AddFile("pinned/other.gguf", Adapter);
        string sums = cache.AddFile("pinned/model.sha256sum", Encoding.ASCII.GetBytes($"{CacheBuilder.Sha256(Weights)}  model.gguf\n"));

        ModelHashResult[] results = HashShell.Confirm(("LiteralPath", Path.GetDirectoryName(model)), ("ManifestPath", sums));

        Assert.Equal(2, results.Length);
        Assert.Equal(ModelHashStatus.Match, results.ByName("model.gguf").Status);
        Assert.Equal(ModelHashStatus.NoReference, results.ByName("other.gguf").Status);
    }

    [Fact]
    public void NewModelManifest_RoundTrips_AndLaterChangesAreReported()
    {
        using var cache = new CacheBuilder();
        string folder = Path.Combine(cache.Root, "model");
        cache.AddFile("model/model.gguf", Weights);
        cache.AddFile("model/tokenizer/tokenizer.json", Tokenizer);
        cache.AddFile("model/config.json", Config);
        using PowerShell shell = HashShell.Create();
        var written = (FileInfo)shell.AddCommand("New-ModelManifest").AddParameter("Path", folder).Invoke().Single().BaseObject;
        Assert.False(shell.HadErrors, string.Join("; ", shell.Streams.Error));

        string json = File.ReadAllText(written.FullName);
        Assert.Contains("\"format\": \"modelsecurity-manifest/1\"", json, StringComparison.Ordinal);
        Assert.True(json.IndexOf("\"config.json\"", StringComparison.Ordinal) < json.IndexOf("\"model.gguf\"", StringComparison.Ordinal));
        Assert.Contains("\"tokenizer/tokenizer.json\"", json, StringComparison.Ordinal);
        Assert.All(HashShell.Confirm(("ManifestPath", written.FullName)), r => Assert.Equal(ModelHashStatus.Match, r.Status));

        File.Delete(Path.Combine(folder, "config.json"));
        File.WriteAllBytes(Path.Combine(folder, "model.gguf"), Adapter);
        cache.AddFile("model/new.py", Encoding.ASCII.GetBytes("import os"));
        ModelHashResult[] after = HashShell.Confirm(("ManifestPath", written.FullName));

        Assert.Equal(ModelHashStatus.Missing, after.ByName("config.json").Status);
        Assert.Equal(ModelHashStatus.Mismatch, after.ByName("model.gguf").Status);
        Assert.Equal(ModelHashStatus.Match, after.ByName("tokenizer.json").Status);
        Assert.Equal(ModelHashStatus.Unlisted, after.ByName("new.py").Status);
    }

    [Fact]
    public void NewModelManifest_Sha512_ExistingFileNeedsForce_AndWhatIfWritesNothing()
    {
        using var cache = new CacheBuilder();
        string folder = Path.Combine(cache.Root, "model");
        cache.AddFile("model/model.gguf", Weights);
        string output = Path.Combine(cache.Root, "pins", "model.json");
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);

        using (PowerShell whatIf = HashShell.Create())
        {
            whatIf.AddCommand("New-ModelManifest").AddParameter("Path", folder).AddParameter("OutputPath", output).AddParameter("WhatIf").Invoke();
        }

        Assert.False(File.Exists(output));
        using (PowerShell shell = HashShell.Create())
        {
            shell.AddCommand("New-ModelManifest").AddParameter("Path", folder).AddParameter("OutputPath", output).AddParameter("Algorithm", "SHA512").Invoke();
        }

        Assert.Contains("\"sha512\"", File.ReadAllText(output), StringComparison.Ordinal);
        using (PowerShell again = HashShell.Create())
        {
            again.AddCommand("New-ModelManifest").AddParameter("Path", folder).AddParameter("OutputPath", output).Invoke();
            Assert.StartsWith("ManifestExists,", Assert.Single(again.Streams.Error).FullyQualifiedErrorId, StringComparison.Ordinal);
        }

        // The manifest lives outside the folder, so only -Path names the files; SHA-512 entries check with SHA-512.
        ModelHashResult result = Assert.Single(HashShell.Confirm(("LiteralPath", Path.Combine(folder, "model.gguf")), ("ManifestPath", output)));
        Assert.Equal((ModelHashStatus.NoReference, ModelHashAlgorithm.SHA256), (result.Status, result.Algorithm));
    }

    [Fact]
    public void Manifest_WithTraversalOrBadEntries_WarnsAndUsesTheRest_AndAnInvalidOneStops()
    {
        using var cache = new CacheBuilder();
        cache.AddFile("pinned/model.gguf", Weights);
        string sums = cache.AddFile("pinned/SHA256SUMS", Encoding.ASCII.GetBytes(
            $"{CacheBuilder.Sha256(Weights)}  model.gguf\n{new string('b', 64)}  ../../etc/passwd\n{new string('c', 64)}  /etc/shadow\n"));
        string broken = cache.AddFile("other/manifest.json", Encoding.ASCII.GetBytes("{\"format\":\"somebody-else/2\"}"));
        using PowerShell shell = HashShell.Create();

        ModelHashResult[] results = HashShell.Confirm(shell, new Dictionary<string, object?> { ["ManifestPath"] = sums });
        using PowerShell invalid = HashShell.Create();
        invalid.AddCommand("Confirm-ModelHash").AddParameter("ManifestPath", broken);

        Assert.Equal(ModelHashStatus.Match, Assert.Single(results).Status);
        Assert.Equal(2, shell.Streams.Warning.Count);
        var error = Assert.Throws<CmdletInvocationException>(() => invalid.Invoke());
        Assert.StartsWith("ManifestInvalid,", ((IContainsErrorRecord)error).ErrorRecord.FullyQualifiedErrorId, StringComparison.Ordinal);
    }

    [Fact]
    public void TextGenerationWebUI_MetadataSha256Lines_AreReferences()
    {
        using var cache = new CacheBuilder();
        cache.AddFile("text-generation-webui/models/org_model/huggingface-metadata.txt", Encoding.ASCII.GetBytes(
            "url: https://huggingface.co/org/model\nbranch: main\ndownload date: 2026-01-01 10:00:00\nsha256sum:\n"
            + $"    {CacheBuilder.Sha256(Weights)}  model.gguf\n    {CacheBuilder.Sha256(Config)}  config.json\n"));
        string model = cache.AddFile("text-generation-webui/models/org_model/model.gguf", Weights);
        cache.AddFile("text-generation-webui/models/org_model/config.json", Tokenizer);
        cache.AddFile("text-generation-webui/models/org_model/README.md", Encoding.ASCII.GetBytes("# model"));

        ModelHashResult[] results = HashShell.Confirm(("LiteralPath", Path.GetDirectoryName(model)));

        Assert.Equal(3, results.Length);
        Assert.Equal((ModelHashStatus.Match, HashReferenceSource.TextGenerationWebUIMetadata), (results.ByName("model.gguf").Status, results.ByName("model.gguf").ExpectedSource));
        Assert.Equal(ModelHashStatus.Mismatch, results.ByName("config.json").Status);
        Assert.Equal(ModelHashStatus.NoReference, results.ByName("README.md").Status);
    }

    [Fact]
    public void Online_AsksTheHubForTheFilesRevision_ComparesLfsAndGitBlobIds_AndSendsTheToken()
    {
        using var cache = new CacheBuilder();
        using var hub = new RecordedRegistry();
        hub.Answer("/api/models/bartowski/Model-GGUF/revision/main?blobs=true", ModelInfo("bartowski/Model-GGUF", ("model-Q4_K_M.gguf", Weights, true), ("README.md", Config, false), ("other.gguf", Adapter, true)));
        string folder = Path.Combine(cache.Root, ".lmstudio", "models", "bartowski", "Model-GGUF");
        cache.AddFile(".lmstudio/models/bartowski/Model-GGUF/model-Q4_K_M.gguf", Weights);
        cache.AddFile(".lmstudio/models/bartowski/Model-GGUF/README.md", Config);
        cache.AddFile(".lmstudio/models/bartowski/Model-GGUF/other.gguf", Tokenizer);
        cache.AddFile(".lmstudio/models/bartowski/Model-GGUF/not-on-the-hub.gguf", Tokenizer);
        string? savedToken = Environment.GetEnvironmentVariable("HF_TOKEN");
        Environment.SetEnvironmentVariable("HF_TOKEN", "hf_test_token");
        ModelHashResult[] results;
        try
        {
            results = HashShell.Confirm(("LiteralPath", folder), ("Online", null), ("Endpoint", hub.Endpoint.ToString()));
        }
        finally
        {
            Environment.SetEnvironmentVariable("HF_TOKEN", savedToken);
        }

        ModelHashResult weights = results.ByName("model-Q4_K_M.gguf");
        Assert.Equal((ModelHashStatus.Match, HashReferenceSource.HuggingFaceApi, ModelHashAlgorithm.SHA256), (weights.Status, weights.ExpectedSource, weights.Algorithm));
        Assert.Equal((ModelHashStatus.Match, ModelHashAlgorithm.GitBlobSHA1), (results.ByName("README.md").Status, results.ByName("README.md").Algorithm));
        Assert.Equal(ModelHashStatus.Mismatch, results.ByName("other.gguf").Status);
        Assert.Equal(ModelHashStatus.NoReference, results.ByName("not-on-the-hub.gguf").Status);
        string request = Assert.Single(hub.Requests);
        string? authorization = Assert.Single(hub.Authorizations);
        Assert.Equal("/api/models/bartowski/Model-GGUF/revision/main?blobs=true", request);
        Assert.Equal("Bearer hf_test_token", authorization);
    }

    [Fact]
    public void Online_OutranksTheCachesOwnClaim_ForAHubSnapshot()
    {
        using var cache = new CacheBuilder();
        using var hub = new RecordedRegistry();
        string snapshot = AddRepo(cache, copies: false);
        // The hub publishes other bytes for model.gguf than the cache was filled with.
        hub.Answer($"/api/models/org/model/revision/{Commit}?blobs=true", ModelInfo("org/model", ("model.gguf", Adapter, true), ("config.json", Config, false)));

        ModelHashResult[] results = HashShell.Confirm(("LiteralPath", snapshot), ("Online", null), ("Endpoint", hub.Endpoint.ToString()));

        ModelHashResult weights = results.ByName("model.gguf");
        Assert.Equal((ModelHashStatus.Mismatch, HashReferenceSource.HuggingFaceApi), (weights.Status, weights.ExpectedSource));
        Assert.Contains("disagrees with the hub", weights.Detail, StringComparison.Ordinal);
        Assert.Equal((ModelHashStatus.Match, HashReferenceSource.HuggingFaceApi), (results.ByName("config.json").Status, results.ByName("config.json").ExpectedSource));
        // Not listed by the hub answer: the cache's own reference is used.
        Assert.Equal((ModelHashStatus.Match, HashReferenceSource.HuggingFaceCache), (results.ByName("tokenizer.json").Status, results.ByName("tokenizer.json").ExpectedSource));
    }

    [Fact]
    public void Online_Unreachable_WritesOneHubApiFailedError_AndFallsBackToLocalReferences()
    {
        using var cache = new CacheBuilder();
        string snapshot = AddRepo(cache, copies: false);
        string lmstudio = cache.AddFile(".lmstudio/models/org/repo/model.gguf", Weights);
        using PowerShell shell = HashShell.Create();

        ModelHashResult[] results = HashShell.Confirm(shell, new Dictionary<string, object?>
        {
            ["LiteralPath"] = new[] { snapshot, lmstudio },
            ["Online"] = null,
            ["Endpoint"] = $"http://127.0.0.1:{RecordedRegistry.FreePort()}",
        });

        ErrorRecord[] errors = shell.Streams.Error.ToArray();
        // The same failure is reported once, not once per file or repository.
        Assert.Single(errors);
        Assert.All(errors, e => Assert.StartsWith("HubApiFailed,", e.FullyQualifiedErrorId, StringComparison.Ordinal));
        Assert.Contains("Could not reach the Hugging Face API", errors[0].Exception.Message, StringComparison.Ordinal);
        Assert.Equal(5, results.Length);
        Assert.Equal(HashReferenceSource.HuggingFaceCache, Assert.Single(results, r => r.Path == Path.Combine(snapshot, "model.gguf")).ExpectedSource);
        Assert.Equal(ModelHashStatus.NoReference, Assert.Single(results, r => r.Path == lmstudio).Status);
    }

    [Fact]
    public void Online_RepositoryUnknownToTheHub_IsAnErrorNamingIt()
    {
        using var cache = new CacheBuilder();
        using var hub = new RecordedRegistry();
        string file = cache.AddFile(".lmstudio/models/nobody/nothing/model.gguf", Weights);
        using PowerShell shell = HashShell.Create();

        ModelHashResult result = Assert.Single(HashShell.Confirm(shell, new Dictionary<string, object?> { ["LiteralPath"] = file, ["Online"] = null, ["Endpoint"] = hub.Endpoint.ToString() }));

        Assert.Equal(ModelHashStatus.NoReference, result.Status);
        ErrorRecord error = Assert.Single(shell.Streams.Error);
        Assert.Contains("404 RepoNotFound", error.Exception.Message, StringComparison.Ordinal);
        Assert.Contains("nobody/nothing@main", error.Exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HashCache_SecondRunIsFromCache_AChangeIsReadAgain_AndNoCacheForcesARead()
    {
        using var cache = new CacheBuilder();
        string file = cache.AddFile("cached/model.gguf", Weights);

        ModelHashResult first = Assert.Single(HashShell.Confirm(("LiteralPath", file)));
        ModelHashResult second = Assert.Single(HashShell.Confirm(("LiteralPath", file)));
        ModelHashResult forced = Assert.Single(HashShell.Confirm(("LiteralPath", file), ("NoCache", null)));
        File.WriteAllBytes(file, Adapter);
        ModelHashResult changed = Assert.Single(HashShell.Confirm(("LiteralPath", file)));

        Assert.False(first.FromCache);
        Assert.True(second.FromCache);
        Assert.Equal(first.Hash, second.Hash);
        Assert.False(forced.FromCache);
        Assert.False(changed.FromCache);
        Assert.Equal(CacheBuilder.Sha256(Adapter), changed.Hash);
        Assert.True(File.Exists(Path.Combine(HashShell.CacheDirectory, HashCache.FileName)));
    }

    [Fact]
    public void UnreadableAndMissingInputs_AreErrors_AndTheRestGoOn()
    {
        using var cache = new CacheBuilder();
        string good = cache.AddFile("m/good.gguf", Weights);
        using PowerShell shell = HashShell.Create();

        ModelHashResult[] results = HashShell.Confirm(shell, new Dictionary<string, object?> { ["LiteralPath"] = new[] { Path.Combine(cache.Root, "m", "absent.gguf"), good } });

        Assert.Equal(good, Assert.Single(results).Path);
        Assert.StartsWith("PathNotFound,", Assert.Single(shell.Streams.Error).FullyQualifiedErrorId, StringComparison.Ordinal);
    }

    private static string AddRepo(CacheBuilder cache, bool copies) =>
        cache.AddHubRepo("org/model", Commit, new[]
        {
            ("model.gguf", Weights, true),
            ("adapter.safetensors", Adapter, true),
            ("config.json", Config, false),
            ("tokenizer.json", Tokenizer, false),
        }, copies: copies, writeTree: copies);

    /// <summary>A recorded-shape model-info answer (formats.md §7.1) listing the given files.</summary>
    private static string ModelInfo(string repo, params (string Name, byte[] Content, bool Lfs)[] files)
    {
        IEnumerable<string> siblings = files.Select(f => f.Lfs
            ? $"{{\"rfilename\":\"{f.Name}\",\"blobId\":\"{new string('9', 40)}\",\"size\":{f.Content.Length},\"lfs\":{{\"sha256\":\"{CacheBuilder.Sha256(f.Content)}\",\"size\":{f.Content.Length},\"pointerSize\":135}}}}"
            : $"{{\"rfilename\":\"{f.Name}\",\"blobId\":\"{CacheBuilder.GitBlobSha1(f.Content)}\",\"size\":{f.Content.Length}}}");
        return $"{{\"_id\":\"66aa\",\"id\":\"{repo}\",\"author\":\"{repo.Split('/')[0]}\",\"sha\":\"{Commit}\",\"private\":false,\"gated\":false,"
            + $"\"tags\":[\"gguf\"],\"siblings\":[{string.Join(",", siblings)}]}}";
    }
}

/// <summary>Tests that share the process-wide hash-cache folder and HF_TOKEN run one at a time.</summary>
[CollectionDefinition(nameof(HashShell), DisableParallelization = true)]
public sealed class HashShellSerial
{
}
