using System.Globalization;
using System.Text;

namespace ModelSecurity.Integrity.Signing;

/// <summary>
/// Writes JSON the way Python's json module does (model_signing's payload and bundle come from it):
/// only '"', '\' and control characters are escaped, non-ASCII as \uXXXX in lower-case hex
/// (ensure_ascii), and with indentation ", " / ": " separators as json.dumps(indent=2) writes them.
/// </summary>
internal sealed class PythonJsonWriter
{
    private readonly StringBuilder _text = new();
    private readonly int _indent;
    private int _depth;
    private bool _first = true;

    /// <param name="indent">0 for compact output (no spaces at all), otherwise spaces per level.</param>
    public PythonJsonWriter(int indent) => _indent = indent;

    public override string ToString() => _text.ToString();

    public byte[] ToUtf8() => Encoding.UTF8.GetBytes(_text.ToString());

    public void StartObject(string? name = null) => Open(name, '{');

    public void EndObject() => Close('}');

    public void StartArray(string? name = null) => Open(name, '[');

    public void EndArray() => Close(']');

    public void String(string? name, string value)
    {
        Prefix(name);
        WriteString(value);
    }

    public void Bool(string? name, bool value)
    {
        Prefix(name);
        _text.Append(value ? "true" : "false");
    }

    public void Number(string? name, long value)
    {
        Prefix(name);
        _text.Append(value.ToString(CultureInfo.InvariantCulture));
    }

    private void Open(string? name, char bracket)
    {
        Prefix(name);
        _text.Append(bracket);
        _depth++;
        _first = true;
    }

    private void Close(char bracket)
    {
        _depth--;
        if (!_first)
        {
            NewLine();
        }

        _text.Append(bracket);
        _first = false;
    }

    private void Prefix(string? name)
    {
        if (_depth > 0)
        {
            if (!_first)
            {
                _text.Append(',');
            }

            NewLine();
        }

        _first = false;
        if (name is not null)
        {
            WriteString(name);
            _text.Append(_indent > 0 ? ": " : ":");
        }
    }

    private void NewLine()
    {
        if (_indent > 0)
        {
            _text.Append('\n').Append(' ', _indent * _depth);
        }
    }

    private void WriteString(string value)
    {
        _text.Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': _text.Append("\\\""); break;
                case '\\': _text.Append("\\\\"); break;
                case '\n': _text.Append("\\n"); break;
                case '\r': _text.Append("\\r"); break;
                case '\t': _text.Append("\\t"); break;
                case '\b': _text.Append("\\b"); break;
                case '\f': _text.Append("\\f"); break;
                default:
                    if (c < 0x20 || c > 0x7E)
                    {
                        _text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        _text.Append(c);
                    }

                    break;
            }
        }

        _text.Append('"');
    }
}
