using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace ModelSecurity.Formats.NumPy;

/// <summary>
/// The header of a NumPy <c>.npy</c> file (numpy <c>lib/_format_impl.py</c>): <c>\x93NUMPY</c>, the
/// format version, a little-endian header length (u16 in 1.0, u32 in 2.0 and 3.0), then a Python
/// dict literal (Latin-1 in 1.0 and 2.0, UTF-8 in 3.0) with exactly the keys <c>descr</c>,
/// <c>fortran_order</c> and <c>shape</c>, padded with spaces and a newline. Read with
/// <see cref="PythonLiteral"/>, never evaluated; only the header's bytes are read.
/// </summary>
/// <remarks>
/// <see cref="Error"/> says why numpy would refuse the file before reading any data. numpy does not
/// check an object array's shape at all (it unpickles the data whatever the shape says), so for
/// those, shape problems are warnings. When the <c>descr</c> cannot be read, <see cref="HasObject"/>
/// is true if any string in it could name an object type.
/// </remarks>
internal sealed class NpyHeader
{
    /// <summary>Longest header numpy reads without <c>allow_pickle</c> or a larger <c>max_header_size</c>.</summary>
    public const int NumPyMaxHeaderSize = 10_000;

    /// <summary>Longest header this reader reads.</summary>
    public const int MaxHeaderBytes = 1024 * 1024;

    /// <summary>numpy pads the header so the data starts on this boundary (older versions padded to 16).</summary>
    public const int ArrayAlign = 64;

    /// <summary>Most dimensions numpy 2 allows (NPY_MAXDIMS); numpy 1 allowed 32.</summary>
    public const int MaxDimensions = 64;

    private const int LegacyMaxDimensions = 32;

    // A hostile header can make thousands of distinct complaints: keep the first few.
    private const int MaxWarnings = 20;

