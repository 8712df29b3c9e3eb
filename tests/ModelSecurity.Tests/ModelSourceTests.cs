using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using ModelSecurity.Provenance;
using Xunit;

namespace ModelSecurity.Tests;

public class ModelSourceTests
{
    private const string Commit = "0123456789abcdef0123456789abcdef01234567";

    private const string FullCard = "---\nlicense: llama3.1\nbase_model: meta-llama/Llama-3.1-8B\ndatasets:\n- tatsu-lab/alpaca\npipeline_tag: text-generation\n---\n"
        + "# Model\n## Intended uses\nChat.\n## Training procedure\nFine-tuned for 3 epochs.\n## Limitations and bias\nMakes things up.\n";

    private static readonly ModelSourceReader Reader = new(PublisherRegistry.Default, Lookalikes.Default);

    private static byte[] Gguf(params (string Key, string Value)[] metadata)
    {
        var builder = new GgufBuilder().Text("general.architecture", "llama");
        foreach ((string key, string value) in metadata)
        {
            builder.Text(key, value);
        }

        return builder.Build();
    }

    [Fact]
    public void HubSnapshotGivesPublisherRepositoryRevisionTagLicenseAndTrust()
    {
        using var cache = new CacheBuilder();
        string snapshot = cache.AddHubRepo("meta-llama/Llama-3.1-8B-Instruct", Commit, new[]
        {
            ("model.safetensors", new SafeTensorsBuilder().Tensor("w", "F32", 2).Build(), true),
            ("README.md", Encoding.UTF8.GetBytes(FullCard), false),
        });

        SourceFacts facts = Reader.ReadFile(Path.Combine(snapshot, "model.safetensors"), CancellationToken.None);

        Assert.Equal(ModelEcosystem.HuggingFace, facts.Ecosystem);
        Assert.Equal("meta-llama/Llama-3.1-8B-Instruct", facts.Name);
        Assert.Equal("meta-llama", facts.Publisher);
        Assert.Equal("Llama-3.1-8B-Instruct", facts.Repository);
        Assert.Equal(Commit, facts.Revision);
        Assert.Equal("main", facts.Tag);
        Assert.Equal("llama3.1", facts.License);
        Assert.Equal(new[] { "meta-llama/Llama-3.1-8B" }, facts.BaseModels);
        Assert.Equal(TrustLevel.High, facts.TrustLevel);
        Assert.Contains("Meta", facts.TrustReason, StringComparison.Ordinal);
        Assert.Null(facts.LookalikeOf);
        Assert.Empty(facts.Findings);
        Assert.Contains(facts.Evidence, e => e.StartsWith("License: model card", StringComparison.Ordinal));
    }

    [Fact]
    public void FileInASubfolderReadsTheSnapshotRootCard()
    {
        using var cache = new CacheBuilder();
        string snapshot = cache.AddHubRepo("unsloth/Qwen3-8B-GGUF", Commit, new[]
        {
            ("Q4/model.gguf", Gguf(("general.license", "apache-2.0")), true),
            ("README.md", Encoding.UTF8.GetBytes(FullCard.Replace("llama3.1", "apache-2.0", StringComparison.Ordinal)), false),
        });

        SourceFacts facts = Reader.ReadFile(Path.Combine(snapshot, "Q4", "model.gguf"), CancellationToken.None);

        Assert.Equal("unsloth", facts.Publisher);
        Assert.Equal(TrustLevel.Medium, facts.TrustLevel);
        Assert.Equal("apache-2.0", facts.License);
        Assert.DoesNotContain(facts.Findings, f => f.RuleId is "MS-SRC-004" or "MS-SRC-002");
    }

