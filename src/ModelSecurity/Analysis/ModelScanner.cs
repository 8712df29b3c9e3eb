using System;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.IO;
using System.Linq;
using System.Threading;
using ModelSecurity.Formats;

namespace ModelSecurity.Analysis;

/// <summary>
/// Scans one file: identifies its format from its bytes, checks the name against the content, and
/// hands the file to the format's reader. Knows nothing of PowerShell; <c>Test-ModelFile</c> is a thin
/// shell around it.
/// </summary>
internal static class ModelScanner
{
    public static ModelScanResult Scan(string path, CancellationToken cancellationToken) =>
        Scan(path, ScanOptions.Default, cancellationToken);

    public static ModelScanResult Scan(string path, ScanOptions options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ScanSource(path, () => ModelFileSource.OpenFile(path), options, cancellationToken, onDisk: true);
    }

    /// <summary>Scans bytes that are already open (tests use this).</summary>
    internal static ModelScanResult Scan(string name, Stream content, ScanOptions? options = null, CancellationToken cancellationToken = default) =>
        ScanSource(name, () => new ModelFileSource(content), options ?? ScanOptions.Default, cancellationToken);

    private static ModelScanResult ScanSource(string path, Func<ModelFileSource> open, ScanOptions options, CancellationToken cancellationToken, bool onDisk = false)
    {
        using var scan = new ScanContext(options, cancellationToken) { FilePath = onDisk ? Path.GetFullPath(path) : null };
        List<ModelFinding> findings = scan.Findings;
        OrderedDictionary metadata = scan.Metadata;
        ModelFormat format = ModelFormat.Unknown;
        long length = 0;
        long bytesRead = 0;
        ModelFileSource? source = null;
        try
        {
            source = open();
            length = source.Length;
            format = Analyse(path, source, scan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            findings.Add(RuleCatalogue.Finding(RuleIds.FileUnreadable, e.Message));
        }
        catch (OperationCanceledException) when (scan.TimeBudgetSpent)
        {
            // The file's own time budget ran out (the caller did not cancel): the next file goes on.
            findings.Add(RuleCatalogue.Finding(
                RuleIds.ScanTimeBudgetExceeded,
                $"The scan passed its {options.Limits.MaxScanTime.TotalSeconds:N0}-second budget for one file and stopped; the rest of the file was not analysed."));
        }
        catch (ScanBudgetExceededException e)
        {
            findings.Add(RuleCatalogue.Finding(RuleIds.ScanMemoryBudgetExceeded, $"{e.Message} The rest of the file was not analysed."));
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            // A reader's bug must cost one file its verdict, never the whole pipeline (and never a Clean).
            findings.Add(RuleCatalogue.Finding(RuleIds.AnalysisFailed, $"{e.GetType().Name}: {e.Message}"));
        }
        finally
        {
            bytesRead = source?.BytesRead ?? 0;
            source?.Dispose();
        }

        if (scan.Globals.Count > 0)
        {
            metadata["PickleGlobals"] = scan.Globals.ToArray();
        }

        return Result(path, format, findings, metadata, length, bytesRead);
    }

    private static ModelFormat Analyse(string path, ModelFileSource source, ScanContext scan)
    {
        List<ModelFinding> findings = scan.Findings;
        OrderedDictionary metadata = scan.Metadata;
        var context = new SniffContext(source);
        FormatMatch match = FormatDetector.Detect(context);
        metadata["FormatDetail"] = match.Description;
        foreach (KeyValuePair<string, object> item in match.Metadata)
        {
            metadata[item.Key] = item.Value;
        }

        ModelFormat format = match.Format;
        CheckNameAgainstContent(path, match, findings);
        switch (format)
        {
            case ModelFormat.Empty:
                findings.Add(RuleCatalogue.Finding(RuleIds.FileEmpty, "The file has 0 bytes."));
                break;
            case ModelFormat.Unknown:
                findings.Add(RuleCatalogue.Finding(
                    RuleIds.FormatUnknown,
                    $"The first bytes ({HexPreview(context.Head)}) match no known model, archive, program or text format."));
                break;
            case ModelFormat.Elf or ModelFormat.PE or ModelFormat.MachO or ModelFormat.Script:
                // A program is not a model: the name check above has already said what it is.
                break;
            default:
                if (ModelReaders.TryRead(new ReadContext(scan, source, context, match, member: null, depth: 0)))
                {
                    break;
                }

                findings.Add(RuleCatalogue.Finding(
                    RuleIds.FormatNotAnalysed,
                    $"The content is {match.Description}; this version of ModelSecurity identifies it but has no reader for {format} yet, so nothing inside it was checked."));
                break;
        }

        return format;
    }

    private static void CheckNameAgainstContent(string path, FormatMatch match, List<ModelFinding> findings)
    {
        ModelFormat format = match.Format;
        ExtensionExpectation? expectation = ExtensionMap.For(path);
        string extension = Path.GetExtension(path);
        if (format.IsExecutable())
        {
            if (expectation is { IsModelName: true })
            {
                findings.Add(RuleCatalogue.Finding(
                    RuleIds.ExecutableDisguised,
                    $"The file is named '{extension}' but its content is {match.Description}."));
            }
            else if (format != ModelFormat.Llamafile)
            {
                findings.Add(RuleCatalogue.Finding(RuleIds.ExecutableFile, $"The content is {match.Description}."));
            }

            return;
        }

        if (expectation is null || format is ModelFormat.Empty or ModelFormat.Unknown || expectation.Accepts(format))
        {
            return;
        }

        if (expectation.IsDataOnly && format.CanCarryCode())
        {
            findings.Add(RuleCatalogue.Finding(
                RuleIds.CodeCapableDisguised,
                $"The name '{extension}' promises a data-only format, but the content is {match.Description}, which can run code when loaded."));
        }
        else
        {
            findings.Add(RuleCatalogue.Finding(
                RuleIds.ExtensionMismatch,
                $"The name '{extension}' suggests {string.Join(" or ", expectation.Expected!)}, but the content is {match.Description}."));
        }
    }

    private static ModelScanResult Result(string path, ModelFormat format, List<ModelFinding> findings, OrderedDictionary metadata, long length, long bytesRead)
    {
        ModelFinding[] ordered = findings
            .OrderByDescending(f => f.Severity)
            .ThenBy(f => f.RuleId, StringComparer.Ordinal)
            .ToArray();
        ScanVerdict verdict = ordered.Length == 0 ? ScanVerdict.Clean : ordered.Max(f => f.Verdict);
        return new ModelScanResult(path, format, verdict, ordered, metadata.AsReadOnly(), length, bytesRead);
    }

    private static string HexPreview(byte[] head)
    {
        int count = Math.Min(head.Length, 16);
        return count == 0 ? "none" : BitConverter.ToString(head, 0, count).Replace('-', ' ');
    }
}
