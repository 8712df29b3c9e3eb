using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace ModelSecurity.Formats.NumPy;

/// <summary>The kinds of value <see cref="PythonLiteral"/> reads.</summary>
internal enum PyKind
{
    None,
    Bool,
    Int,
    Str,
    Bytes,
    Tuple,
    List,
    Dict,
}

/// <summary>One value read from a Python literal: data only, nothing in it is ever evaluated.</summary>
internal sealed class PyValue
{
    private PyValue(PyKind kind, int position)
    {
        Kind = kind;
        Position = position;
        Text = string.Empty;
        Items = Array.Empty<PyValue>();
        Entries = Array.Empty<KeyValuePair<PyValue, PyValue>>();
    }

    public PyKind Kind { get; }

    /// <summary>Character offset of the value in the parsed text.</summary>
    public int Position { get; }

    /// <summary>The integer of an <see cref="PyKind.Int"/>, or 0/1 for a <see cref="PyKind.Bool"/>.</summary>
    public long Int { get; private set; }

    /// <summary>The text of a <see cref="PyKind.Str"/>, or the bytes of a <see cref="PyKind.Bytes"/> as Latin-1 characters.</summary>
    public string Text { get; private set; }

    /// <summary>The items of a <see cref="PyKind.Tuple"/> or <see cref="PyKind.List"/>.</summary>
    public IReadOnlyList<PyValue> Items { get; private set; }

    /// <summary>The entries of a <see cref="PyKind.Dict"/> in source order, repeated keys included.</summary>
    public IReadOnlyList<KeyValuePair<PyValue, PyValue>> Entries { get; private set; }

    public static PyValue None(int position) => new(PyKind.None, position);

    public static PyValue Bool(bool value, int position) => new(PyKind.Bool, position) { Int = value ? 1 : 0 };

    public static PyValue Integer(long value, int position) => new(PyKind.Int, position) { Int = value };

    public static PyValue String(PyKind kind, string text, int position) => new(kind, position) { Text = text };

    public static PyValue Sequence(PyKind kind, IReadOnlyList<PyValue> items, int position) => new(kind, position) { Items = items };

    public static PyValue Dict(IReadOnlyList<KeyValuePair<PyValue, PyValue>> entries, int position) =>
        new(PyKind.Dict, position) { Entries = entries };

    /// <summary>A Python-like rendering for messages, cut at <paramref name="maxLength"/> characters.</summary>
    public string Describe(int maxLength = 80)
    {
        var builder = new StringBuilder();
        Append(builder, maxLength + 1);
        return builder.Length > maxLength ? builder.ToString(0, maxLength) + "..." : builder.ToString();
    }

    public override string ToString() => Describe();

    private void Append(StringBuilder builder, int limit)
    {
        if (builder.Length > limit)
        {
            return;
        }

        switch (Kind)
        {
            case PyKind.None:
                builder.Append("None");
                break;
            case PyKind.Bool:
                builder.Append(Int != 0 ? "True" : "False");
                break;
            case PyKind.Int:
                builder.Append(Int.ToString(CultureInfo.InvariantCulture));
                break;
            case PyKind.Str:
            case PyKind.Bytes:
                builder.Append(Kind == PyKind.Bytes ? "b'" : "'");
                foreach (char c in Text)
                {
                    if (builder.Length > limit)
                    {
                        return;
                    }

                    if (c is '\\' or '\'')
                    {
                        builder.Append('\\').Append(c);
                    }
                    else if (c < ' ' || c == '\x7f')
                    {
                        builder.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        builder.Append(c);
                    }
                }

                builder.Append('\'');
                break;
            case PyKind.Tuple:
            case PyKind.List:
                builder.Append(Kind == PyKind.Tuple ? '(' : '[');
                for (int i = 0; i < Items.Count && builder.Length <= limit; i++)
                {
                    if (i > 0)
                    {
                        builder.Append(", ");
                    }

                    Items[i].Append(builder, limit);
                }

                if (Kind == PyKind.Tuple && Items.Count == 1)
                {
                    builder.Append(',');
                }

                builder.Append(Kind == PyKind.Tuple ? ')' : ']');
                break;
            case PyKind.Dict:
                builder.Append('{');
                for (int i = 0; i < Entries.Count && builder.Length <= limit; i++)
                {
                    if (i > 0)
                    {
                        builder.Append(", ");
                    }

                    Entries[i].Key.Append(builder, limit);
                    builder.Append(": ");
                    Entries[i].Value.Append(builder, limit);
                }

                builder.Append('}');
                break;
        }
    }
}

