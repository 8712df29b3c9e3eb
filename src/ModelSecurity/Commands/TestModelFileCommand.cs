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
    private int _scanned;

    /// <summary>Return one Boolean for the whole call: true only when every file is Clean.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    /// <inheritdoc />
    protected override void BeginProcessing() => _progress = new ProgressReporter(this, 1, "Test-ModelFile");

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        foreach (string file in ResolveInputFiles())
        {
            CancelToken.ThrowIfCancellationRequested();
            _progress!.Report($"{_scanned} files scanned", file);
            ModelScanResult result = ModelScanner.Scan(file, CancelToken);
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
