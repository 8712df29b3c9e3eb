using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace ModelSecurity.Formats.SafeTensors;

/// <summary>One tensor entry of a SafeTensors header, as declared (nothing checked against the data yet).</summary>
internal sealed record SafeTensorsTensor(string Name, string Dtype, int Bits, ulong[] Shape, ulong Begin, ulong End)
{
    /// <summary>Element count (product of the shape; 1 for a 0-d tensor), null when it overflows 64 bits.</summary>
    public ulong? Elements
    {
        get
        {
            ulong count = 1;
            foreach (ulong dimension in Shape)
            {
                if (dimension != 0 && count > ulong.MaxValue / dimension)
                {
                    return null;
                }

                count *= dimension;
            }

            return count;
        }
    }
}

/// <summary>
/// The header of a SafeTensors file (huggingface/safetensors <c>tensor.rs</c>): a little-endian u64
/// length N (at most 100,000,000), then N bytes of UTF-8 JSON, one object mapping tensor names to
/// <c>{dtype, shape, data_offsets}</c> plus an optional <c>__metadata__</c> map of strings. Read with
/// <see cref="Utf8JsonReader"/> so repeated keys are seen (a DOM keeps or drops them silently); only
/// the header's bytes are read, never the tensor data.
/// </summary>
/// <remarks>
/// <see cref="Error"/> says why the reference implementation would refuse the header. Repeated keys
/// are listed in <see cref="DuplicateKeys"/> (the last value wins, as in serde_json's map); checking
/// the offsets against each other and the data is left to the reader.
/// </remarks>
internal sealed class SafeTensorsHeader
{
    /// <summary>The reference implementation's MAX_HEADER_SIZE.</summary>
    public const long MaxHeaderSize = 100_000_000;

    /// <summary>JSON nesting this parser follows; the header needs 3 (unknown tensor fields are skipped up to this depth).</summary>
    public const int MaxDepth = 64;