    [Fact]
    public void OllamaBlobGivesNameTagManifestDigestLicenseAndTrust()
    {
        using var cache = new CacheBuilder();
        byte[] model = Gguf(("general.organization", "Meta Llama"));
        byte[] license = Encoding.ASCII.GetBytes("LLAMA 3.1 COMMUNITY LICENSE AGREEMENT\nLlama 3.1 Version Release Date: July 23, 2024\n");
        string manifest = cache.AddOllamaModel("llama3.1", "8b", new[] { ("application/vnd.ollama.image.model", model), ("application/vnd.ollama.image.license", license) });

        SourceFacts facts = Reader.ReadFile(cache.OllamaBlob(model), CancellationToken.None);

        Assert.Equal(ModelEcosystem.Ollama, facts.Ecosystem);
        Assert.Equal("llama3.1:8b", facts.Name);
        Assert.Equal("library", facts.Publisher);
        Assert.Equal("llama3.1", facts.Repository);
        Assert.Equal("8b", facts.Tag);
        Assert.Equal("sha256:" + CacheBuilder.Sha256(File.ReadAllBytes(manifest)), facts.Revision);
        Assert.Equal("llama3.1", facts.License);
        Assert.Equal(TrustLevel.High, facts.TrustLevel);
        Assert.Contains("Ollama", facts.TrustReason, StringComparison.Ordinal);
        Assert.DoesNotContain(facts.Findings, f => f.RuleId is "MS-SRC-002" or "MS-SRC-004");
        Assert.Contains(facts.Evidence, e => e.Contains("model_family 'llama'", StringComparison.Ordinal));
    }

    [Fact]
    public void OllamaUserNamespaceIsLowTrust()
    {
        using var cache = new CacheBuilder();
        byte[] model = Gguf();
        cache.AddOllamaModel("qwen3", "8b", new[] { ("application/vnd.ollama.image.model", model) }, ns: "someone");

        SourceFacts facts = Reader.ReadFile(cache.OllamaBlob(model), CancellationToken.None);

        Assert.Equal("someone/qwen3:8b", facts.Name);
        Assert.Equal(TrustLevel.Low, facts.TrustLevel);
        Assert.Null(facts.LookalikeOf);
    }

    [Fact]
    public void GgufClaimingAnOfficialRepositoryInAnotherPublishersFolderIsAConflict()
    {
        using var cache = new CacheBuilder();
        byte[] gguf = Gguf(
            ("general.organization", "Meta Llama"),
            ("general.repo_url", "https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct"),
            ("general.license", "llama3.1"));
        string snapshot = cache.AddHubRepo("free-models-4u/Llama-3.1-8B-Instruct-GGUF", Commit, new[] { ("llama.gguf", gguf, true) });

        SourceFacts facts = Reader.ReadFile(Path.Combine(snapshot, "llama.gguf"), CancellationToken.None);

        var conflicts = facts.Findings.Where(f => f.RuleId == "MS-SRC-002").ToList();
        Assert.Equal(2, conflicts.Count);
        Assert.Contains(conflicts, f => f.Detail.Contains("'meta-llama/Llama-3.1-8B-Instruct'", StringComparison.Ordinal) && f.Detail.Contains("free-models-4u/Llama-3.1-8B-Instruct-GGUF", StringComparison.Ordinal));
        Assert.Contains(conflicts, f => f.Detail.Contains("Meta", StringComparison.Ordinal) && f.Location == "GGUF general.organization ('Meta Llama')");
        Assert.Contains(facts.Evidence, e => e.StartsWith("Conflict: GGUF general.repo_url", StringComparison.Ordinal));
        Assert.Equal(TrustLevel.Low, facts.TrustLevel);
        Assert.Equal("free-models-4u", facts.Publisher);
    }

    [Fact]
    public void QuantisersAndTheOfficialPublisherMayCarryTheOriginalsClaims()
    {
        using var cache = new CacheBuilder();
        byte[] gguf = Gguf(("general.organization", "Meta Llama"), ("general.repo_url", "https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct"));
        string bartowski = cache.AddHubRepo("bartowski/Meta-Llama-3.1-8B-Instruct-GGUF", Commit, new[] { ("q4.gguf", gguf, true) });
        string meta = cache.AddHubRepo("meta-llama/Llama-3.1-8B-Instruct", Commit, new[] { ("q4.gguf", gguf, true) });

        Assert.DoesNotContain(Reader.ReadFile(Path.Combine(bartowski, "q4.gguf"), CancellationToken.None).Findings, f => f.RuleId == "MS-SRC-002");
        Assert.DoesNotContain(Reader.ReadFile(Path.Combine(meta, "q4.gguf"), CancellationToken.None).Findings, f => f.RuleId == "MS-SRC-002");
    }

