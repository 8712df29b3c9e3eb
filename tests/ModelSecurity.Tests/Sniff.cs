using System.IO;
using ModelSecurity.Formats;

namespace ModelSecurity.Tests;

/// <summary>Runs the format detector over bytes in memory.</summary>
internal static class Sniff
{
    public static FormatMatch Detect(byte[] bytes)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        using var source = new ModelFileSource(stream);
        return FormatDetector.Detect(new SniffContext(source));
    }
}
