using System;
using System.Collections.Generic;
using System.Linq;
using ModelSecurity.Analysis;

namespace ModelSecurity.Formats.SafeTensors;

/// <summary>
/// SafeTensors files: the header is parsed and validated the way the reference implementation
/// (<c>safetensors/src/tensor.rs</c>) validates it — tensors sorted by data_offsets must tile the
/// data from 0 to its end, each span exactly element count × dtype size — and the free-form
/// <c>__metadata__</c> strings are inspected for links, code, markup and credentials. Only the header
/// is read (plus up to 16 bytes after the last tensor, to name what trails it); never tensor data.
/// </summary>
internal sealed class SafeTensorsReader : IModelReader
{
    // A hostile header can break the layout once per tensor: report the first few, count the rest.
    private const int MaxLayoutFindings = 10;
    private const int MaxMetadataFindings = 20;
    private const int MetadataValueDisplay = 200;

    public void Read(ReadContext context)
    {
        SafeTensorsHeader header = SafeTensorsHeader.Parse(context.Source);
        if (header.Error is not null)
        {
            context.Report(RuleIds.SafeTensorsMalformed, $"The safetensors library would refuse this header: {header.Error}.", "header");
            return;
        }

        if (context.Member is null)
        {
            AddMetadata(context, header);
        }

        CheckLayout(context, header);
        InspectMetadata(context, header);
    }

    private static void AddMetadata(ReadContext context, SafeTensorsHeader header)
    {
        var metadata = context.Scan.Metadata;
        metadata["TensorCount"] = header.Tensors.Count;
        long parameters = 0;
        foreach (SafeTensorsTensor tensor in header.Tensors)
        {
            ulong elements = tensor.Elements ?? ulong.MaxValue;
            parameters = elements > (ulong)(long.MaxValue - parameters) ? long.MaxValue : parameters + (long)elements;
        }

        metadata["ParameterCount"] = parameters;
        metadata["Dtypes"] = header.Tensors.Select(t => t.Dtype).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        metadata["HeaderLength"] = (long)header.HeaderLength;
        metadata["DataLength"] = header.DataLength;
        if (header.Metadata is not null)
        {
            metadata["SafeTensorsMetadata"] = header.Metadata
                .Select(p => $"{p.Key}={(p.Value.Length > MetadataValueDisplay ? p.Value[..MetadataValueDisplay] + "…" : p.Value)}")
                .ToArray();
        }
    }

    private static void CheckLayout(ReadContext context, SafeTensorsHeader header)
    {
        var problems = new Problems();
        foreach (string key in header.DuplicateKeys)
        {
            problems.Add(() => $"the header repeats the {key} (JSON parsers disagree on which copy counts, so two tools can see two different files)");
        }

        // The reference sorts by (begin, end) and requires each begin to equal the previous end.
        SafeTensorsTensor[] sorted = header.Tensors.OrderBy(t => t.Begin).ThenBy(t => t.End).ToArray();
        ulong end = 0;
        string? previous = null;
        foreach (SafeTensorsTensor tensor in sorted)
        {
            context.Checkpoint();
            if (tensor.End < tensor.Begin)
            {
                problems.Add(() => $"tensor \"{tensor.Name}\" ends (byte {tensor.End:N0}) before it begins (byte {tensor.Begin:N0})");
            }
            else if (tensor.Begin > end)
            {
                problems.Add(() => previous is null
                    ? $"the first tensor, \"{tensor.Name}\", begins at byte {tensor.Begin:N0} of the data, not 0: {tensor.Begin:N0} bytes belong to no tensor"
                    : $"{tensor.Begin - end:N0} bytes between tensors \"{previous}\" and \"{tensor.Name}\" belong to no tensor");
            }
            else if (tensor.Begin < end)
            {
                problems.Add(() => $"tensor \"{tensor.Name}\" (bytes {tensor.Begin:N0}–{tensor.End:N0}) overlaps tensor \"{previous}\" (which ends at {end:N0})");
            }

            CheckSpan(tensor, problems);
            if (tensor.End >= tensor.Begin)
            {
                end = Math.Max(end, tensor.End);
                previous = tensor.Name;
            }
        }

        ulong data = (ulong)Math.Max(0, header.DataLength);
        if (end > data)
        {
            problems.Always($"the tensors declare {end:N0} bytes of data but the file holds {data:N0} after the header (truncated or tampered file)");
        }
        else if (end < data)
        {
            problems.Always(Trailing(context, header, end, data));
        }

        if (problems.Shown.Count > 0)
        {
            string detail = "The tensors' byte ranges do not tile the data as the safetensors library requires: "
                + string.Join("; ", problems.Shown)
                + (problems.More > 0 ? $"; and {problems.More:N0} more problems" : string.Empty)
                + ".";
            context.Report(RuleIds.SafeTensorsLayout, detail, "header");
        }
    }

