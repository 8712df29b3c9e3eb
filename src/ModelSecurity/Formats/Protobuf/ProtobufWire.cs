using System;
using System.Collections.Generic;

namespace ModelSecurity.Formats.Protobuf;

/// <summary>One field of a protobuf message as it sits on the wire.</summary>
internal readonly struct ProtobufField
{
    public ProtobufField(int number, int wireType, ulong value, int offset, long length)
    {
        Number = number;
        WireType = wireType;
        Value = value;
        Offset = offset;
        Length = length;
    }

    public int Number { get; }

    /// <summary>0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.</summary>
    public int WireType { get; }

    /// <summary>The value of a varint or fixed field.</summary>
    public ulong Value { get; }

    /// <summary>Offset of a length-delimited field's payload in the buffer it was read from.</summary>
    public int Offset { get; }

    /// <summary>Declared payload length of a length-delimited field (may run past the buffer).</summary>
    public long Length { get; }

    public bool IsVarint => WireType == ProtobufWire.Varint;

    public bool IsLengthDelimited => WireType == ProtobufWire.LengthDelimited;
}

/// <summary>
/// The protobuf wire format (varints, tags, length-delimited fields), read from a buffer that may be
/// only the first part of a message. Every length is checked against what remains.
/// </summary>
internal static class ProtobufWire
{
    public const int Varint = 0;
    public const int Fixed64 = 1;
    public const int LengthDelimited = 2;
    public const int Fixed32 = 5;

    /// <summary>Reads a base-128 varint of at most 10 bytes.</summary>
    public static bool TryReadVarint(ReadOnlySpan<byte> data, ref int pos, out ulong value)
    {
        value = 0;
        for (int shift = 0, i = 0; i < 10; i++, shift += 7)
        {
            if (pos >= data.Length)
            {
                return false;
            }

            byte b = data[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return i < 9 || b <= 1;
            }
        }

        return false;
    }

    /// <summary>
    /// Reads the fields of one message. <paramref name="remainingInMessage"/> is how many bytes the
    /// message really has (more than <paramref name="data"/> holds when the buffer is a prefix).
    /// Returns null when the bytes are not a well-formed message. <paramref name="truncated"/> is set
    /// when the buffer ended inside the message.
    /// </summary>
    public static List<ProtobufField>? TryReadMessage(ReadOnlySpan<byte> data, long remainingInMessage, int maxFields, out bool truncated)
    {
        truncated = false;
        var fields = new List<ProtobufField>();
        int pos = 0;
        while (pos < data.Length && fields.Count < maxFields)
        {
            if (!TryReadVarint(data, ref pos, out ulong tag))
            {
                truncated = data.Length < remainingInMessage;
                return truncated ? fields : null;
            }

            int wireType = (int)(tag & 7);
            ulong number = tag >> 3;
            if (number == 0 || number > 536_870_911)
            {
                return null;
            }

            switch (wireType)
            {
                case Varint:
                    if (!TryReadVarint(data, ref pos, out ulong value))
                    {
                        truncated = data.Length < remainingInMessage;
                        return truncated ? fields : null;
                    }

                    fields.Add(new ProtobufField((int)number, wireType, value, 0, 0));
                    break;
                case Fixed64:
                case Fixed32:
                    int size = wireType == Fixed64 ? 8 : 4;
                    if (pos + size > data.Length)
                    {
                        truncated = data.Length < remainingInMessage;
                        return truncated ? fields : null;
                    }

                    ulong fixedValue = 0;
                    for (int i = size - 1; i >= 0; i--)
                    {
                        fixedValue = (fixedValue << 8) | data[pos + i];
                    }

                    fields.Add(new ProtobufField((int)number, wireType, fixedValue, 0, 0));
                    pos += size;
                    break;
                case LengthDelimited:
                    if (!TryReadVarint(data, ref pos, out ulong length))
                    {
                        truncated = data.Length < remainingInMessage;
                        return truncated ? fields : null;
                    }

                    if (length > (ulong)(remainingInMessage - pos))
                    {
                        // Claims more bytes than the message has: not a protobuf (or a lying one).
                        return null;
                    }

                    fields.Add(new ProtobufField((int)number, wireType, 0, pos, (long)length));
                    if (pos + (long)length > data.Length)
                    {
                        truncated = true;
                        return fields;
                    }

                    pos += (int)length;
                    break;
                default:
                    // Groups (3, 4) are long deprecated and unused by every model format; 6 and 7 do not exist.
                    return null;
            }
        }

        truncated = pos < remainingInMessage;
        return fields;
    }
}
