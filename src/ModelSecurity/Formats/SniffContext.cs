using System;
using System.Collections.Generic;

namespace ModelSecurity.Formats;

/// <summary>What a sniffer may look at: the first and last bytes of a file, and bounded reads elsewhere.</summary>
internal sealed class SniffContext
{
    /// <summary>Bytes read from the start of every file (enough for every magic and most headers).</summary>
    public const int HeadSize = 64 * 1024;

    /// <summary>Bytes read from the end when a sniffer needs them: a zip EOCD with the largest comment fits.</summary>
    public const int TailSize = 64 * 1024 + 22 + 20;

    private byte[]? _tail;

    public SniffContext(ModelFileSource source)
    {
        Source = source;
        Length = source.Length;
        Head = source.ReadBlock(0, HeadSize);
    }

    public ModelFileSource Source { get; }

    public long Length { get; }

    public byte[] Head { get; }

    /// <summary>True when <see cref="Head"/> holds the whole file.</summary>
    public bool HeadIsWholeFile => Head.Length == Length;

    /// <summary>The last <see cref="TailSize"/> bytes (or the whole file when smaller).</summary>
    public byte[] Tail
    {
        get
        {
            if (_tail is null)
            {
                _tail = HeadIsWholeFile ? Head : Source.ReadBlock(TailOffset, TailSize);
            }

            return _tail;
        }
    }

    /// <summary>File offset of <see cref="Tail"/>[0].</summary>
    public long TailOffset => Math.Max(0, Length - TailSize);

    public bool StartsWith(ReadOnlySpan<byte> magic, int offset = 0) =>
        Head.Length >= offset + magic.Length && Head.AsSpan(offset, magic.Length).SequenceEqual(magic);
}

/// <summary>Recognises one format family from its bytes. Registered in <see cref="FormatDetector"/>.</summary>
internal interface IFormatSniffer
{
    /// <summary>The format, or null when the bytes are not this family's.</summary>
    FormatMatch? Sniff(SniffContext context);
}

/// <summary>A sniffer's answer: the format and what it learned on the way.</summary>
internal sealed class FormatMatch
{
    public FormatMatch(ModelFormat format, string description, params KeyValuePair<string, object>[] metadata)
    {
        Format = format;
        Description = description;
        Metadata = metadata;
    }

    public ModelFormat Format { get; }

    /// <summary>A short human description, such as "GGUF v3" or "pickle protocol 2".</summary>
    public string Description { get; }

    public IReadOnlyList<KeyValuePair<string, object>> Metadata { get; }

    public static KeyValuePair<string, object> Item(string key, object value) => new(key, value);
}
