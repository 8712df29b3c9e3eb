using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace ModelSecurity.Analysis.ChatTemplates;

/// <summary>The kinds of token the Jinja lexer produces.</summary>
internal enum JinjaTokenKind
{
    /// <summary>Literal template text (also the body of <c>{% raw %}</c>).</summary>
    Text,

    /// <summary><c>{{</c>.</summary>
    VariableBegin,

    /// <summary><c>}}</c>.</summary>
    VariableEnd,

    /// <summary><c>{%</c>.</summary>
    BlockBegin,

    /// <summary><c>%}</c>.</summary>
    BlockEnd,

    /// <summary>An identifier.</summary>
    Name,

    /// <summary>A string literal, escapes decoded.</summary>
    String,

    /// <summary>An integer literal.</summary>
    Integer,

    /// <summary>A float literal.</summary>
    Float,

    /// <summary>An operator or punctuation.</summary>
    Operator,

    /// <summary>End of the template.</summary>
    End,
}

/// <summary>One token with its 1-based position in the template.</summary>
internal sealed class JinjaToken
{
    public JinjaToken(JinjaTokenKind kind, string value, int line, int column, bool hadEscape = false)
    {
        Kind = kind;
        Value = value;
        Line = line;
        Column = column;
        HadEscape = hadEscape;
    }

    public JinjaTokenKind Kind { get; }

    /// <summary>The text (string literals: the decoded value).</summary>
    public string Value { get; }

    public int Line { get; }

    public int Column { get; }

    /// <summary>A string literal written with backslash escapes (a common obfuscation).</summary>
    public bool HadEscape { get; }

    public bool Is(JinjaTokenKind kind, string value) => Kind == kind && Value == value;

    public override string ToString() => $"{Kind} '{Value}' at {Line}:{Column}";
}

/// <summary>A template that is not valid Jinja (or exceeds a bound), with where.</summary>
internal sealed class JinjaSyntaxException : Exception
{
    public JinjaSyntaxException()
    {
    }

    public JinjaSyntaxException(string message)
        : base(message)
    {
    }

    public JinjaSyntaxException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public JinjaSyntaxException(string message, int line, int column)
        : base(message)
    {
        Line = line;
        Column = column;
    }

    public int Line { get; }

    public int Column { get; }
}

/// <summary>
/// Lexer for the Jinja2 subset chat templates use: text, <c>{{ }}</c>, <c>{% %}</c>, <c>{# #}</c>,
/// whitespace control (<c>-</c>/<c>+</c>), <c>{% raw %}</c>, and expression tokens with Python string escapes.
/// Whitespace control is consumed, not applied: nothing is rendered.
/// </summary>
internal static class JinjaLexer
{
    /// <summary>Most tokens a template may have.</summary>
    public const int MaxTokens = 1_000_000;

    private const string SingleOperators = "+-/*%~<>=()[]{}.,:|;";

    private static readonly string[] SingleOperatorStrings = SingleOperators.Select(c => c.ToString()).ToArray();

    /// <summary>Splits <paramref name="source"/> into tokens; the last is <see cref="JinjaTokenKind.End"/>.</summary>
    /// <exception cref="JinjaSyntaxException">Unterminated tag, comment or string; bad character; too many tokens.</exception>
    public static List<JinjaToken> Tokenize(string source)
    {
        var state = new State(source);
        state.Run();
        return state.Tokens;
    }

    private sealed class State
    {
        private readonly string _s;
        private int _pos;
        private int _line = 1;
        private int _lineStart;

        public State(string source) => _s = source;

        public List<JinjaToken> Tokens { get; } = new();

