using System;
using System.IO;
using ModelSecurity.Formats;
using Xunit;

namespace ModelSecurity.Tests;

public class ModelFileSourceTests
{
    [Fact]
    public void BytesRead_CountsEachByteOnce()
    {
        using var source = new ModelFileSource(new MemoryStream(new byte[1000]));

        source.ReadBlock(0, 100);
        source.ReadBlock(50, 100);
        source.ReadBlock(0, 150);
        source.ReadBlock(500, 10);
        source.ReadBlock(140, 400);

        Assert.Equal(540, source.BytesRead);
    }

    [Fact]
    public void ReadBlock_StopsAtTheEnd_AndIsEmptyOutsideTheFile()
    {
        using var source = new ModelFileSource(new MemoryStream(new byte[10]));

        Assert.Equal(4, source.ReadBlock(6, 100).Length);
        Assert.Empty(source.ReadBlock(10, 1));
        Assert.Empty(source.ReadBlock(-1, 1));
        Assert.Empty(source.ReadBlock(0, 0));
        Assert.Equal(4, source.BytesRead);
    }

    [Fact]
    public void Sniffing_AWholeSmallFile_ReadsNoMoreThanTheFile()
    {
        byte[] zip = Fixtures.Get("zip-pytorch").Bytes;
        using var source = new ModelFileSource(new MemoryStream(zip));

        FormatDetector.Detect(new SniffContext(source));

        Assert.Equal(zip.Length, source.BytesRead);
    }

    [Fact]
    public void NonSeekableStream_IsRejected()
    {
        using var pipe = new NonSeekableStream();

        Assert.Throws<ArgumentException>(() => new ModelFileSource(pipe));
    }

    private sealed class NonSeekableStream : MemoryStream
    {
        public override bool CanSeek => false;
    }
}
