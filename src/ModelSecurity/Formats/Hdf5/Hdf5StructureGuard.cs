using System;
using System.Collections.Generic;
using System.IO;

namespace ModelSecurity.Formats.Hdf5;

/// <summary>
/// PureHDF sizes what it allocates from the file before it reads it: a global heap object (where
/// h5py keeps variable-length strings such as model_config) at its declared size, and an attribute's
/// data at its datatype size times its dataspace's element count. A 4.6 KB file made it allocate
/// gigabytes. So the structures are checked when PureHDF reads their signature, before it decodes
/// them: every global heap collection ("GCOL") must fit the file and each of its objects the
/// collection, and every attribute message of a version 2 object header ("OHDR") must hold the data
/// its datatype and dataspace claim. A lie fails the read, and the file is reported unreadable.
/// </summary>
internal sealed class Hdf5StructureGuard
{
    private const int MaxObjects = 1_000_000;
    private const int MaxMessages = 65_536;
    private const int AttributeMessage = 0x0C;
    private const int LinkMessage = 0x06;
    private static readonly byte[] Collection = { (byte)'G', (byte)'C', (byte)'O', (byte)'L' };
    private static readonly byte[] ObjectHeader = { (byte)'O', (byte)'H', (byte)'D', (byte)'R' };
    private readonly ModelFileSource _source;
    private readonly int _lengthSize;
    private readonly HashSet<long> _checked = new();
    private readonly byte[] _tail = new byte[3];
    private int _tailLength;
    private long _tailEnd = -1;

    public Hdf5StructureGuard(ModelFileSource source, int lengthSize)
    {
        _source = source;
        _lengthSize = lengthSize;
    }

    /// <summary>
    /// Checks every structure whose signature is in the bytes just read at <paramref name="position"/>.
    /// PureHDF reads a signature in pieces (one byte, then three), so the last bytes of the previous
    /// read are kept and searched with the next one when it follows on.
    /// </summary>
    public void Inspect(byte[] buffer, int offset, int count, long position)
    {
        ReadOnlySpan<byte> data = buffer.AsSpan(offset, count);
        long start = position;
        if (_tailLength > 0 && _tailEnd == position)
        {
            byte[] joined = new byte[_tailLength + count];
            _tail.AsSpan(0, _tailLength).CopyTo(joined);
            data.CopyTo(joined.AsSpan(_tailLength));
            data = joined;
            start = position - _tailLength;
        }

        Find(data, Collection, start, CheckCollection);
        Find(data, ObjectHeader, start, CheckObjectHeader);
        _tailLength = Math.Min(_tail.Length, data.Length);
        data.Slice(data.Length - _tailLength).CopyTo(_tail);
        _tailEnd = position + count;
    }

    private void Find(ReadOnlySpan<byte> data, byte[] signature, long position, Action<long> check)
    {
        int at = 0;
        while (at < data.Length)
        {
            int hit = data.Slice(at).IndexOf(signature);
            if (hit < 0)
            {
                return;
            }

            long where = position + at + hit;
            if (_checked.Add(where))
            {
                check(where);
            }

            at += hit + 1;
        }
    }

    private void CheckCollection(long collection)
    {
        int header = 8 + _lengthSize;
        byte[] head = _source.ReadBlock(collection, header);
        if (head.Length < header)
        {
            throw new InvalidDataException($"the global heap collection at byte {collection:N0} is cut off by the end of the file");
        }

        ulong size = Read(head, 8, _lengthSize);
        long room = _source.Length - collection;
        if (size < (ulong)header || size > (ulong)room)
        {
            throw new InvalidDataException($"the global heap collection at byte {collection:N0} claims {size:N0} bytes, but {room:N0} remain in the file");
        }

        long end = collection + (long)size;
        long next = collection + header;
        for (int objects = 0; next + 8 + _lengthSize <= end && objects < MaxObjects; objects++)
        {
            byte[] entry = _source.ReadBlock(next, 8 + _lengthSize);
            if (entry.Length < 8 + _lengthSize || (entry[0] | (entry[1] << 8)) == 0)
            {
                return; // Object 0 is the collection's free space: the objects end here.
            }

            ulong objectSize = Read(entry, 8, _lengthSize);
            long space = end - (next + 8 + _lengthSize);
            if (objectSize > (ulong)space)
            {
                throw new InvalidDataException($"a global heap object at byte {next:N0} claims {objectSize:N0} bytes, but its collection has {space:N0} left");
            }

            next += 8 + _lengthSize + (long)((objectSize + 7) & ~7UL);
        }
    }

