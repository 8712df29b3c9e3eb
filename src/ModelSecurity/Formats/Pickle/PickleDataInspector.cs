using System;
using System.Text;
using System.Text.RegularExpressions;

namespace ModelSecurity.Formats.Pickle;

/// <summary>
/// Looks inside the strings and byte strings a pickle carries as data: pickles hidden raw, as base64
/// or as hex (a payload for a later <c>pickle.loads</c>), and Python source or shell commands (a
/// payload for a later <c>exec</c>, or arguments for a gadget).
/// </summary>
internal static class PickleDataInspector
{
    /// <summary>Shortest string worth inspecting.</summary>
    public const int MinLength = 12;

    private static readonly Regex CodePattern = new(
        @"(?<![\w.])(?:os|posix|nt)\.(?:system|popen|exec[lv]p?e?|spawn[lv]p?e?|fork)\s*\("
        + @"|(?<![\w.])subprocess\.(?:Popen|run|call|check_output|check_call|getoutput|getstatusoutput)\b"
        + @"|(?<![\w.])__import__\s*\(\s*['""]"
        + @"|(?<![\w.])(?:exec|eval|compile)\s*\(\s*(?:['""]|base64|marshal|codecs|bytes|compile|__import__)"
        + @"|^\s*(?:import|from)\s+(?:os|subprocess|socket|ctypes|pty|urllib|requests|shutil|base64|marshal)\b"
        + @"|(?<![\w.])socket\.socket\s*\("
        + @"|(?<![\w.])ctypes\.(?:CDLL|cdll|windll|WinDLL)\b"
        + @"|\brm\s+-rf\s+[/~]"
        + @"|\b(?:curl|wget)\s+\S+[^\n|]*\|\s*(?:ba|z)?sh\b"
        + @"|/bin/(?:ba|z)?sh\s+-c\b",
        RegexOptions.Multiline | RegexOptions.CultureInvariant,
        TimeSpan.FromMilliseconds(200));

    /// <summary>True when raw bytes start the way a pickle does (PROTO 2-5, or an unframed protocol 0/1 stream).</summary>
    public static bool IsPickleBytes(byte[] head, long length)
    {
        if (head.Length >= 3 && head[0] == PickleOpcodes.Proto && head[1] is >= 2 and <= 5
            && PickleOpcodes.ArgumentOf(head[2]) != PickleArgument.Invalid)
        {
            return true;
        }

        return head.Length > 0 && head[0] is (byte)'c' or (byte)'(' or (byte)'}' or (byte)']'
            && PickleSniffer.LooksLikeUnframedPickle(head, head.Length == length);
    }

    /// <summary>"base64" or "hex" when the text is an encoded pickle (judged from its start), else null.</summary>
    public static string? EncodedPickle(string text)
    {
        string trimmed = text.TrimStart();
        if (trimmed.Length >= 16 && (trimmed.StartsWith("gAJ", StringComparison.Ordinal) || trimmed.StartsWith("gAN", StringComparison.Ordinal)
            || trimmed.StartsWith("gAR", StringComparison.Ordinal) || trimmed.StartsWith("gAS", StringComparison.Ordinal))
            && IsBase64(trimmed))
        {
            return "base64";
        }

        if (trimmed.Length >= 16 && trimmed.Length % 2 == 0 && trimmed[0] == '8' && trimmed[1] == '0' && trimmed[2] == '0'
            && trimmed[3] is >= '2' and <= '5' && IsHex(trimmed))
        {
            return "hex";
        }

        return null;
    }

    /// <summary>Decodes an encoded pickle found by <see cref="EncodedPickle"/>; null when it does not decode.</summary>
    public static byte[]? Decode(string text, string encoding)
    {
        string trimmed = text.Trim();
        try
        {
            if (encoding == "base64")
            {
                return Convert.FromBase64String(PadBase64(trimmed));
            }

            var bytes = new byte[trimmed.Length / 2];
            for (int i = 0; i < bytes.Length; i++)
            {
                bytes[i] = (byte)((HexValue(trimmed[2 * i]) << 4) | HexValue(trimmed[(2 * i) + 1]));
            }

            return bytes;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>The first piece of Python source or shell command in the text (plain or base64), or null.</summary>
    public static string? CodeSnippet(string text)
    {
        if (text.Length < MinLength)
        {
            return null;
        }

        string? found = Match(text);
        if (found is not null)
        {
            return found;
        }

        string trimmed = text.Trim();
        if (trimmed.Length >= 24 && IsBase64(trimmed))
        {
            try
            {
                byte[] decoded = Convert.FromBase64String(PadBase64(trimmed.Substring(0, trimmed.Length - (trimmed.Length % 4))));
                string? inner = Match(Encoding.UTF8.GetString(decoded));
                return inner is null ? null : $"{inner} (base64-encoded)";
            }
            catch (FormatException)
            {
                return null;
            }
        }

        return null;
    }

    private static string? Match(string text)
    {
        try
        {
            Match match = CodePattern.Match(text);
            if (!match.Success)
            {
                return null;
            }

            int start = Math.Max(0, match.Index - 10);
            int end = Math.Min(text.Length, match.Index + match.Length + 40);
            string snippet = text.Substring(start, end - start).Replace("\r", " ").Replace("\n", " ").Trim();
            return snippet;
        }
        catch (RegexMatchTimeoutException)
        {
            return null;
        }
    }

    private static bool IsBase64(string text)
    {
        int padding = 0;
        foreach (char c in text)
        {
            if (c == '=')
            {
                padding++;
                continue;
            }

            if (padding > 0 || !(c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '+' or '/' or '\n' or '\r'))
            {
                return false;
            }
        }

        return padding <= 2;
    }

    private static bool IsHex(string text)
    {
        foreach (char c in text)
        {
            if (!(c is >= '0' and <= '9' or >= 'a' and <= 'f' or >= 'A' and <= 'F'))
            {
                return false;
            }
        }

        return true;
    }

    private static string PadBase64(string text)
    {
        string compact = text.Replace("\n", string.Empty).Replace("\r", string.Empty);
        int remainder = compact.Length % 4;
        return remainder == 0 ? compact : compact + new string('=', 4 - remainder);
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
