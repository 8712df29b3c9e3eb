using System;
using System.Linq;
using ModelSecurity.Analysis;
using Xunit;

namespace ModelSecurity.Tests;

/// <summary>
/// The deterministic mutation fuzzer in the normal test suite: every seed of <see cref="FuzzSeeds"/>
/// (every fixture, so readers added later are covered, plus hand-built pickles, containers, GGUF,
/// SafeTensors, ONNX wire data, configs and templates) is mutated with a fixed random seed, and each
/// mutant is scanned through <see cref="ModelScanner"/>. No exception may escape, no reader may fail
/// (MS-GEN-003), no input may take 2 s or allocate past the per-file memory budget. A mutant may be a
/// valid file, so the verdict is not asserted. The long run is fuzz/ModelSecurity.Fuzz's longrun.
/// </summary>
public class ReaderMutationTests
{
    // 71+ seeds x 250 mutations: about 8 s on one core.
    private const int MutationsPerSeed = 250;
    private const int RandomSeed = 20261129;

    public static TheoryData<string> Seeds()
    {
        var data = new TheoryData<string>();
        foreach (FuzzSeed seed in FuzzSeeds.All)
        {
            data.Add(seed.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void MutatedInput_NeverBreaksTheScanner(string seed)
    {
        FuzzReport report = FuzzRunner.Run(new[] { FuzzSeeds.Get(seed) }, MutationsPerSeed, RandomSeed);

        Assert.Equal(MutationsPerSeed, report.Executions);
        Assert.True(report.Failures.Count == 0, string.Join(Environment.NewLine, report.Failures.Take(5)));
        Assert.True(report.MaxElapsed < FuzzRunner.MaxTimePerInput, report.ToString());
        Assert.True(report.MaxAllocatedBytes < FuzzRunner.MaxAllocationPerInput, report.ToString());
    }

    [Fact]
    public void EveryFixture_IsAFuzzSeed()
    {
        // Readers merged later bring fixtures; the fuzzer must pick them up without being told.
        string[] names = FuzzSeeds.All.Select(s => s.Name).ToArray();
        foreach (Fixture fixture in Fixtures.All.Where(f => f.Bytes.Length > 0))
        {
            Assert.Contains("fixture-" + fixture.Name, names);
        }

        Assert.Equal(names.Length, names.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Mutations_AreDeterministic()
    {
        byte[] seed = FuzzSeeds.Get("torch-zip").Bytes;
        byte[] partner = FuzzSeeds.Get("gguf-template").Bytes;
        var first = new Random(7);
        var second = new Random(7);
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal(FuzzMutator.Mutate(seed, partner, first), FuzzMutator.Mutate(seed, partner, second));
        }
    }

    [Fact]
    public void Mutations_ChangeSizesAndContent()
    {
        byte[] seed = FuzzSeeds.Get("safetensors-two").Bytes;
        var random = new Random(11);
        byte[][] mutants = Enumerable.Range(0, 500).Select(_ => FuzzMutator.Mutate(seed, seed, random)).ToArray();

        Assert.Contains(mutants, m => m.Length < seed.Length);
        Assert.Contains(mutants, m => m.Length > seed.Length);
        Assert.Contains(mutants, m => m.Length == seed.Length && !m.AsSpan().SequenceEqual(seed));
        // Length-field inflation: the 8-byte header length is among the fields the mutator finds and inflates.
        Assert.Contains(mutants, m => m.Length == seed.Length && BitConverter.ToUInt64(m, 0) > (ulong)seed.Length);
    }

    // Regression: found by the mutation fuzzer. A Python tag that is not a valid URI made YamlDotNet
    // throw ArgumentException, which escaped the YAML reader (MS-GEN-003).
    [Fact]
    public void YamlTagThatIsNotAUri_IsAMalformedDocument()
    {
        ModelScanResult result = Scan.Bytes("config.yaml", Fixtures.Utf8("a: x\nb: !!python/name:osages[0].content }}'\n"));

        Assert.DoesNotContain(result.Findings, f => f.RuleId == RuleIds.AnalysisFailed);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.DocumentMalformed);
        Assert.NotEqual(ScanVerdict.Clean, result.Verdict);
    }

    // Regression: found by the mutation fuzzer. A 17-byte .lzma stream whose data ends at once made the
    // LZMA decoder invent 64 MiB from reads past the end (150 MB allocated, up to 3 s).
    [Fact]
    public void LzmaStreamThatEndsAtOnce_StopsWithoutInventingOutput()
    {
        byte[] input = Convert.FromHexString("DA00008000FFFFFFFFFFFFFFFF00402010");

        FuzzCase scan = FuzzRunner.Check("model.lzma", input);
        ModelScanResult result = Scan.Bytes("model.lzma", input);

        Assert.Null(scan.Problem);
        Assert.True(scan.AllocatedBytes < 16L * 1024 * 1024, $"{scan.AllocatedBytes:N0} bytes allocated");
        Assert.Equal(ScanVerdict.Inconclusive, result.Verdict);
        Assert.DoesNotContain(result.Findings, f => f.RuleId == RuleIds.ArchiveBomb);
    }

    // Regression: found by the long run. PureHDF allocates a global heap object (where h5py keeps
    // variable-length strings such as model_config) at its declared size before reading it: a
    // 4.6 KB file made it allocate 4.3 GB. Collections are now checked when their signature is read.
    [Theory]
    [InlineData(0xFFFFFFFFFFFFFFF0UL)]
    [InlineData(0x7FFFFFF0UL)]
    public void Hdf5GlobalHeapObjectThatClaimsTooMuch_IsUnreadable_WithoutTheAllocation(ulong claimed)
    {
        byte[] input = (byte[])FuzzSeeds.Get("hdf5-keras").Bytes.Clone();
        int collection = input.AsSpan().IndexOf("GCOL"u8);
        Assert.True(collection > 0, "the seed keeps its strings in a global heap");
        // GCOL, version, 3 reserved, 8-byte collection size; then object 1: index, references, reserved, 8-byte size.
        BitConverter.TryWriteBytes(input.AsSpan(collection + 16 + 8), claimed);

        AssertHdf5UnreadableWithoutTheAllocation(input, "global heap");
    }

    // Regression: found by the long run. PureHDF also sizes an attribute's data from its datatype
    // before reading it, while opening the file: a datatype size of 1.96 GB in a 4.6 KB file was
    // allocated. Attribute messages are now checked when their object header's signature is read.
    [Fact]
    public void Hdf5AttributeThatClaimsMoreDataThanItsMessage_IsUnreadable_WithoutTheAllocation()
    {
        byte[] input = (byte[])FuzzSeeds.Get("hdf5-keras").Bytes.Clone();
        int name = input.AsSpan().IndexOf("model_config\0"u8);
        Assert.True(name > 0, "the seed has a model_config attribute");
        // Attribute message v3: name, then the datatype (class and version, 3 bit-field bytes, 4-byte size).
        BitConverter.TryWriteBytes(input.AsSpan(name + 13 + 4), 0x75000010u);

        AssertHdf5UnreadableWithoutTheAllocation(input, "claims");
    }

    // Regression: found by the long run. PureHDF allocates a link's name at the length the link
    // message declares: a 4.6 KB file asked for 1.7 GB. Link names are now checked against their message.
    [Fact]
    public void Hdf5LinkNameLongerThanItsMessage_IsUnreadable_WithoutTheAllocation()
    {
        byte[] input = (byte[])FuzzSeeds.Get("hdf5-keras").Bytes.Clone();
        int name = input.AsSpan().IndexOf("model_weights"u8);
        Assert.True(name > 4, "the seed links its weights group by name");
        // Link message: version, flags (4-byte name length, charset present), charset, name length, name.
        BitConverter.TryWriteBytes(input.AsSpan(name - 4), 0x6965765Fu);

        AssertHdf5UnreadableWithoutTheAllocation(input, "link");
    }

    // Regression: found by AFL++. An eight-digit \U escape above 0x7FFFFFFF parses as a negative
    // number, which passed the range check and made the Jinja lexer throw (MS-GEN-003).
    [Fact]
    public void JinjaEscapeThatOverflowsToANegativeCodePoint_IsABadEscape()
    {
        byte[] input = System.Text.Encoding.ASCII.GetBytes("{/eU{/ee \f}{{ s[KB['\\Ueeeeeeeee\\eeme_' eeeeeceemee\"");

        FuzzCase scan = FuzzRunner.Check("chat_template.jinja", input);
        ModelScanResult result = Scan.Bytes("chat_template.jinja", input);

        Assert.Null(scan.Problem);
        Assert.DoesNotContain(result.Findings, f => f.RuleId == RuleIds.AnalysisFailed);
        Assert.NotEqual(ScanVerdict.Clean, result.Verdict);
    }

    /// <summary>A hostile .h5 is Inconclusive for the reason named, and the scan allocated little.</summary>
    private static void AssertHdf5UnreadableWithoutTheAllocation(byte[] input, string reason)
    {
        FuzzCase scan = FuzzRunner.Check("model.h5", input);
        ModelScanResult result = Scan.Bytes("model.h5", input);

        Assert.Null(scan.Problem);
        Assert.True(scan.AllocatedBytes < 16L * 1024 * 1024, $"{scan.AllocatedBytes:N0} bytes allocated");
        Assert.Equal(ScanVerdict.Inconclusive, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.Hdf5Unreadable && f.Detail.Contains(reason, StringComparison.Ordinal));
    }
}
