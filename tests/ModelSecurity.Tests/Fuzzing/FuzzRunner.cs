using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using ModelSecurity.Analysis;

namespace ModelSecurity.Tests;

/// <summary>What one scanned input cost, and what went wrong with it (null when nothing did).</summary>
internal readonly record struct FuzzCase(TimeSpan Elapsed, long AllocatedBytes, string? Problem);

/// <summary>Totals of a fuzzing run.</summary>
internal sealed class FuzzReport
{
    public long Executions { get; set; }

    public TimeSpan Elapsed { get; set; }

    public TimeSpan MaxElapsed { get; set; }

    public string MaxElapsedInput { get; set; } = string.Empty;

    /// <summary>The slowest input's bytes, for triage.</summary>
    public byte[] SlowestInput { get; set; } = Array.Empty<byte>();

    /// <summary>The input that allocated most, for triage.</summary>
    public byte[] LargestAllocationInput { get; set; } = Array.Empty<byte>();

    public long MaxAllocatedBytes { get; set; }

    public string MaxAllocatedInput { get; set; } = string.Empty;

    public List<string> Failures { get; } = new();

    public List<byte[]> FailingInputs { get; } = new();

    public double ExecutionsPerSecond => Elapsed.TotalSeconds > 0 ? Executions / Elapsed.TotalSeconds : 0;

    public override string ToString() =>
        $"{Executions:N0} executions in {Elapsed.TotalSeconds:N1} s ({ExecutionsPerSecond:N0}/s), {Failures.Count} failure(s); " +
        $"slowest input {MaxElapsed.TotalMilliseconds:N1} ms ({MaxElapsedInput}), largest allocation {MaxAllocatedBytes:N0} bytes ({MaxAllocatedInput})";
}

/// <summary>
/// The deterministic mutation fuzzer: mutates every seed of <see cref="FuzzSeeds"/> with a fixed
/// random seed and scans each result through <see cref="ModelScanner"/>, so every reader is reached
/// the way a real file reaches it. An input fails when an exception escapes the scanner, when a
/// reader fails (MS-GEN-003), when its scan takes longer than <see cref="MaxTimePerInput"/> or when
/// it allocates more than <see cref="MaxAllocationPerInput"/>.
/// </summary>
internal static class FuzzRunner
{
    /// <summary>No input may take longer than this (the hang threshold).</summary>
    public static readonly TimeSpan MaxTimePerInput = TimeSpan.FromSeconds(2);

    private static bool s_warm;

    /// <summary>The scanning core's per-file memory budget, which no input may pass.</summary>
    public static long MaxAllocationPerInput => ScanLimits.Default.MaxAllocatedBytes;

    /// <summary>
    /// Scans every seed once, unmeasured: the first scan of a process pays for JIT compilation and for
    /// loading the rule catalogue and codecs, which is no input's fault.
    /// </summary>
    public static void WarmUp(IReadOnlyList<FuzzSeed> seeds)
    {
        if (s_warm)
        {
            return;
        }

        s_warm = true;
        foreach (FuzzSeed seed in seeds)
        {
            Check(seed.FileName, seed.Bytes);
        }
    }

    /// <summary>Runs <paramref name="perSeed"/> mutations of each seed.</summary>
    public static FuzzReport Run(IReadOnlyList<FuzzSeed> seeds, int perSeed, int randomSeed, int maxFailures = 20)
    {
        WarmUp(FuzzSeeds.All);
        var report = new FuzzReport();
        var clock = Stopwatch.StartNew();
        for (int s = 0; s < seeds.Count; s++)
        {
            FuzzSeed seed = seeds[s];
            var random = new Random(StableHash(seed.Name) ^ randomSeed);
            for (int i = 0; i < perSeed && report.Failures.Count < maxFailures; i++)
            {
                FuzzSeed partner = seeds[random.Next(seeds.Count)];
                byte[] input = FuzzMutator.Mutate(seed.Bytes, partner.Bytes, random);
                Record(report, $"{seed.Name} #{i}", seed.FileName, input);
            }
        }

        report.Elapsed = clock.Elapsed;
        return report;
    }

