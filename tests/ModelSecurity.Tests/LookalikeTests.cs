using System;
using System.Linq;
using ModelSecurity.Provenance;
using Xunit;

namespace ModelSecurity.Tests;

public class LookalikeTests
{
    private static readonly ModelSourceReader Reader = new(PublisherRegistry.Default, Lookalikes.Default);

    public static TheoryData<string, string> Typosquats => new()
    {
        // Ollama library names.
        { "qwen35:27b", "qwen3.5:27b" },
        { "llama31:8b", "llama3.1:8b" },
        { "l1ama3.1:8b", "llama3.1:8b" },
        { "llama3.I:8b", "llama3.1:8b" },
        { "gernma3:27b", "gemma3:27b" },
        { "deepseek-rl:7b", "deepseek-r1:7b" },
        { "deepsek-r1:7b", "deepseek-r1:7b" },
        { "mistrall", "mistral" },
        { "phi-4", "phi4" },
        { "gemma-3:4b", "gemma3:4b" },
        { "qwen25-coder:7b", "qwen2.5-coder:7b" },
        { "nomic-embed-txt", "nomic-embed-text" },
        { "tinyIlama", "tinyllama" },
        { "codel1ama:13b", "codellama:13b" },
        { "mxbai-embed-1arge", "mxbai-embed-large" },
        { "qw\u0435n3:8b", "qwen3:8b" },
        { "llama3.2\u200b:3b", "llama3.2:3b" },
        { "gpt-0ss:20b", "gpt-oss:20b" },
        { "smo11m2", "smollm2" },
        { "librarry/llama3.1:8b", "llama3.1:8b" },
        // Hugging Face namespaces and repositories.
        { "meta-lama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-8B-Instruct" },
        { "mistral-ai/Mistral-7B-Instruct-v0.3", "mistralai/Mistral-7B-Instruct-v0.3" },
        { "deepseekai/DeepSeek-R1", "deepseek-ai/DeepSeek-R1" },
        { "Qvven/Qwen3-8B", "Qwen/Qwen3-8B" },
        { "microsft/phi-4", "microsoft/phi-4" },
        { "goog1e/gemma-3-27b-it", "google/gemma-3-27b-it" },
        { "mistralai-official/Mistral-7B-v0.1", "mistralai/Mistral-7B-v0.1" },
        { "meta-llama/Llama-3.1-8B-lnstruct", "meta-llama/Llama-3.1-8B-Instruct" },
        { "someuser/Llama-3.1-8B-lnstruct", "meta-llama/Llama-3.1-8B-Instruct" },
        { "nvldia/my-model", "nvidia/my-model" },
        { "unsl0th/Qwen3-8B-GGUF", "unsloth/Qwen3-8B-GGUF" },
        { "bartowsky/Llama-3.2-3B-Instruct-GGUF", "bartowski/Llama-3.2-3B-Instruct-GGUF" },
        { "https://huggingface.co/meta-llarna/Llama-3.2-1B", "meta-llama/Llama-3.2-1B" },
    };

    public static TheoryData<string> OfficialNames => new()
    {
        "qwen3.5:27b", "qwen3:8b", "qwen2:7b", "qwen2.5:7b", "llama3.1:8b", "llama3.2:3b", "llama3.3", "gemma3:27b", "gemma2", "deepseek-r1:7b",
        "mistral", "mixtral:8x7b", "llava:7b", "codellama:13b", "phi4", "phi3.5", "nomic-embed-text", "gpt-oss:20b", "qwen2.5-coder:7b", "qwq",
        // Other versions of popular models are different models, not typos.
        "qwen4:8b", "gemma4", "deepseek-r2", "llama3.4:8b", "granite5",
        "meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen3-8B", "qwen/qwen3-8b", "mistralai/Mistral-7B-Instruct-v0.3", "google/gemma-3-27b-it",
        "google/gemma-3-1b-pt", "deepseek-ai/DeepSeek-R1", "microsoft/phi-4", "bartowski/Llama-3.2-3B-Instruct-GGUF", "unsloth/Qwen3-8B-GGUF",
        "HuggingFaceH4/zephyr-7b-beta", "HuggingFaceTB/SmolLM2-1.7B-Instruct", "THUDM/glm-4-9b-chat", "zai-org/GLM-4.5", "someuser/my-finetune",
        "meta-llama/Llama-3.2-11B-Vision", "someuser/Llama-3.1-8B-Instruct", "hf.co/bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M",
    };

    [Theory]
    [MemberData(nameof(Typosquats))]
    public void TyposquatIsFlaggedWithWhatItImitates(string name, string expected)
    {
        SourceFacts facts = Reader.ReadName(name);

        Assert.Equal(expected, facts.LookalikeOf);
        Assert.Equal(TrustLevel.Low, facts.TrustLevel);
        Assert.Contains(facts.Findings, f => f.RuleId == "MS-SRC-001");
    }

    [Theory]
    [MemberData(nameof(OfficialNames))]
    public void OfficialOrOtherVersionNameIsNotFlagged(string name)
    {
        SourceFacts facts = Reader.ReadName(name);

        Assert.Null(facts.LookalikeOf);
        Assert.DoesNotContain(facts.Findings, f => f.RuleId == "MS-SRC-001");
    }

    [Fact]
    public void TheoryDataMeetsTheIssueCounts()
    {
        Assert.True(Typosquats.Count >= 20);
        Assert.True(OfficialNames.Count >= 20);
    }

    [Fact]
    public void EveryPopularNameIsNotALookalikeOfAnother()
    {
        foreach (string name in Lookalikes.Default.OllamaModels)
        {
            Assert.Null(Reader.ReadName(name).LookalikeOf);
        }

        foreach (string id in Lookalikes.Default.HuggingFaceRepos)
        {
            Assert.Null(Reader.ReadName(id).LookalikeOf);
        }
    }

    [Theory]
    [InlineData("Qwen3.5", "qwen35")]
    [InlineData("qw\u0435n", "qwen")]
    [InlineData("ll\u200Bama", "llama")]
    [InlineData("Ｑｗｅｎ", "qwen")]
    [InlineData("Mistral_AI", "mistralai")]
    public void LooseFormDropsCaseSeparatorsAndConfusables(string name, string expected) => Assert.Equal(expected, Lookalikes.Loose(name));

    [Theory]
    [InlineData("gernma", "gemma")]
    [InlineData("Qvven", "qwen")]
    [InlineData("I1ama", "llama")]
    [InlineData("g00gle", "google")]
    public void SkeletonFoldsLookalikeGlyphs(string name, string same) => Assert.Equal(Lookalikes.Skeleton(same), Lookalikes.Skeleton(name));

    [Theory]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("llama", "lalma", 1)]
    [InlineData("abc", "abc", 0)]
    [InlineData("", "abc", 3)]
    public void DistanceCountsTranspositionsAsOneEdit(string a, string b, int expected) => Assert.Equal(expected, Lookalikes.Distance(a, b));

    [Fact]
    public void ThresholdGrowsWithLength()
    {
        Assert.Equal(0, Lookalikes.Threshold(4));
        Assert.Equal(1, Lookalikes.Threshold(5));
        Assert.Equal(2, Lookalikes.Threshold(10));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("a/b/c/d")]
    [InlineData("model:")]
    [InlineData("/repo")]
    public void BadNamesAreRefused(string name) => Assert.Throws<ArgumentException>(() => Reader.ReadName(name));
}
