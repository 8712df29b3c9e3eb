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
/// the program never blocks on a full pipe), writes its standard input on a task of its own (so a program
/// that does not read cannot block the run), and on timeout or Ctrl+C kills the whole process tree.
/// </summary>
internal static class SandboxProcess
{
    // After a kill, how long to wait for the tree to go and the pipes to close before giving up on them.
    private static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(5);

    // How often a step of standard input that waits for an answer looks at the output again.
    private static readonly TimeSpan AnswerPoll = TimeSpan.FromMilliseconds(25);

    public static SandboxRun Run(SandboxLaunch launch, int maxOutputBytes, TimeSpan timeout, CancellationToken cancel, StandardInputScript? input = null)
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

        var stdout = new CappedCapture(maxOutputBytes);
        var stderr = new CappedCapture(maxOutputBytes);
        Task readOut = stdout.DrainAsync(process.StandardOutput.BaseStream);
        Task readErr = stderr.DrainAsync(process.StandardError.BaseStream);

        bool timedOut = false;
        bool cancelled = false;
        Task feed = Task.CompletedTask;
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel))
        {
            deadline.CancelAfter(timeout);
            if (input is null)
            {
                // The program gets an empty standard input, never the caller's console.
                process.StandardInput.Close();
            }
            else
            {
                Stream stdin = process.StandardInput.BaseStream;
                CancellationToken token = deadline.Token;
                feed = Task.Run(() => Feed(process, stdin, input, stdout, token), CancellationToken.None);
            }

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

            // The writer ends with the process (a broken pipe) or with the deadline; it is never waited on for long.
            feed.Wait(KillGrace);
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

    private static void Feed(Process process, Stream stdin, StandardInputScript script, CappedCapture stdout, CancellationToken token)
    {
        try
        {
            foreach (StandardInputStep step in script.Steps)
            {
                foreach (string line in step.Lines)
                {
                    byte[] bytes = Encoding.UTF8.GetBytes(line + "\n");
                    stdin.Write(bytes, 0, bytes.Length);
                }

                stdin.Flush();
                if (step.WaitUntil is not null && !WaitForAnswer(process, step.WaitUntil, stdout, token))
                {
                    // No answer in time, or the program is gone: the rest is not sent, and input ends here.
                    break;
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The program exited or stopped reading (broken pipe): what it did not read is dropped.
        }
        finally
        {
            try
            {
                stdin.Close();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // Already broken.
            }
        }
    }

    private static bool WaitForAnswer(Process process, Func<string, bool> answered, CappedCapture stdout, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        long seen = -1;
        while (!token.IsCancellationRequested && clock.Elapsed < StandardInputScript.StepWait)
        {
            long written = stdout.Received;
            if (written != seen)
            {
                seen = written;
                if (answered(stdout.Text))
                {
                    return true;
                }
            }

            if (process.HasExited)
            {
                return false;
            }

            token.WaitHandle.WaitOne(AnswerPoll);
        }

        return false;
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
        private long _received;

        public CappedCapture(int cap) => _cap = cap;

        public bool Truncated { get; private set; }

        /// <summary>Bytes read so far, kept or not: changes whenever the program wrote more.</summary>
        public long Received
        {
            get
            {
                lock (_kept)
                {
                    return _received;
                }
            }
        }

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
                        _received += n;
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
