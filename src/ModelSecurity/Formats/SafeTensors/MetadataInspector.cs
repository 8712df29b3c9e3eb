using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using ModelSecurity.Formats.Pickle;

namespace ModelSecurity.Formats.SafeTensors;

/// <summary>
/// Looks at the free-form strings of a SafeTensors <c>__metadata__</c> map: links, Python or shell
/// code, HTML or JavaScript (also when hidden behind escapes or base64), and credentials. Weights
/// have no use for any of them. Patterns run in linear time (non-backtracking) whatever the input.
/// </summary>
internal static class MetadataInspector
{
    private const RegexOptions Options = RegexOptions.CultureInvariant | RegexOptions.NonBacktracking;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    private static readonly Regex UrlPattern = new(
        @"\b(?:[Hh][Tt][Tt][Pp][Ss]?|[Ff][Tt][Pp]|[Ff][Ii][Ll][Ee])://[^\s'""<>(){}\[\]\\]*",
        Options,
        Timeout);

    private static readonly Regex CodePattern = new(
        @"\bimport\s+(?:os|subprocess|socket|ctypes|pty|urllib|requests|shutil|base64|marshal|pickle|sys)\b"
        + @"|\bfrom\s+(?:os|subprocess|socket|ctypes|pty|urllib|shutil|base64|marshal|pickle)\s+import\b"
        + @"|\bos\.(?:system|popen|exec[lv]p?e?|spawn[lv]p?e?|remove|unlink)\s*\("
        + @"|\bsubprocess\.[A-Za-z_]+"
        + @"|\b(?:exec|eval|compile)\s*\("
        + @"|__import__|__builtins__|\bgetattr\s*\(\s*__"
        + @"|\b(?:b64decode|b32decode|a85decode|unhexlify|decompress|loads)\s*\("
        + @"|\brm\s+-[A-Za-z]*[rf][A-Za-z]*\s"
        + @"|\b(?:wget|curl)\s+(?:-\S+\s+)*['""]?(?:[Hh][Tt][Tt][Pp][Ss]?|[Ff][Tt][Pp])://"
        + @"|\b(?:curl|wget)\s[^\n]*\|\s*(?:ba|z|da)?sh\b"
        + @"|\bchmod\s+(?:-R\s+)?(?:[0-7]{3,4}|[ugoa]*\+[rwxs]+)\s"
        + @"|/bin/(?:ba|z|da)?sh\b|\bnc\s+-[el]|\bpowershell(?:\.exe)?\s+-(?:e|enc|encodedcommand|c|command)\b",
        Options,
        Timeout);

    private static readonly Regex MarkupPattern = new(
        @"<\s*(?:script|iframe|object|embed|svg|meta\s+http-equiv)\b|\b[Jj][Aa][Vv][Aa][Ss][Cc][Rr][Ii][Pp][Tt]\s*:|\bvbscript\s*:"
        + @"|\bdata:text/html|<[A-Za-z][^<>]*\s[Oo][Nn][A-Za-z]+\s*=|\bdocument\.(?:cookie|location|write)|\bwindow\.location",
        Options,
        Timeout);

    private static readonly Regex EscapePattern = new(
        @"(?:\\x[0-9A-Fa-f]{2}){4,}|(?:\\u[0-9A-Fa-f]{4}){4,}|(?:%[0-9A-Fa-f]{2}){4,}|(?:&#x?[0-9A-Fa-f]{1,6};){4,}",
        Options,
        Timeout);

    private static readonly Regex Base64Pattern = new(@"[A-Za-z0-9+/]{20,}={0,2}", Options, Timeout);

    private static readonly (string Kind, Regex Pattern)[] SecretPatterns =
    {
        ("a Hugging Face token", new Regex(@"\bhf_[A-Za-z0-9]{30,}", Options, Timeout)),
        ("an OpenAI key", new Regex(@"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}", Options, Timeout)),
        ("an Anthropic key", new Regex(@"\bsk-ant-[A-Za-z0-9_\-]{20,}", Options, Timeout)),
        ("a GitHub token", new Regex(@"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}|\bgithub_pat_[A-Za-z0-9_]{22,}", Options, Timeout)),
        ("an AWS access key id", new Regex(@"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", Options, Timeout)),
        ("a Slack token", new Regex(@"\bxox[abposr]-[A-Za-z0-9\-]{10,}", Options, Timeout)),
        ("a Google API key", new Regex(@"\bAIza[0-9A-Za-z_\-]{35}", Options, Timeout)),
        ("a private key", new Regex(@"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----", Options, Timeout)),
    };

    /// <summary>What the text holds of links, code and markup, each as "kind: evidence"; empty when nothing.</summary>
    public static List<string> Content(string text)
    {
        var found = new List<string>();
        Inspect(text, found, string.Empty);
        if (found.Count == 0)
        {
            InspectEncoded(text, found);
        }

        return found;
    }