        public void Run()
        {
            while (_pos < _s.Length)
            {
                int open = FindTagStart(_pos);
                if (open < 0)
                {
                    AddText(_pos, _s.Length);
                    break;
                }

                AddText(_pos, open);
                char kind = _s[open + 1];
                if (kind == '#')
                {
                    int end = _s.IndexOf("#}", open + 2, StringComparison.Ordinal);
                    if (end < 0)
                    {
                        throw Error("unterminated comment", open);
                    }

                    Advance(end + 2);
                    continue;
                }

                if (kind == '%' && TryRaw(open))
                {
                    continue;
                }

                (int line, int column) = Position(open);
                Add(kind == '{' ? JinjaTokenKind.VariableBegin : JinjaTokenKind.BlockBegin, kind == '{' ? "{{" : "{%", line, column);
                Advance(open + 2);
                if (_pos < _s.Length && (_s[_pos] == '-' || _s[_pos] == '+'))
                {
                    Advance(_pos + 1);
                }

                LexTag(kind == '{' ? '}' : '%', open);
            }

            (int l, int c) = Position(_pos);
            Tokens.Add(new JinjaToken(JinjaTokenKind.End, string.Empty, l, c));
        }

        private int FindTagStart(int from)
        {
            int i = from;
            while (true)
            {
                int brace = _s.IndexOf('{', i);
                if (brace < 0 || brace + 1 >= _s.Length)
                {
                    return -1;
                }

                char next = _s[brace + 1];
                if (next is '{' or '%' or '#')
                {
                    return brace;
                }

                i = brace + 1;
            }
        }

        private bool TryRaw(int open)
        {
            int i = open + 2;
            if (i < _s.Length && (_s[i] == '-' || _s[i] == '+'))
            {
                i++;
            }

            i = SkipSpaces(i);
            if (string.CompareOrdinal(_s, i, "raw", 0, 3) != 0 || (i + 3 < _s.Length && IsNameChar(_s[i + 3])))
            {
                return false;
            }

            i = SkipSpaces(i + 3);
            if (i < _s.Length && (_s[i] == '-' || _s[i] == '+'))
            {
                i++;
            }

            if (string.CompareOrdinal(_s, i, "%}", 0, 2) != 0)
            {
                throw Error("malformed raw tag", open);
            }

            int bodyStart = i + 2;
            int search = bodyStart;
            while (true)
            {
                int tag = _s.IndexOf("{%", search, StringComparison.Ordinal);
                if (tag < 0)
                {
                    throw Error("missing endraw", open);
                }

                int j = tag + 2;
                if (j < _s.Length && (_s[j] == '-' || _s[j] == '+'))
                {
                    j++;
                }

                j = SkipSpaces(j);
                if (string.CompareOrdinal(_s, j, "endraw", 0, 6) == 0)
                {
                    j = SkipSpaces(j + 6);
                    if (j < _s.Length && (_s[j] == '-' || _s[j] == '+'))
                    {
                        j++;
                    }

                    if (string.CompareOrdinal(_s, j, "%}", 0, 2) == 0)
                    {
                        Advance(bodyStart);
                        AddText(bodyStart, tag);
                        Advance(j + 2);
                        return true;
                    }
                }

                search = tag + 2;
            }
        }

