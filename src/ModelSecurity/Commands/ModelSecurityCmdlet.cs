using System;
using System.IO;
using System.Management.Automation;
using System.Threading;

namespace ModelSecurity.Commands;

/// <summary>
/// What every ModelSecurity cmdlet shares: a cancellation token that Ctrl+C (StopProcessing) cancels,
/// and errors built the same way (stable id, the input as target, a hint the user can act on).
/// </summary>
public abstract class ModelSecurityCmdlet : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();
    private bool _disposed;

    /// <summary>Cancelled when the user presses Ctrl+C or the pipeline stops.</summary>
    protected CancellationToken CancelToken => _cancellation.Token;

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc />
    protected override void StopProcessing() => _cancellation.Cancel();

    /// <summary>Releases the cancellation source.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (!_disposed && disposing)
        {
            _cancellation.Dispose();
        }

        _disposed = true;
    }

    /// <summary>Writes a non-terminating error for one input and lets the cmdlet go on with the next.</summary>
    protected void WriteInputError(Exception exception, string errorId, ErrorCategory category, object? target, string? recommendedAction = null)
    {
        var record = new ErrorRecord(exception, errorId, category, target);
        if (recommendedAction is not null)
        {
            record.ErrorDetails = new ErrorDetails(exception.Message) { RecommendedAction = recommendedAction };
        }

        WriteError(record);
    }

    /// <summary>
    /// The text of the policy file a -PolicyPath names, with its full path; stops the command with
    /// PolicyNotFound when it cannot be read (every cmdlet that takes a policy reads it this way).
    /// </summary>
    protected (string Text, string Path) ReadPolicyFile(string policyPath)
    {
        const long MaxPolicyBytes = 64L * 1024 * 1024;
        string path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(policyPath);
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > MaxPolicyBytes)
            {
                throw new IOException($"it is {info.Length:N0} bytes; a policy file is at most {MaxPolicyBytes:N0}");
            }

            return (File.ReadAllText(path), path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(new ErrorRecord(
                new FileNotFoundException($"The policy file '{path}' cannot be read: {e.Message}", path, e),
                ErrorIds.PolicyNotFound,
                ErrorCategory.ObjectNotFound,
                policyPath));
            throw;
        }
    }
}
