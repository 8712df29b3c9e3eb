namespace ModelSecurity.Formats.NumPy;

/// <summary>NumPy <c>.npy</c> arrays: <c>\x93NUMPY</c>, then the format version.</summary>
internal sealed class NumPySniffer : IFormatSniffer
{
    private static readonly byte[] Magic = { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' };

    public FormatMatch? Sniff(SniffContext context)
    {
        if (!context.StartsWith(Magic))
        {
            return null;
        }

        if (context.Head.Length < 8)
        {
            return new FormatMatch(ModelFormat.NumPy, "NumPy array (truncated before the version)");
        }

        string version = $"{context.Head[6]}.{context.Head[7]}";
        return new FormatMatch(ModelFormat.NumPy, $"NumPy array format {version}", FormatMatch.Item("NpyVersion", version));
    }
}
