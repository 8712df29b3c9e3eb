using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace ModelSecurity.Integrity;

/// <summary>
/// Hashes files on a fixed number of worker threads (one file per core by default), consulting the
/// hash cache first. A file asked for twice in one run (a Hugging Face blob reached through its blob
/// path and its snapshot link) is read once. Nothing here touches PowerShell: callers collect the
/// tasks and write results from their own thread.
/// </summary>
internal sealed class HashScheduler : IDisposable
{
    private readonly BlockingCollection<Job> _queue = new();
    private readonly Dictionary<(string, DigestKinds), Task<FileDigests>> _known = new();
    private readonly HashCache? _cache;
    private readonly CancellationToken _cancellation;
    private readonly Thread[] _workers;
    private long _bytesHashed;
    private long _bytesQueued;

    public HashScheduler(int degree, HashCache? cache, CancellationToken cancellation)
    {
        _cache = cache;
        _cancellation = cancellation;
        _workers = new Thread[Math.Max(1, degree)];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(Work) { IsBackground = true, Name = "ModelSecurity hash worker " + i };
            _workers[i].Start();
        }
    }

    /// <summary>Bytes read by the workers so far (for progress).</summary>
    public long BytesHashed => Interlocked.Read(ref _bytesHashed);

    /// <summary>Bytes of every file queued for reading so far (cache hits excluded).</summary>
    public long BytesQueued => Interlocked.Read(ref _bytesQueued);

    /// <summary>
    /// The digests of <paramref name="path"/> (links followed). Faults with <see cref="System.IO.FileNotFoundException"/>
    /// when it does not exist, <see cref="System.IO.IOException"/> or <see cref="UnauthorizedAccessException"/> when it cannot be read.
    /// </summary>
    public Task<FileDigests> Hash(string path, DigestKinds kinds, bool useCache = true)
    {
        FileStamp stamp;
        try
        {
            stamp = FileStamp.Read(path);
        }
        catch (Exception e) when (e is System.IO.IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return Task.FromException<FileDigests>(e);
        }

        lock (_known)
        {
            if (_known.TryGetValue((stamp.Path, kinds), out Task<FileDigests>? known))
            {
                return known;
            }

            if (useCache && _cache?.TryGet(stamp, kinds) is FileDigests cached)
            {
                Task<FileDigests> done = Task.FromResult(cached);
                _known[(stamp.Path, kinds)] = done;
                return done;
            }

            var job = new Job(stamp, kinds);
            _known[(stamp.Path, kinds)] = job.Completion.Task;
            Interlocked.Add(ref _bytesQueued, stamp.Length);
            _queue.Add(job);
            return job.Completion.Task;
        }
    }

    public void Dispose()
    {
        _queue.CompleteAdding();
        foreach (Thread worker in _workers)
        {
            // Workers stop at the next buffer once cancelled; a short join keeps Dispose from hanging a pipeline.
            worker.Join(TimeSpan.FromSeconds(5));
        }

        _queue.Dispose();
    }

    private void Work()
    {
        foreach (Job job in _queue.GetConsumingEnumerable())
        {
            if (_cancellation.IsCancellationRequested)
            {
                job.Completion.TrySetCanceled(_cancellation);
                continue;
            }

            try
            {
                FileDigests digests = HashEngine.Compute(job.Stamp.Path, job.Kinds, _cancellation, read => Interlocked.Add(ref _bytesHashed, read));

                // Cache only what was read from an unchanged file: a stamp that moved during the read proves nothing.
                if (_cache is not null && FileStamp.Read(job.Stamp.Path) == job.Stamp)
                {
                    _cache.Put(job.Stamp, digests);
                }

                job.Completion.TrySetResult(digests);
            }
            catch (OperationCanceledException)
            {
                job.Completion.TrySetCanceled(_cancellation);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // On a worker thread an escaping exception would end the process: it belongs to the file's task.
                job.Completion.TrySetException(e);
            }
        }
    }

    private sealed class Job
    {
        public Job(FileStamp stamp, DigestKinds kinds)
        {
            Stamp = stamp;
            Kinds = kinds;
        }

        public FileStamp Stamp { get; }

        public DigestKinds Kinds { get; }

        public TaskCompletionSource<FileDigests> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
