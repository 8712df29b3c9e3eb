using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Management.Automation;
using ModelSecurity.Integrity;
using ModelSecurity.Provenance;

namespace ModelSecurity.Commands;

/// <summary>
/// <para type="synopsis">Checks that model files are the bytes that were published, against a reference hash.</para>
/// </summary>
// The manifest set is the default so that -ManifestPath alone selects it; -Path (positional too) and the pipeline pick theirs.
[Cmdlet(VerbsLifecycle.Confirm, "ModelHash", DefaultParameterSetName = ManifestSet)]
[OutputType(typeof(ModelHashResult), ParameterSetName = new[] { PathSet, LiteralPathSet, InputObjectSet, ManifestSet })]
[OutputType(typeof(bool))]
public sealed class ConfirmModelHashCommand : ModelFileCmdlet
{
    private const string ManifestSet = "Manifest";

    // Results wait in input order; past this many the pipeline thread waits for the oldest.
    private const int MaxPending = 4096;

    private readonly Queue<PendingCheck> _pending = new();
    private readonly Dictionary<string, CacheLocation?> _locations = new(StringComparer.Ordinal);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private HashScheduler? _scheduler;
    private HashVerifier? _verifier;
    private ReferenceResolver? _resolver;
    private HubApiClient? _hub;
    private HashCache? _cache;
    private ProgressReporter? _progress;
    private List<ChecksumList> _lists = new();
    private bool _allMatch = true;
    private int _written;
    private int _problemsWritten;
    private int _manifestProblemsWritten;
    private bool _listsChecked;

    /// <summary>The reference value (hex) every file is compared with; SHA-256 or SHA-512 by its length.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Expected { get; set; }

    /// <summary>Hash for files whose reference does not fix one (and for -Expected): SHA256 (default) or SHA512.</summary>
    [Parameter]
    [ValidateSet("SHA256", "SHA512")]
    public string Algorithm { get; set; } = "SHA256";

