using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using ModelSecurity.Analysis;
using ModelSecurity.Formats;

namespace ModelSecurity.Tests;

/// <summary>One row of the shared corpus's MANIFEST.tsv.</summary>
internal sealed record CorpusEntry(string RelativePath, long Bytes, string Format, string Label, string Note)
{
    public string FileName => Path.GetFileName(RelativePath);

    public bool IsBenign => Label == "benign";
}

/// <summary>What scanning one corpus file gave: a result, or the exception that escaped.</summary>
internal sealed record CorpusScan(CorpusEntry Entry, string FullPath, ModelScanResult? Result, Exception? Error);

/// <summary>
/// The third-party corpus in <c>../shared/corpus</c> beside the repository. Its files are only ever
/// read as bytes by the scanner; none is loaded, unpickled or executed, and none is copied here.
/// </summary>
internal static class Corpus
{
    public const string NotFoundMessage = "../shared/corpus not found: corpus tests need the shared folder beside the repository";

    private static readonly Lazy<string?> Folder = new(Locate);
    private static readonly Lazy<List<CorpusScan>> Scans = new(ScanAll);

    /// <summary>Full path of the corpus folder, or null when it is not beside the repository.</summary>
    public static string? Directory => Folder.Value;

    /// <summary>Every manifest row with the scanner's result, scanned once per test run.</summary>
    public static IReadOnlyList<CorpusScan> All => Scans.Value;

    public static IReadOnlyList<CorpusEntry> ReadManifest(string corpus)
    {
        var entries = new List<CorpusEntry>();
        foreach (string line in File.ReadLines(Path.Combine(corpus, "MANIFEST.tsv")).Skip(1))
        {
            if (line.Length == 0)
            {
                continue;
            }

            // relpath, sha256, bytes, format, source_repo, source_path, source_commit, label, note
            string[] columns = line.Split('\t');
            entries.Add(new CorpusEntry(
                columns[0],
                long.Parse(columns[2], CultureInfo.InvariantCulture),
                columns[3],
                columns[7],
                columns.Length > 8 ? columns[8] : string.Empty));
        }

        return entries;
    }

    private static string? Locate()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "ModelSecurity.psd1")))
            {
                string corpus = Path.GetFullPath(Path.Combine(folder.FullName, "..", "shared", "corpus"));
                return File.Exists(Path.Combine(corpus, "MANIFEST.tsv")) ? corpus : null;
            }
        }

        return null;
    }

    private static List<CorpusScan> ScanAll()
    {
        string corpus = Directory ?? throw new InvalidOperationException(NotFoundMessage);
        var scans = new List<CorpusScan>();
        foreach (CorpusEntry entry in ReadManifest(corpus))
        {
            string path = Path.Combine(corpus, entry.RelativePath.Replace('/', Path.DirectorySeparatorChar));
            try
            {
                scans.Add(new CorpusScan(entry, path, ModelScanner.Scan(path, CancellationToken.None), null));
            }
#pragma warning disable CA1031 // Any exception is a failure to report with its file, not to stop the other files.
            catch (Exception e)
#pragma warning restore CA1031
            {
                scans.Add(new CorpusScan(entry, path, null, e));
            }
        }

        return scans;
    }
}

/// <summary>
/// The formats each corpus file may be detected as: the manifest's format column (decided by magic
/// bytes), narrowed by where the file comes from, its name, its first bytes and the manifest note.
/// Strict on purpose: a file under <c>onnx/</c> must be ONNX, not "some protobuf".
/// </summary>
internal static class CorpusExpectations
{
    private static readonly ModelFormat[] Protobufs =
    {
        ModelFormat.Onnx, ModelFormat.TensorFlowSavedModel, ModelFormat.TensorFlowGraphDef, ModelFormat.TensorFlowMetadata, ModelFormat.CoreML,
    };

    // torch.save's legacy format opens with a pickle of its MAGIC_NUMBER (formats.md 4.2).
    private static readonly byte[] TorchLegacyMagic = { 0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19 };

    // picklescan's zips whose one member is a root-level data.pkl: the member torch.load's zip reader looks for.
    private static readonly HashSet<string> DataPklZips = new(StringComparer.Ordinal)
    {
        "tests__data__malicious1.zip",
        "tests__data2__malicious1_crc.zip",
        "tests__data__malicious1_central_directory.zip",
    };