    private static readonly byte[] Magic = { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' };
    private static readonly string[] ExpectedKeys = { "descr", "fortran_order", "shape" };
    private static readonly Encoding Latin1 = Encoding.GetEncoding("ISO-8859-1");
    private static readonly Encoding StrictUtf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static readonly HashSet<string> DateTimeUnits = new(StringComparer.Ordinal)
    {
        "Y", "M", "W", "D", "h", "m", "s", "ms", "us", "\u03BCs", "ns", "ps", "fs", "as", "generic",
    };

    private readonly List<string> _warnings = new();
    private int _descrErrors;
    private int _omittedWarnings;

    private NpyHeader()
    {
        Shape = NpyField.NoShape;
        SubarrayShape = NpyField.NoShape;
        Warnings = _warnings;
    }

    /// <summary>Format major version (1, 2 or 3 for files numpy writes).</summary>
    public int Major { get; private set; }

    /// <summary>Format minor version (0 for files numpy writes).</summary>
    public int Minor { get; private set; }

    /// <summary>The header length field: bytes of dict literal and padding after the length.</summary>
    public long HeaderLength { get; private set; }

    /// <summary>Offset of the array data (or of the pickle, for object arrays).</summary>
    public long DataOffset { get; private set; }

    /// <summary>The type string (<c>'&lt;f4'</c>, <c>'|O'</c>, <c>'&lt;U10'</c>...), or null when the dtype is structured or unreadable.</summary>
    public string? Descr { get; private set; }

    /// <summary>The fields of a structured dtype in header order (padding included), or null.</summary>
    public IReadOnlyList<NpyField>? Fields { get; private set; }

    /// <summary>The shape of a <c>(descr, shape)</c> subarray dtype; empty otherwise.</summary>
    public IReadOnlyList<long> SubarrayShape { get; private set; }

    /// <summary>True when the data is stored in Fortran (column-major) order.</summary>
    public bool FortranOrder { get; private set; }

    /// <summary>The array's dimensions; empty for a scalar (and when the shape could not be read).</summary>
    public IReadOnlyList<long> Shape { get; private set; }

    /// <summary>True when the dtype holds Python objects anywhere: numpy then stores (and loads) the data as a pickle.</summary>
    public bool HasObject { get; private set; }

    /// <summary>Bytes per element (structured: the sum of the fields, padding included); -1 when unknown.</summary>
    public long ItemSize { get; private set; } = -1;

    /// <summary>
    /// Elements times <see cref="ItemSize"/>: the bytes numpy reads after the header. Null when unknown or
    /// not computable. For object arrays the data is a pickle and this is not its size.
    /// </summary>
    public long? DataBytes { get; private set; }

    /// <summary>Why numpy would refuse the file (bad magic, truncated header, not a literal, wrong keys...); null when it is well formed.</summary>
    public string? Error { get; private set; }

    /// <summary>Oddities that do not stop numpy (or that only options such as <c>allow_pickle</c> get past).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Reads the header at the start of <paramref name="source"/>. Never throws on malformed input: <see cref="Error"/> says what is wrong.</summary>
    public static NpyHeader Parse(ModelFileSource source)
    {
        var header = new NpyHeader();
        header.Read(source);
        if (header._omittedWarnings > 0)
        {
            header._warnings.Add($"{header._omittedWarnings:N0} more warnings not listed");
        }

        return header;
    }

    /// <summary>
    /// True when numpy could read the type string as holding Python objects: the <c>O</c> type in any
    /// byte order or size, <c>object</c>, NumPy 2's variable-width string <c>T</c> (whose dtype also has
    /// <c>hasobject</c>, so numpy unpickles its data), and comma or subarray strings naming one of them.
    /// Deliberately coarse: any <c>O</c> or <c>T</c> counts, as no other numpy type string holds either.
    /// </summary>
    public static bool IsObjectDescr(string descr) =>
        descr.Contains('O') || descr.Contains('T') || descr.Contains("object");

    /// <summary>True for a plain void type string (<c>'|V16'</c>): the type numpy's padding fields have.</summary>
    public static bool IsVoidDescr(string descr) => TrySplitTypeString(descr, out char kind, out _, out string? unit) && kind == 'V' && unit is null;

    /// <summary>
    /// Bytes per element of a simple type string as numpy writes them (<c>[&lt;&gt;|=]</c>, a type character,
    /// a size, a datetime unit): <c>'&lt;f4'</c> 4, <c>'b1'</c> 1, <c>'&lt;U10'</c> 40 (UCS-4), <c>'|S5'</c> 5,
    /// <c>'&lt;M8[ns]'</c> 8, <c>'|O'</c> 8 (a pointer). -1 for anything else.
    /// </summary>
    public static long ItemSizeOf(string descr)
    {
        if (!TrySplitTypeString(descr, out char kind, out long? size, out string? unit))
        {
            return -1;
        }

        if (unit is not null)
        {
            return kind is 'M' or 'm' && (size is null or 8) && IsDateTimeUnit(unit) ? 8 : -1;
        }

        return kind switch
        {
            'b' => size is null or 1 ? 1 : -1,
            'i' or 'u' => size is null ? 4 : size is 1 or 2 or 4 or 8 ? size.Value : -1,
            'f' => size is null ? 4 : size is 2 or 4 or 8 or 12 or 16 ? size.Value : -1,
            'c' => size is null ? 1 : size is 8 or 16 or 24 or 32 ? size.Value : -1,
            'S' or 'a' or 'V' => size ?? 0,
            'U' => size is null ? 0 : size.Value <= long.MaxValue / 4 ? size.Value * 4 : -1,
            'O' => size is null or 4 or 8 ? 8 : -1,
            'M' or 'm' => size is null or 8 ? 8 : -1,
            'T' => size is null ? 16 : -1,
            _ when size is not null => -1,
            '?' or 'B' => 1,
            'h' or 'H' or 'e' => 2,
            'I' => 4,
            'l' or 'L' or 'q' or 'Q' or 'p' or 'P' or 'd' or 'F' => 8,
            'g' or 'D' => 16,
            'G' => 32,
            _ => -1,
        };
    }

    private static bool TrySplitTypeString(string descr, out char kind, out long? size, out string? unit)
    {
        kind = '\0';
        size = null;
        unit = null;
        int i = 0;
        if (i < descr.Length && descr[i] is '<' or '>' or '|' or '=')
        {
            i++;
        }

        if (i >= descr.Length)
        {
            return false;
        }

        kind = descr[i++];
        int digitsStart = i;
        long value = 0;
        while (i < descr.Length && descr[i] is >= '0' and <= '9')
        {
            if (i - digitsStart >= 18)
            {
                return false;
            }

            value = (value * 10) + (descr[i] - '0');
            i++;
        }

        if (i > digitsStart)
        {
            size = value;
        }

        if (i < descr.Length && descr[i] == '[')
        {
            if (descr[descr.Length - 1] != ']')
            {
                return false;
            }

            unit = descr.Substring(i + 1, descr.Length - i - 2);
            i = descr.Length;
        }

        return i == descr.Length;
    }

    private static bool IsDateTimeUnit(string unit)
    {
        // An optional multiplier: '<M8[25s]'.
        int i = 0;
        while (i < unit.Length && unit[i] is >= '0' and <= '9')
        {
            i++;
        }

        return DateTimeUnits.Contains(unit.Substring(i));
    }

    private void SetError(string message) => Error ??= message;

    private void Warn(string message)
    {
        if (_warnings.Contains(message))
        {
            return;
        }

        if (_warnings.Count < MaxWarnings)
        {
            _warnings.Add(message);
        }
        else
        {
            _omittedWarnings++;
        }
    }

    private void Read(ModelFileSource source)
    {
        byte[] prefix = source.ReadBlock(0, 12);
        if (prefix.Length < Magic.Length || !prefix.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            SetError("not a .npy file: it does not start with \\x93NUMPY");
            return;
        }

        if (prefix.Length < 8)
        {
            SetError("the file ends before the format version");
            return;
        }

        Major = prefix[6];
        Minor = prefix[7];

        // numpy refuses all but 1.0, 2.0 and 3.0; other versions are read here with the nearest layout.
        int lengthSize = Major >= 2 ? 4 : 2;
        bool utf8 = Major >= 3;
        if (Minor != 0 || Major is < 1 or > 3)
        {
            string layout = Major >= 3 ? "3.0" : Major == 2 ? "2.0" : "1.0";
            Warn($"format version {Major}.{Minor} is not one numpy reads (it refuses all but 1.0, 2.0 and 3.0); read with the {layout} layout");
        }

        if (prefix.Length < 8 + lengthSize)
        {
            SetError("the file ends inside the header length");
            return;
        }

        HeaderLength = lengthSize == 2
            ? BinaryPrimitives.ReadUInt16LittleEndian(prefix.AsSpan(8))
            : BinaryPrimitives.ReadUInt32LittleEndian(prefix.AsSpan(8));
        DataOffset = 8 + lengthSize + HeaderLength;
        if (DataOffset > source.Length)
        {
            SetError($"the header length ({HeaderLength:N0} bytes) runs past the end of the file ({source.Length:N0} bytes)");
            return;
        }

        if (HeaderLength > MaxHeaderBytes)
        {
            SetError($"the header is {HeaderLength:N0} bytes, more than the {MaxHeaderBytes:N0} this reader reads (numpy refuses more than {NumPyMaxHeaderSize:N0} characters unless the file is trusted)");
            return;
        }

        if (DataOffset % ArrayAlign != 0)
        {
            Warn(DataOffset % 16 == 0
                ? $"the data starts at byte {DataOffset:N0}: aligned to 16 bytes as older numpy wrote, not {ArrayAlign}"
                : $"the data starts at byte {DataOffset:N0}, not aligned to {ArrayAlign} (or the 16 older numpy used): not as numpy pads it");
        }

        byte[] bytes = source.ReadBlock(8 + lengthSize, (int)HeaderLength);
        string text;
        try
        {
            text = (utf8 ? StrictUtf8 : Latin1).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            SetError("the header is not valid UTF-8 (required from format 3.0)");
            return;
        }

        if (text.Length > NumPyMaxHeaderSize)
        {
            Warn($"the header is {text.Length:N0} characters: numpy refuses more than {NumPyMaxHeaderSize:N0} unless called with allow_pickle=True or a larger max_header_size");
        }

        if (text.Length == 0 || text[text.Length - 1] != '\n')
        {
            Warn("the header does not end with a newline as numpy writes it");
        }

        var literal = new PythonLiteral(text, allowLongSuffix: Major <= 2);
        PyValue? value = literal.Parse();
        if (value is null)
        {
            SetError($"the header is not a Python literal: {literal.Error}");
            return;
        }

        if (literal.UsedLongSuffix)
        {
            Warn("the header's integers carry Python 2 'L' suffixes (numpy strips them from 1.0 and 2.0 headers)");
        }

        if (value.Kind != PyKind.Dict)
        {
            SetError($"the header is not a dict: {value.Describe()}");
            return;
        }

        ReadDict(value);
        CheckShapeAndSize();
        CheckDataLength(source.Length);
    }

    private void ReadDict(PyValue dict)
    {
        var values = new Dictionary<string, PyValue>(StringComparer.Ordinal);
        var unexpected = new List<string>();
        foreach (KeyValuePair<PyValue, PyValue> entry in dict.Entries)
        {
            if (entry.Key.Kind != PyKind.Str)
            {
                unexpected.Add(entry.Key.Describe(40));
                continue;
            }

            if (values.ContainsKey(entry.Key.Text))
            {
                // Python keeps the last value: a reader that takes the first sees another array.
                Warn($"the key {entry.Key.Describe(40)} appears more than once; Python keeps the last value");
            }

            values[entry.Key.Text] = entry.Value;
        }

        unexpected.AddRange(values.Keys.Where(k => Array.IndexOf(ExpectedKeys, k) < 0).Select(k => PyValue.String(PyKind.Str, k, 0).Describe(40)));
        string[] missing = ExpectedKeys.Where(k => !values.ContainsKey(k)).ToArray();
        if (missing.Length > 0 || unexpected.Count > 0)
        {
            var parts = new List<string>();
            if (missing.Length > 0)
            {
                parts.Add("missing " + string.Join(", ", missing.Select(k => $"'{k}'")));
            }

            if (unexpected.Count > 0)
            {
                parts.Add("unexpected " + string.Join(", ", unexpected.Take(5)) + (unexpected.Count > 5 ? $" and {unexpected.Count - 5} more" : string.Empty));
            }

            SetError($"the header's keys are not exactly 'descr', 'fortran_order' and 'shape' ({string.Join("; ", parts)})");
        }

        // Read what is there even after an error: an object descr is worth knowing about.
        if (values.TryGetValue("shape", out PyValue? shape))
        {
            ReadShape(shape);
        }

        if (values.TryGetValue("fortran_order", out PyValue? fortran))
        {
            if (fortran.Kind == PyKind.Bool)
            {
                FortranOrder = fortran.Int != 0;
            }
            else
            {
                SetError($"fortran_order is not True or False: {fortran.Describe()}");
            }
        }

        if (values.TryGetValue("descr", out PyValue? descr))
        {
            ReadDescr(descr);
        }
    }

    private void ReadShape(PyValue shape)
    {
        if (shape.Kind != PyKind.Tuple)
        {
            SetError($"shape is not a tuple: {shape.Describe()}");
            return;
        }

        var dims = new List<long>(shape.Items.Count);
        foreach (PyValue item in shape.Items)
        {
            if (item.Kind == PyKind.Bool)
            {
                // isinstance(True, int) holds in Python, so numpy takes True and False as 1 and 0.
                Warn("shape holds True or False, which Python counts as 1 and 0");
            }
            else if (item.Kind != PyKind.Int)
            {
                SetError($"shape holds something other than integers: {shape.Describe()}");
                return;
            }

            dims.Add(item.Int);
        }

        Shape = dims;
    }

    private void ReadDescr(PyValue descr)
    {
        int errors = _descrErrors;
        NpyField? dtype = ReadFormat(descr, string.Empty, null, NpyField.NoShape);
        if (dtype is not null)
        {
            Descr = dtype.Descr;
            Fields = dtype.Fields;
            SubarrayShape = dtype.Shape;
            ItemSize = dtype.ItemSize;
            HasObject = dtype.HasObject;
        }

        if (dtype is null || _descrErrors != errors)
        {
            // numpy may still read a dtype this reader could not: be safe about objects.
            HasObject |= AnyString(descr, IsObjectDescr);
        }
    }

    private void DescrError(string message)
    {
        _descrErrors++;
        SetError(message);
    }

    /// <summary>Reads a dtype as numpy's descr_to_dtype does: a type string, a (format, shape) pair, or a sequence of fields.</summary>
    private NpyField? ReadFormat(PyValue format, string name, string? title, IReadOnlyList<long> shape)
    {
        switch (format.Kind)
        {
            case PyKind.Str:
                {
                    long size = ItemSizeOf(format.Text);
                    if (size < 0)
                    {
                        Warn($"descr {format.Describe(40)} is not a type string numpy writes; its item size is unknown");
                    }

                    return MakeField(name, title, format.Text, null, shape, size, IsObjectDescr(format.Text));
                }

            case PyKind.Tuple:
                {
                    // descr_to_dtype(descr[0]) then dtype((dt, descr[1])); items past the second are ignored.
                    if (format.Items.Count < 2)
                    {
                        DescrError($"a (format, shape) subarray has fewer than two items: {format.Describe()}");
                        return null;
                    }

                    IReadOnlyList<long>? inner = ReadSubarrayShape(format.Items[1]);
                    return inner is null ? null : ReadFormat(format.Items[0], name, title, shape.Concat(inner).ToArray());
                }

            case PyKind.List:
            case PyKind.Dict:
            case PyKind.Bytes:
                return ReadFields(format, name, title, shape);
            default:
                DescrError($"descr is not a type string, a list of fields or a (format, shape) pair: {format.Describe()}");
                return null;
        }
    }

    private NpyField? ReadFields(PyValue list, string name, string? title, IReadOnlyList<long> shape)
    {
        var fields = new List<NpyField>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        long total = 0;
        bool hasObject = false;
        foreach (PyValue item in Iterate(list))
        {
            IReadOnlyList<PyValue>? parts = AsSequence(item);
            if (parts is null || parts.Count is not 2 and not 3)
            {
                DescrError($"a field is not a (name, format) or (name, format, shape) tuple: {item.Describe()}");
                return null;
            }

            string fieldName;
            string? fieldTitle = null;
            PyValue nameValue = parts[0];
            if (nameValue.Kind == PyKind.Str)
            {
                fieldName = nameValue.Text;
            }
            else if (nameValue.Kind == PyKind.Tuple && nameValue.Items.Count == 2 && nameValue.Items[1].Kind == PyKind.Str
                && nameValue.Items[0].Kind is PyKind.Str or PyKind.None)
            {
                fieldTitle = nameValue.Items[0].Kind == PyKind.Str ? nameValue.Items[0].Text : null;
                fieldName = nameValue.Items[1].Text;
            }
            else
            {
                DescrError($"a field name is not a string or a (title, name) pair: {nameValue.Describe()}");
                return null;
            }

            IReadOnlyList<long> fieldShape = NpyField.NoShape;
            if (parts.Count == 3)
            {
                IReadOnlyList<long>? read = ReadSubarrayShape(parts[2]);
                if (read is null)
                {
                    return null;
                }

                fieldShape = read;
            }

            NpyField? field = ReadFormat(parts[1], fieldName, fieldTitle, fieldShape);
            if (field is null)
            {
                return null;
            }

            if (!field.IsPadding)
            {
                if (!names.Add(fieldName))
                {
                    DescrError($"the field name '{fieldName}' appears more than once (numpy refuses that)");
                }
                else if (fieldName.Length == 0)
                {
                    Warn("a field that is not padding has an empty name");
                }
            }

            fields.Add(field);
            hasObject |= field.HasObject;
            if (total >= 0 && field.ItemSize < 0)
            {
                total = -1;
            }
            else if (total >= 0)
            {
                if (field.ItemSize > long.MaxValue - total)
                {
                    DescrError("the structured dtype's item size overflows 64 bits");
                    return null;
                }

                total += field.ItemSize;
            }
        }

        return MakeField(name, title, null, fields, shape, total, hasObject);
    }

    private NpyField? MakeField(string name, string? title, string? descr, IReadOnlyList<NpyField>? fields, IReadOnlyList<long> shape, long baseSize, bool hasObject)
    {
        long size = baseSize;
        if (size >= 0)
        {
            foreach (long dim in shape)
            {
                if (dim != 0 && size > long.MaxValue / dim)
                {
                    DescrError("a subarray's size overflows 64 bits");
                    return null;
                }

                size *= dim;
            }
        }

        return new NpyField(name, title, descr, fields, shape, size, hasObject);
    }

    /// <summary>A subarray shape: an int n (read as (n,)) or a tuple of non-negative ints.</summary>
    private long[]? ReadSubarrayShape(PyValue shape)
    {
        IReadOnlyList<PyValue> items = shape.Kind switch
        {
            PyKind.Int => new[] { shape },
            PyKind.Tuple => shape.Items,
            _ => Array.Empty<PyValue>(),
        };
        if (shape.Kind is not PyKind.Int and not PyKind.Tuple || items.Any(i => i.Kind != PyKind.Int))
        {
            DescrError($"a subarray shape is not an int or a tuple of ints: {shape.Describe()}");
            return null;
        }

        if (items.Any(i => i.Int < 0))
        {
            DescrError($"a subarray shape has a negative dimension: {shape.Describe()}");
            return null;
        }

        return items.Select(i => i.Int).ToArray();
    }

    /// <summary>What Python's <c>for x in value</c> yields, for the kinds descr_to_dtype iterates.</summary>
    private static IEnumerable<PyValue> Iterate(PyValue value) => value.Kind switch
    {
        PyKind.Dict => value.Entries.Select(e => e.Key),
        PyKind.Bytes => value.Text.Select(c => PyValue.Integer(c, value.Position)),
        _ => value.Items,
    };

    /// <summary>What unpacking <c>a, b = value</c> sees: tuples and lists, and also the characters of a str and the keys of a dict.</summary>
    private static IReadOnlyList<PyValue>? AsSequence(PyValue value) => value.Kind switch
    {
        PyKind.Tuple or PyKind.List => value.Items,
        PyKind.Str => value.Text.Length <= 3 ? value.Text.Select(c => PyValue.String(PyKind.Str, c.ToString(), value.Position)).ToArray() : null,
        PyKind.Dict => value.Entries.Count <= 3 ? value.Entries.Select(e => e.Key).ToArray() : null,
        _ => null,
    };

    private static bool AnyString(PyValue value, Func<string, bool> predicate) => value.Kind switch
    {
        PyKind.Str => predicate(value.Text),
        PyKind.Tuple or PyKind.List => value.Items.Any(i => AnyString(i, predicate)),
        PyKind.Dict => value.Entries.Any(e => AnyString(e.Key, predicate) || AnyString(e.Value, predicate)),
        _ => false,
    };

    private void CheckShapeAndSize()
    {
        if (Error is not null)
        {
            return;
        }

        // numpy looks at the shape only when it reads raw data: an object array is unpickled whatever the shape says.
        void Report(string message)
        {
            if (HasObject)
            {
                Warn(message + " (numpy unpickles an object array without checking its shape)");
            }
            else
            {
                SetError(message);
            }
        }

        if (Shape.Count > MaxDimensions)
        {
            Report($"the shape has {Shape.Count} dimensions; numpy allows {MaxDimensions}");
        }
        else if (Shape.Count > LegacyMaxDimensions)
        {
            Warn($"the shape has {Shape.Count} dimensions; numpy before 2.0 allows {LegacyMaxDimensions}");
        }

        long negative = Shape.FirstOrDefault(d => d < 0);
        if (negative < 0)
        {
            Report($"the shape has a negative dimension ({negative})");
            return;
        }

        // As numpy's array constructor: the product of the non-zero dimensions times the item size must fit.
        long elements = 1;
        bool zero = false;
        foreach (long dim in Shape)
        {
            if (dim == 0)
            {
                zero = true;
                continue;
            }

            if (elements > long.MaxValue / dim)
            {
                Report("the shape's element count overflows 64 bits");
                return;
            }

            elements *= dim;
        }

        if (ItemSize < 0)
        {
            return;
        }

        if (ItemSize > 0 && elements > long.MaxValue / ItemSize)
        {
            Report("the array's size in bytes overflows 64 bits");
            return;
        }

        DataBytes = zero ? 0 : elements * ItemSize;
    }

    private void CheckDataLength(long fileLength)
    {
        if (Error is not null || HasObject || DataBytes is not long needed)
        {
            return;
        }

        long available = fileLength - DataOffset;
        if (needed > available)
        {
            Warn($"the array needs {needed:N0} bytes of data but {available:N0} follow the header: the file is truncated (numpy refuses it)");
        }
        else if (needed < available)
        {
            Warn($"{available - needed:N0} bytes follow the array data (numpy ignores them)");
        }
    }
}