    /// <summary>Manifests to verify against: this module's JSON (New-ModelManifest) or sha256sum lists.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ManifestSet)]
    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = LiteralPathSet)]
    [Parameter(ParameterSetName = InputObjectSet)]
    [ValidateNotNullOrEmpty]
    public string[]? ManifestPath { get; set; }

    /// <summary>Ask the Hugging Face API for the published hash of files whose repository is known.</summary>
    [Parameter]
    public SwitchParameter Online { get; set; }

    /// <summary>The hub API endpoint for -Online; default HF_ENDPOINT, else https://huggingface.co.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Endpoint { get; set; }

    /// <summary>Read every file again, ignoring the hash cache (the cache is still updated).</summary>
    [Parameter]
    public SwitchParameter NoCache { get; set; }

    /// <summary>Return one Boolean: true only when every file is Match.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    /// <summary>Files hashed at the same time; default one per processor.</summary>
    [Parameter]
    [ValidateRange(1, 256)]
    public int ThrottleLimit { get; set; } = Environment.ProcessorCount;

    /// <inheritdoc />
    protected override void BeginProcessing()
    {
        ModelHashAlgorithm algorithm = Algorithm == "SHA512" ? ModelHashAlgorithm.SHA512 : ModelHashAlgorithm.SHA256;
        HashReference? expected = null;
        if (Expected is not null)
        {
            string value = Expected.Trim().ToLowerInvariant();
            bool explicitAlgorithm = MyInvocation.BoundParameters.ContainsKey(nameof(Algorithm));
            ModelHashAlgorithm? byLength = value.Length switch { 64 => ModelHashAlgorithm.SHA256, 128 => ModelHashAlgorithm.SHA512, _ => null };
            if (byLength is null || !value.All(Uri.IsHexDigit) || (explicitAlgorithm && byLength != algorithm))
            {
                ThrowTerminatingError(new ErrorRecord(
                    new ArgumentException($"-Expected must be a SHA-256 (64 hex digits) or SHA-512 (128 hex digits) value{(explicitAlgorithm ? " matching -Algorithm " + Algorithm : "")}; '{Expected}' is not."),
                    ErrorIds.ExpectedInvalid, ErrorCategory.InvalidArgument, Expected));
            }

            algorithm = byLength!.Value;
            expected = new HashReference(algorithm, value, HashReferenceSource.Parameter, "-Expected");
        }

        foreach (string manifest in ManifestPath ?? Array.Empty<string>())
        {
            string path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(manifest);
            try
            {
                ChecksumList list = ChecksumList.Load(path);
                foreach (string problem in list.Problems)
                {
                    WriteWarning($"{path}: {problem}");
                }

                _lists.Add(list);
            }
            catch (InvalidDataException e)
            {
                ThrowTerminatingError(new ErrorRecord(e, ErrorIds.ManifestInvalid, ErrorCategory.InvalidData, manifest));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                ThrowTerminatingError(new ErrorRecord(e, ErrorIds.ManifestNotFound, ErrorCategory.ObjectNotFound, manifest));
            }
        }

        if (Online)
        {
            try
            {
                _hub = new HubApiClient(HubApiClient.ResolveEndpoint(Endpoint), Environment.GetEnvironmentVariable("HF_TOKEN"), TimeSpan.FromSeconds(30));
            }
            catch (ArgumentException e)
            {
                ThrowTerminatingError(new ErrorRecord(e, ErrorIds.EndpointInvalid, ErrorCategory.InvalidArgument, Endpoint));
            }
        }

        _cache = HashCache.Open();
        _scheduler = new HashScheduler(ThrottleLimit, _cache, CancelToken);
        _resolver = new ReferenceResolver(expected, _lists, _hub, CancelToken);
        _verifier = new HashVerifier(_resolver, _scheduler, algorithm, useCache: !NoCache);
        _progress = new ProgressReporter(this, 2, "Confirm-ModelHash");
    }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        if (ParameterSetName == ManifestSet)
        {
            if (!_listsChecked)
            {
                _listsChecked = true;
                foreach (ChecksumList list in _lists)
                {
                    foreach (PendingCheck check in _verifier!.CheckList(list, CancelToken))
                    {
                        Enqueue(check);
                    }
                }
            }

            return;
        }

        foreach (string file in ResolveInputFiles())
        {
            _locations.Remove(file, out CacheLocation? location);
            foreach (PendingCheck check in _verifier!.Check(file, location))
            {
                Enqueue(check);
            }

            WriteProblems();
        }
    }

    /// <inheritdoc />
    protected override void EndProcessing()
    {
        Drain(all: true);
        WriteProblems();
        _progress?.Complete();
        _cache?.Save();
        if (Quiet)
        {
            // No file at all is not "every file matches": nothing was verified.
            WriteObject(_allMatch && _written > 0);
        }
    }

    /// <inheritdoc />
    protected override bool IncludeFromFolder(string file)
    {
        // The -ManifestPath lists themselves are references, not models.
        if (_lists.Any(l => l.FilePath == file))
        {
            return false;
        }

        CacheLocation? location = ModelInventory.SafeIdentify(file);
        bool include = ModelInventory.IsListed(file, location) || location is { Ecosystem: ModelEcosystem.Ollama, Kind: CacheItemKind.Manifest };
        if (include)
        {
            _locations[file] = location;
        }

        return include;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _scheduler?.Dispose();
            _hub?.Dispose();

            // Also after Ctrl+C: the files hashed before the stop need not be read again.
            _cache?.Save();
        }

        base.Dispose(disposing);
    }

    private void Enqueue(PendingCheck check)
    {
        _pending.Enqueue(check);
        Drain(all: false);
    }

    /// <summary>Writes finished results in input order; waits for the oldest only when asked to or when too many are waiting.</summary>
    private void Drain(bool all)
    {
        while (_pending.Count > 0)
        {
            PendingCheck head = _pending.Peek();
            if (!head.IsCompleted)
            {
                if (!all && _pending.Count < MaxPending)
                {
                    return;
                }

                while (!head.Wait(TimeSpan.FromMilliseconds(250), CancelToken))
                {
                    ReportProgress(head.Path);
                }
            }

            _pending.Dequeue();
            ModelHashResult? result = head.Complete(out Exception? error);
            if (result is null)
            {
                _allMatch = false;
                WriteInputError(error!, ErrorIds.HashFailed, ErrorCategory.ReadError, head.Path, "Check that the file can be read and is not being written, then check it again.");
                continue;
            }

            _written++;
            _allMatch &= result.Status == ModelHashStatus.Match;
            WriteVerbose($"{result.Status} {result.Algorithm} {result.Path}: {result.Detail}");
            if (!Quiet)
            {
                WriteObject(result);
            }
        }
    }

    private void ReportProgress(string current)
    {
        // Only long runs get a bar: a quick check should not flash one.
        if (_clock.ElapsedMilliseconds < 1000)
        {
            return;
        }

        long done = _scheduler!.BytesHashed;
        long total = Math.Max(done, _scheduler.BytesQueued);
        double seconds = Math.Max(0.001, _clock.Elapsed.TotalSeconds);
        double rate = done / seconds;
        string eta = rate > 0 && total > done ? TimeSpan.FromSeconds((total - done) / rate).ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) : "--:--:--";
        int percent = total > 0 ? (int)Math.Min(100, done * 100 / total) : -1;
        _progress!.Report(
            string.Format(CultureInfo.InvariantCulture, "{0:N0} of {1:N0} MiB hashed, {2:N0} MiB/s, {3} left", done >> 20, total >> 20, rate / (1 << 20), eta),
            current,
            percent);
    }

    private void WriteProblems()
    {
        for (; _problemsWritten < _resolver!.Problems.Count; _problemsWritten++)
        {
            (object target, Exception error) = _resolver.Problems[_problemsWritten];
            WriteInputError(error, ErrorIds.HubApiFailed, ErrorCategory.ConnectionError, target, "Check the network, -Endpoint or HF_ENDPOINT, and HF_TOKEN for private repositories.");
        }

        for (; _manifestProblemsWritten < _verifier!.ManifestProblems.Count; _manifestProblemsWritten++)
        {
            (string target, string message) = _verifier.ManifestProblems[_manifestProblemsWritten];
            WriteInputError(new InvalidDataException(message), ErrorIds.OllamaManifestInvalid, ErrorCategory.InvalidData, target, "Pull the model again with ollama pull.");
        }
    }
}
