using System;
using System.Collections.Generic;
using System.Linq;
using ModelSecurity.Analysis;
using Xunit;

namespace ModelSecurity.Tests;

/// <summary>The ONNX, TensorFlow, TFLite and Core ML readers against the corpus's onnx/ and tensorflow/ files.</summary>
public class CorpusOnnxTensorFlowTests
{
    // onnx's backend tests and modelaudit's samples: this one is 12 bytes with no graph and no opset, which no loader accepts.
    private const string GraphlessOnnx = "onnx/promptfoo__modelaudit/dotlocal__test_models__simple_model.onnx";

    [SkippableFact]
    public void BenignFiles_AreClean()
    {
        var problems = new List<string>();
        foreach (CorpusScan scan in Scans().Where(s => s.Entry.IsBenign))
        {
            ModelScanResult result = scan.Result!;
            ScanVerdict expected = scan.Entry.RelativePath == GraphlessOnnx ? ScanVerdict.Inconclusive : ScanVerdict.Clean;
            if (result.Verdict != expected)
            {
                problems.Add($"{scan.Entry.RelativePath}: {result.Verdict}, expected {expected}: {string.Join("; ", result.Findings)}");
            }
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [SkippableFact]
    public void MaliciousFiles_AreNotClean_AndMaliciousWhereTheyCarryCodeOrFileAttacks()
    {
        var problems = new List<string>();
        int malicious = 0;
        foreach (CorpusScan scan in Scans().Where(s => !s.Entry.IsBenign))
        {
            ModelScanResult result = scan.Result!;
            string path = scan.Entry.RelativePath;
            // The Lambda demo's graph holds only standard ops: its code is in keras_metadata.pb, which Keras
            // reads beside it, so scanned alone it is incomplete (MS-TF-006), not Malicious.
            bool carriesAttack = path.EndsWith("saved_model.json", StringComparison.Ordinal)
                || (path.EndsWith("saved_model.pb", StringComparison.Ordinal) && !path.Contains("lambda_savedmodel", StringComparison.Ordinal));
            if (carriesAttack)
            {
                malicious++;
                if (result.Verdict != ScanVerdict.Malicious)
                {
                    problems.Add($"{path}: {result.Verdict}, expected Malicious");
                }
            }
            else if (result.Verdict == ScanVerdict.Clean)
            {
                problems.Add($"{path}: Clean");
            }
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        Assert.Equal(5, malicious);
    }

    [SkippableFact]
    public void TensorAbuseGraph_ReportsEachFileOpWithItsNode()
    {
        ModelScanResult result = Scans().Single(s => s.Entry.RelativePath.EndsWith("demo_models__tensorabuse_savedmodel__saved_model.pb", StringComparison.Ordinal)).Result!;

        string[] targeted = result.Findings.Where(f => f.RuleId == RuleIds.TensorFlowFileOpTargeted).Select(f => f.Location!).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(
            new[] { "DebugIdentityV3", "DistributedSave", "FixedLengthRecordDatasetV2", "MatchingFiles" }.Select(n => $"function __inference___call___193, node \"{n}\""),
            targeted);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.TensorFlowFileOp && f.Location!.EndsWith("node \"Save\"", StringComparison.Ordinal));

        // The checkpoint functions' SaveV2, RestoreV2 and MergeV2Checkpoints are the standard pattern, not findings.
        Assert.DoesNotContain(result.Findings, f => f.Location!.Contains("__inference__traced_", StringComparison.Ordinal));
        Assert.Equal(3L, result.Metadata["CheckpointOps"]);
    }

    private static IEnumerable<CorpusScan> Scans()
    {
        Skip.If(Corpus.Directory is null, Corpus.NotFoundMessage);
        return Corpus.All.Where(s => s.Result is not null
            && (s.Entry.RelativePath.StartsWith("onnx/", StringComparison.Ordinal) || s.Entry.RelativePath.StartsWith("tensorflow/", StringComparison.Ordinal)));
    }
}
