using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using ModelSecurity.Analysis;

namespace ModelSecurity.Commands;

/// <summary>
/// <para type="synopsis">Checks whether model files are safe to load, without loading them.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "ModelFile", DefaultParameterSetName = PathSet)]
[OutputType(typeof(ModelScanResult), ParameterSetName = new[] { PathSet, LiteralPathSet, InputObjectSet })]
[OutputType(typeof(bool))]
public sealed class TestModelFileCommand : ModelFileCmdlet
{
    private bool _allClean = true;
    private ProgressReporter? _progress;
    private ScanOptions _options = ScanOptions.Default;
    private int _scanned;

    /// <summary>Return one Boolean for the whole call: true only when every file is Clean.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    /// <summary>Pickle globals to accept besides the built-in allowlist, as "module.name".</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? AllowGlobal { get; set; }

    /// <summary>A policy file whose pickle.allowGlobals extends the allowlist.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PolicyPath { get; set; }

    /// <inheritdoc />
    protected override void BeginProcessing()
    {
        _progress = new ProgressReporter(this, 1, "Test-ModelFile");
        var allowed = new List<string>(AllowGlobal ?? Array.Empty<string>());
        if (PolicyPath is not null)
        {
            (string json, string path) = ReadPolicyFile(PolicyPath);
            try
            {
                allowed.AddRange(PicklePolicy.ReadAllowedGlobals(json, path));
            }
            catch (InvalidDataException e)
            {
                ThrowTerminatingError(new ErrorRecord(e, ErrorIds.PolicyInvalid, ErrorCategory.InvalidData, PolicyPath));
            }
        }

        try
        {
            _options = new ScanOptions(PicklePolicy.WithAllowed(allowed), ScanLimits.Default);
        }
        catch (ArgumentException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, ErrorIds.AllowGlobalInvalid, ErrorCategory.InvalidArgument, AllowGlobal));
        }
    }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        foreach (string file in ResolveInputFiles())
        {
            CancelToken.ThrowIfCancellationRequested();
            _progress!.Report($"{_scanned} files scanned", file);
            ModelScanResult result = ModelScanner.Scan(file, _options, CancelToken);
            _scanned++;
            WriteVerbose($"{result.Verdict} {result.Format} {file} ({result.BytesRead:N0} of {result.Length:N0} bytes read)");
            if (Quiet)
            {
                _allClean &= result.Verdict == ScanVerdict.Clean;
            }
            else
            {
                WriteObject(result);
            }
        }
    }

    /// <inheritdoc />
    protected override void EndProcessing()
    {
        _progress?.Complete();
        if (Quiet)
        {
            // No file at all is not "every file clean": nothing was shown to be safe.
            WriteObject(_allClean && _scanned > 0);
        }
    }
}
