using System.Globalization;
using System.Linq;
using ModelSecurity.Analysis;

namespace ModelSecurity.Formats.NumPy;

/// <summary>
/// NumPy <c>.npy</c> arrays: the header is parsed the way <c>numpy.lib.format</c> parses it (never
/// evaluated); an object dtype means the data is a pickle, which is analysed; otherwise the data
/// must be as long as shape and dtype say. The array data itself is never read.
/// </summary>
internal sealed class NumPyReader : IModelReader
{
    public void Read(ReadContext context)
    {
        NpyHeader header = NpyHeader.Parse(context.Source);
        if (header.Error is not null)
        {
            context.Report(RuleIds.NumPyMalformed, $"NumPy would refuse this header: {header.Error}.", "header");
            return;
        }

        if (context.Member is null)
        {
            context.Scan.Metadata["NumPyVersion"] = $"{header.Major}.{header.Minor}";
            context.Scan.Metadata["NumPyDtype"] = header.Descr ?? "structured";
            context.Scan.Metadata["NumPyShape"] = "(" + string.Join(", ", header.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + (header.Shape.Count == 1 ? ",)" : ")");
        }

        long available = context.Source.Length - header.DataOffset;
        if (header.HasObject)
        {
            context.Report(
                RuleIds.NumPyObjectArray,
                $"The dtype {header.Descr ?? "(structured)"} holds Python objects: the {available:N0} bytes of array data are a pickle, loaded only with allow_pickle=True.",
                "array data");
            PickleAnalysis.Analyse(
                context,
                header.DataOffset,
                context.Source.Length,
                new PickleAnalysis.StreamOptions { Location = "array data" });
            CheckShortHeaderLength(context, header);
            return;
        }

        if (header.DataBytes is long expected && available < expected)
        {
            context.Report(
                RuleIds.NumPyMalformed,
                $"Shape and dtype call for {expected:N0} bytes of data but the file holds {available:N0}: numpy.load fails (truncated or tampered file).",
                "array data");
        }
    }

    /// <summary>
    /// A header-length field that stops inside the header's padding makes numpy unpickle from the
    /// padding (and fail) while readers that skip to the newline unpickle what follows: both readings
    /// are analysed, and the disagreement is reported.
    /// </summary>
    private static void CheckShortHeaderLength(ReadContext context, NpyHeader header)
    {
        byte[] probe = context.Source.ReadBlock(header.DataOffset, 256);
        int newline = System.Array.IndexOf(probe, (byte)'\n');
        if (newline < 0 || probe.Take(newline).Any(b => b != (byte)' '))
        {
            return;
        }

        long alternative = header.DataOffset + newline + 1;
        context.Report(
            RuleIds.NumPyMalformed,
            $"The header-length field ends the header at byte {header.DataOffset:N0}, inside its padding: numpy unpickles from there, readers that skip to the newline unpickle from byte {alternative:N0}. Both were analysed.",
            "header");
        PickleAnalysis.Analyse(
            context,
            alternative,
            context.Source.Length,
            new PickleAnalysis.StreamOptions { Location = $"array data from byte {alternative}" });
    }
}