/// <summary>
/// A small, strict reader for the Python literals NumPy writes in <c>.npy</c> headers (what
/// <c>ast.literal_eval</c> accepts, minus floats, complex numbers and sets): dicts, lists, tuples,
/// str and bytes literals with their escapes, ints (with Python 2's <c>L</c> suffix when allowed),
/// <c>True</c>, <c>False</c> and <c>None</c>. It never evaluates anything, and bounds nesting and
/// the number of values so hostile input costs linear time and no stack.
/// </summary>
internal sealed class PythonLiteral
{
    /// <summary>Deepest nesting of dicts, lists and tuples accepted.</summary>
    public const int MaxDepth = 32;

    /// <summary>Most values (scalars and containers) read from one literal.</summary>
    public const int MaxValues = 100_000;

    private readonly string _text;
    private readonly bool _allowLongSuffix;
    private int _pos;
    private int _values;

    public PythonLiteral(string text, bool allowLongSuffix)
    {
        _text = text;
        _allowLongSuffix = allowLongSuffix;
    }

    /// <summary>Why the text is not a literal, after <see cref="Parse"/> returned null.</summary>
    public string? Error { get; private set; }

    /// <summary>True when an integer carried Python 2's <c>L</c> suffix.</summary>
    public bool UsedLongSuffix { get; private set; }

    /// <summary>Reads the whole text as one literal; null (and <see cref="Error"/>) when it is not one.</summary>
    public PyValue? Parse()
    {
        _pos = 0;
        _values = 0;
        Error = null;
        try
        {
            // CPython refuses source text with NUL characters before it tokenizes anything.
            int nul = _text.IndexOf('\0');
            if (nul >= 0)
            {
                _pos = nul;
                throw Fail("a NUL character (Python refuses source text holding one)");
            }

            SkipTrivia();
            PyValue value = ParseValue(0);
            SkipTrivia();
            if (_pos < _text.Length)
            {
                throw Fail("unexpected text after the literal");
            }

            return value;
        }
        catch (FormatException e)
        {
            Error = e.Message;
            return null;
        }
    }

    private FormatException Fail(string message) => new($"{message} (at character {_pos})");

    private void SkipTrivia()
    {
        while (_pos < _text.Length)
        {
            char c = _text[_pos];
            if (c is ' ' or '\t' or '\f' or '\r' or '\n')
            {
                _pos++;
            }
            else if (c == '#')
            {
                while (_pos < _text.Length && _text[_pos] != '\n')
                {
                    _pos++;
                }
            }
            else if (c == '\\' && _pos + 1 < _text.Length && _text[_pos + 1] is '\n' or '\r')
            {
                // An explicit line joining backslash.
                _pos += _text[_pos + 1] == '\r' && _pos + 2 < _text.Length && _text[_pos + 2] == '\n' ? 3 : 2;
            }
            else
            {
                break;
            }
        }
    }

    private PyValue ParseValue(int depth)
    {
        if (++_values > MaxValues)
        {
            throw Fail($"more than {MaxValues:N0} values");
        }

        if (_pos >= _text.Length)
        {
            throw Fail("the literal ends early");
        }

        char c = _text[_pos];
        switch (c)
        {
            case '{':
                return ParseDict(depth + 1);
            case '[':
                return ParseList(depth + 1);
            case '(':
                return ParseParenthesis(depth + 1);
            case '\'':
            case '"':
                return ParseStrings();
            case '-':
            case '+':
                {
                    int start = _pos++;
                    SkipTrivia();
                    if (_pos >= _text.Length || !IsDigit(_text[_pos]))
                    {
                        throw Fail("a sign not followed by an integer");
                    }

                    long magnitude = ParseInteger();
                    return PyValue.Integer(c == '-' ? -magnitude : magnitude, start);
                }

            case '.':
                throw Fail("a float (not valid in a .npy header)");
            default:
                if (IsDigit(c))
                {
                    int start = _pos;
                    return PyValue.Integer(ParseInteger(), start);
                }

                if (IsIdentifierChar(c))
                {
                    return ParseName();
                }

                throw Fail($"unexpected character U+{(int)c:X4}");
        }
    }

