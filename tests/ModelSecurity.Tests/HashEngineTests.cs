using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using ModelSecurity.Integrity;
using Xunit;

namespace ModelSecurity.Tests;

/// <summary>The hashing engine, the scheduler and the hash cache, without PowerShell.</summary>
public sealed class HashEngineTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "ms-hash-" + Guid.NewGuid().ToString("N"));

    public HashEngineTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Compute_GivesSha256Sha512AndGitBlobIdInOnePass()
    {
        string file = Write("hello.txt", Encoding.ASCII.GetBytes("Hello, World!"));

        FileDigests digests = HashEngine.Compute(file, DigestKinds.Sha256 | DigestKinds.Sha512 | DigestKinds.GitBlobSha1, CancellationToken.None);

        Assert.Equal("dffd6021bb2bd5b0af676290809ec3a53191dd81c7f70a4b28688a362182986f", digests.Sha256);
        Assert.Equal(Convert.ToHexString(SHA512.HashData(Encoding.ASCII.GetBytes("Hello, World!"))).ToLowerInvariant(), digests.Sha512);
        // huggingface_hub's git_hash("Hello, World!") (formats.md §6.1).
        Assert.Equal("b45ef6fec89518d314f546fd6c3025367b721684", digests.GitBlobSha1);
        Assert.Equal(13, digests.Length);
        Assert.False(digests.FromCache);
    }

    [Fact]
    public void Compute_FileLargerThanTheBuffer_HashesEveryByte()
    {
        byte[] content = new byte[(3 * HashEngine.BufferSize) + 17];
        new Random(7).NextBytes(content);
        string file = Write("big.bin", content);

        FileDigests digests = HashEngine.Compute(file, DigestKinds.Sha256 | DigestKinds.GitBlobSha1, CancellationToken.None);

        Assert.Equal(CacheBuilder.Sha256(content), digests.Sha256);
        Assert.Equal(CacheBuilder.GitBlobSha1(content), digests.GitBlobSha1);
        Assert.Null(digests.Sha512);
    }

    [Fact]
    public void Compute_CancelledMidFile_StopsAtTheNextBuffer()
    {
        string file = Write("big.bin", new byte[8 * HashEngine.BufferSize]);
        using var cancellation = new CancellationTokenSource();
        long read = 0;

        Assert.ThrowsAny<OperationCanceledException>(() => HashEngine.Compute(file, DigestKinds.Sha256, cancellation.Token, n =>
        {
            read += n;
            cancellation.Cancel();
        }));

        Assert.Equal(HashEngine.BufferSize, read);
    }

    [Fact]
    public async Task Scheduler_HashesInParallel_AndReadsAFileReachedTwiceOnce()
    {
        var contents = Enumerable.Range(0, 12).Select(i => Encoding.ASCII.GetBytes(new string((char)('a' + i), 1000 + i))).ToArray();
        string[] files = contents.Select((c, i) => Write($"f{i}.bin", c)).ToArray();
        string link = Path.Combine(_folder, "link.bin");
        File.CreateSymbolicLink(link, files[0]);
        using var scheduler = new HashScheduler(4, cache: null, CancellationToken.None);

        Task<FileDigests>[] tasks = files.Select(f => scheduler.Hash(f, DigestKinds.Sha256)).ToArray();
        Task<FileDigests> again = scheduler.Hash(link, DigestKinds.Sha256);

        FileDigests[] results = await Task.WhenAll(tasks);
        Assert.Same(tasks[0], again);
        for (int i = 0; i < files.Length; i++)
        {
            Assert.Equal(CacheBuilder.Sha256(contents[i]), results[i].Sha256);
        }

        Assert.Equal(contents.Sum(c => (long)c.Length), scheduler.BytesHashed);
    }

    [Fact]
    public async Task Scheduler_MissingFile_FaultsWithFileNotFound()
    {
        using var scheduler = new HashScheduler(1, cache: null, CancellationToken.None);

        Task<FileDigests> task = scheduler.Hash(Path.Combine(_folder, "absent.bin"), DigestKinds.Sha256);

        await Assert.ThrowsAsync<FileNotFoundException>(() => task);
    }

    [Fact]
    public void Cache_HitsForAnUnchangedFile_AndMissesAfterSizeOrTimeChanges()
    {
        string cacheFolder = Path.Combine(_folder, "cache");
        string file = Write("model.bin", Encoding.ASCII.GetBytes("first content"));

        FileDigests first = HashOnce(cacheFolder, file);
        FileDigests second = HashOnce(cacheFolder, file);
        Assert.False(first.FromCache);
        Assert.True(second.FromCache);
        Assert.Equal(first.Sha256, second.Sha256);

        // Same length, new bytes, and the old modification time put back: the change time still moves.
        DateTime mtime = File.GetLastWriteTimeUtc(file);
        File.WriteAllBytes(file, Encoding.ASCII.GetBytes("other content"));
        File.SetLastWriteTimeUtc(file, mtime);
        FileDigests third = HashOnce(cacheFolder, file);
        Assert.False(third.FromCache);
        Assert.Equal(CacheBuilder.Sha256(Encoding.ASCII.GetBytes("other content")), third.Sha256);

        File.AppendAllText(file, "!");
        FileDigests fourth = HashOnce(cacheFolder, file);
        Assert.False(fourth.FromCache);
        Assert.Equal(14, fourth.Length);
    }

    [Fact]
    public void Cache_NotConsulted_WhenUseCacheIsFalse_ButStillUpdated()
    {
        string cacheFolder = Path.Combine(_folder, "cache");
        string file = Write("model.bin", Encoding.ASCII.GetBytes("content"));
        HashOnce(cacheFolder, file);

        FileDigests forced = HashOnce(cacheFolder, file, useCache: false);

        Assert.False(forced.FromCache);
        Assert.True(HashOnce(cacheFolder, file).FromCache);
    }

    [Fact]
    public void Cache_SurvivesTheProcess_IsWrittenAtomically_AndAnotherKindIsAMiss()
    {
        string cacheFolder = Path.Combine(_folder, "cache");
        string file = Write("model.bin", Encoding.ASCII.GetBytes("content"));
        HashOnce(cacheFolder, file);
        HashCache.Open(cacheFolder).Clear();

        // Clear forgot the memory; Open reads the file written by Save.
        Assert.True(HashOnce(cacheFolder, file).FromCache);
        Assert.Equal(new[] { HashCache.FileName }, Directory.GetFiles(cacheFolder).Select(Path.GetFileName));
        Assert.False(HashOnce(cacheFolder, file, kinds: DigestKinds.Sha512).FromCache);
        Assert.True(HashOnce(cacheFolder, file, kinds: DigestKinds.Sha512 | DigestKinds.Sha256).FromCache);
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("{\"format\":\"modelsecurity-hash-cache/1\",\"entries\":{\"/x\":{\"length\":\"1\"}}}")]
    [InlineData("{\"format\":\"something-else\",\"entries\":{}}")]
    [InlineData("{\"format\":\"modelsecurity-hash-cache/1\",\"entries\":[1,2,3]}")]
    public void Cache_DamagedFile_IsIgnoredAndReplaced(string damaged)
    {
        string cacheFolder = Path.Combine(_folder, "cache-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(cacheFolder);
        File.WriteAllText(Path.Combine(cacheFolder, HashCache.FileName), damaged);
        string file = Write("model.bin", Encoding.ASCII.GetBytes("content"));

        Assert.False(HashOnce(cacheFolder, file).FromCache);
        HashCache.Open(cacheFolder).Clear();
        Assert.True(HashOnce(cacheFolder, file).FromCache);
    }

    [Fact]
    public void Cache_ForgedEntryForAnotherStamp_IsNotUsed()
    {
        string cacheFolder = Path.Combine(_folder, "cache");
        string file = Write("model.bin", Encoding.ASCII.GetBytes("content"));
        FileStamp stamp = FileStamp.Read(file);
        HashCache cache = HashCache.Open(cacheFolder);

        cache.Put(stamp with { LastWriteTicks = stamp.LastWriteTicks + 1 }, new FileDigests(stamp.Length) { Sha256 = new string('0', 64) });

        Assert.Null(cache.TryGet(stamp, DigestKinds.Sha256));
    }

    [Fact]
    public void FileStamp_FollowsLinks_AndAReplacedFileHasAnotherIdentity()
    {
        string file = Write("model.bin", Encoding.ASCII.GetBytes("content"));
        string link = Path.Combine(_folder, "link.bin");
        File.CreateSymbolicLink(link, file);

        FileStamp viaLink = FileStamp.Read(link);
        FileStamp direct = FileStamp.Read(file);
        Assert.Equal(direct, viaLink);
        Assert.Equal(Path.GetFullPath(file), viaLink.Path);

        if (OperatingSystem.IsLinux() || OperatingSystem.IsWindows())
        {
            Assert.NotNull(direct.FileId);
            string replacement = Write("new.bin", Encoding.ASCII.GetBytes("CONTENT"));
            File.SetLastWriteTimeUtc(replacement, File.GetLastWriteTimeUtc(file));
            File.Move(replacement, file, overwrite: true);
            FileStamp replaced = FileStamp.Read(file);
            Assert.Equal(direct.Length, replaced.Length);
            Assert.Equal(direct.LastWriteTicks, replaced.LastWriteTicks);
            Assert.NotEqual(direct.FileId, replaced.FileId);
        }
    }

    private static FileDigests HashOnce(string cacheFolder, string file, bool useCache = true, DigestKinds kinds = DigestKinds.Sha256)
    {
        HashCache cache = HashCache.Open(cacheFolder);
        FileDigests digests;
        using (var scheduler = new HashScheduler(2, cache, CancellationToken.None))
        {
            digests = scheduler.Hash(file, kinds, useCache).GetAwaiter().GetResult();
        }

        cache.Save();
        return digests;
    }

    private string Write(string name, byte[] content)
    {
        string path = Path.Combine(_folder, name);
        File.WriteAllBytes(path, content);
        return path;
    }
}
