using ModelSecurity.Analysis;

namespace ModelSecurity.Formats.Pickle;

/// <summary>
/// Pickle streams, joblib dumps and legacy PyTorch checkpoints: the whole stream is run through the
/// static pickle machine the way its loader reads it (every pickle for plain streams, exactly five for
/// legacy PyTorch, whose storage bytes that follow are never read).
/// </summary>
internal sealed class PickleReader : IModelReader
{
    public void Read(ReadContext context)
    {
        bool legacy = context.Format == ModelFormat.PyTorchLegacy;

        // Inside PyTorch archives the loader resolves persistent ids to storages.
        bool torchArchive = context.Container is ModelFormat.PyTorchZip or ModelFormat.TorchScript or ModelFormat.PyTorchTar;
        PickleTrace trace = PickleAnalysis.Analyse(
            context,
            0,
            context.Source.Length,
            new PickleAnalysis.StreamOptions
            {
                Mode = legacy ? PickleStreamMode.TorchLegacy : PickleStreamMode.Stream,
                PersistentIdsExpected = legacy || torchArchive,
            });

        if (legacy && trace.Complete && trace.Pickles < 5)
        {
            context.Report(
                RuleIds.PickleMalformed,
                $"A legacy PyTorch checkpoint holds five pickles (magic number, protocol version, system info, the object, storage keys); this one ends after {trace.Pickles}.",
                $"byte {trace.EndOffset}");
        }

        if (legacy && trace.Complete && trace.Pickles == 5)
        {
            long storages = context.Source.Length - trace.EndOffset;
            context.Scan.Metadata["StorageBytes"] = storages;
        }

        if (context.Member is null)
        {
            context.Scan.Metadata["PickleCount"] = trace.Pickles;
        }
    }
}