        private void LexTag(char endChar, int open)
        {
            int depth = 0;
            while (true)
            {
                if (_pos >= _s.Length)
                {
                    throw Error(endChar == '}' ? "unterminated '{{'" : "unterminated '{%'", open);
                }

                char c = _s[_pos];
                if (c is ' ' or '\t' or '\r' or '\n')
                {
                    Advance(_pos + 1);
                    continue;
                }

                // End of tag, with optional whitespace control: -}} +}} -%} +%}.
                if (depth == 0)
                {
                    int j = _pos;
                    if ((c == '-' || c == '+') && j + 2 < _s.Length && _s[j + 1] == endChar && _s[j + 2] == '}')
                    {
                        AddTagEnd(endChar, _pos);
                        Advance(_pos + 3);
                        return;
                    }

                    if (c == endChar && j + 1 < _s.Length && _s[j + 1] == '}')
                    {
                        AddTagEnd(endChar, _pos);
                        Advance(_pos + 2);
                        return;
                    }
                }

                (int line, int column) = Position(_pos);
                if (char.IsAsciiLetter(c) || c == '_')
                {
                    int start = _pos;
                    int i = _pos;
                    while (i < _s.Length && IsNameChar(_s[i]))
                    {
                        i++;
                    }

                    Add(JinjaTokenKind.Name, _s[start..i], line, column);
                    Advance(i);
                }
                else if (char.IsAsciiDigit(c))
                {
                    LexNumber(line, column);
                }
                else if (c is '\'' or '"')
                {
                    LexString(c, line, column);
                }
                else
                {
                    string? op = MatchOperator(_pos);
                    if (op is null)
                    {
                        throw Error($"unexpected character '{Printable(c)}'", _pos);
                    }

                    if (op is "(" or "[" or "{")
                    {
                        if (++depth > JinjaParser.MaxDepth)
                        {
                            throw Error($"brackets nested deeper than {JinjaParser.MaxDepth}", _pos);
                        }
                    }
                    else if (op is ")" or "]" or "}")
                    {
                        depth = Math.Max(0, depth - 1);
                    }

                    Add(JinjaTokenKind.Operator, op, line, column);
                    Advance(_pos + op.Length);
                }
            }
        }

        /// <summary>The operator at <paramref name="at"/> (two-character ones first), or null.</summary>
        private string? MatchOperator(int at)
        {
            char c = _s[at];
            char next = at + 1 < _s.Length ? _s[at + 1] : '\0';
            string? two = (c, next) switch
            {
                ('/', '/') => "//",
                ('*', '*') => "**",
                ('=', '=') => "==",
                ('!', '=') => "!=",
                ('>', '=') => ">=",
                ('<', '=') => "<=",
                _ => null,
            };
            if (two is not null)
            {
                return two;
            }

            int index = SingleOperators.IndexOf(c, StringComparison.Ordinal);
            return index < 0 ? null : SingleOperatorStrings[index];
        }

        private void AddTagEnd(char endChar, int at)
        {
            (int line, int column) = Position(at);
            Add(endChar == '}' ? JinjaTokenKind.VariableEnd : JinjaTokenKind.BlockEnd, endChar == '}' ? "}}" : "%}", line, column);
        }

        private void LexNumber(int line, int column)
        {
            int i = _pos;
            while (i < _s.Length && (char.IsAsciiDigit(_s[i]) || _s[i] == '_'))
            {
                i++;
            }

            bool isFloat = false;
            if (i + 1 < _s.Length && _s[i] == '.' && char.IsAsciiDigit(_s[i + 1]))
            {
                isFloat = true;
                i++;
                while (i < _s.Length && (char.IsAsciiDigit(_s[i]) || _s[i] == '_'))
                {
                    i++;
                }
            }

            if (i < _s.Length && (_s[i] == 'e' || _s[i] == 'E'))
            {
                int j = i + 1;
                if (j < _s.Length && (_s[j] == '+' || _s[j] == '-'))
                {
                    j++;
                }

                if (j < _s.Length && char.IsAsciiDigit(_s[j]))
                {
                    isFloat = true;
                    i = j;
                    while (i < _s.Length && char.IsAsciiDigit(_s[i]))
                    {
                        i++;
                    }
                }
            }

            Add(isFloat ? JinjaTokenKind.Float : JinjaTokenKind.Integer, _s[_pos..i].Replace("_", string.Empty, StringComparison.Ordinal), line, column);
            Advance(i);
        }

