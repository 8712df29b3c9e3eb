using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using ModelSecurity.Analysis;
using PureHDF;

namespace ModelSecurity.Formats.Hdf5;

/// <summary>
/// HDF5 files (legacy Keras <c>.h5</c> models, Keras weights, plain data): the root group's
/// attributes are read with PureHDF and the Keras ones (<c>model_config</c>, <c>training_config</c>,
/// <c>keras_version</c>, <c>backend</c>) analysed by <see cref="KerasConfigAnalysis"/>. Nothing else
/// is opened: datasets (weights) are never read, and links are never followed, because PureHDF
/// resolves external links by opening the files they name. PureHDF reads through a stream over the
/// source with a byte budget, so a hostile structure costs bounded time; whatever it throws becomes
/// an Inconclusive finding.
/// </summary>
internal sealed class Hdf5Reader : IModelReader
{
    /// <summary>Bytes PureHDF may read from one file (headers, heaps and attribute values, never weights).</summary>
    public const long MaxReadBytes = 64L * 1024 * 1024;

    /// <summary>Root attributes examined.</summary>
    public const int MaxAttributes = 4096;

    /// <summary>Files at most this long are checked for being a signature followed by zeros.</summary>
    public const int MaxPlaceholderBytes = 64 * 1024;

    // The smallest superblock (version 0 with 8-byte addresses, root symbol table entry included).
    private const int MinSuperblockBytes = 96;

    private static readonly string[] ConfigAttributes = { "model_config", "training_config" };

