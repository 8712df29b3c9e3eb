using System;
using System.Collections.Generic;
using System.Linq;
using ModelSecurity.Analysis;
using Xunit;

namespace ModelSecurity.Tests;

/// <summary>
/// The corpus's Keras and HDF5 files, skops files and NeMo archives: benign ones are Clean, malicious
/// ones are Malicious (each of them carries code: a Lambda layer or a pickle).
/// </summary>
public class CorpusKerasTests
{
    [SkippableFact]
    public void KerasHdf5SkopsAndNeMoFiles_GetTheirLabel()
    {
        Skip.If(Corpus.Directory is null, Corpus.NotFoundMessage);

        CorpusScan[] scans = Corpus.All
            .Where(s => s.Entry.RelativePath.StartsWith("keras_hdf5/", StringComparison.Ordinal)
                || s.Entry.RelativePath.EndsWith(".skops", StringComparison.Ordinal)
                || s.Entry.RelativePath.EndsWith(".nemo", StringComparison.Ordinal))
            .ToArray();
        var wrong = new List<string>();
        foreach (CorpusScan scan in scans)
        {
            ScanVerdict expected = scan.Entry.IsBenign ? ScanVerdict.Clean : ScanVerdict.Malicious;
            if (scan.Result?.Verdict != expected)
            {
                wrong.Add($"{scan.Entry.RelativePath} ({scan.Entry.Label}): {scan.Result?.Verdict.ToString() ?? scan.Error?.Message} :: {string.Join("; ", scan.Result?.Findings ?? (IEnumerable<ModelFinding>)Array.Empty<ModelFinding>())}");
            }
        }

        Assert.True(scans.Length >= 11, $"only {scans.Length} Keras/HDF5/skops/NeMo files found in the corpus");
        Assert.True(wrong.Count == 0, $"{wrong.Count} file(s) without their label's verdict:{Environment.NewLine}{string.Join(Environment.NewLine, wrong)}");
    }
}
