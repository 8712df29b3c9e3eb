using System;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.IO;
using System.Threading;
using ModelSecurity.Formats;
using ModelSecurity.Formats.Pickle;

namespace ModelSecurity.Analysis;

/// <summary>Limits that keep one file's scan bounded in memory and time, whatever its headers claim.</summary>
internal sealed class ScanLimits
{
    public static readonly ScanLimits Default = new();

    /// <summary>Containers inside containers (a pickle in a zip in a gzip is depth 2).</summary>
    public int MaxDepth { get; init; } = 6;

    /// <summary>Largest member or decompressed stream read whole into memory.</summary>
    public long MaxMemberBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Total bytes extracted or decompressed for one file, across all members.</summary>
    public long MaxExtractedBytes { get; init; } = 1024L * 1024 * 1024;

    /// <summary>Bytes of each archive member read to recognise its content.</summary>
    public int MemberSniffBytes { get; init; } = 4096;

    /// <summary>Members examined per archive.</summary>
    public int MaxMembers { get; init; } = 100_000;

    public PickleLimits Pickle { get; init; } = PickleLimits.Default;

    /// <summary>Wall-clock time one file's scan may take (members included); zero or less: no limit.</summary>
    public TimeSpan MaxScanTime { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Managed bytes one file's scan may allocate in total (members, decompressed data, buffers and
    /// parse state together), measured on the scanning thread.
    /// </summary>
    public long MaxAllocatedBytes { get; init; } = 4L * 1024 * 1024 * 1024;
}

/// <summary>Thrown at a checkpoint when one file's scan has allocated more than its memory budget.</summary>
internal sealed class ScanBudgetExceededException : Exception
{
    public ScanBudgetExceededException()
    {
    }

    public ScanBudgetExceededException(string message)
        : base(message)
    {
    }

    public ScanBudgetExceededException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>What a scan is asked to apply: the pickle policy and the limits.</summary>
internal sealed class ScanOptions
{
    public static readonly ScanOptions Default = new(PicklePolicy.Default, ScanLimits.Default);

    public ScanOptions(PicklePolicy policy, ScanLimits limits)
    {
        Policy = policy;
        Limits = limits;
    }

    public PicklePolicy Policy { get; }

    public ScanLimits Limits { get; }
}

/// <summary>The state of one top-level file's scan, shared by every nested member.</summary>
internal sealed class ScanContext : IDisposable
{
    private readonly List<string> _globals = new();
    private readonly HashSet<string> _globalSet = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _deadline;
    private readonly long _allocatedAtStart;

    public ScanContext(ScanOptions options, CancellationToken cancellationToken)
    {
        Options = options;
        CallerToken = cancellationToken;
        // The scan's token fires when the caller cancels or when the file's time budget is spent;
        // every reader loop that checks it therefore also enforces the budget.
        _deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (options.Limits.MaxScanTime > TimeSpan.Zero)
        {
            _deadline.CancelAfter(options.Limits.MaxScanTime);
        }

        CancellationToken = _deadline.Token;
        _allocatedAtStart = GC.GetAllocatedBytesForCurrentThread();
    }

    public ScanOptions Options { get; }

    /// <summary>The caller's token (Ctrl+C, pipeline stop): cancelling it stops the whole scan.</summary>
    public CancellationToken CallerToken { get; }

    /// <summary>Fires when the caller cancels or the file's time budget is spent.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>True when the scan stopped because its own time budget ran out (not the caller).</summary>
    public bool TimeBudgetSpent => _deadline.IsCancellationRequested && !CallerToken.IsCancellationRequested;

    /// <summary>Managed bytes allocated on this thread since the scan began.</summary>
    public long AllocatedBytes => GC.GetAllocatedBytesForCurrentThread() - _allocatedAtStart;

    /// <summary>
    /// Stops the scan when its time or memory budget is spent: readers call it in their loops and
    /// before large allocations. Throws <see cref="OperationCanceledException"/> or
    /// <see cref="ScanBudgetExceededException"/>; the scanner turns either into a finding.
    /// </summary>
    public void Checkpoint(long aboutToAllocate = 0)
    {
        CancellationToken.ThrowIfCancellationRequested();
        long allocated = AllocatedBytes;
        if (allocated + aboutToAllocate > Options.Limits.MaxAllocatedBytes)
        {
            throw new ScanBudgetExceededException(
                $"The scan had allocated {allocated:N0} bytes{(aboutToAllocate > 0 ? $" and needed {aboutToAllocate:N0} more" : string.Empty)}, past the {Options.Limits.MaxAllocatedBytes:N0}-byte budget for one file.");
        }
    }

    public void Dispose() => _deadline.Dispose();

    public List<ModelFinding> Findings { get; } = new();

    public OrderedDictionary Metadata { get; } = new(StringComparer.Ordinal);

    /// <summary>Full path of the scanned file when it is a file on disk (formats that name sibling files check them); null for bytes in memory.</summary>
    public string? FilePath { get; init; }

    /// <summary>Bytes extracted or decompressed so far.</summary>
    public long ExtractedBytes { get; set; }

    /// <summary>Every pickle global imported anywhere in the file, in first-seen order.</summary>
    public IReadOnlyList<string> Globals => _globals;