    /// <summary>The acceptable formats; empty when the manifest row has no mapping (itself a failure).</summary>
    public static IReadOnlyCollection<ModelFormat> For(CorpusEntry entry, string fullPath)
    {
        string path = entry.RelativePath;
        string name = entry.FileName;
        if (path.StartsWith("onnx/", StringComparison.Ordinal))
        {
            return new[] { ModelFormat.Onnx };
        }

        if (path.StartsWith("tensorflow/", StringComparison.Ordinal))
        {
            if (name.EndsWith("saved_model.pb", StringComparison.Ordinal))
            {
                return new[] { ModelFormat.TensorFlowSavedModel };
            }

            if (name.EndsWith("fingerprint.pb", StringComparison.Ordinal)
                || name.EndsWith("keras_metadata.pb", StringComparison.Ordinal)
                || name.EndsWith("variables.index", StringComparison.Ordinal))
            {
                return new[] { ModelFormat.TensorFlowMetadata };
            }

            if (name.Contains("variables.data-", StringComparison.Ordinal))
            {
                // Raw tensor bytes, read only through variables.index: no format of their own.
                return new[] { ModelFormat.Unknown };
            }
        }

        return entry.Format switch
        {
            "gguf" => new[] { ModelFormat.Gguf },
            "ggml" => new[] { ModelFormat.Ggml },
            "safetensors" => new[] { ModelFormat.SafeTensors },
            "npy" => new[] { ModelFormat.NumPy },
            "hdf5" => new[] { ModelFormat.Hdf5 },
            "zip" => Zip(path, name),
            "pickle" or "pickle(proto0/1)" => Pickle(entry, fullPath),
            "gzip" => new[] { ModelFormat.Gzip },
            "bzip2" => new[] { ModelFormat.Bzip2 },
            "xz" => new[] { ModelFormat.Xz },
            "lzma" => new[] { ModelFormat.Lzma },
            "lz4" => new[] { ModelFormat.Lz4 },
            "7z" => new[] { ModelFormat.SevenZip },

            // The corpus's one tar holds a config and weights: neither torch's nor NeMo's members.
            "tar" => name.EndsWith(".nemo", StringComparison.Ordinal) ? new[] { ModelFormat.NeMo } : new[] { ModelFormat.Tar },
            "joblib-zfile(zlib)" => new[] { ModelFormat.Zlib },
            "png" => new[] { ModelFormat.Image },
            "json/text" => Text(name),
            "protobuf?" => Protobufs,
            "unknown" => Unknown(entry),
            _ => Array.Empty<ModelFormat>(),
        };
    }

    private static ModelFormat[] Zip(string path, string name)
    {
        if (path.StartsWith("numpy/", StringComparison.Ordinal))
        {
            return new[] { ModelFormat.NumPyArchive };
        }

        if (path.StartsWith("pytorch/", StringComparison.Ordinal) || DataPklZips.Contains(name))
        {
            return new[] { ModelFormat.PyTorchZip };
        }

        return Path.GetExtension(name) switch
        {
            ".keras" => new[] { ModelFormat.Keras },
            ".skops" => new[] { ModelFormat.Skops },
            _ => new[] { ModelFormat.Zip },
        };
    }

    private static ModelFormat[] Pickle(CorpusEntry entry, string fullPath)
    {
        if (StartsWith(fullPath, TorchLegacyMagic))
        {
            return new[] { ModelFormat.PyTorchLegacy };
        }

        // The manifest note lists each pickle's imports; joblib's array wrapper marks a joblib dump.
        return entry.Note.Contains("joblib.numpy_pickle.", StringComparison.Ordinal)
            ? new[] { ModelFormat.Joblib }
            : new[] { ModelFormat.Pickle };
    }

    private static ModelFormat[] Text(string name) => Path.GetExtension(name) switch
    {
        ".json" => new[] { ModelFormat.Json },
        ".j2" or ".jinja" or ".template" => new[] { ModelFormat.JinjaTemplate },
        ".yaml" or ".yml" => new[] { ModelFormat.Yaml },
        _ => new[] { ModelFormat.Json, ModelFormat.Yaml, ModelFormat.JinjaTemplate, ModelFormat.Text },
    };

    private static ModelFormat[] Unknown(CorpusEntry entry)
    {
        string extension = Path.GetExtension(entry.FileName);
        if (extension is ".yaml" or ".yml")
        {
            return new[] { ModelFormat.Yaml };
        }

        // joblib 0.10's compressed pickles are bare zlib streams; the note shows the pickle inside "<zlib>".
        if (entry.Note.Contains("<zlib>", StringComparison.Ordinal))
        {
            return new[] { ModelFormat.Zlib };
        }

        // burn's broken.pt is the three bytes "abc".
        if (entry.Bytes == 3 && entry.FileName.EndsWith("broken.pt", StringComparison.Ordinal))
        {
            return new[] { ModelFormat.Text };
        }

        return Array.Empty<ModelFormat>();
    }

    private static bool StartsWith(string path, byte[] prefix)
    {
        byte[] head = new byte[prefix.Length];
        using FileStream stream = File.OpenRead(path);
        int read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return read == prefix.Length && head.AsSpan().SequenceEqual(prefix);
    }
}
