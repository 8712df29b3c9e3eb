using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using ModelSecurity.Integrity;
using Xunit;

namespace ModelSecurity.Tests;

/// <summary>
/// The hash cache under several writers at once: runspaces of one process (ForEach-Object -Parallel)
/// share one instance; separate processes (Start-Job, scheduled audits that overlap) each have their
/// own instance on the same file. Neither may throw, leave a damaged or half-written file, or hand back
/// a digest recorded for another file.
/// </summary>
public sealed class HashCacheConcurrencyTests : IDisposable
{
    private const int Writers = 8;
    private const int EntriesPerWriter = 150;

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "ms-cache-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public void SharedInstance_ManyThreadsPutGetOpenAndSave_KeepsEveryEntry()
    {
        var errors = new ConcurrentQueue<Exception>();
        Parallel.For(0, Writers, new ParallelOptions { MaxDegreeOfParallelism = Writers }, writer =>
        {
            try
            {
                HashCache cache = HashCache.Open(_folder);
                for (int i = 0; i < EntriesPerWriter; i++)
                {
                    FileStamp stamp = Stamp(writer, i);
                    cache.Put(stamp, Digests(stamp));
                    Assert.Equal(Sha256(stamp), cache.TryGet(stamp, DigestKinds.Sha256)?.Sha256);
                    if (i % 10 == 9)
                    {
                        cache.Save();
                    }

                    if (i % 25 == 24)
                    {
                        // Each cmdlet call opens the cache again, which re-reads a file another call rewrote.
                        cache = HashCache.Open(_folder);
                    }
                }

                cache.Save();
            }
            catch (Exception e)
            {
                errors.Enqueue(e);
            }
        });

        Assert.Empty(errors);
        HashCache reread = HashCache.OpenUnshared(_folder);
        for (int writer = 0; writer < Writers; writer++)
        {
            for (int i = 0; i < EntriesPerWriter; i++)
            {
                FileStamp stamp = Stamp(writer, i);
                Assert.Equal(Sha256(stamp), reread.TryGet(stamp, DigestKinds.Sha256)?.Sha256);
            }
        }

        Assert.Empty(Directory.GetFiles(_folder, "*.tmp"));
    }

    [Fact]
    public async Task SeparateInstances_SavingAtOnce_NeverLeaveAHalfWrittenFileOrAWrongDigest()
    {
        var errors = new ConcurrentQueue<Exception>();
        using var done = new CancellationTokenSource();
        int reads = 0;

        // A reader that parses the file the whole time: the rename must make every version whole.
        using var started = new ManualResetEventSlim();
        Task reader = Task.Factory.StartNew(
            () =>
        {
            string path = Path.Combine(_folder, HashCache.FileName);
            started.Set();
            while (!done.IsCancellationRequested)
            {
                try
                {
                    byte[] bytes = File.ReadAllBytes(path);
                    using JsonDocument document = JsonDocument.Parse(bytes);
                    Assert.Equal("modelsecurity-hash-cache/1", document.RootElement.GetProperty("format").GetString());
                    Interlocked.Increment(ref reads);
                }
                catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException || (e is IOException && OperatingSystem.IsWindows()))
                {
                    // Not written yet, or (Windows) replaced while being opened: both are what ReadFile tolerates.
                }
                catch (Exception e)
                {
                    errors.Enqueue(e);
                    return;
                }
            }
        },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        // On two cores the writers can otherwise take every pool thread before the reader starts.
        Assert.True(started.Wait(HangGuard.Limit), "the reader did not start");
        Parallel.For(0, Writers, new ParallelOptions { MaxDegreeOfParallelism = Writers }, writer =>
        {
            try
            {
                // One instance per "process": nothing is shared but the file.
                HashCache cache = HashCache.OpenUnshared(_folder);
                for (int i = 0; i < EntriesPerWriter; i++)
                {
                    FileStamp stamp = Stamp(writer, i);
                    cache.Put(stamp, Digests(stamp));
                    if (i % 5 == 4)
                    {
                        cache.Save();
                    }
                }

                cache.Save();
            }
            catch (Exception e)
            {
                errors.Enqueue(e);
            }
        });

        // The last version written must be read whole too, however the threads were scheduled.
        SpinWait.SpinUntil(() => Volatile.Read(ref reads) > 0 || !errors.IsEmpty, HangGuard.Limit);
        done.Cancel();
        await reader.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Empty(errors);
        Assert.True(reads > 0, "the reader never saw the file");
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp"));

        // Writers that overlap may drop each other's newest entries (the cache is an optimisation, so
        // a lost entry costs one re-hash); what is there must be whole and belong to its file.
        HashCache reread = HashCache.OpenUnshared(_folder);
        int found = 0;
        for (int writer = 0; writer < Writers; writer++)
        {
            for (int i = 0; i < EntriesPerWriter; i++)
            {
                FileStamp stamp = Stamp(writer, i);
                if (reread.TryGet(stamp, DigestKinds.Sha256) is FileDigests digests)
                {
                    Assert.Equal(Sha256(stamp), digests.Sha256);
                    Assert.Equal(stamp.Length, digests.Length);
                    found++;
                }

                // A stamp that differs in any part never gets this file's digest.
                Assert.Null(reread.TryGet(stamp with { ChangeTicks = stamp.ChangeTicks + 1 }, DigestKinds.Sha256));
            }
        }

        Assert.True(found >= EntriesPerWriter, $"only {found} entries survived; the last writer's alone are {EntriesPerWriter}");
    }

    private static FileStamp Stamp(int writer, int index) =>
        new($"/models/writer{writer}/file{index}.safetensors", 1000 + index, 638_000_000_000_000_000 + index, 638_000_000_000_000_001 + index, $"2049:{(writer * 10_000) + index}");

    private static string Sha256(FileStamp stamp) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(stamp.Path))).ToLowerInvariant();

    private static FileDigests Digests(FileStamp stamp) => new(stamp.Length) { Sha256 = Sha256(stamp) };
}
