using System.IO;
using ModelSecurity.Analysis;

namespace ModelSecurity.Tests;

/// <summary>Runs the scanner over bytes in memory under a chosen file name.</summary>
internal static class Scan
{
    public static ModelScanResult Bytes(string name, byte[] bytes, ScanOptions? options = null)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        return ModelScanner.Scan(name, stream, options);
    }
}
