using System.Collections.Generic;
using ModelSecurity.Formats.Archive;
using ModelSecurity.Formats.Executable;
using ModelSecurity.Formats.Gguf;
using ModelSecurity.Formats.Hdf5;
using ModelSecurity.Formats.Media;
using ModelSecurity.Formats.NumPy;
using ModelSecurity.Formats.Pickle;
using ModelSecurity.Formats.Protobuf;
using ModelSecurity.Formats.SafeTensors;
using ModelSecurity.Formats.TensorFlow;
using ModelSecurity.Formats.Text;
using ModelSecurity.Formats.Zip;

namespace ModelSecurity.Formats;

/// <summary>
/// Decides what a file is from its bytes alone. Sniffers run in order and the first match wins:
/// formats with a fixed magic first (executables before anything else, since a polyglot's first
/// bytes decide how an OS runs it), then formats recognised by structure, text last.
/// Adding a format means one sniffer in its folder and one line here.
/// </summary>
internal static class FormatDetector
{
    private static readonly IReadOnlyList<IFormatSniffer> Sniffers = new IFormatSniffer[]
    {
        new ExecutableSniffer(),
        new GgufSniffer(),
        new NumPySniffer(),
        new ZipSniffer(),
        new TarSniffer(),
        new CompressionSniffer(),
        new PickleSniffer(),
        new SafeTensorsSniffer(),
        new TensorFlowSniffer(),
        new ImageSniffer(),
        new Hdf5Sniffer(),
        new ProtobufSniffer(),
        new TextSniffer(),
        new PrefixedZipSniffer(),
    };

    public static FormatMatch Detect(SniffContext context)
    {
        if (context.Length == 0)
        {
            return new FormatMatch(ModelFormat.Empty, "empty file");
        }

        foreach (IFormatSniffer sniffer in Sniffers)
        {
            FormatMatch? match = sniffer.Sniff(context);
            if (match is not null)
            {
                return match;
            }
        }

        return new FormatMatch(ModelFormat.Unknown, "unrecognised content");
    }
}
