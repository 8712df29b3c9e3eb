using System;
using System.Linq;
using ModelSecurity.Analysis;
using ModelSecurity.Formats;
using Xunit;

namespace ModelSecurity.Tests;

/// <summary>
/// The safetensors folder of the shared corpus: benign files are Clean, the malicious ones (hostile
/// __metadata__ strings only) are Suspicious through MS-ST-003. Skipped when ../shared/corpus is absent.
/// </summary>
public class CorpusSafeTensorsTests
{
    [SkippableFact]
    public void SafeTensorsCorpus_BenignIsClean_MaliciousMetadataIsSuspicious()
    {
        Skip.If(Corpus.Directory is null, Corpus.NotFoundMessage);

        CorpusScan[] scans = Corpus.All.Where(s => s.Entry.RelativePath.StartsWith("safetensors/", StringComparison.Ordinal)).ToArray();
        CorpusScan[] benign = scans.Where(s => s.Entry.IsBenign).ToArray();
        CorpusScan[] malicious = scans.Where(s => !s.Entry.IsBenign).ToArray();

        Assert.Equal(11, benign.Length);
        Assert.Equal(6, malicious.Length);
        foreach (CorpusScan scan in benign)
        {
            ModelScanResult result = scan.Result!;
            Assert.True(
                result.Format == ModelFormat.SafeTensors && result.Verdict == ScanVerdict.Clean,
                $"{scan.Entry.RelativePath}: {result.Format} {result.Verdict}: {string.Join("; ", result.Findings)}");
            Assert.True((int)result.Metadata["TensorCount"]! > 0);
        }

        foreach (CorpusScan scan in malicious)
        {
            ModelScanResult result = scan.Result!;
            Assert.True(
                result.Verdict == ScanVerdict.Suspicious && result.Findings.All(f => f.RuleId == RuleIds.SafeTensorsMetadataContent),
                $"{scan.Entry.RelativePath}: {result.Verdict}: {string.Join("; ", result.Findings)}");
        }

        ModelScanResult url = malicious.Single(s => s.Entry.FileName.Contains("suspicious_url", StringComparison.Ordinal)).Result!;
        Assert.Contains(url.Findings, f => f.Detail.Contains("http://evil.com/exfiltrate", StringComparison.Ordinal));
    }
}
