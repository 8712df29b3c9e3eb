using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using ModelSecurity.Analysis;
using ModelSecurity.Analysis.ChatTemplates;
using ModelSecurity.Formats;
using ModelSecurity.Formats.Gguf;
using ModelSecurity.Formats.Pickle;
using ModelSecurity.Tests;
using SharpFuzz;

namespace ModelSecurity.Fuzz;

/// <summary>
/// Fuzzing entry points for ModelSecurity's readers. See fuzz/README.md.
///   afl [scan|pickle|gguf|jinja]    AFL++ target (SharpFuzz out-of-process loop); default scan
///   seeds DIR                       writes the seed corpus (every FuzzSeeds entry) to DIR
///   longrun [EXECUTIONS] [SEED]     deterministic mutation fuzzer, default 1,000,000 executions
///   repro FILE...                   scans files (AFL crashes) and tells what went wrong
/// </summary>
internal static class Program
{
    private static readonly Dictionary<string, Action<byte[]>> Targets = new(StringComparer.OrdinalIgnoreCase)
    {
        // Every reader, reached as a real file reaches it: format detection, then the reader.
        ["scan"] = ScanTarget,
        // The pickle machine alone, on bytes that need not look like a pickle to the detector.
        ["pickle"] = bytes =>
        {
            using var source = new ModelFileSource(new MemoryStream(bytes, writable: false));
            PickleMachine.Run(source, 0, bytes.Length, PickleStreamMode.Stream, null, CancellationToken.None);
        },
        // The GGUF parser alone, whatever the magic says.
        ["gguf"] = bytes =>
        {
            using var source = new ModelFileSource(new MemoryStream(bytes, writable: false));
            GgufFile.Parse(source, CancellationToken.None);
        },
        // The Jinja lexer, parser and template analysis on the bytes as UTF-8 text.
        ["jinja"] = bytes => ChatTemplateAnalyzer.Analyse(Encoding.UTF8.GetString(bytes)),
    };

    public static int Main(string[] args)
    {
        string command = args.Length > 0 ? args[0] : "help";
        switch (command.ToLowerInvariant())
        {
            case "afl":
                return Afl(args.Length > 1 ? args[1] : "scan");
            case "seeds" when args.Length == 2:
                return WriteSeeds(args[1]);
            case "longrun":
                return LongRun(
                    args.Length > 1 ? long.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000,
                    args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 20261129);
            case "repro" when args.Length > 1:
                return Repro(args.Skip(1));
            default:
                Console.Error.WriteLine("usage: ModelSecurity.Fuzz afl [scan|pickle|gguf|jinja] | seeds DIR | longrun [EXECUTIONS] [SEED] | repro FILE...");
                return 2;
        }
    }

    /// <summary>Scans the bytes through the whole scanner; a reader failure is a crash for AFL++.</summary>
    private static void ScanTarget(byte[] bytes)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        ModelScanResult result = ModelScanner.Scan("input.bin", stream);
        ModelFinding? failed = result.Findings.FirstOrDefault(f => f.RuleId == RuleIds.AnalysisFailed);
        if (failed is not null)
        {
            // The scanner turned a reader exception into MS-GEN-003: a bug all the same.
            throw new InvalidOperationException($"reader failure: {failed.Detail}");
        }
    }

    private static int Afl(string target)
    {
        if (!Targets.TryGetValue(target, out Action<byte[]>? run))
        {
            Console.Error.WriteLine($"Unknown target '{target}'. Targets: {string.Join(", ", Targets.Keys)}.");
            return 2;
        }

        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            run(buffer.ToArray());
        });
        return 0;
    }

    private static int WriteSeeds(string folder)
    {
        Directory.CreateDirectory(folder);
        foreach (FuzzSeed seed in FuzzSeeds.All)
        {
            File.WriteAllBytes(Path.Combine(folder, seed.Name), seed.Bytes);
        }

        Console.WriteLine($"Wrote {FuzzSeeds.All.Count} seeds to {Path.GetFullPath(folder)}.");
        return 0;
    }

    private static int LongRun(long executions, int randomSeed)
    {
        IReadOnlyList<FuzzSeed> seeds = FuzzSeeds.All;
        Console.WriteLine($"Long run: {executions:N0} executions over {seeds.Count} seeds, random seed {randomSeed}.");
        FuzzReport report = FuzzRunner.RunFor(seeds, executions, randomSeed, progress: r => Console.WriteLine($"  {r}"));
        Console.WriteLine(report);
        string folder = Path.GetFullPath("fuzz-failures");
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "slowest.bin"), report.SlowestInput);
        File.WriteAllBytes(Path.Combine(folder, "largest-allocation.bin"), report.LargestAllocationInput);
        if (report.Failures.Count == 0)
        {
            return 0;
        }

        for (int i = 0; i < report.Failures.Count; i++)
        {
            Console.WriteLine(report.Failures[i]);
            File.WriteAllBytes(Path.Combine(folder, $"failure-{i:D3}.bin"), report.FailingInputs[i]);
        }

        Console.WriteLine($"Failing inputs written to {folder}.");
        return 1;
    }

    private static int Repro(IEnumerable<string> files)
    {
        int failures = 0;
        foreach (string file in files)
        {
            byte[] bytes = File.ReadAllBytes(file);
            FuzzCase result = FuzzRunner.Check(Path.GetFileName(file), bytes);
            Console.WriteLine($"{file}: {result.Elapsed.TotalMilliseconds:N1} ms, {result.AllocatedBytes:N0} bytes allocated, {result.Problem ?? "ok"}");
            using var stream = new MemoryStream(bytes, writable: false);
            ModelScanResult scan = ModelScanner.Scan(Path.GetFileName(file), stream);
            Console.WriteLine($"  {scan.Format}: {scan.Verdict}");
            foreach (ModelFinding finding in scan.Findings)
            {
                Console.WriteLine($"  {finding.RuleId} {finding.Location}: {finding.Detail}");
            }

            failures += result.Problem is null ? 0 : 1;
        }

        return failures == 0 ? 0 : 1;
    }
}