    /// <summary>Version 2 object header: signature, version 2, flags, optional times and attribute limits, chunk 0 size, messages.</summary>
    private void CheckObjectHeader(long header)
    {
        byte[] prefix = _source.ReadBlock(header, 6 + 16 + 4 + 8);
        if (prefix.Length < 7 || prefix[4] != 2)
        {
            return; // Not a version 2 header: PureHDF decides what it is.
        }

        int flags = prefix[5];
        int at = 6 + ((flags & 0x20) != 0 ? 16 : 0) + ((flags & 0x10) != 0 ? 4 : 0);
        int sizeBytes = 1 << (flags & 0x03);
        if (prefix.Length < at + sizeBytes)
        {
            throw new InvalidDataException($"the object header at byte {header:N0} is cut off by the end of the file");
        }

        ulong chunk = Read(prefix, at, sizeBytes);
        long start = header + at + sizeBytes;
        long room = _source.Length - start;
        if (chunk > (ulong)room)
        {
            throw new InvalidDataException($"the object header at byte {header:N0} claims a {chunk:N0}-byte chunk, but {room:N0} bytes remain in the file");
        }

        byte[] messages = _source.ReadBlock(start, (int)chunk);
        bool creationOrder = (flags & 0x04) != 0;
        int messageHeader = creationOrder ? 6 : 4;
        int next = 0;
        for (int count = 0; next + messageHeader <= messages.Length && count < MaxMessages; count++)
        {
            int type = messages[next];
            int size = messages[next + 1] | (messages[next + 2] << 8);
            int body = next + messageHeader;
            if (size > messages.Length - body)
            {
                throw new InvalidDataException($"a message of the object header at byte {header:N0} claims {size:N0} bytes, but its chunk has {messages.Length - body:N0} left");
            }

            if (type == AttributeMessage)
            {
                CheckAttribute(messages.AsSpan(body, size), start + body);
            }
            else if (type == LinkMessage)
            {
                CheckLink(messages.AsSpan(body, size), start + body);
            }

            next = body + size;
        }
    }

    /// <summary>Attribute message: the data its datatype and dataspace claim must be in the message.</summary>
    private void CheckAttribute(ReadOnlySpan<byte> message, long position)
    {
        if (message.Length < 8)
        {
            return;
        }

        int version = message[0];
        int nameSize = message[2] | (message[3] << 8);
        int typeSize = message[4] | (message[5] << 8);
        int spaceSize = message[6] | (message[7] << 8);
        int Pad(int n) => version == 1 ? (n + 7) & ~7 : n;
        int typeAt = 8 + (version >= 3 ? 1 : 0) + Pad(nameSize);
        int spaceAt = typeAt + Pad(typeSize);
        int dataAt = spaceAt + Pad(spaceSize);
        if (typeSize < 8 || spaceSize < 4 || dataAt > message.Length)
        {
            return; // Malformed in a way PureHDF refuses by itself.
        }

        ulong elementSize = (uint)message[typeAt + 4] | ((uint)message[typeAt + 5] << 8) | ((uint)message[typeAt + 6] << 16) | ((uint)message[typeAt + 7] << 24);
        ReadOnlySpan<byte> space = message.Slice(spaceAt, spaceSize);
        int rank = space[1];
        int dims = space[0] == 1 ? 8 : 4;
        ulong elements = space[0] >= 2 && space.Length > 3 && space[3] == 2 ? 0UL : 1UL;
        for (int i = 0; i < rank; i++)
        {
            if (dims + ((i + 1) * _lengthSize) > space.Length)
            {
                return;
            }

            ulong dimension = Read(space.ToArray(), dims + (i * _lengthSize), _lengthSize);
            elements = dimension == 0 ? 0 : elements > ulong.MaxValue / dimension ? ulong.MaxValue : elements * dimension;
        }

        ulong claimed = elementSize == 0 ? 0 : elements > ulong.MaxValue / elementSize ? ulong.MaxValue : elements * elementSize;
        int held = message.Length - dataAt;
        if (claimed > (ulong)held)
        {
            throw new InvalidDataException($"an attribute at byte {position:N0} claims {claimed:N0} bytes of data, but its message holds {held:N0}");
        }
    }

    /// <summary>Link message: version, flags, optional type, creation order and charset, then the name's length and the name.</summary>
    private static void CheckLink(ReadOnlySpan<byte> message, long position)
    {
        if (message.Length < 2)
        {
            return;
        }

        int flags = message[1];
        int at = 2 + ((flags & 0x08) != 0 ? 1 : 0) + ((flags & 0x04) != 0 ? 8 : 0) + ((flags & 0x10) != 0 ? 1 : 0);
        int sizeBytes = 1 << (flags & 0x03);
        if (at + sizeBytes > message.Length)
        {
            return;
        }

        ulong nameLength = Read(message.Slice(at, sizeBytes).ToArray(), 0, sizeBytes);
        int held = message.Length - at - sizeBytes;
        if (nameLength > (ulong)held)
        {
            throw new InvalidDataException($"a link at byte {position:N0} claims a {nameLength:N0}-byte name, but its message holds {held:N0}");
        }
    }

    private static ulong Read(byte[] bytes, int at, int size)
    {
        ulong value = 0;
        for (int i = size - 1; i >= 0; i--)
        {
            value = (value << 8) | bytes[at + i];
        }

        return value;
    }
}
