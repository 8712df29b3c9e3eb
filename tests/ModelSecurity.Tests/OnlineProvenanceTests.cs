using System;
using System.IO;
using System.Linq;
using System.Threading;
using ModelSecurity.Provenance;
using Xunit;

namespace ModelSecurity.Tests;

public class OnlineProvenanceTests
{
    private const string Commit = "0123456789abcdef0123456789abcdef01234567";

    // Shapes recorded from the Hugging Face API (formats.md §7.1), trimmed.
    private const string ModelInfo = "{\"_id\":\"66a1\",\"id\":\"acme-research/widget-7b\",\"author\":\"acme-research\",\"sha\":\"" + Commit + "\","
        + "\"lastModified\":\"2025-01-01T00:00:00.000Z\",\"createdAt\":\"2024-12-01T00:00:00.000Z\",\"private\":false,\"gated\":\"manual\",\"disabled\":false,"
        + "\"downloads\":12345,\"likes\":67,\"library_name\":\"transformers\",\"tags\":[\"license:apache-2.0\"],"
        + "\"cardData\":{\"license\":\"apache-2.0\",\"base_model\":[\"Qwen/Qwen3-8B\"]},"
        + "\"siblings\":[{\"rfilename\":\"config.json\"}],"
        + "\"securityRepoStatus\":{\"scansDone\":true,\"filesWithIssues\":[{\"path\":\"pytorch_model.bin\",\"level\":\"unsafe\"}]}}";

    private const string OrgOverview = "{\"avatarUrl\":\"\",\"name\":\"acme-research\",\"fullname\":\"Acme Research\",\"isVerified\":true,\"numModels\":12,\"plan\":\"enterprise\"}";

    private const string Discussions = "{\"discussions\":[{\"num\":4,\"title\":\"This pickle runs os.system - malware?\",\"status\":\"open\",\"isPullRequest\":false},"
        + "{\"num\":3,\"title\":\"Add GGUF\",\"status\":\"open\",\"isPullRequest\":true},"
        + "{\"num\":2,\"title\":\"Backdoor in tokenizer\",\"status\":\"closed\",\"isPullRequest\":false}],\"count\":3,\"start\":0}";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static OnlineProvenance Online(RecordedRegistry server) =>
        new(new HubClient(server.Endpoint, Timeout), new OllamaRegistryClient(server.Endpoint, Timeout), PublisherRegistry.Default);

    private static readonly ModelSourceReader Reader = new(PublisherRegistry.Default, Lookalikes.Default);

