using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using ModelSecurity.Analysis;
using Xunit;

namespace ModelSecurity.Tests;

/// <summary>
/// The pickle family of the shared corpus (pickle, pytorch, numpy and archive folders): what the
/// pickle issue must show, asserted file by file. Skipped when ../shared/corpus is absent.
/// </summary>
public class CorpusPickleTests
{
    private static readonly string[] PickleKinds = { "pickle", "pytorch", "numpy", "archive" };

    // Benign files that cannot be Clean by design, each with the reason.
    private static readonly Dictionary<string, string> ExpectedNotClean = new(StringComparer.Ordinal)
    {
        ["archive/mmaitre314__picklescan/tests__data__benign_password_protected.zip"] = "encrypted member: unreadable, so Inconclusive",
        ["archive/protectai__modelscan/tests__data__password_protected.zip"] = "encrypted member: unreadable, so Inconclusive",
        ["pickle/mmaitre314__picklescan/tests__data__not_a_pickle.bin"] = "GLOBAL with a name that is not UTF-8: malformed",
        ["pytorch/mmaitre314__picklescan/tests__data__bad_pytorch.pt"] = "an 8-byte PNG signature, not a model",
        ["pytorch/tracel-ai__burn/crates__burn-store__src__pytorch__tests__reader__test_data__broken.pt"] = "the three bytes 'abc', not a model",
        ["pickle/promptfoo__modelaudit/tests__assets__scenarios__license_scenarios__agpl_component__agpl_model.pkl"] = "imports __main__.AGPLNeuralNetwork: default deny",
        ["pytorch/promptfoo__modelaudit/dotlocal__test_models__pytorch_full_model.pt"] = "imports __main__.SimpleNN and torch.nn modules: default deny",
    };

    private static readonly Regex ImportLists = new(@"imports=\[([^\]]*)\]", RegexOptions.CultureInvariant);

    [SkippableFact]
    public void MaliciousPickleFamily_IsNeverClean_AndMaliciousWhenItImportsADangerousCallable()
    {
        Skip.If(Corpus.Directory is null, Corpus.NotFoundMessage);

        var problems = new List<string>();
        int dangerous = 0;
        foreach (CorpusScan scan in PickleFamily().Where(s => !s.Entry.IsBenign))
        {
            ModelScanResult result = scan.Result!;
            if (result.Verdict == ScanVerdict.Clean)
            {
                problems.Add($"{scan.Entry.RelativePath}: Clean");
            }

            string? danger = DangerousImport(scan.Entry.Note);
            if (danger is not null)
            {
                dangerous++;
                if (result.Verdict != ScanVerdict.Malicious)
                {
                    problems.Add($"{scan.Entry.RelativePath}: imports {danger} but is {result.Verdict}");
                }
            }
        }

        Assert.True(dangerous > 100, $"only {dangerous} files import a dangerous callable");
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [SkippableFact]
    public void BenignPickleFamily_IsClean_ExceptTheUnreadableAndTheDefaultDenied()
    {
        Skip.If(Corpus.Directory is null, Corpus.NotFoundMessage);

        CorpusScan[] benign = PickleFamily().Where(s => s.Entry.IsBenign).ToArray();
        string[] unexpected = benign
            .Where(s => s.Result!.Verdict != ScanVerdict.Clean && !ExpectedNotClean.ContainsKey(s.Entry.RelativePath))
            .Select(s => $"{s.Entry.RelativePath}: {s.Result!.Verdict}: {string.Join("; ", s.Result.Findings)}")
            .ToArray();
        string[] malicious = benign.Where(s => s.Result!.Verdict == ScanVerdict.Malicious).Select(s => s.Entry.RelativePath).ToArray();
        int clean = benign.Count(s => s.Result!.Verdict == ScanVerdict.Clean);

        Assert.Empty(malicious);
        Assert.True(unexpected.Length == 0, string.Join(Environment.NewLine, unexpected));
        Assert.True(benign.Length >= 180, $"{benign.Length} benign pickle-family files");
        Assert.Equal(benign.Length - ExpectedNotClean.Count, clean);
    }

    private static IEnumerable<CorpusScan> PickleFamily() =>
        Corpus.All.Where(s => s.Result is not null && PickleKinds.Contains(s.Entry.RelativePath.Split('/')[0]));

    /// <summary>The first import listed in the manifest note that the policy denies, or null.</summary>
    private static string? DangerousImport(string note)
    {
        foreach (Match list in ImportLists.Matches(note))
        {
            foreach (string qualified in list.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                int dot = qualified.LastIndexOf('.');
                if (dot <= 0 || qualified.Contains('<', StringComparison.Ordinal) || qualified.EndsWith('…'))
                {
                    continue;
                }

                PickleDecisionKind kind = PicklePolicy.Default.Decide(qualified.Substring(0, dot), qualified.Substring(dot + 1)).Kind;
                if (kind is PickleDecisionKind.Denied or PickleDecisionKind.Dunder)
                {
                    return qualified;
                }
            }
        }

        return null;
    }
}