    private PyValue ParseName()
    {
        if (StringStartLength(_pos) > 0)
        {
            return ParseStrings();
        }

        int start = _pos;
        while (_pos < _text.Length && IsIdentifierChar(_text[_pos]))
        {
            _pos++;
        }

        string name = _text.Substring(start, _pos - start);
        return name switch
        {
            "True" => PyValue.Bool(true, start),
            "False" => PyValue.Bool(false, start),
            "None" => PyValue.None(start),
            _ => throw Fail($"the name '{Shorten(name)}', which is not a literal"),
        };
    }

    private void CheckDepth(int depth)
    {
        if (depth > MaxDepth)
        {
            throw Fail($"nesting deeper than {MaxDepth}");
        }
    }

    private PyValue ParseDict(int depth)
    {
        CheckDepth(depth);
        int start = _pos++;
        var entries = new List<KeyValuePair<PyValue, PyValue>>();
        while (true)
        {
            SkipTrivia();
            if (_pos >= _text.Length)
            {
                throw Fail($"an unterminated dict (opened at character {start})");
            }

            if (_text[_pos] == '}')
            {
                _pos++;
                return PyValue.Dict(entries, start);
            }

            PyValue key = ParseValue(depth);
            SkipTrivia();
            Expect(':', "':' after a dict key");
            SkipTrivia();
            PyValue value = ParseValue(depth);
            entries.Add(new KeyValuePair<PyValue, PyValue>(key, value));
            SkipTrivia();
            if (_pos < _text.Length && _text[_pos] == '}')
            {
                continue;
            }

            Expect(',', "',' or '}' in a dict");
        }
    }

    private PyValue ParseList(int depth)
    {
        CheckDepth(depth);
        int start = _pos++;
        List<PyValue> items = ParseItems(']', depth, "list", start);
        return PyValue.Sequence(PyKind.List, items, start);
    }

    private PyValue ParseParenthesis(int depth)
    {
        CheckDepth(depth);
        int start = _pos++;
        SkipTrivia();
        if (_pos < _text.Length && _text[_pos] == ')')
        {
            _pos++;
            return PyValue.Sequence(PyKind.Tuple, Array.Empty<PyValue>(), start);
        }

        PyValue first = ParseValue(depth);
        SkipTrivia();
        if (_pos < _text.Length && _text[_pos] == ')')
        {
            // (x) is x in parentheses, not a tuple.
            _pos++;
            return first;
        }

        Expect(',', "',' or ')' in a tuple");
        List<PyValue> items = ParseItems(')', depth, "tuple", start);
        items.Insert(0, first);
        return PyValue.Sequence(PyKind.Tuple, items, start);
    }

    private List<PyValue> ParseItems(char close, int depth, string what, int start)
    {
        var items = new List<PyValue>();
        while (true)
        {
            SkipTrivia();
            if (_pos >= _text.Length)
            {
                throw Fail($"an unterminated {what} (opened at character {start})");
            }

            if (_text[_pos] == close)
            {
                _pos++;
                return items;
            }

            items.Add(ParseValue(depth));
            SkipTrivia();
            if (_pos < _text.Length && _text[_pos] == close)
            {
                continue;
            }

            Expect(',', $"',' or '{close}' in a {what}");
        }
    }

    private void Expect(char c, string what)
    {
        if (_pos >= _text.Length)
        {
            throw Fail($"the literal ends where {what} should be");
        }

        if (_text[_pos] != c)
        {
            throw Fail($"expected {what}");
        }

        _pos++;
    }

