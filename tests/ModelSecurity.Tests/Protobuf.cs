using System;
using System.IO;
using System.Text;

namespace ModelSecurity.Tests;

/// <summary>Hand-encodes protobuf wire bytes, so fixtures do not need a protobuf library or a schema.</summary>
internal static class Protobuf
{
    public static byte[] Varint(int field, ulong value) => Concat(Tag(field, 0), Raw(value));

    public static byte[] Text(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public static byte[] Bytes(int field, byte[] payload) => Concat(Tag(field, 2), Raw((ulong)payload.Length), payload);

    public static byte[] Message(int field, params byte[][] fields) => Bytes(field, Concat(fields));

    public static byte[] Concat(params byte[][] parts)
    {
        using var buffer = new MemoryStream();
        foreach (byte[] part in parts)
        {
            buffer.Write(part, 0, part.Length);
        }

        return buffer.ToArray();
    }

    private static byte[] Tag(int field, int wireType) => Raw(((ulong)field << 3) | (uint)wireType);

    private static byte[] Raw(ulong value)
    {
        using var buffer = new MemoryStream();
        do
        {
            byte b = (byte)(value & 0x7F);
            value >>= 7;
            buffer.WriteByte(value == 0 ? b : (byte)(b | 0x80));
        }
        while (value != 0);
        return buffer.ToArray();
    }
}