    /// <summary>Bits per element of every dtype the reference knows (<c>Dtype::bitsize</c>).</summary>
    public static readonly IReadOnlyDictionary<string, int> DtypeBits = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["BOOL"] = 8,
        ["F4"] = 4,
        ["F6_E2M3"] = 6,
        ["F6_E3M2"] = 6,
        ["U8"] = 8,
        ["I8"] = 8,
        ["F8_E5M2"] = 8,
        ["F8_E4M3"] = 8,
        ["F8_E8M0"] = 8,
        ["F8_E4M3FNUZ"] = 8,
        ["F8_E5M2FNUZ"] = 8,
        ["I16"] = 16,
        ["U16"] = 16,
        ["F16"] = 16,
        ["BF16"] = 16,
        ["I32"] = 32,
        ["U32"] = 32,
        ["F32"] = 32,
        ["C64"] = 64,
        ["F64"] = 64,
        ["I64"] = 64,
        ["U64"] = 64,
    };

    private const string MetadataKey = "__metadata__";

    private static readonly (string Name, byte[] Utf8)[] DtypeNames = DtypeBits.Keys.Select(k => (k, Encoding.UTF8.GetBytes(k))).ToArray();

    private SafeTensorsHeader()
    {
    }

    /// <summary>N, the header length field (0 when the file is shorter than 8 bytes).</summary>
    public ulong HeaderLength { get; private set; }

    /// <summary>Bytes after the header: the tensor data (negative when the header runs past the file).</summary>
    public long DataLength { get; private set; }

    /// <summary>Why the reference implementation refuses the header, or null.</summary>
    public string? Error { get; private set; }

    /// <summary>Tensors in header order; a repeated name keeps its last entry.</summary>
    public List<SafeTensorsTensor> Tensors { get; } = new();

    /// <summary>The <c>__metadata__</c> map in header order (null when absent); a repeated key keeps its last value.</summary>
    public List<KeyValuePair<string, string>>? Metadata { get; private set; }

    /// <summary>Keys that appear more than once, each with where ("tensor", "__metadata__", or a tensor's field).</summary>
    public List<string> DuplicateKeys { get; } = new();

    /// <summary>Reads the header of <paramref name="source"/>: 8 bytes plus at most <see cref="MaxHeaderSize"/>.</summary>
    public static SafeTensorsHeader Parse(ModelFileSource source)
    {
        var header = new SafeTensorsHeader();
        byte[] prefix = source.ReadBlock(0, 8);
        if (prefix.Length < 8)
        {
            header.Error = $"the file has {source.Length} bytes, fewer than the 8 of the header length";
            return header;
        }

        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        header.HeaderLength = length;
        header.DataLength = source.Length - 8 - (long)Math.Min(length, (ulong)long.MaxValue / 2);
        if (length > MaxHeaderSize)
        {
            header.Error = $"the header length {length:N0} is over the reference limit of {MaxHeaderSize:N0} bytes";
            return header;
        }

        if (8 + (long)length > source.Length)
        {
            header.Error = $"the header length {length:N0} runs past the end of the {source.Length:N0}-byte file";
            return header;
        }

        byte[] json = source.ReadBlock(8, (int)length);
        if (json.Length == 0 || json[0] != (byte)'{')
        {
            header.Error = "the header does not start with '{'";
            return header;
        }

        if (!Utf8.IsValid(json))
        {
            header.Error = "the header is not valid UTF-8";
            return header;
        }

        try
        {
            header.ReadJson(json);
        }
        catch (JsonException e)
        {
            header.Error = $"the header is not valid JSON ({e.Message.Split(" Path:", 2)[0].TrimEnd('.')})";
        }
        catch (FormatError e)
        {
            header.Error = e.Message;
        }

        return header;
    }

    private void ReadJson(byte[] json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxDepth });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new FormatError("the header is not a JSON object");
        }

        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            string name = reader.GetString()!;
            reader.Read();
            if (name == MetadataKey)
            {
                if (Metadata is not null)
                {
                    DuplicateKeys.Add(MetadataKey);
                }

                Metadata = ReadMetadata(ref reader);
                continue;
            }

            SafeTensorsTensor tensor = ReadTensor(ref reader, name);
            if (seen.TryGetValue(name, out int index))
            {
                DuplicateKeys.Add($"tensor \"{name}\"");
                Tensors[index] = tensor;
            }
            else
            {
                seen[name] = Tensors.Count;
                Tensors.Add(tensor);
            }
        }

        // Only whitespace (writers pad with spaces) may follow the object.
        if (reader.Read())
        {
            throw new FormatError("the header has content after its JSON object");
        }
    }

    private List<KeyValuePair<string, string>>? ReadMetadata(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new FormatError("__metadata__ is not a map of strings");
        }

        var entries = new List<KeyValuePair<string, string>>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            string key = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
            {
                throw new FormatError($"__metadata__ value \"{key}\" is a {Describe(reader.TokenType)}, not a string");
            }

            string value = reader.GetString()!;
            if (seen.TryGetValue(key, out int index))
            {
                DuplicateKeys.Add($"__metadata__ key \"{key}\"");
                entries[index] = new(key, value);
            }
            else
            {
                seen[key] = entries.Count;
                entries.Add(new(key, value));
            }
        }

        return entries;
    }

    private SafeTensorsTensor ReadTensor(ref Utf8JsonReader reader, string name)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new FormatError($"tensor \"{name}\" is a {Describe(reader.TokenType)}, not an object");
        }

        string? dtype = null;
        ulong[]? shape = null;
        ulong[]? offsets = null;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            string field = reader.ValueTextEquals("dtype"u8) ? "dtype"
                : reader.ValueTextEquals("shape"u8) ? "shape"
                : reader.ValueTextEquals("data_offsets"u8) ? "data_offsets"
                : reader.GetString()!;
            reader.Read();
            bool repeated = false;
            switch (field)
            {
                case "dtype":
                    repeated = dtype is not null;
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        throw new FormatError($"tensor \"{name}\" has a dtype that is not a string");
                    }

                    dtype = KnownDtype(ref reader) ?? reader.GetString()!;
                    if (!DtypeBits.ContainsKey(dtype))
                    {
                        throw new FormatError($"tensor \"{name}\" has the unknown dtype \"{dtype}\"");
                    }

                    break;
                case "shape":
                    repeated = shape is not null;
                    shape = ReadIntegers(ref reader, name, field);
                    break;
                case "data_offsets":
                    repeated = offsets is not null;
                    offsets = ReadIntegers(ref reader, name, field);
                    if (offsets.Length != 2)
                    {
                        throw new FormatError($"tensor \"{name}\" has {offsets.Length} data_offsets, not 2");
                    }

                    break;
                default:
                    // serde ignores fields TensorInfo does not declare.
                    reader.Skip();
                    break;
            }

            if (repeated)
            {
                DuplicateKeys.Add($"field \"{field}\" of tensor \"{name}\"");
            }
        }

        if (dtype is null)
        {
            throw new FormatError($"tensor \"{name}\" has no dtype");
        }

        if (shape is null)
        {
            throw new FormatError($"tensor \"{name}\" has no shape");
        }

        if (offsets is null)
        {
            throw new FormatError($"tensor \"{name}\" has no data_offsets");
        }

        return new SafeTensorsTensor(name, dtype, DtypeBits[dtype], shape, offsets[0], offsets[1]);
    }

    private static ulong[] ReadIntegers(ref Utf8JsonReader reader, string name, string field)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new FormatError($"tensor \"{name}\" has a {field} that is not an array");
        }

        var values = new List<ulong>();
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetUInt64(out ulong value))
            {
                throw new FormatError($"tensor \"{name}\" has a {field} entry that is not a non-negative 64-bit integer ({Describe(reader.TokenType)} {Token(ref reader)})");
            }

            values.Add(value);
        }

        return values.ToArray();
    }

    /// <summary>The dtype name without allocating a string for it (a million tensors name a few dtypes), or null when unknown.</summary>
    private static string? KnownDtype(ref Utf8JsonReader reader)
    {
        foreach ((string name, byte[] utf8) in DtypeNames)
        {
            if (reader.ValueTextEquals(utf8))
            {
                return name;
            }
        }

        return null;
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new FormatError("the header ends inside its JSON");
        }

        return reader.TokenType;
    }

    private static string Token(ref Utf8JsonReader reader)
    {
        ReadOnlySpan<byte> raw = reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan;
        string text = Encoding.UTF8.GetString(raw[..Math.Min(raw.Length, 40)]);
        return reader.TokenType == JsonTokenType.String ? $"\"{text}\"" : text;
    }

    private static string Describe(JsonTokenType type) => type switch
    {
        JsonTokenType.StartObject => "object",
        JsonTokenType.StartArray => "array",
        JsonTokenType.String => "string",
        JsonTokenType.Number => "number",
        JsonTokenType.True or JsonTokenType.False => "boolean",
        JsonTokenType.Null => "null",
        _ => type.ToString(),
    };

    /// <summary>A header the reference refuses; carries the reason.</summary>
    private sealed class FormatError : Exception
    {
        public FormatError(string message)
            : base(message)
        {
        }
    }
}
