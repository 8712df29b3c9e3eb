using System;
using System.IO;
using ModelSecurity.Analysis;
using Xunit;

namespace ModelSecurity.Tests;

/// <summary>Whatever goes wrong while reading, one file gets Inconclusive with a finding; nothing escapes.</summary>
public class ScannerFailureTests
{
    [Theory]
    [InlineData(typeof(IOException), RuleIds.FileUnreadable)]
    [InlineData(typeof(UnauthorizedAccessException), RuleIds.FileUnreadable)]
    [InlineData(typeof(InvalidOperationException), RuleIds.AnalysisFailed)]
    [InlineData(typeof(IndexOutOfRangeException), RuleIds.AnalysisFailed)]
    public void ExceptionWhileReading_IsInconclusiveWithAFinding(Type exceptionType, string expectedRule)
    {
        var failure = (Exception)Activator.CreateInstance(exceptionType, "failure injected by the test")!;
        using var stream = new FailingStream(failure);

        ModelScanResult result = ModelScanner.Scan("model.gguf", stream);

        Assert.Equal(ScanVerdict.Inconclusive, result.Verdict);
        ModelFinding finding = Assert.Single(result.Findings);
        Assert.Equal(expectedRule, finding.RuleId);
        Assert.Contains("failure injected by the test", finding.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Cancellation_IsNotSwallowed()
    {
        using var stream = new FailingStream(new OperationCanceledException());

        Assert.Throws<OperationCanceledException>(() => ModelScanner.Scan("model.gguf", stream));
    }

    [Fact]
    public void FileThatCannotBeOpened_IsInconclusiveFileUnreadable()
    {
        string directory = Path.Combine(Path.GetTempPath(), "ms-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            // A folder where a file is expected cannot be opened for reading.
            ModelScanResult result = ModelScanner.Scan(directory, System.Threading.CancellationToken.None);

            Assert.Equal(ScanVerdict.Inconclusive, result.Verdict);
            Assert.Equal(RuleIds.FileUnreadable, Assert.Single(result.Findings).RuleId);
        }
        finally
        {
            Directory.Delete(directory);
        }
    }

    private sealed class FailingStream : Stream
    {
        private readonly Exception _failure;

        public FailingStream(Exception failure) => _failure = failure;

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => 4096;

        public override long Position { get; set; }

        public override int Read(byte[] buffer, int offset, int count) => throw _failure;

        public override long Seek(long offset, SeekOrigin origin) => Position = offset;

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
