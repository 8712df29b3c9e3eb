using System.Diagnostics;
using System.Management.Automation;

namespace ModelSecurity.Commands;

/// <summary>
/// Progress for long pipelines, throttled so that thousands of small files do not spend their time
/// redrawing a progress bar.
/// </summary>
internal sealed class ProgressReporter
{
    private const long IntervalMilliseconds = 250;

    private readonly Cmdlet _cmdlet;
    private readonly int _activityId;
    private readonly string _activity;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastWrite = -IntervalMilliseconds;
    private bool _shown;

    public ProgressReporter(Cmdlet cmdlet, int activityId, string activity)
    {
        _cmdlet = cmdlet;
        _activityId = activityId;
        _activity = activity;
    }

    /// <summary>Reports the item now being worked on; percent is -1 when the total is unknown.</summary>
    public void Report(string status, string currentOperation, int percent = -1)
    {
        long now = _clock.ElapsedMilliseconds;
        if (now - _lastWrite < IntervalMilliseconds)
        {
            return;
        }

        _lastWrite = now;
        _shown = true;
        _cmdlet.WriteProgress(new ProgressRecord(_activityId, _activity, status)
        {
            CurrentOperation = currentOperation,
            PercentComplete = percent,
        });
    }

    /// <summary>Removes the bar, if one was shown.</summary>
    public void Complete()
    {
        if (_shown)
        {
            _cmdlet.WriteProgress(new ProgressRecord(_activityId, _activity, "Done") { RecordType = ProgressRecordType.Completed });
            _shown = false;
        }
    }
}
