using System;
using System.Buffers;
using System.Collections.Generic;
using System.ComponentModel;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace ModelSecurity.Sandbox;

/// <summary>What the launcher process did.</summary>
internal sealed record SandboxRun(int ExitCode, string Output, string ErrorOutput, bool TimedOut, bool Truncated, TimeSpan Duration);

/// <summary>
/// Starts a backend's command line, captures stdout and stderr up to a cap (the rest is read and dropped so
/// the program never blocks on a full pipe), and on timeout or Ctrl+C kills the whole process tree.
/// </summary>
internal static class SandboxProcess
{
    // After a kill, how long to wait for the tree to go and the pipes to close before giving up on them.
    private static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(5);

    public static SandboxRun Run(SandboxLaunch launch, int maxOutputBytes, TimeSpan timeout, CancellationToken cancel)
    {
        var start = new ProcessStartInfo(launch.CommandLine[0])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        for (int i = 1; i < launch.CommandLine.Count; i++)
        {
            start.ArgumentList.Add(launch.CommandLine[i]);
        }

        if (launch.LauncherEnvironment is not null)
        {
            start.Environment.Clear();
            foreach (KeyValuePair<string, string> pair in launch.LauncherEnvironment)
            {
                start.Environment[pair.Key] = pair.Value;
            }
        }

        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new SandboxUnavailableException($"Could not start '{launch.CommandLine[0]}': {e.Message}", e);
        }

        // The program gets an empty standard input, never the caller's console.
        process.StandardInput.Close();
        var stdout = new CappedCapture(maxOutputBytes);
        var stderr = new CappedCapture(maxOutputBytes);
        Task readOut = stdout.DrainAsync(process.StandardOutput.BaseStream);
        Task readErr = stderr.DrainAsync(process.StandardError.BaseStream);

        bool timedOut = false;
        bool cancelled = false;
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel))
        {
            deadline.CancelAfter(timeout);
            try
            {
                process.WaitForExitAsync(deadline.Token).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                cancelled = cancel.IsCancellationRequested;
                timedOut = !cancelled;
                Kill(process, launch);
            }
        }

        Task.WaitAll(new[] { readOut, readErr }, KillGrace);
        clock.Stop();
        if (cancelled)
        {
            throw new OperationCanceledException(cancel);
        }

        int exitCode = process.HasExited ? process.ExitCode : -1;
        return new SandboxRun(exitCode, stdout.Text, stderr.Text, timedOut, stdout.Truncated || stderr.Truncated, clock.Elapsed);
    }

    private static void Kill(Process process, SandboxLaunch launch)
    {
        try
        {
            // bwrap: its pid-1 dies with it (--die-with-parent) and takes the whole PID namespace along.
            process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or Win32Exception or NotSupportedException)
        {
            // Already gone.
        }

        try
        {
            // A container outlives its CLI; the backend stops it by name.
            launch.Stop?.Invoke();
        }
        catch (Exception e) when (e is InvalidOperationException or Win32Exception or IOException)
        {
            // The container's own --rm and the engine's cleanup remain; nothing more can be done here.
        }

        process.WaitForExit((int)KillGrace.TotalMilliseconds);
    }

    private sealed class CappedCapture
    {
        private readonly int _cap;
        private readonly ArrayBufferWriter<byte> _kept = new();

        public CappedCapture(int cap) => _cap = cap;

        public bool Truncated { get; private set; }

        public string Text
        {
            get
            {
                lock (_kept)
                {
                    return Encoding.UTF8.GetString(_kept.WrittenSpan);
                }
            }
        }

        public async Task DrainAsync(Stream source)
        {
            var buffer = new byte[16 * 1024];
            try
            {
                int n;
                while ((n = await source.ReadAsync(buffer).ConfigureAwait(false)) > 0)
                {
                    lock (_kept)
                    {
                        int keep = Math.Min(n, _cap - _kept.WrittenCount);
                        if (keep > 0)
                        {
                            _kept.Write(new ReadOnlySpan<byte>(buffer, 0, keep));
                        }

                        Truncated |= keep < n;
                    }
                }
            }
            catch (IOException)
            {
                // The pipe broke because the process tree was killed: what was read so far is the output.
            }
        }
    }
}