    public void AddGlobal(string qualifiedName)
    {
        if (_globalSet.Add(qualifiedName))
        {
            _globals.Add(qualifiedName);
        }
    }
}

/// <summary>
/// One piece of content being read: the top-level file or a member inside a container. Findings are
/// reported through it so their location names the member path.
/// </summary>
internal sealed class ReadContext
{
    public ReadContext(ScanContext scan, ModelFileSource source, SniffContext sniff, FormatMatch match, string? member, int depth, ModelFormat? container = null)
    {
        Container = container;
        Scan = scan;
        Source = source;
        Sniff = sniff;
        Match = match;
        Member = member;
        Depth = depth;
    }

    public ScanContext Scan { get; }

    public ModelFileSource Source { get; }

    public SniffContext Sniff { get; }

    public FormatMatch Match { get; }

    public ModelFormat Format => Match.Format;

    /// <summary>Path of this content inside the top-level file ("archive/data.pkl", "&lt;gzip&gt;/x.pkl"), null for the file itself.</summary>
    public string? Member { get; }

    public int Depth { get; }

    /// <summary>The format of the container this content was taken from (null for the file itself).</summary>
    public ModelFormat? Container { get; }

    public ScanLimits Limits => Scan.Options.Limits;

    public CancellationToken CancellationToken => Scan.CancellationToken;

    /// <summary>Stops the scan when the file's time or memory budget is spent (see <see cref="ScanContext.Checkpoint"/>).</summary>
    public void Checkpoint(long aboutToAllocate = 0) => Scan.Checkpoint(aboutToAllocate);

    /// <summary>Joins this content's member path with a location inside it.</summary>
    public string? Locate(string? location) =>
        Member is null ? location : location is null ? Member : $"{Member}, {location}";

    /// <summary>Reports a finding of rule <paramref name="ruleId"/> at <paramref name="location"/> within this content.</summary>
    public void Report(string ruleId, string detail, string? location = null, IEnumerable<string>? references = null) =>
        Scan.Findings.Add(RuleCatalogue.Finding(ruleId, detail, Locate(location), references));

    /// <summary>The member path of a child named <paramref name="name"/>.</summary>
    public string ChildPath(string name) => Member is null ? name : $"{Member}/{name}";

    /// <summary>
    /// Reads bytes taken out of this content (an archive member, decompressed data) as content of
    /// their own: detects the format and hands it to its reader. Returns the format found.
    /// </summary>
    public ModelFormat ScanNested(string name, byte[] content)
    {
        string path = ChildPath(name);
        Checkpoint();
        if (Depth + 1 > Limits.MaxDepth)
        {
            Scan.Findings.Add(RuleCatalogue.Finding(
                RuleIds.ArchiveMemberUnreadable,
                $"Containers are nested more than {Limits.MaxDepth} deep; this member was not opened.",
                path));
            return ModelFormat.Unknown;
        }

        using var stream = new MemoryStream(content, writable: false);
        using var source = new ModelFileSource(stream);
        return ScanNested(name, source);
    }

    /// <summary>
    /// Reads content that stays where it is (a stored archive member seen through a window of the
    /// file) as content of its own, so a reader that needs only parts of it reads only those.
    /// </summary>
    public ModelFormat ScanNested(string name, ModelFileSource source)
    {
        string path = ChildPath(name);
        if (Depth + 1 > Limits.MaxDepth)
        {
            Scan.Findings.Add(RuleCatalogue.Finding(
                RuleIds.ArchiveMemberUnreadable,
                $"Containers are nested more than {Limits.MaxDepth} deep; this member was not opened.",
                path));
            return ModelFormat.Unknown;
        }

        var sniff = new SniffContext(source);
        FormatMatch match = FormatDetector.Detect(sniff);
        var child = new ReadContext(Scan, source, sniff, match, path, Depth + 1, Format);
        ModelReaders.ReadNested(child);
        return match.Format;
    }

    /// <summary>
    /// Recognises a member's content from its first bytes. A protocol 0/1 pickle longer than the
    /// bytes at hand is still taken for one when its opcodes run on to the end of them.
    /// </summary>
    public static FormatMatch DetectHead(byte[] head, long fullLength)
    {
        using var stream = new MemoryStream(head, writable: false);
        using var source = new ModelFileSource(stream);
        FormatMatch match = FormatDetector.Detect(new SniffContext(source));
        if (match.Format is ModelFormat.Unknown or ModelFormat.Text && fullLength > head.Length
            && PickleSniffer.LooksLikeUnframedPickle(head, isWholeFile: false))
        {
            return new FormatMatch(ModelFormat.Pickle, "pickle protocol 0/1");
        }

        return match;
    }

    /// <summary>Counts extracted bytes against the per-file budget; false (with a finding) when it is spent.</summary>
    public bool TryReserve(long bytes, string name)
    {
        Checkpoint(bytes);
        if (Scan.ExtractedBytes + bytes > Limits.MaxExtractedBytes)
        {
            Scan.Findings.Add(RuleCatalogue.Finding(
                RuleIds.ArchiveBomb,
                $"Extracting {bytes:N0} more bytes would pass the {Limits.MaxExtractedBytes:N0}-byte budget for one file; the member was not read.",
                ChildPath(name)));
            return false;
        }

        Scan.ExtractedBytes += bytes;
        return true;
    }
}