    [Fact]
    public void HubAnswersBecomeRemoteFactsFindingsAndTrust()
    {
        using var server = new RecordedRegistry()
            .Answer("/api/models/acme-research/widget-7b?securityStatus=true", ModelInfo)
            .Answer("/api/organizations/acme-research/overview", OrgOverview)
            .Answer("/api/models/acme-research/widget-7b/discussions?status=open", Discussions);
        SourceFacts facts = Reader.ReadName("acme-research/widget-7b");
        Assert.Equal(TrustLevel.Low, facts.TrustLevel);

        Online(server).Enrich(facts, CancellationToken.None);

        Assert.Equal(Commit, facts.Revision);
        Assert.Equal("apache-2.0", facts.License);
        Assert.Equal(new[] { "Qwen/Qwen3-8B" }, facts.BaseModels);
        Assert.Equal("manual", facts.Remote!["Gated"]);
        Assert.Equal(12345L, facts.Remote["Downloads"]);
        Assert.Equal(67L, facts.Remote["Likes"]);
        Assert.Equal(true, facts.Remote["PublisherVerified"]);
        Assert.Equal("org", facts.Remote["PublisherType"]);
        Assert.Equal(TrustLevel.Medium, facts.TrustLevel);
        Assert.Contains("verified organisation", facts.TrustReason, StringComparison.Ordinal);
        Assert.Contains(facts.Findings, f => f.RuleId == "MS-SRC-008" && f.Detail.Contains("pytorch_model.bin (unsafe)", StringComparison.Ordinal));
        var flag = Assert.Single(facts.Findings, f => f.RuleId == "MS-SRC-007");
        Assert.Contains("#4", flag.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("#2", flag.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("#3", flag.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void HubCacheFileAsksForItsOwnRevisionAndSeesARename()
    {
        using var cache = new CacheBuilder();
        string snapshot = cache.AddHubRepo("acme-old/widget-7b", Commit, new[] { ("model.safetensors", new SafeTensorsBuilder().Tensor("w", "F32", 1).Build(), true) });
        using var server = new RecordedRegistry()
            .Answer($"/api/models/acme-old/widget-7b/revision/{Commit}?securityStatus=true", ModelInfo.Replace("\"filesWithIssues\":[{\"path\":\"pytorch_model.bin\",\"level\":\"unsafe\"}]", "\"filesWithIssues\":[]", StringComparison.Ordinal))
            .Answer("/api/users/acme-research/overview", "{\"user\":\"acme-research\",\"fullname\":\"A\",\"type\":\"user\"}");
        SourceFacts facts = Reader.ReadFile(Path.Combine(snapshot, "model.safetensors"), CancellationToken.None);

        Online(server).Enrich(facts, CancellationToken.None);

        Assert.Contains(facts.Findings, f => f.RuleId == "MS-SRC-002" && f.Location == "hub id");
        Assert.Contains(facts.Findings, f => f.RuleId == "MS-SRC-002" && f.Location == "hub author");
        Assert.DoesNotContain(facts.Findings, f => f.RuleId is "MS-SRC-008" or "MS-SRC-007");
        Assert.Equal("user", facts.Remote!["PublisherType"]);
        Assert.Equal(TrustLevel.Low, facts.TrustLevel);
        Assert.Contains(server.Requests, r => r.Contains("/revision/" + Commit, StringComparison.Ordinal));
    }

    [Fact]
    public void OllamaRegistryManifestIsComparedWithTheLocalOne()
    {
        using var cache = new CacheBuilder();
        byte[] model = new GgufBuilder().Text("general.architecture", "llama").Build();
        string manifestPath = cache.AddOllamaModel("llama3.1", "8b", new[] { ("application/vnd.ollama.image.model", model) });
        string manifest = File.ReadAllText(manifestPath);
        using var server = new RecordedRegistry().Answer("/v2/library/llama3.1/manifests/8b", manifest);
        SourceFacts facts = Reader.ReadFile(cache.OllamaBlob(model), CancellationToken.None);

        Online(server).Enrich(facts, CancellationToken.None);

        Assert.Equal(true, facts.Remote!["ManifestMatchesLocal"]);
        Assert.Equal("sha256:" + CacheBuilder.Sha256(model), facts.Remote["ModelLayerDigest"]);

        SourceFacts byName = Reader.ReadName("llama3.1:8b");
        Online(server).Enrich(byName, CancellationToken.None);
        Assert.Equal(facts.Revision, byName.Revision);
    }

    [Fact]
    public void OfflineEndpointIsAStableErrorNotACrash()
    {
        var closed = new Uri($"http://127.0.0.1:{RecordedRegistry.FreePort()}");
        var online = new OnlineProvenance(new HubClient(closed, Timeout), new OllamaRegistryClient(closed, Timeout), PublisherRegistry.Default);
        SourceFacts facts = Reader.ReadName("Qwen/Qwen3-8B");

        var e = Assert.Throws<OnlineLookupException>(() => online.Enrich(facts, CancellationToken.None));

        Assert.Equal("OnlineUnavailable", e.ErrorId);
        Assert.Contains("127.0.0.1", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(404, "{}", "OnlineNotFound")]
    [InlineData(401, "{}", "OnlineAccessDenied")]
    [InlineData(403, "{}", "OnlineAccessDenied")]
    [InlineData(500, "{}", "OnlineInvalidResponse")]
    [InlineData(200, "not json", "OnlineInvalidResponse")]
    [InlineData(200, "[1,2]", "OnlineInvalidResponse")]
    public void RegistryErrorsHaveStableIds(int status, string body, string errorId)
    {
        using var server = new RecordedRegistry().Answer("/api/models/Qwen/Qwen3-8B?securityStatus=true", body, status);
        SourceFacts facts = Reader.ReadName("Qwen/Qwen3-8B");

        var e = Assert.Throws<OnlineLookupException>(() => Online(server).Enrich(facts, CancellationToken.None));

        Assert.Equal(errorId, e.ErrorId);
    }

    [Fact]
    public void EndpointComesFromHfEndpointWhenValid()
    {
        Assert.Equal(new Uri("https://hub.example.org/mirror"), HubClient.ResolveEndpoint("https://hub.example.org/mirror/"));
        Assert.Equal(new Uri(HubClient.DefaultEndpoint), HubClient.ResolveEndpoint(null));
        Assert.Equal(new Uri(HubClient.DefaultEndpoint), HubClient.ResolveEndpoint("ftp://nope"));
    }

    [Fact]
    public void TyposquatThatDoesNotExistIsNotFoundOnline()
    {
        using var server = new RecordedRegistry();
        SourceFacts facts = Reader.ReadName("qwen35:27b");

        var e = Assert.Throws<OnlineLookupException>(() => Online(server).Enrich(facts, CancellationToken.None));

        Assert.Equal("OnlineNotFound", e.ErrorId);
        Assert.Equal("qwen3.5:27b", facts.LookalikeOf);
        Assert.Contains("/v2/library/qwen35/manifests/27b", server.Requests);
    }
}
