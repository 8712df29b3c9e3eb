using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using ModelSecurity.Analysis;
using Xunit;

namespace ModelSecurity.Tests;

/// <summary>
/// The GGUF and GGML folders of the shared corpus: real vocab GGUFs are Clean with their metadata,
/// the corrupted copies and the 6-byte stub are Inconclusive with the offset named, legacy GGML files
/// are reported as such. Skipped when ../shared/corpus is absent.
/// </summary>
public class CorpusGgufTests
{
    private static readonly Regex ByteOffset = new(@"byte [0-9][0-9,]*", RegexOptions.CultureInvariant);

    [SkippableFact]
    public void GgufFolder_MatchesItsExpectations()
    {
        Skip.If(Corpus.Directory is null, Corpus.NotFoundMessage);

        var problems = new List<string>();
        List<CorpusScan> scans = Corpus.All.Where(s => s.Entry.RelativePath.StartsWith("gguf/", StringComparison.Ordinal)).ToList();
        Assert.True(scans.Count >= 27, $"only {scans.Count} GGUF files in the corpus");
        foreach (CorpusScan scan in scans)
        {
            string path = scan.Entry.RelativePath;
            ModelScanResult? result = scan.Result;
            if (result is null)
            {
                problems.Add($"{path}: threw {scan.Error?.Message}");
                continue;
            }

            string findings = string.Join("; ", result.Findings.Select(f => $"{f.RuleId} {f.Location} {f.Detail}"));
            if (path.StartsWith("gguf/ggerganov__llama.cpp/", StringComparison.Ordinal) || path.EndsWith("llama-2-tiny-random.gguf", StringComparison.Ordinal))
            {
                if (result.Verdict != ScanVerdict.Clean)
                {
                    problems.Add($"{path}: {result.Verdict} ({findings})");
                }

                foreach (string key in new[] { "Architecture", "TensorCount", "KeyCount" })
                {
                    if (!result.Metadata.Contains(key))
                    {
                        problems.Add($"{path}: no {key} in the metadata");
                    }
                }
            }
            else if (path.StartsWith("gguf/uShure__llama-jni-bridge/", StringComparison.Ordinal) || path.EndsWith("api__test.gguf", StringComparison.Ordinal))
            {
                if (result.Verdict != ScanVerdict.Inconclusive
                    || !result.Findings.Any(f => f.RuleId == RuleIds.GgufMalformed && ByteOffset.IsMatch(f.Detail)))
                {
                    problems.Add($"{path}: {result.Verdict} ({findings})");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [SkippableFact]
    public void TinyRandomLlama_HasItsMetadata()
    {
        Skip.If(Corpus.Directory is null, Corpus.NotFoundMessage);

        CorpusScan scan = Corpus.All.Single(s => s.Entry.RelativePath.EndsWith("llama-2-tiny-random.gguf", StringComparison.Ordinal));
        ModelScanResult result = scan.Result!;

        Assert.Equal("llama", result.Metadata["Architecture"]);
        Assert.True((long)result.Metadata["ParameterCount"]! > 0);
        Assert.True(result.BytesRead < 1024 * 1024, $"read {result.BytesRead:N0} bytes");
    }

    [SkippableFact]
    public void LegacyGgmlFiles_AreReportedAsLegacy()
    {
        Skip.If(Corpus.Directory is null, Corpus.NotFoundMessage);

        foreach (CorpusScan scan in Corpus.All.Where(s => s.Entry.RelativePath.StartsWith("ggml/", StringComparison.Ordinal)))
        {
            Assert.Contains(scan.Result!.Findings, f => f.RuleId == RuleIds.GgufLegacy);
        }
    }
}