    [Fact]
    public void LmStudioFolderInAnImitatedNamespaceIsALookalike()
    {
        using var cache = new CacheBuilder();
        string file = cache.AddFile(".lmstudio/models/lmstudio-communlty/gemma-3-4b-it-GGUF/gemma.gguf", Gguf());

        SourceFacts facts = Reader.ReadFile(file, CancellationToken.None);

        Assert.Equal(ModelEcosystem.LMStudio, facts.Ecosystem);
        Assert.Equal("lmstudio-community/gemma-3-4b-it-GGUF", facts.LookalikeOf);
        Assert.Equal(TrustLevel.Low, facts.TrustLevel);
    }

    [Fact]
    public void LocalFileOnlyClaimsAPublisherAndEarnsNoTrust()
    {
        using var cache = new CacheBuilder();
        string file = cache.AddFile("downloads/model.gguf", Gguf(("general.organization", "Google"), ("general.license", "gemma")));

        SourceFacts facts = Reader.ReadFile(file, CancellationToken.None);

        Assert.Equal(ModelEcosystem.Local, facts.Ecosystem);
        Assert.Equal(TrustLevel.Unknown, facts.TrustLevel);
        Assert.Contains("Google", facts.TrustReason, StringComparison.Ordinal);
        Assert.Equal("gemma", facts.License);
        Assert.Contains(facts.Findings, f => f.RuleId == "MS-SRC-004");
    }

    [Fact]
    public void CardGapsRemoteCodeAndUnclearLicenceAreReported()
    {
        using var cache = new CacheBuilder();
        string file = cache.AddFile("m/model.safetensors", new SafeTensorsBuilder().Tensor("w", "F32", 1).Build());
        cache.AddFile("m/README.md", Encoding.UTF8.GetBytes("---\nlicense: my-own-terms\n---\n# A model\nLoad it with `trust_remote_code=True`.\n"));
        cache.AddFile("m/config.json", Encoding.UTF8.GetBytes("{\"architectures\":[\"EvilForCausalLM\"],\"auto_map\":{\"AutoModelForCausalLM\":\"other/repo--modeling_evil.EvilForCausalLM\"}}"));
        cache.AddFile("m/tokenizer_config.json", Encoding.UTF8.GetBytes("{\"auto_map\":{\"AutoTokenizer\":[\"tok.T\",null]}}"));

        SourceFacts facts = Reader.ReadFile(file, CancellationToken.None);

        string[] gaps = facts.Findings.Where(f => f.RuleId == "MS-SRC-005").Select(f => f.Detail).ToArray();
        Assert.Equal(4, gaps.Length);
        Assert.Contains(gaps, d => d.Contains("training data", StringComparison.Ordinal));
        Assert.Contains(gaps, d => d.Contains("training process", StringComparison.Ordinal));
        Assert.Contains(gaps, d => d.Contains("intended use", StringComparison.Ordinal));
        Assert.Contains(gaps, d => d.Contains("limitations", StringComparison.Ordinal));
        Assert.Contains(facts.Findings, f => f.RuleId == "MS-SRC-006" && f.Detail.Contains("my-own-terms", StringComparison.Ordinal));
        var remote = facts.Findings.Where(f => f.RuleId == "MS-SRC-003").ToList();
        Assert.Equal(3, remote.Count);
        Assert.Contains(remote, f => f.Detail.Contains("another repository", StringComparison.Ordinal));
        Assert.Contains(remote, f => f.Location!.EndsWith("tokenizer_config.json", StringComparison.Ordinal));
        Assert.Equal(FindingSeverityOrder(facts), facts.SortedFindings().Select(f => f.Severity).ToArray());
        Assert.Contains(facts.Evidence, e => e.Contains("EvilForCausalLM", StringComparison.Ordinal));
    }

    private static Analysis.FindingSeverity[] FindingSeverityOrder(SourceFacts facts) =>
        facts.Findings.Select(f => f.Severity).OrderByDescending(s => s).ToArray();

