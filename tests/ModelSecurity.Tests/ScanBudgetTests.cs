using System;
using System.Linq;
using System.Threading;
using ModelSecurity.Analysis;
using Xunit;

namespace ModelSecurity.Tests;

/// <summary>
/// Per-file resource bounds: past its time budget (MS-GEN-004) or memory budget (MS-GEN-005) a file
/// is Inconclusive with a finding and the scan returns; the caller's own cancellation still stops it.
/// </summary>
public class ScanBudgetTests
{
    [Fact]
    public void DefaultBudgets_AreThirtySecondsAndFourGiB()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), ScanLimits.Default.MaxScanTime);
        Assert.Equal(4L * 1024 * 1024 * 1024, ScanLimits.Default.MaxAllocatedBytes);
    }

    [Fact]
    public void FileOverItsTimeBudget_IsInconclusiveWithAFinding()
    {
        var options = new ScanOptions(PicklePolicy.Default, new ScanLimits { MaxScanTime = TimeSpan.FromMilliseconds(1) });

        // Every read takes 20 ms, so the 1 ms budget is spent before the pickle's opcodes are run,
        // whatever the machine's speed: the first cancellation check inside the reader must stop it.
        using var slow = new SlowStream(LongPickle(), TimeSpan.FromMilliseconds(20));
        ModelScanResult result = ModelScanner.Scan("model.pkl", slow, options);

        Assert.Equal(ScanVerdict.Inconclusive, result.Verdict);
        ModelFinding finding = Assert.Single(result.Findings, f => f.RuleId == RuleIds.ScanTimeBudgetExceeded);
        Assert.Contains("budget", finding.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(result.Findings, f => f.RuleId == RuleIds.AnalysisFailed);
    }

    [Fact]
    public void CallerCancellation_IsNotTurnedIntoAFinding()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        using var stream = new System.IO.MemoryStream(LongPickle(), writable: false);

        Assert.ThrowsAny<OperationCanceledException>(() => ModelScanner.Scan("model.pkl", stream, null, cancelled.Token));
    }

    [Fact]
    public void FileOverItsMemoryBudget_IsInconclusiveWithAFinding()
    {
        // A zip whose pickle member (2 MiB) is read whole: reserving it passes a 1 MiB budget.
        byte[] member = PickleBuilder.Create().Proto(2).BinBytes(new byte[2 * 1024 * 1024]).Stop().ToArray();
        byte[] zip = ZipBuilder.StoredZip(("archive/data.pkl", member), ("archive/version", Fixtures.Ascii("3\n")));
        var options = new ScanOptions(PicklePolicy.Default, new ScanLimits { MaxAllocatedBytes = 1024 * 1024 });

        ModelScanResult result = Scan.Bytes("model.pt", zip, options);

        Assert.Equal(ScanVerdict.Inconclusive, result.Verdict);
        ModelFinding finding = Assert.Single(result.Findings, f => f.RuleId == RuleIds.ScanMemoryBudgetExceeded);
        Assert.Contains("1,048,576-byte budget", finding.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void FileWithinItsBudgets_HasNoBudgetFinding()
    {
        ModelScanResult result = Scan.Bytes("model.pt", FuzzSeeds.Get("torch-zip").Bytes);

        Assert.DoesNotContain(result.Findings, f => f.RuleId is RuleIds.ScanTimeBudgetExceeded or RuleIds.ScanMemoryBudgetExceeded);
        Assert.Equal(ScanVerdict.Clean, result.Verdict);
    }

    [Fact]
    public void BudgetRules_AreInTheCatalogue()
    {
        foreach (string id in new[] { RuleIds.ScanTimeBudgetExceeded, RuleIds.ScanMemoryBudgetExceeded })
        {
            RuleDefinition rule = RuleCatalogue.All.Single(r => r.Id == id);
            Assert.Equal(ScanVerdict.Inconclusive, rule.Verdict);
        }
    }

    /// <summary>A protocol-2 pickle of a list built by 3 million appends: long enough to pass a 1 ms budget.</summary>
    /// <summary>A read-only stream over bytes whose every read waits first.</summary>
    private sealed class SlowStream : System.IO.MemoryStream
    {
        private readonly TimeSpan _delay;

        public SlowStream(byte[] bytes, TimeSpan delay)
            : base(bytes, writable: false) => _delay = delay;

        public override int Read(byte[] buffer, int offset, int count)
        {
            Thread.Sleep(_delay);
            return base.Read(buffer, offset, count);
        }

        public override int Read(Span<byte> buffer)
        {
            Thread.Sleep(_delay);
            return base.Read(buffer);
        }
    }

    private static byte[] LongPickle()
    {
        PickleBuilder builder = PickleBuilder.Create().Proto(2).EmptyList();
        for (int i = 0; i < 3_000_000; i++)
        {
            builder.Op((byte)'K').Byte(1).Append();
        }

        return builder.Stop().ToArray();
    }
}
