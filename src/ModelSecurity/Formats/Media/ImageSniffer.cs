namespace ModelSecurity.Formats.Media;

/// <summary>Images that end up in model folders (and, renamed, in scanners' test data): PNG, JPEG, GIF.</summary>
internal sealed class ImageSniffer : IFormatSniffer
{
    private static readonly byte[] Png = { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A };
    private static readonly byte[] Jpeg = { 0xFF, 0xD8, 0xFF };
    private static readonly byte[] Gif = { (byte)'G', (byte)'I', (byte)'F', (byte)'8' };

    public FormatMatch? Sniff(SniffContext context)
    {
        if (context.StartsWith(Png))
        {
            return new FormatMatch(ModelFormat.Image, "PNG image");
        }

        if (context.StartsWith(Jpeg))
        {
            return new FormatMatch(ModelFormat.Image, "JPEG image");
        }

        return context.StartsWith(Gif) ? new FormatMatch(ModelFormat.Image, "GIF image") : null;
    }
}