    [Theory]
    [InlineData("apache-2.0", null, true)]
    [InlineData("MIT", null, true)]
    [InlineData("llama3.1", null, true)]
    [InlineData("gemma", null, true)]
    [InlineData("apache-2.0 OR mit", null, true)]
    [InlineData("other", "deepseek", true)]
    [InlineData("other", null, false)]
    [InlineData("unknown", null, false)]
    [InlineData("do-what-you-want", null, false)]
    public void LicenceIsClearWhenItIsAnIdOrANamedLicence(string license, string? name, bool clear) =>
        Assert.Equal(clear, ModelCard.LicenseProblem(license, name, Lookalikes.Default) is null);

    [Fact]
    public void MalformedCardMetadataIsAFindingNotAnException()
    {
        using var cache = new CacheBuilder();
        string file = cache.AddFile("m/x.gguf", Gguf());
        cache.AddFile("m/README.md", Encoding.UTF8.GetBytes("---\nlicense: [unclosed\n  - : :\n---\nbody\n"));
        cache.AddFile("m/config.json", Encoding.UTF8.GetBytes("{not json"));

        SourceFacts facts = Reader.ReadFile(file, CancellationToken.None);

        Assert.Contains(facts.Findings, f => f.RuleId == "MS-SRC-005" && f.Detail.Contains("cannot be read", StringComparison.Ordinal));
        Assert.Contains(facts.Evidence, e => e.StartsWith("Config: config.json is not valid JSON", StringComparison.Ordinal));
    }

    [Fact]
    public void LicencesThatDisagreeAreAConflict()
    {
        using var cache = new CacheBuilder();
        string file = cache.AddFile("m/x.gguf", Gguf(("general.license", "mit")));
        cache.AddFile("m/README.md", Encoding.UTF8.GetBytes(FullCard));

        SourceFacts facts = Reader.ReadFile(file, CancellationToken.None);

        Assert.Contains(facts.Findings, f => f.RuleId == "MS-SRC-002" && f.Detail.Contains("'llama3.1'", StringComparison.Ordinal) && f.Detail.Contains("'mit'", StringComparison.Ordinal));
    }

    [Fact]
    public void NamesGiveEcosystemPublisherAndTag()
    {
        SourceFacts hf = Reader.ReadName("Qwen/Qwen3-8B@" + Commit);
        Assert.Equal((ModelEcosystem.HuggingFace, "Qwen", "Qwen3-8B", Commit, TrustLevel.High), (hf.Ecosystem, hf.Publisher, hf.Repository, hf.Revision, hf.TrustLevel));

        SourceFacts ollama = Reader.ReadName("gemma3");
        Assert.Equal((ModelEcosystem.Ollama, "gemma3:latest", "library", "latest", TrustLevel.High), (ollama.Ecosystem, ollama.Name, ollama.Publisher, ollama.Tag, ollama.TrustLevel));

        SourceFacts viaHub = Reader.ReadName("hf.co/bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M");
        Assert.Equal(("bartowski", "Q4_K_M", TrustLevel.Medium, "bartowski/Llama-3.2-3B-Instruct-GGUF"), (viaHub.Publisher, viaHub.Tag, viaHub.TrustLevel, viaHub.HubRepoId));

        SourceFacts url = Reader.ReadName("https://huggingface.co/google/gemma-3-4b-it/tree/main");
        Assert.Equal(("google/gemma-3-4b-it", TrustLevel.High), (url.Name, url.TrustLevel));

        SourceFacts individual = Reader.ReadName("jdoe/my-finetune");
        Assert.Equal(TrustLevel.Low, individual.TrustLevel);
        Assert.Contains("not in the publisher registry", individual.TrustReason, StringComparison.Ordinal);
    }

