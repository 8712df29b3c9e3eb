using System.Buffers.Binary;

namespace ModelSecurity.Formats.SafeTensors;

/// <summary>
/// SafeTensors has no magic: an 8-byte little-endian header length N, then N bytes of JSON that
/// must open with '{'. The reference reader caps N at 100,000,000 and requires 8 + N within the file.
/// </summary>
internal sealed class SafeTensorsSniffer : IFormatSniffer
{
    public const long MaxHeaderSize = 100_000_000;

    public FormatMatch? Sniff(SniffContext context)
    {
        byte[] head = context.Head;
        if (head.Length < 10 || head[8] != (byte)'{')
        {
            return null;
        }

        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(head);
        if (headerLength < 2 || headerLength > MaxHeaderSize || 8 + (long)headerLength > context.Length)
        {
            return null;
        }

        // The JSON must end with '}' (writers pad with spaces after it).
        long lastOffset = 8 + (long)headerLength - 1;
        byte[] end = lastOffset < head.Length
            ? new[] { head[lastOffset] }
            : context.Source.ReadBlock(lastOffset, 1);
        long back = lastOffset;
        while (end.Length == 1 && end[0] == (byte)' ' && back > 8 && lastOffset - back < 4096)
        {
            back--;
            end = back < head.Length ? new[] { head[back] } : context.Source.ReadBlock(back, 1);
        }

        if (end.Length != 1 || end[0] != (byte)'}')
        {
            return null;
        }

        return new FormatMatch(
            ModelFormat.SafeTensors,
            "SafeTensors",
            FormatMatch.Item("SafeTensorsHeaderBytes", (long)headerLength));
    }
}
