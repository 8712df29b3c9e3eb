using ModelSecurity.Analysis;
using ModelSecurity.Formats.Zip;

namespace ModelSecurity.Formats.Executable;

/// <summary>
/// llamafiles: an Actually Portable Executable runtime with a zip appended that carries the model
/// (GGUF weights, a .args file). The zip is read like any model zip, every member by content, so the
/// embedded GGUF gets the GGUF reader's checks. The runtime itself is a program this version does
/// not verify, so a llamafile is never Clean.
/// </summary>
internal sealed class LlamafileReader : IModelReader
{
    public void Read(ReadContext context)
    {
        ZipArchiveReader? zip = ZipArchiveReader.Open(context.Source, context.CancellationToken);
        context.Report(
            RuleIds.FormatNotAnalysed,
            zip is null
                ? "The file is an Actually Portable Executable with no readable zip of model files; the program itself is not verified by this version."
                : $"The llamafile's runtime (the executable before the zip, {zip.ArchiveStart:N0} bytes) is a program this version does not verify; the {zip.Entries.Count:N0} embedded member(s) were scanned.",
            "runtime");
        if (zip is not null)
        {
            ZipModelReader.ReadArchive(context, zip, prefixExpected: true);
        }
    }
}