        private void LexString(char quote, int line, int column)
        {
            int start = _pos;
            var value = new StringBuilder();
            bool hadEscape = false;
            int i = _pos + 1;
            while (true)
            {
                if (i >= _s.Length)
                {
                    throw Error("unterminated string", start);
                }

                char c = _s[i];
                if (c == quote)
                {
                    i++;
                    break;
                }

                if (c != '\\')
                {
                    value.Append(c);
                    i++;
                    continue;
                }

                hadEscape = true;
                if (i + 1 >= _s.Length)
                {
                    throw Error("unterminated string", start);
                }

                char e = _s[i + 1];
                i += 2;
                switch (e)
                {
                    case 'n': value.Append('\n'); break;
                    case 't': value.Append('\t'); break;
                    case 'r': value.Append('\r'); break;
                    case 'a': value.Append('\a'); break;
                    case 'b': value.Append('\b'); break;
                    case 'f': value.Append('\f'); break;
                    case 'v': value.Append('\v'); break;
                    case '\\': value.Append('\\'); break;
                    case '\'': value.Append('\''); break;
                    case '"': value.Append('"'); break;
                    case '\n': break;
                    case 'x': i = AppendHex(value, i, 2, start); break;
                    case 'u': i = AppendHex(value, i, 4, start); break;
                    case 'U': i = AppendHex(value, i, 8, start); break;
                    case >= '0' and <= '7':
                        {
                            int code = e - '0';
                            int n = 1;
                            while (n < 3 && i < _s.Length && _s[i] is >= '0' and <= '7')
                            {
                                code = (code * 8) + (_s[i] - '0');
                                i++;
                                n++;
                            }

                            value.Append((char)code);
                            break;
                        }

                    default:
                        // Python keeps unknown escapes verbatim.
                        value.Append('\\').Append(e);
                        break;
                }
            }

            Add(JinjaTokenKind.String, value.ToString(), line, column, hadEscape);
            Advance(i);
        }

        private int AppendHex(StringBuilder value, int i, int digits, int start)
        {
            if (i + digits > _s.Length
                || !int.TryParse(_s.AsSpan(i, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code)
                || code is < 0 or > 0x10FFFF)
            {
                throw Error("bad escape in string", start);
            }

            value.Append(char.ConvertFromUtf32(code is >= 0xD800 and <= 0xDFFF ? 0xFFFD : code));
            return i + digits;
        }

        private void AddText(int start, int end)
        {
            if (end <= start)
            {
                return;
            }

            (int line, int column) = Position(start);
            Add(JinjaTokenKind.Text, _s[start..end], line, column);
            Advance(end);
        }

        private void Add(JinjaTokenKind kind, string value, int line, int column, bool hadEscape = false)
        {
            if (Tokens.Count >= MaxTokens)
            {
                throw new JinjaSyntaxException($"more than {MaxTokens} tokens", line, column);
            }

            Tokens.Add(new JinjaToken(kind, value, line, column, hadEscape));
        }

        /// <summary>Moves to <paramref name="to"/>, counting lines on the way.</summary>
        private void Advance(int to)
        {
            for (int i = _pos; i < to; i++)
            {
                if (_s[i] == '\n')
                {
                    _line++;
                    _lineStart = i + 1;
                }
            }

            _pos = Math.Max(_pos, to);
        }

        private (int Line, int Column) Position(int at)
        {
            int line = _line;
            int lineStart = _lineStart;
            int from = _pos;
            if (at < _pos)
            {
                // Only errors point back; count from the start.
                line = 1;
                lineStart = 0;
                from = 0;
            }

            for (int i = from; i < at; i++)
            {
                if (_s[i] == '\n')
                {
                    line++;
                    lineStart = i + 1;
                }
            }

            return (line, at - lineStart + 1);
        }

        private JinjaSyntaxException Error(string message, int at)
        {
            (int line, int column) = Position(at);
            return new JinjaSyntaxException(message, line, column);
        }

        private int SkipSpaces(int i)
        {
            while (i < _s.Length && _s[i] is ' ' or '\t' or '\r' or '\n')
            {
                i++;
            }

            return i;
        }
    }

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    private static string Printable(char c) => c < 0x20 || c > 0x7E ? $"U+{(int)c:X4}" : c.ToString();
}