    /// <summary>Credentials in the text, each as "kind (redacted)".</summary>
    public static List<string> Secrets(string text)
    {
        var found = new List<string>();
        foreach ((string kind, Regex pattern) in SecretPatterns)
        {
            Match? match = TryMatch(pattern, text);
            if (match is not null && !found.Exists(f => f.StartsWith(kind, StringComparison.Ordinal) || (kind == "an OpenAI key" && f.StartsWith("an Anthropic", StringComparison.Ordinal))))
            {
                string shown = kind == "a private key" ? match.Value : Redact(match.Value);
                found.Add($"{kind} ({shown})");
            }
        }

        // sk-ant- keys also match the OpenAI pattern.
        if (found.Exists(f => f.StartsWith("an Anthropic", StringComparison.Ordinal)))
        {
            found.RemoveAll(f => f.StartsWith("an OpenAI", StringComparison.Ordinal));
        }

        return found;
    }

    /// <summary>The first 4 characters of a secret and an ellipsis.</summary>
    public static string Redact(string secret) => secret.Length <= 4 ? "…" : secret[..4] + "…";

    /// <summary>Shortens a string for a finding's detail, on one line.</summary>
    public static string Excerpt(string text, int max = 80)
    {
        string line = text.Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal).Replace("\t", " ", StringComparison.Ordinal);
        return line.Length <= max ? line : line[..max] + "…";
    }

    private static void Inspect(string text, List<string> found, string how)
    {
        Match? url = TryMatch(UrlPattern, text);
        if (url is not null)
        {
            found.Add($"a URL{how}: {Excerpt(url.Value)}");
        }

        Match? code = TryMatch(CodePattern, text);
        string? snippet = code is not null ? Around(text, code) : PickleDataInspector.CodeSnippet(text);
        if (snippet is not null)
        {
            found.Add($"Python or shell code{how}: {Excerpt(snippet)}");
        }

        Match? markup = TryMatch(MarkupPattern, text);
        if (markup is not null)
        {
            found.Add($"HTML or JavaScript{how}: {Excerpt(Around(text, markup))}");
        }
    }

    private static void InspectEncoded(string text, List<string> found)
    {
        Match? escapes = TryMatch(EscapePattern, text);
        if (escapes is not null)
        {
            string decoded = Unescape(escapes.Value);
            Inspect(decoded, found, " (escape-encoded)");
        }

        Match? blob = TryMatch(Base64Pattern, text);
        for (int tries = 0; blob is not null && blob.Success && tries < 16 && found.Count == 0; tries++, blob = blob.NextMatch())
        {
            string candidate = blob.Value.TrimEnd('=');
            candidate = candidate[..(candidate.Length - (candidate.Length % 4))];
            if (candidate.Length < 16)
            {
                continue;
            }

            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(candidate);
            }
            catch (FormatException)
            {
                continue;
            }

            if (PickleDataInspector.IsPickleBytes(bytes, bytes.Length))
            {
                found.Add($"a pickle (base64-encoded): {Excerpt(blob.Value, 40)}");
                break;
            }

            string decoded = Encoding.UTF8.GetString(bytes);
            Inspect(decoded, found, " (base64-encoded)");
        }
    }

    private static string Unescape(string text)
    {
        var builder = new StringBuilder();
        var bytes = new List<byte>();
        for (int i = 0; i < text.Length;)
        {
            if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] == 'x' && i + 3 < text.Length)
            {
                bytes.Add(byte.Parse(text.AsSpan(i + 2, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                i += 4;
            }
            else if (text[i] == '%' && i + 2 < text.Length)
            {
                bytes.Add(byte.Parse(text.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                i += 3;
            }
            else if (text[i] == '\\' && i + 5 < text.Length + 0 && text[i + 1] == 'u')
            {
                Flush(builder, bytes);
                builder.Append((char)int.Parse(text.AsSpan(i + 2, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                i += 6;
            }
            else if (text[i] == '&' && text.IndexOf(';', i) is int end and > 0)
            {
                Flush(builder, bytes);
                ReadOnlySpan<char> number = text.AsSpan(i + 2, end - i - 2);
                bool hex = number.Length > 0 && number[0] is 'x' or 'X';
                if (int.TryParse(hex ? number[1..] : number, hex ? NumberStyles.HexNumber : NumberStyles.None, CultureInfo.InvariantCulture, out int code) && code is > 0 and < 0xD800)
                {
                    builder.Append((char)code);
                }

                i = end + 1;
            }
            else
            {
                Flush(builder, bytes);
                builder.Append(text[i]);
                i++;
            }
        }

        Flush(builder, bytes);
        return builder.ToString();
    }

    private static void Flush(StringBuilder builder, List<byte> bytes)
    {
        if (bytes.Count > 0)
        {
            builder.Append(Encoding.UTF8.GetString(bytes.ToArray()));
            bytes.Clear();
        }
    }

    private static string Around(string text, Match match)
    {
        int start = Math.Max(0, match.Index - 10);
        int end = Math.Min(text.Length, match.Index + match.Length + 40);
        return (start > 0 ? "…" : string.Empty) + text[start..end].Trim() + (end < text.Length ? "…" : string.Empty);
    }

    private static Match? TryMatch(Regex pattern, string text)
    {
        try
        {
            Match match = pattern.Match(text);
            return match.Success ? match : null;
        }
        catch (RegexMatchTimeoutException)
        {
            return null;
        }
    }
}
