using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace ModelSecurity.Tests;

/// <summary>
/// Writes GGUF files for tests: v1 (32-bit counts), v2 and v3, little or big endian, any metadata
/// value type including arrays and nested arrays, tensor infos with their (zero) data and alignment
/// padding, and knobs to lie about every count, length and offset.
/// </summary>
internal sealed class GgufBuilder
{
    public const uint UInt8 = 0, Int8 = 1, UInt16 = 2, Int16 = 3, UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7,
        String = 8, Array = 9, UInt64 = 10, Int64 = 11, Float64 = 12;

    private readonly List<Action<GgufWriter>> _entries = new();
    private readonly List<Tensor> _tensors = new();

    public uint Version { get; set; } = 3;

    public bool BigEndian { get; set; }

    /// <summary>Header tensor count to write instead of the true one.</summary>
    public ulong? TensorCount { get; set; }

    /// <summary>Header key/value count to write instead of the true one.</summary>
    public ulong? KeyCount { get; set; }

    /// <summary>Alignment used to pad the data section (write <c>general.alignment</c> yourself to declare it).</summary>
    public int Alignment { get; set; } = 32;

    /// <summary>Bytes appended after the data section.</summary>
    public long TrailingBytes { get; set; }

    /// <summary>Data bytes to leave out at the end (negative: write more).</summary>
    public long TruncateData { get; set; }

    private sealed record Tensor(string Name, long[] Dims, int Type, ulong? Offset, long Bytes, uint? NDims);

    /// <summary>Appends a raw entry (or any bytes) to the key/value area.</summary>
    public GgufBuilder Raw(Action<GgufWriter> write)
    {
        _entries.Add(write);
        return this;
    }

    public GgufBuilder Kv(string key, uint type, Action<GgufWriter> value) =>
        Raw(w =>
        {
            w.Str(key);
            w.U32(type);
            value(w);
        });

    public GgufBuilder Text(string key, string value) => Kv(key, String, w => w.Str(value));

    public GgufBuilder U32(string key, uint value) => Kv(key, UInt32, w => w.U32(value));

    public GgufBuilder U64(string key, ulong value) => Kv(key, UInt64, w => w.U64(value));

    public GgufBuilder BoolValue(string key, byte value) => Kv(key, Bool, w => w.U8(value));

    public GgufBuilder F32(string key, float value) => Kv(key, Float32, w => w.U32((uint)BitConverter.SingleToInt32Bits(value)));

    public GgufBuilder StringArray(string key, params string[] values) =>
        Kv(key, Array, w =>
        {
            w.U32(String);
            w.Count((ulong)values.Length);
            foreach (string v in values)
            {
                w.Str(v);
            }
        });

    public GgufBuilder U32Array(string key, params uint[] values) =>
        Kv(key, Array, w =>
        {
            w.U32(UInt32);
            w.Count((ulong)values.Length);
            foreach (uint v in values)
            {
                w.U32(v);
            }
        });

    /// <summary>An array nested <paramref name="depth"/> deep (depth 1 = a plain array of one UINT8).</summary>
    public GgufBuilder NestedArray(string key, int depth) =>
        Kv(key, Array, w =>
        {
            for (int i = 1; i < depth; i++)
            {
                w.U32(Array);
                w.Count(1);
            }

            w.U32(UInt8);
            w.Count(1);
            w.U8(7);
        });

    /// <summary>A tensor; its data offset is the packed one unless given, its byte size computed from the ggml type table.</summary>
    public GgufBuilder AddTensor(string name, long[] dims, int type = 0, ulong? offset = null, uint? nDims = null)
    {
        _tensors.Add(new Tensor(name, dims, type, offset, SizeOf(dims, type), nDims));
        return this;
    }

    public byte[] Build()
    {
        using var stream = new MemoryStream();
        WriteTo(stream);
        return stream.ToArray();
    }

    /// <summary>Writes the header, then extends the stream over the (zero) data without writing it.</summary>
    public void WriteTo(Stream stream)
    {
        var w = new GgufWriter(stream, BigEndian, Version == 1);
        w.Bytes(Encoding.ASCII.GetBytes("GGUF"));
        w.U32(Version);
        w.Count(TensorCount ?? (ulong)_tensors.Count);
        w.Count(KeyCount ?? (ulong)_entries.Count);
        foreach (Action<GgufWriter> entry in _entries)
        {
            entry(w);
        }

        long next = 0;
        long end = 0;
        foreach (Tensor t in _tensors)
        {
            w.Str(t.Name);
            w.U32(t.NDims ?? (uint)t.Dims.Length);
            foreach (long d in t.Dims)
            {
                w.Count((ulong)d);
            }

            w.U32((uint)t.Type);
            ulong offset = t.Offset ?? (ulong)next;
            w.U64(offset);
            if (t.Bytes >= 0)
            {
                next = Align((long)offset + t.Bytes);
                end = Math.Max(end, next);
            }
        }

        long length = stream.Position;
        if (_tensors.Count > 0)
        {
            length = Align(length) + end;
        }

        stream.SetLength(length - TruncateData + TrailingBytes);
    }

    private long Align(long x) => (x + Alignment - 1) / Alignment * Alignment;

    private static long SizeOf(long[] dims, int type)
    {
        (int block, int size) = type switch
        {
            0 => (1, 4),
            1 => (1, 2),
            2 => (32, 18),
            8 => (32, 34),
            12 => (256, 144),
            30 => (1, 2),
            _ => (1, 1),
        };
        long n = 1;
        foreach (long d in dims)
        {
            if (d < 0 || (d != 0 && n > long.MaxValue / d))
            {
                return -1;
            }

            n *= d;
        }

        return n / block * size;
    }
}

/// <summary>Writes GGUF primitives in the chosen byte order; counts and lengths are 32-bit in v1.</summary>
internal sealed class GgufWriter
{
    private readonly Stream _stream;
    private readonly bool _bigEndian;
    private readonly bool _v1;

    public GgufWriter(Stream stream, bool bigEndian, bool v1)
    {
        _stream = stream;
        _bigEndian = bigEndian;
        _v1 = v1;
    }

    public void Bytes(byte[] bytes) => _stream.Write(bytes, 0, bytes.Length);

    public void U8(byte value) => _stream.WriteByte(value);

    public void U32(uint value)
    {
        byte[] b = new byte[4];
        if (_bigEndian)
        {
            BinaryPrimitives.WriteUInt32BigEndian(b, value);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        }

        Bytes(b);
    }

    public void U64(ulong value)
    {
        byte[] b = new byte[8];
        if (_bigEndian)
        {
            BinaryPrimitives.WriteUInt64BigEndian(b, value);
        }
        else
        {
            BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        }

        Bytes(b);
    }

    /// <summary>A count or length: uint64, or uint32 in v1.</summary>
    public void Count(ulong value)
    {
        if (_v1)
        {
            U32((uint)value);
        }
        else
        {
            U64(value);
        }
    }

    public void Str(string value)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        Count((ulong)bytes.Length);
        Bytes(bytes);
    }

    /// <summary>A string whose length field says <paramref name="declared"/> whatever follows.</summary>
    public void StrLying(ulong declared, string value)
    {
        Count(declared);
        Bytes(Encoding.UTF8.GetBytes(value));
    }
}
