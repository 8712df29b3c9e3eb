using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ModelSecurity.Analysis;
using ModelSecurity.Formats;
using Xunit;

namespace ModelSecurity.Tests;

/// <summary>
/// The scanner against 485 real third-party files (../shared/corpus). Each file is scanned once per
/// run; each test reports every offending file in one message.
/// </summary>
public class CorpusTests
{
    [SkippableFact]
    public void Manifest_DescribesFilesThatExist()
    {
        string corpus = RequireCorpus();

        IReadOnlyList<CorpusEntry> entries = Corpus.ReadManifest(corpus);
        string[] problems = entries
            .Select(e => (Entry: e, File: new FileInfo(Path.Combine(corpus, e.RelativePath))))
            .Where(x => !x.File.Exists || x.File.Length != x.Entry.Bytes)
            .Select(x => x.File.Exists ? $"{x.Entry.RelativePath}: {x.File.Length} bytes, manifest says {x.Entry.Bytes}" : $"{x.Entry.RelativePath}: missing")
            .ToArray();

        Assert.NotEmpty(entries);
        Assert.True(problems.Length == 0, Report("manifest rows that do not match the files", problems));
    }

    [SkippableFact]
    public void EveryFile_ScansWithoutException()
    {
        RequireCorpus();

        string[] failures = Corpus.All
            .Where(s => s.Error is not null)
            .Select(s => $"{s.Entry.RelativePath}: {s.Error!.GetType().Name}: {s.Error.Message}")
            .ToArray();

        Assert.True(failures.Length == 0, Report("files whose scan threw", failures));
    }

    [SkippableFact]
    public void EveryFile_IsDetectedAsItsExpectedFormat()
    {
        RequireCorpus();

        var mismatches = new List<string>();
        foreach (CorpusScan scan in Corpus.All.Where(s => s.Result is not null))
        {
            IReadOnlyCollection<ModelFormat> expected = CorpusExpectations.For(scan.Entry, scan.FullPath);
            ModelScanResult result = scan.Result!;
            if (expected.Count == 0)
            {
                mismatches.Add($"{scan.Entry.RelativePath}: no expectation for manifest format '{scan.Entry.Format}' (detected {result.Format})");
            }
            else if (!expected.Contains(result.Format))
            {
                mismatches.Add($"{scan.Entry.RelativePath}: manifest '{scan.Entry.Format}' expects {string.Join(" or ", expected)}, detected {result.Format} ({result.Metadata["FormatDetail"]})");
            }
        }

        Assert.True(mismatches.Count == 0, Report("files detected as the wrong format", mismatches));
    }

    [SkippableFact]
    public void NoBenignFile_IsMalicious()
    {
        RequireCorpus();

        string[] malicious = Corpus.All
            .Where(s => s.Entry.IsBenign && s.Result?.Verdict == ScanVerdict.Malicious)
            .Select(s => $"{s.Entry.RelativePath}: {string.Join("; ", s.Result!.Findings)}")
            .ToArray();

        Assert.True(malicious.Length == 0, Report("benign files called Malicious", malicious));
    }

    [SkippableFact]
    public void NoFile_IsAnExecutable()
    {
        RequireCorpus();

        string[] executables = Corpus.All
            .Where(s => s.Result is not null
                && (s.Result.Format.IsExecutable()
                    || s.Result.Findings.Any(f => f.RuleId is RuleIds.ExecutableDisguised or RuleIds.ExecutableFile)))
            .Select(s => $"{s.Entry.RelativePath}: {s.Result!.Format}")
            .ToArray();

        Assert.True(executables.Length == 0, Report("files taken for executables", executables));
    }

    [SkippableFact]
    public void NoMaliciousFile_IsClean()
    {
        RequireCorpus();

        string[] clean = Corpus.All
            .Where(s => !s.Entry.IsBenign && s.Result?.Verdict == ScanVerdict.Clean)
            .Select(s => $"{s.Entry.RelativePath} ({s.Result!.Format})")
            .ToArray();

        Assert.True(clean.Length == 0, Report("malicious files called Clean", clean));
    }

    [SkippableFact]
    public void Results_ReportTheFileLength_AndReadOnlyHeaders()
    {
        RequireCorpus();

        var problems = new List<string>();
        foreach (CorpusScan scan in Corpus.All.Where(s => s.Result is not null))
        {
            ModelScanResult result = scan.Result!;
            if (result.Length != scan.Entry.Bytes)
            {
                problems.Add($"{scan.Entry.RelativePath}: Length {result.Length}, file has {scan.Entry.Bytes}");
            }

            // Header-only: readers take headers and pickles, not tensor payloads (big files are weights).
            if (result.BytesRead > result.Length || (result.Length > 4 * 1024 * 1024 && result.BytesRead > result.Length / 2))
            {
                problems.Add($"{scan.Entry.RelativePath}: read {result.BytesRead:N0} of {result.Length:N0} bytes");
            }
        }

        Assert.True(problems.Count == 0, Report("results with wrong sizes", problems));
    }

    private static string RequireCorpus()
    {
        Skip.If(Corpus.Directory is null, Corpus.NotFoundMessage);
        return Corpus.Directory!;
    }

    private static string Report(string what, IReadOnlyCollection<string> lines) =>
        $"{lines.Count} {what}:{Environment.NewLine}{string.Join(Environment.NewLine, lines)}";
}
