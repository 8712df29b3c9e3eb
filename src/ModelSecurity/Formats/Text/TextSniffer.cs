using System;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ModelSecurity.Formats.Text;

/// <summary>
/// UTF-8 text (configs, model cards, chat templates), split into JSON, YAML, Jinja templates and
/// other text. Runs after every binary sniffer: text has no magic.
/// </summary>
internal sealed class TextSniffer : IFormatSniffer
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static readonly Regex YamlKeyLine = new(@"^\s*(- )?(""[^""]*""|'[^']*'|[\w.\-/]+)\s*:(\s|$)", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    public FormatMatch? Sniff(SniffContext context)
    {
        string? text = Decode(context.Head, context.HeadIsWholeFile);
        if (text is null)
        {
            return null;
        }

        string trimmed = text.TrimStart();
        if ((trimmed.StartsWith('{') || trimmed.StartsWith('[')) && IsJson(context, trimmed))
        {
            return new FormatMatch(ModelFormat.Json, "JSON document");
        }

        // PyYAML loads Python object tags from any document, however short or oddly shaped.
        if (IsYaml(text) || text.Contains("!!python/", StringComparison.Ordinal))
        {
            return new FormatMatch(ModelFormat.Yaml, "YAML document");
        }

        if (text.Contains("{%") || text.Contains("{{"))
        {
            return new FormatMatch(ModelFormat.JinjaTemplate, "Jinja template");
        }

        return new FormatMatch(ModelFormat.Text, "text");
    }

    private static string? Decode(byte[] head, bool wholeFile)
    {
        int length = head.Length;
        if (!wholeFile)
        {
            // The head may end inside a multi-byte character: drop an incomplete last sequence.
            int back = 0;
            while (back < 3 && length - back - 1 >= 0 && (head[length - back - 1] & 0xC0) == 0x80)
            {
                back++;
            }

            if (length - back - 1 >= 0 && head[length - back - 1] >= 0xC0)
            {
                length -= back + 1;
            }
        }

        int start = length >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF ? 3 : 0;
        if (length - start <= 0)
        {
            return null;
        }

        string text;
        try
        {
            text = StrictUtf8.GetString(head, start, length - start);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }

        int control = 0;
        foreach (char c in text)
        {
            if (c == '\0')
            {
                return null;
            }

            if (c < ' ' && c is not '\t' and not '\n' and not '\r' and not '\f' and not '\v')
            {
                control++;
            }
        }

        return control * 100 > text.Length ? null : text;
    }

    private static bool IsJson(SniffContext context, string text)
    {
        if (context.HeadIsWholeFile)
        {
            try
            {
                using JsonDocument document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 256 });
                return true;
            }
            catch (JsonException)
            {
                return false;
            }
        }

        // Larger files (tokenizer.json is megabytes): the head must tokenise cleanly as far as it goes.
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(text), isFinalBlock: false, state: new JsonReaderState(new JsonReaderOptions { MaxDepth = 256 }));
        try
        {
            while (reader.Read())
            {
            }

            return reader.BytesConsumed > 0;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool IsYaml(string text)
    {
        int meaningful = 0;
        int yamlish = 0;
        bool sawKey = false;
        bool first = true;
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            string content = line.Trim();
            if (content.Length == 0 || content.StartsWith('#'))
            {
                continue;
            }

            meaningful++;
            bool key = YamlKeyLine.IsMatch(line);
            bool structural = content == "---" || content == "..." || content.StartsWith("- ", StringComparison.Ordinal);
            bool continuation = sawKey && char.IsWhiteSpace(line[0]);
            if (first && !key && !structural)
            {
                return false;
            }

            first = false;
            sawKey |= key;
            if (key || structural || continuation)
            {
                yamlish++;
            }

            if (meaningful >= 200)
            {
                break;
            }
        }

        return sawKey && meaningful >= 2 && yamlish * 10 >= meaningful * 9;
    }
}
