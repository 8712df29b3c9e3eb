using System.Collections.Generic;
using System.Collections.Specialized;
using ModelSecurity.Formats;

namespace ModelSecurity.Analysis;

/// <summary>What <c>Test-ModelFile</c> reports for one file.</summary>
public sealed class ModelScanResult : IModelFileReference
{
    internal ModelScanResult(
        string path,
        ModelFormat format,
        ScanVerdict verdict,
        IReadOnlyList<ModelFinding> findings,
        OrderedDictionary metadata,
        long length,
        long bytesRead)
    {
        Path = path;
        Format = format;
        Verdict = verdict;
        Findings = findings;
        Metadata = metadata;
        Length = length;
        BytesRead = bytesRead;
    }

    /// <summary>Full file-system path of the file.</summary>
    public string Path { get; }

    /// <summary>File name, for tables.</summary>
    public string Name => System.IO.Path.GetFileName(Path);

    /// <summary>The format the content is, decided from its bytes (never from its name).</summary>
    public ModelFormat Format { get; }

    /// <summary>Overall judgement: the worst verdict any finding forces, Clean only when fully analysed.</summary>
    public ScanVerdict Verdict { get; }

    /// <summary>Everything found, most severe first.</summary>
    public IReadOnlyList<ModelFinding> Findings { get; }

    /// <summary>What the format declares about itself (architecture, name, tensor count, pickle globals...).</summary>
    public OrderedDictionary Metadata { get; }

    /// <summary>File size in bytes.</summary>
    public long Length { get; }

    /// <summary>Bytes actually read to reach the verdict (headers, not tensor payloads).</summary>
    public long BytesRead { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Verdict} {Format} {Path}";
}