    private static void CheckSpan(SafeTensorsTensor tensor, Problems add)
    {
        ulong? elements = tensor.Elements;
        string Shape() => "[" + string.Join(", ", tensor.Shape) + "]";
        if (elements is null || elements.Value > ulong.MaxValue / (ulong)tensor.Bits)
        {
            add.Add(() => $"tensor \"{tensor.Name}\" has a shape {Shape()} whose size overflows 64 bits");
            return;
        }

        ulong bits = elements.Value * (ulong)tensor.Bits;
        if (bits % 8 != 0)
        {
            add.Add(() => $"tensor \"{tensor.Name}\" ({tensor.Dtype} {Shape()}) takes {bits:N0} bits, not a whole number of bytes");
            return;
        }

        if (tensor.End >= tensor.Begin && tensor.End - tensor.Begin != bits / 8)
        {
            add.Add(() => $"tensor \"{tensor.Name}\" ({tensor.Dtype} {Shape()}) needs {bits / 8:N0} bytes but its data_offsets span {tensor.End - tensor.Begin:N0}");
        }
    }

    private static string Trailing(ReadContext context, SafeTensorsHeader header, ulong end, ulong data)
    {
        long offset = 8 + (long)header.HeaderLength + (long)end;
        long count = (long)(data - end);
        byte[] probe = context.Source.ReadBlock(offset, 16);
        string what;
        if (probe.All(b => b == 0))
        {
            what = "zeros";
        }
        else
        {
            FormatMatch match = ReadContext.DetectHead(probe, count);
            what = match.Format is ModelFormat.Unknown or ModelFormat.Text or ModelFormat.Empty
                ? $"starting {BitConverter.ToString(probe, 0, Math.Min(probe.Length, 8)).Replace('-', ' ')}"
                : $"that look like {match.Description}";
        }

        return $"{count:N0} bytes at file offset {offset:N0} follow the last tensor, {what} (the library refuses unindexed bytes: they are where polyglot payloads hide)";
    }

    private static void InspectMetadata(ReadContext context, SafeTensorsHeader header)
    {
        if (header.Metadata is null)
        {
            return;
        }

        int reported = 0;
        foreach ((string key, string value) in header.Metadata)
        {
            if (reported >= MaxMetadataFindings)
            {
                break;
            }

            context.Checkpoint();
            string location = $"__metadata__[\"{MetadataInspector.Excerpt(key, 60)}\"]";
            List<string> secrets = MetadataInspector.Secrets(key);
            secrets.AddRange(MetadataInspector.Secrets(value));
            if (secrets.Count > 0)
            {
                reported++;
                context.Report(RuleIds.SafeTensorsSecret, $"The metadata holds {string.Join(", ", secrets.Distinct(StringComparer.Ordinal))}.", location);
            }

            List<string> content = MetadataInspector.Content(key);
            content.AddRange(MetadataInspector.Content(value));
            if (content.Count > 0)
            {
                reported++;
                context.Report(RuleIds.SafeTensorsMetadataContent, $"The metadata holds {string.Join("; ", content.Distinct(StringComparer.Ordinal))}.", location);
            }
        }
    }

    /// <summary>Layout problems: the first few are described, the rest only counted (a hostile header can break the layout once per tensor).</summary>
    private sealed class Problems
    {
        public List<string> Shown { get; } = new();

        public int More { get; private set; }

        /// <summary>Describes a problem that is always shown (the data's end: truncation, trailing bytes).</summary>
        public void Always(string description) => Shown.Add(description);

        public void Add(Func<string> describe)
        {
            if (Shown.Count < MaxLayoutFindings)
            {
                Shown.Add(describe());
            }
            else
            {
                More++;
            }
        }
    }
}