    private long ParseInteger()
    {
        int radix = 10;
        if (_text[_pos] == '0' && _pos + 1 < _text.Length && char.ToLowerInvariant(_text[_pos + 1]) is 'x' or 'o' or 'b')
        {
            radix = char.ToLowerInvariant(_text[_pos + 1]) switch
            {
                'x' => 16,
                'o' => 8,
                _ => 2,
            };
            _pos += 2;

            // One underscore may follow the prefix: 0x_ff.
            if (_pos < _text.Length && _text[_pos] == '_')
            {
                _pos++;
            }
        }

        int digitsStart = _pos;
        long value = 0;
        bool overflow = false;
        bool lastWasDigit = false;
        while (_pos < _text.Length)
        {
            char c = _text[_pos];
            if (c == '_' && lastWasDigit && _pos + 1 < _text.Length && DigitValue(_text[_pos + 1]) is int next && next < radix)
            {
                _pos++;
                lastWasDigit = false;
                continue;
            }

            int digit = DigitValue(c) ?? -1;
            if (digit < 0 || digit >= radix)
            {
                break;
            }

            if (value > (long.MaxValue - digit) / radix)
            {
                overflow = true;
            }
            else
            {
                value = (value * radix) + digit;
            }

            lastWasDigit = true;
            _pos++;
        }

        if (!lastWasDigit)
        {
            throw Fail("an integer with no digits");
        }

        if (radix == 10 && _text[digitsStart] == '0' && value != 0)
        {
            throw Fail("a decimal integer with leading zeros");
        }

        if (_pos < _text.Length)
        {
            char c = _text[_pos];
            if (c == 'L' && _allowLongSuffix)
            {
                UsedLongSuffix = true;
                _pos++;
            }
            else if (c is '.' or 'e' or 'E' or 'j' or 'J')
            {
                throw Fail("a float or complex number (not valid in a .npy header)");
            }
        }

        if (_pos < _text.Length && IsIdentifierChar(_text[_pos]))
        {
            throw Fail("an invalid number literal");
        }

        if (overflow)
        {
            throw Fail("an integer larger than 64 bits");
        }

        return value;
    }