    [Fact]
    public void RegistryHasTheIssuesTable()
    {
        PublisherRegistry registry = PublisherRegistry.Default;
        foreach (string ns in new[] { "google", "mistralai", "zai-org", "meta-llama", "deepseek-ai", "Qwen", "microsoft", "nvidia", "ibm-granite", "allenai" })
        {
            Assert.Equal(TrustLevel.High, registry.FindHuggingFace(ns)!.Trust);
        }

        Assert.Equal(TrustLevel.Medium, registry.FindHuggingFace("unsloth")!.Trust);
        Assert.Equal(PublisherKind.Quantiser, registry.FindHuggingFace("bartowski")!.Kind);
        Assert.Equal(TrustLevel.High, registry.FindOllama("library")!.Trust);
        Assert.Equal("Qwen", registry.CanonicalHuggingFace("qwen"));
        Assert.Null(registry.FindHuggingFace("meta-lama"));
        Assert.Equal(registry.Publishers.Count, registry.Publishers.Select(p => p.Name).Distinct(StringComparer.OrdinalIgnoreCase).Count());
        var namespaces = registry.Publishers.SelectMany(p => p.HuggingFace).ToList();
        Assert.Equal(namespaces.Count, namespaces.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    [Fact]
    public void PolicyOverridesAndExtendsTheRegistry()
    {
        PublisherRegistry registry = PublisherRegistry.Default.WithPolicy(
            "{ // our rules\n \"publishers\": [ { \"name\": \"Acme\", \"huggingFace\": [\"acme-ai\"], \"ollama\": [\"acme\"], \"trust\": \"High\", \"reason\": \"Our own models\" },"
            + " { \"name\": \"bartowski\", \"huggingFace\": [\"bartowski\"], \"trust\": \"Low\", \"reason\": \"Not approved here\" },"
            + " { \"name\": \"Not Meta\", \"huggingFace\": [\"facebook\"], \"trust\": \"Low\" } ] }",
            "policy.json");
        var reader = new ModelSourceReader(registry, Lookalikes.Default);

        SourceFacts acme = reader.ReadName("acme-ai/widget-7b");
        Assert.Equal(TrustLevel.High, acme.TrustLevel);
        Assert.Contains("Our own models", acme.TrustReason, StringComparison.Ordinal);
        Assert.Contains("policy policy.json", acme.TrustReason, StringComparison.Ordinal);
        Assert.Equal(TrustLevel.High, reader.ReadName("acme/widget:7b").TrustLevel);
        Assert.Equal(TrustLevel.Low, reader.ReadName("bartowski/x-GGUF").TrustLevel);
        Assert.Equal(TrustLevel.Low, reader.ReadName("facebook/opt-125m").TrustLevel);
        Assert.Equal(TrustLevel.High, reader.ReadName("meta-llama/Llama-3.1-8B").TrustLevel);
        Assert.Same(PublisherRegistry.Default, PublisherRegistry.Default.WithPolicy("{\"pickle\":{}}", "p.json"));
    }

    [Theory]
    [InlineData("{\"publishers\": 3}")]
    [InlineData("{\"publishers\": [ {\"name\": \"x\", \"huggingFace\": [\"x\"], \"trust\": \"Great\"} ]}")]
    [InlineData("{\"publishers\": [ {\"name\": \"x\", \"trust\": \"High\"} ]}")]
    [InlineData("{\"publishers\": [ {\"name\": \"x\", \"huggingFace\": [\"a/b\"], \"trust\": \"High\"} ]}")]
    [InlineData("{\"publishers\": [ {\"huggingFace\": [\"x\"], \"trust\": \"High\"} ]}")]
    [InlineData("[1]")]
    [InlineData("{ nope")]
    public void BadPolicyIsInvalidData(string json) =>
        Assert.Throws<InvalidDataException>(() => PublisherRegistry.Default.WithPolicy(json, "p.json"));

    [Fact]
    public void RepoIdsAreReadFromUrlsAndIds()
    {
        Assert.Equal("meta-llama/Llama-3.1-8B", ModelSourceReader.RepoIdOf("https://huggingface.co/meta-llama/Llama-3.1-8B"));
        Assert.Equal("org/x", ModelSourceReader.RepoIdOf("https://hf.co/org/x/blob/main/a.gguf"));
        Assert.Equal("org/x", ModelSourceReader.RepoIdOf("org/x"));
        Assert.Null(ModelSourceReader.RepoIdOf("https://example.com/org/x"));
        Assert.Null(ModelSourceReader.RepoIdOf("https://huggingface.co/datasets/org/x"));
    }
}