    /// <summary>Runs until <paramref name="executions"/> inputs have been scanned, cycling over the seeds.</summary>
    public static FuzzReport RunFor(IReadOnlyList<FuzzSeed> seeds, long executions, int randomSeed, Action<FuzzReport>? progress = null, int maxFailures = 100)
    {
        WarmUp(seeds);
        var report = new FuzzReport();
        var clock = Stopwatch.StartNew();
        var generators = seeds.Select(s => new Random(StableHash(s.Name) ^ randomSeed)).ToArray();
        long round = 0;
        while (report.Executions < executions && report.Failures.Count < maxFailures)
        {
            for (int s = 0; s < seeds.Count && report.Executions < executions; s++)
            {
                FuzzSeed seed = seeds[s];
                FuzzSeed partner = seeds[generators[s].Next(seeds.Count)];
                byte[] input = FuzzMutator.Mutate(seed.Bytes, partner.Bytes, generators[s]);
                Record(report, $"{seed.Name} round {round}", seed.FileName, input);
                if (progress is not null && report.Executions % 100_000 == 0)
                {
                    report.Elapsed = clock.Elapsed;
                    progress(report);
                }
            }

            round++;
        }

        report.Elapsed = clock.Elapsed;
        return report;
    }

    /// <summary>Scans one input and says what it cost and whether it broke a rule.</summary>
    public static FuzzCase Check(string fileName, byte[] input, ScanOptions? options = null)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        string? problem = null;
        try
        {
            using var stream = new MemoryStream(input, writable: false);
            ModelScanResult result = ModelScanner.Scan(fileName, stream, options);
            ModelFinding? failed = result.Findings.FirstOrDefault(f => f.RuleId == RuleIds.AnalysisFailed);
            if (failed is not null)
            {
                problem = $"reader failure: {failed.Detail}";
            }
        }
#pragma warning disable CA1031 // The fuzzer reports every exception that escapes the scanner.
        catch (Exception e)
#pragma warning restore CA1031
        {
            problem = $"exception escaped: {e.GetType().Name}: {e.Message}";
        }

        clock.Stop();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (problem is null && clock.Elapsed > MaxTimePerInput)
        {
            problem = $"took {clock.Elapsed.TotalMilliseconds:N0} ms";
        }

        if (problem is null && allocated > MaxAllocationPerInput)
        {
            problem = $"allocated {allocated:N0} bytes";
        }

        return new FuzzCase(clock.Elapsed, allocated, problem);
    }

    /// <summary>A hash of a seed's name that is the same in every process (string.GetHashCode is not).</summary>
    public static int StableHash(string text)
    {
        uint hash = 2166136261;
        foreach (char c in text)
        {
            hash = (hash ^ c) * 16777619;
        }

        return (int)(hash & 0x7FFFFFFF);
    }

    private static void Record(FuzzReport report, string label, string fileName, byte[] input)
    {
        FuzzCase result = Check(fileName, input);
        if (result.Elapsed > MaxTimePerInput / 2 && (result.Problem is null || result.Problem.StartsWith("took ", StringComparison.Ordinal)))
        {
            // A slow input is timed again: a hang repeats, a load spike on a shared machine does not.
            FuzzCase again = Check(fileName, input);
            result = again.Elapsed < result.Elapsed ? again : result;
        }

        report.Executions++;
        if (result.Elapsed > report.MaxElapsed)
        {
            report.MaxElapsed = result.Elapsed;
            report.MaxElapsedInput = $"{label}, {input.Length:N0} bytes";
            report.SlowestInput = input;
        }

        if (result.AllocatedBytes > report.MaxAllocatedBytes)
        {
            report.MaxAllocatedBytes = result.AllocatedBytes;
            report.MaxAllocatedInput = $"{label}, {input.Length:N0} bytes";
            report.LargestAllocationInput = input;
        }

        if (result.Problem is not null)
        {
            report.Failures.Add($"{label} as {fileName} ({input.Length:N0} bytes): {result.Problem} :: {Convert.ToHexString(input.AsSpan(0, Math.Min(64, input.Length)))}");
            report.FailingInputs.Add(input);
        }
    }
}