    public void Read(ReadContext context)
    {
        long superblock = context.Match.Metadata.FirstOrDefault(m => m.Key == "Hdf5SuperblockOffset").Value is long offset ? offset : 0;
        if (IsPlaceholder(context.Source, superblock))
        {
            context.Report(RuleIds.Hdf5Placeholder, "Where the HDF5 superblock should be, and after it, the file holds only zero bytes: no group or attribute a loader could use.");
            return;
        }

        if (superblock + 8 < context.Source.Length)
        {
            byte[] version = context.Source.ReadBlock(superblock + 8, 1);
            if (version.Length == 1)
            {
                context.Scan.Metadata["Hdf5SuperblockVersion"] = (int)version[0];
            }
        }

        if (DeclaredEnd(context.Source, superblock) is { } end && end > context.Source.Length)
        {
            context.Report(RuleIds.Hdf5Unreadable, $"The superblock says the file ends at byte {end:N0}, but it has {context.Source.Length:N0}: the file is truncated, and objects past its end were not checked.");
        }

        var configs = new List<(string Name, string Json)>();
        var names = new List<string>();
        using var stream = new BudgetStream(new ModelFileSourceStream(context.Source, bufferSize: 8 * 1024), MaxReadBytes, context.CancellationToken)
        {
            Guard = new Hdf5StructureGuard(context.Source, LengthSize(context.Source, superblock)),
        };
        try
        {
            using var file = H5File.Open(stream, leaveOpen: true);
            foreach (IH5Attribute attribute in file.Attributes())
            {
                if (names.Count >= MaxAttributes)
                {
                    context.Report(RuleIds.Hdf5Unreadable, $"The root group has more than {MaxAttributes:N0} attributes; only the first were examined.");
                    break;
                }

                names.Add(attribute.Name);
                bool config = ConfigAttributes.Contains(attribute.Name, StringComparer.Ordinal);
                if (!config && attribute.Name is not ("keras_version" or "backend"))
                {
                    continue;
                }

                string? text = ReadString(attribute);
                if (text is null)
                {
                    context.Report(RuleIds.Hdf5Unreadable, $"The root attribute {attribute.Name} is not a single string ({attribute.Type.Class}), so it was not analysed.", $"attribute {attribute.Name}");
                }
                else if (config)
                {
                    configs.Add((attribute.Name, text));
                }
                else
                {
                    context.Scan.Metadata[attribute.Name == "backend" ? "KerasBackend" : "KerasVersion"] = PythonReferences.Clip(text, 40);
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw;
        }
#pragma warning disable CA1031 // PureHDF signals every structural problem with a plain Exception; any of them means "not readable".
        catch (Exception e) when (e is not StackOverflowException)
#pragma warning restore CA1031
        {
            string why = stream.BudgetSpent
                ? $"reading its structure passed the {MaxReadBytes:N0}-byte budget"
                : $"{e.GetType().Name}: {PythonReferences.Clip(e.Message, 200)}";
            context.Report(RuleIds.Hdf5Unreadable, $"The HDF5 structure could not be read ({why}), so a Keras model_config it may hold was not checked.");
        }

        if (names.Count > 0)
        {
            context.Scan.Metadata["Hdf5RootAttributes"] = string.Join(", ", names.Take(32)) + (names.Count > 32 ? ", ..." : string.Empty);
        }

        foreach ((string name, string json) in configs)
        {
            KerasConfigAnalysis.Analyze(context, json, $"attribute {name}");
        }
    }

    /// <summary>A scalar (or one-element) string attribute's value, or null when it is anything else.</summary>
    private static string? ReadString(IH5Attribute attribute)
    {
        if (attribute.Type.Class is not (H5DataTypeClass.String or H5DataTypeClass.VariableLength))
        {
            return null;
        }

        ulong[] dimensions = attribute.Space.Dimensions;
        ulong elements = 1;
        foreach (ulong dimension in dimensions)
        {
            elements = dimension == 0 ? 0 : elements > ulong.MaxValue / dimension ? ulong.MaxValue : elements * dimension;
        }

        if (elements != 1 || (attribute.Type.Class == H5DataTypeClass.String && attribute.Type.Size > KerasConfigAnalysis.MaxChars))
        {
            return null;
        }

        return dimensions.Length == 0 ? attribute.Read<string>() : attribute.Read<string[]>().FirstOrDefault();
    }

    /// <summary>Where the superblock says the file ends (base address + end-of-file address), or null when it cannot say.</summary>
    private static long? DeclaredEnd(ModelFileSource source, long superblock)
    {
        byte[] head = source.ReadBlock(superblock, 64);
        if (head.Length < 16)
        {
            return null;
        }

        int version = head[8];
        int offsetSize = version <= 1 ? head[13] : head[9];
        int fields = version switch { 0 => 24, 1 => 28, 2 or 3 => 12, _ => -1 };
        if (fields < 0 || offsetSize is not (2 or 4 or 8) || fields + 3 * offsetSize > head.Length)
        {
            return null;
        }

        ulong baseAddress = ReadAddress(head, fields, offsetSize);
        ulong endAddress = ReadAddress(head, fields + (2 * offsetSize), offsetSize);
        ulong undefined = offsetSize == 8 ? ulong.MaxValue : (1UL << (offsetSize * 8)) - 1;
        if (endAddress == undefined || baseAddress > long.MaxValue || endAddress > long.MaxValue - baseAddress)
        {
            return null;
        }

        return (long)(baseAddress + endAddress);
    }

    /// <summary>The superblock's "size of lengths" (8 when it cannot be read).</summary>
    private static int LengthSize(ModelFileSource source, long superblock)
    {
        byte[] head = source.ReadBlock(superblock, 16);
        if (head.Length < 16)
        {
            return 8;
        }

        int size = head[8] <= 1 ? head[14] : head[10];
        return size is 2 or 4 or 8 ? size : 8;
    }

    private static ulong ReadAddress(byte[] bytes, int at, int size)
    {
        ulong value = 0;
        for (int i = size - 1; i >= 0; i--)
        {
            value = (value << 8) | bytes[at + i];
        }

        return value;
    }

    private static bool IsPlaceholder(ModelFileSource source, long superblock)
    {
        // Too short to hold a superblock is a truncated file, not an empty one.
        long rest = source.Length - superblock - 8;
        if (rest < MinSuperblockBytes - 8 || source.Length > MaxPlaceholderBytes)
        {
            return false;
        }

        byte[] bytes = source.ReadBlock(superblock + 8, (int)rest);
        return bytes.Length == rest && bytes.All(b => b == 0);
    }

    /// <summary>A read-only view that stops the reader once it has read its budget (hostile structures loop).</summary>
    private sealed class BudgetStream : Stream
    {
        private readonly Stream _inner;
        private readonly long _budget;
        private readonly CancellationToken _cancellationToken;
        private long _read;

        public BudgetStream(Stream inner, long budget, CancellationToken cancellationToken)
        {
            _inner = inner;
            _budget = budget;
            _cancellationToken = cancellationToken;
        }

        public bool BudgetSpent { get; private set; }

        /// <summary>Checks structures as PureHDF reaches them, before it allocates what they claim.</summary>
        public Hdf5StructureGuard? Guard { get; init; }

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => _inner.Length;

        public override long Position
        {
            get => _inner.Position;
            set => _inner.Position = value;
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            if (_read + count > _budget)
            {
                BudgetSpent = true;
                throw new IOException($"The read budget of {_budget:N0} bytes is spent.");
            }

            long position = _inner.Position;
            if (count > _inner.Length - position && count > 4096)
            {
                // PureHDF sizes its buffer from the file before reading into it: a request for more than
                // the file still holds is a lie, and the next one is refused before it is allocated.
                throw new InvalidDataException($"a structure at byte {position:N0} claims {count:N0} bytes, but {Math.Max(0, _inner.Length - position):N0} remain in the file");
            }

            int n = _inner.Read(buffer, offset, count);
            _read += n;
            Guard?.Inspect(buffer, offset, n, position);
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin) => _inner.Seek(offset, origin);

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
