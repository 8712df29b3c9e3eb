using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace ModelSecurity.Formats.Archive;

/// <summary>
/// Tar archives (POSIX ustar, GNU and old v7, recognised by a valid header checksum), told apart
/// by their members: legacy PyTorch (<c>sys_info</c>, <c>pickle</c>, <c>storages</c>, <c>tensors</c>),
/// NeMo (<c>model_config.yaml</c>), else a plain tar. Walks at most <see cref="MaxMembers"/> headers.
/// </summary>
internal sealed class TarSniffer : IFormatSniffer
{
    public const int MaxMembers = 256;
    private const int BlockSize = 512;

    private static readonly string[] PyTorchTarMembers = { "sys_info", "pickle", "storages", "tensors" };

    public FormatMatch? Sniff(SniffContext context)
    {
        if (context.Head.Length < BlockSize || !IsHeader(context.Head, 0))
        {
            return null;
        }

        List<string> names = ListMembers(context);
        var metadata = new[] { FormatMatch.Item("MemberCount", names.Count) };
        var leaves = new HashSet<string>(names.Select(n => n.TrimEnd('/').Split('/').Last()), StringComparer.Ordinal);

        if (PyTorchTarMembers.All(leaves.Contains))
        {
            return new FormatMatch(ModelFormat.PyTorchTar, "legacy PyTorch tar checkpoint", metadata);
        }

        if (leaves.Contains("model_config.yaml"))
        {
            return new FormatMatch(ModelFormat.NeMo, "NeMo model archive", metadata);
        }

        bool ustar = Encoding.ASCII.GetString(context.Head, 257, 5) == "ustar";
        return new FormatMatch(ModelFormat.Tar, ustar ? "tar archive (ustar)" : "tar archive (v7)", metadata);
    }

    private static List<string> ListMembers(SniffContext context)
    {
        var names = new List<string>();
        long offset = 0;
        string? longName = null;
        while (names.Count < MaxMembers && offset + BlockSize <= context.Length)
        {
            byte[] header = offset + BlockSize <= context.Head.Length
                ? context.Head.AsSpan((int)offset, BlockSize).ToArray()
                : context.Source.ReadBlock(offset, BlockSize);
            if (!IsHeader(header, 0))
            {
                break;
            }

            long size = ParseOctal(header, 124, 12);
            if (size < 0)
            {
                break;
            }

            char type = (char)header[156];
            long dataOffset = offset + BlockSize;
            if (type is 'L' or 'x' && size <= 64 * 1024)
            {
                // GNU long name, or a PAX header whose "path" record replaces the next member's name.
                string data = Encoding.UTF8.GetString(context.Source.ReadBlock(dataOffset, (int)size));
                longName = type == 'L' ? data.TrimEnd('\0') : PaxPath(data) ?? longName;
            }
            else
            {
                names.Add(longName ?? HeaderName(header));
                longName = null;
            }

            offset = dataOffset + ((size + BlockSize - 1) / BlockSize * BlockSize);
        }

        return names;
    }

    private static bool IsHeader(byte[] block, int start)
    {
        if (block.Length < start + BlockSize || block[start] == 0)
        {
            return false;
        }

        long stored = ParseOctal(block, start + 148, 8);
        if (stored < 0)
        {
            return false;
        }

        long sum = 0;
        for (int i = 0; i < BlockSize; i++)
        {
            sum += i is >= 148 and < 156 ? (byte)' ' : block[start + i];
        }

        return sum == stored;
    }

    private static long ParseOctal(byte[] block, int start, int length)
    {
        long value = 0;
        bool digits = false;
        for (int i = start; i < start + length; i++)
        {
            byte b = block[i];
            if (b is (byte)' ' or 0)
            {
                if (digits)
                {
                    break;
                }

                continue;
            }

            if (b is < (byte)'0' or > (byte)'7' || value > (long.MaxValue >> 3))
            {
                return -1;
            }

            value = (value << 3) + (b - '0');
            digits = true;
        }

        return digits ? value : -1;
    }

    private static string HeaderName(byte[] header)
    {
        string name = CString(header, 0, 100);
        string prefix = Encoding.ASCII.GetString(header, 257, 5) == "ustar" ? CString(header, 345, 155) : string.Empty;
        return prefix.Length > 0 ? prefix + "/" + name : name;
    }

    private static string CString(byte[] block, int start, int length)
    {
        int end = Array.IndexOf(block, (byte)0, start, length);
        return Encoding.UTF8.GetString(block, start, (end < 0 ? start + length : end) - start);
    }

    private static string? PaxPath(string records)
    {
        foreach (string record in records.Split('\n'))
        {
            int space = record.IndexOf(' ');
            if (space > 0 && record.Length > space + 5 && string.CompareOrdinal(record, space + 1, "path=", 0, 5) == 0)
            {
                return record.Substring(space + 6);
            }
        }

        return null;
    }
}