    private static int? DigitValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => null,
    };

    private static bool IsDigit(char c) => c is >= '0' and <= '9';

    // Python identifiers may hold any Unicode letter; anything that is not ASCII counts, to fail as a name.
    private static bool IsIdentifierChar(char c) => c is '_' or >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' || c > '\x7f';

    /// <summary>Length of a string prefix plus opening quote at <paramref name="at"/>, or 0 when no string starts there.</summary>
    private int StringStartLength(int at)
    {
        int i = at;
        while (i < _text.Length && i - at < 2 && char.ToLowerInvariant(_text[i]) is 'r' or 'b' or 'u' or 'f')
        {
            i++;
        }

        return i < _text.Length && _text[i] is '\'' or '"' ? i - at + 1 : 0;
    }

    private PyValue ParseStrings()
    {
        // Adjacent literals concatenate: 'a' "b" is 'ab'; str and bytes cannot mix.
        int start = _pos;
        var builder = new StringBuilder();
        bool isBytes = ParseStringLiteral(builder);
        while (true)
        {
            int save = _pos;
            SkipTrivia();
            if (StringStartLength(_pos) == 0)
            {
                _pos = save;
                break;
            }

            if (ParseStringLiteral(builder) != isBytes)
            {
                throw Fail("str and bytes literals concatenated");
            }
        }

        return PyValue.String(isBytes ? PyKind.Bytes : PyKind.Str, builder.ToString(), start);
    }

    private bool ParseStringLiteral(StringBuilder builder)
    {
        int start = _pos;
        string prefix = string.Empty;
        while (_text[_pos] is not '\'' and not '"')
        {
            prefix += char.ToLowerInvariant(_text[_pos]);
            _pos++;
        }

        if (prefix.Contains('f'))
        {
            throw Fail("an f-string (not a literal)");
        }

        if (prefix is not "" and not "u" and not "r" and not "b" and not "br" and not "rb")
        {
            throw Fail($"an invalid string prefix '{prefix}'");
        }

        bool raw = prefix.Contains('r');
        bool isBytes = prefix.Contains('b');
        char quote = _text[_pos];
        bool triple = _pos + 2 < _text.Length && _text[_pos + 1] == quote && _text[_pos + 2] == quote;
        _pos += triple ? 3 : 1;
        while (true)
        {
            if (_pos >= _text.Length)
            {
                _pos = start;
                throw Fail("an unterminated string");
            }

            char c = _text[_pos];
            if (c == quote)
            {
                if (!triple)
                {
                    _pos++;
                    return isBytes;
                }

                if (_pos + 2 < _text.Length && _text[_pos + 1] == quote && _text[_pos + 2] == quote)
                {
                    _pos += 3;
                    return isBytes;
                }

                builder.Append(c);
                _pos++;
            }
            else if (c is '\n' or '\r' && !triple)
            {
                throw Fail("a line break inside a string (an unterminated string)");
            }
            else if (c == '\\')
            {
                if (_pos + 1 >= _text.Length)
                {
                    _pos = start;
                    throw Fail("an unterminated string");
                }

                if (raw)
                {
                    // A raw string keeps the backslash, and the escaped character cannot end it.
                    builder.Append(c).Append(_text[_pos + 1]);
                    _pos += 2;
                }
                else
                {
                    ParseEscape(builder, isBytes);
                }
            }
            else
            {
                if (isBytes && c > '\x7f')
                {
                    throw Fail("a non-ASCII character in a bytes literal");
                }

                builder.Append(c);
                _pos++;
            }
        }
    }

    private void ParseEscape(StringBuilder builder, bool isBytes)
    {
        char n = _text[_pos + 1];
        _pos += 2;
        switch (n)
        {
            case '\n':
                break;
            case '\r':
                if (_pos < _text.Length && _text[_pos] == '\n')
                {
                    _pos++;
                }

                break;
            case '\\':
            case '\'':
            case '"':
                builder.Append(n);
                break;
            case 'a':
                builder.Append('\a');
                break;
            case 'b':
                builder.Append('\b');
                break;
            case 'f':
                builder.Append('\f');
                break;
            case 'n':
                builder.Append('\n');
                break;
            case 'r':
                builder.Append('\r');
                break;
            case 't':
                builder.Append('\t');
                break;
            case 'v':
                builder.Append('\v');
                break;
            case >= '0' and <= '7':
                {
                    int value = n - '0';
                    for (int i = 0; i < 2 && _pos < _text.Length && _text[_pos] is >= '0' and <= '7'; i++)
                    {
                        value = (value * 8) + (_text[_pos] - '0');
                        _pos++;
                    }

                    builder.Append((char)(isBytes ? value & 0xFF : value));
                    break;
                }

            case 'x':
                builder.Append((char)ReadHex(2, "\\x"));
                break;
            case 'u' when !isBytes:
                builder.Append((char)ReadHex(4, "\\u"));
                break;
            case 'U' when !isBytes:
                {
                    long value = ReadHex(8, "\\U");
                    if (value > 0x10FFFF)
                    {
                        throw Fail("a \\U escape past U+10FFFF");
                    }

                    // Python strings may hold lone surrogates; char.ConvertFromUtf32 refuses them.
                    builder.Append(value is >= 0xD800 and <= 0xDFFF ? ((char)value).ToString() : char.ConvertFromUtf32((int)value));
                    break;
                }

            case 'N' when !isBytes:
                throw Fail("a \\N{...} escape (named characters are not supported)");
            default:
                // Python keeps unknown escapes as they are.
                builder.Append('\\').Append(n);
                break;
        }
    }

    private long ReadHex(int digits, string escape)
    {
        long value = 0;
        for (int i = 0; i < digits; i++)
        {
            int? digit = _pos < _text.Length ? DigitValue(_text[_pos]) : null;
            if (digit is null)
            {
                throw Fail($"a truncated {escape} escape");
            }

            value = (value * 16) + digit.Value;
            _pos++;
        }

        return value;
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 40), "...");
}
