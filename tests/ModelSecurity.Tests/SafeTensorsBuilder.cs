using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace ModelSecurity.Tests;

/// <summary>
/// Writes SafeTensors files the way the reference writer does (header padded with spaces to a
/// multiple of 8, tensors laid out back to back), with hooks to break each rule.
/// </summary>
internal sealed class SafeTensorsBuilder
{
    private readonly List<(string Name, string Json)> _entries = new();
    private readonly List<(string Key, string Value)> _metadata = new();
    private long _next;

    /// <summary>Bytes appended after the data (a polyglot tail).</summary>
    public byte[] Trailing { get; set; } = Array.Empty<byte>();

    /// <summary>Adds a tensor placed right after the previous one; returns the builder.</summary>
    public SafeTensorsBuilder Tensor(string name, string dtype, params long[] shape)
    {
        long bits = Bits(dtype) * shape.Aggregate(1L, (a, b) => a * b);
        long bytes = bits / 8;
        return Raw(name, dtype, shape, _next, _next + bytes);
    }

    /// <summary>Adds a tensor with explicit data_offsets (the data length follows the largest end).</summary>
    public SafeTensorsBuilder Raw(string name, string dtype, long[] shape, long begin, long end)
    {
        string shapeText = string.Join(",", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
        return Entry(name, $"{{\"dtype\":\"{dtype}\",\"shape\":[{shapeText}],\"data_offsets\":[{begin},{end}]}}", end);
    }

    /// <summary>Adds a tensor entry of any JSON.</summary>
    public SafeTensorsBuilder Entry(string name, string json, long end = 0)
    {
        _entries.Add((name, json));
        _next = Math.Max(_next, end);
        return this;
    }

    public SafeTensorsBuilder Metadata(string key, string value)
    {
        _metadata.Add((key, value));
        return this;
    }

    /// <summary>Bytes of tensor data written (default: up to the largest end).</summary>
    public long? DataLength { get; set; }

    public string HeaderJson()
    {
        var parts = new List<string>();
        if (_metadata.Count > 0)
        {
            parts.Add("\"__metadata__\":{" + string.Join(",", _metadata.Select(m => $"{Quote(m.Key)}:{Quote(m.Value)}")) + "}");
        }

        parts.AddRange(_entries.Select(e => $"{Quote(e.Name)}:{e.Json}"));
        return "{" + string.Join(",", parts) + "}";
    }

    public byte[] Build() => File(HeaderJson(), DataLength ?? _next, Trailing);

    /// <summary>A file of the given header text (padded to 8 bytes) and zeroed data.</summary>
    public static byte[] File(string header, long dataLength, byte[]? trailing = null)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        int padded = (json.Length + 7) / 8 * 8;
        trailing ??= Array.Empty<byte>();
        var bytes = new byte[8 + padded + dataLength + trailing.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)padded);
        json.CopyTo(bytes, 8);
        bytes.AsSpan(8 + json.Length, padded - json.Length).Fill((byte)' ');
        trailing.CopyTo(bytes, 8 + padded + dataLength);
        return bytes;
    }

    /// <summary>Writes the file into a stream, seeking over the data (a sparse file when the stream is one).</summary>
    public void WriteSparse(Stream stream)
    {
        byte[] json = Encoding.UTF8.GetBytes(HeaderJson());
        int padded = (json.Length + 7) / 8 * 8;
        var head = new byte[8 + padded];
        BinaryPrimitives.WriteUInt64LittleEndian(head, (ulong)padded);
        json.CopyTo(head, 8);
        head.AsSpan(8 + json.Length).Fill((byte)' ');
        stream.Write(head);
        stream.SetLength(head.Length + (DataLength ?? _next));
    }

    public static int Bits(string dtype) => dtype switch
    {
        "F4" => 4,
        "F6_E2M3" or "F6_E3M2" => 6,
        "BOOL" or "U8" or "I8" or "F8_E5M2" or "F8_E4M3" or "F8_E8M0" or "F8_E4M3FNUZ" or "F8_E5M2FNUZ" => 8,
        "I16" or "U16" or "F16" or "BF16" => 16,
        "I32" or "U32" or "F32" => 32,
        _ => 64,
    };

    private static string Quote(string text) => System.Text.Json.JsonSerializer.Serialize(text);
}
