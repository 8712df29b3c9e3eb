using System;
using System.Buffers.Binary;

namespace ModelSecurity.Formats.Zip;

/// <summary>
/// CRC-32 as zip stores it (IEEE 802.3, reflected polynomial 0xEDB88320), table-driven eight bytes
/// at a time so checking a large member costs little next to reading it.
/// </summary>
internal static class Crc32
{
    private const uint Polynomial = 0xEDB88320;

    // Eight 256-entry tables, one after the other: table k advances the CRC over a byte followed by k zero bytes.
    private static readonly uint[] Tables = BuildTables();

    /// <summary>The CRC-32 of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>Continues <paramref name="crc"/> over more data: <c>Append(Compute(a), b) == Compute(a + b)</c>.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        uint[] t = Tables;
        crc = ~crc;
        while (data.Length >= 8)
        {
            uint one = BinaryPrimitives.ReadUInt32LittleEndian(data) ^ crc;
            uint two = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(4));
            crc = t[(7 * 256) + (one & 0xFF)]
                ^ t[(6 * 256) + ((one >> 8) & 0xFF)]
                ^ t[(5 * 256) + ((one >> 16) & 0xFF)]
                ^ t[(4 * 256) + (one >> 24)]
                ^ t[(3 * 256) + (two & 0xFF)]
                ^ t[(2 * 256) + ((two >> 8) & 0xFF)]
                ^ t[256 + ((two >> 16) & 0xFF)]
                ^ t[two >> 24];
            data = data.Slice(8);
        }

        foreach (byte b in data)
        {
            crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static uint[] BuildTables()
    {
        uint[] tables = new uint[8 * 256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int bit = 0; bit < 8; bit++)
            {
                c = (c & 1) != 0 ? Polynomial ^ (c >> 1) : c >> 1;
            }

            tables[n] = c;
        }

        for (int k = 1; k < 8; k++)
        {
            for (int n = 0; n < 256; n++)
            {
                uint previous = tables[((k - 1) * 256) + n];
                tables[(k * 256) + n] = (previous >> 8) ^ tables[previous & 0xFF];
            }
        }

        return tables;
    }
}
