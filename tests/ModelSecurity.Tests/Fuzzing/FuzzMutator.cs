using System;
using System.Collections.Generic;
using System.Text;

namespace ModelSecurity.Tests;

/// <summary>
/// Structure-aware byte mutations: bit flips, interesting bytes, truncations, inflation of what looks
/// like a length or count (little- and big-endian u16/u32/u64, protobuf/7z varints, ASCII decimal and
/// octal digits), chunk insertion, duplication and deletion, and splices between two seeds. Fully
/// determined by the <see cref="Random"/> it is given.
/// </summary>
internal static class FuzzMutator
{
    private const int MaxOutput = 1 << 20;

    private static readonly ulong[] Inflations =
    {
        0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
        0x100000000, 0x7FFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFF, 1 << 20, 1 << 30,
    };

    /// <summary>One to three stacked mutations of <paramref name="input"/>; <paramref name="other"/> feeds splices.</summary>
    public static byte[] Mutate(byte[] input, byte[] other, Random random)
    {
        byte[] bytes = input;
        int rounds = 1 + (random.Next(4) == 0 ? random.Next(1, 3) : 0);
        for (int i = 0; i < rounds; i++)
        {
            bytes = MutateOnce(bytes, other, random);
        }

        return bytes;
    }

    private static byte[] MutateOnce(byte[] input, byte[] other, Random random)
    {
        if (input.Length == 0)
        {
            return Splice(input, other, random);
        }

        switch (random.Next(12))
        {
            case 0:
                return FlipBits(input, random);
            case 1:
                return SetInterestingByte(input, random);
            case 2:
                return input.AsSpan(0, random.Next(input.Length)).ToArray();
            case 3:
            case 4:
                return InflateFixedWidth(input, random);
            case 5:
                return InflateVarint(input, random);
            case 6:
                return InflateDigits(input, random);
            case 7:
                return InsertChunk(input, random);
            case 8:
                return DuplicateChunk(input, random);
            case 9:
                return DeleteChunk(input, random);
            case 10:
                return Splice(input, other, random);
            default:
                return OverwriteChunk(input, other, random);
        }
    }

    private static byte[] FlipBits(byte[] input, Random random)
    {
        byte[] bytes = (byte[])input.Clone();
        for (int n = random.Next(1, 5); n > 0; n--)
        {
            bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
        }

        return bytes;
    }

    private static byte[] SetInterestingByte(byte[] input, Random random)
    {
        byte[] bytes = (byte[])input.Clone();
        byte[] interesting = { 0x00, 0x01, 0x7F, 0x80, 0xFF, (byte)'.', (byte)'(', (byte)'{', (byte)'"', (byte)'\n' };
        bytes[random.Next(bytes.Length)] = random.Next(2) == 0 ? interesting[random.Next(interesting.Length)] : (byte)random.Next(256);
        return bytes;
    }

    /// <summary>
    /// Picks a little- or big-endian integer field whose value is plausible as a length or count (1 to
    /// the file's size) and replaces it with a large or off-by-one value; falls back to any offset.
    /// </summary>
    private static byte[] InflateFixedWidth(byte[] input, Random random)
    {
        int width = random.Next(3) switch { 0 => 2, 1 => 4, _ => 8 };
        if (input.Length < width)
        {
            return FlipBits(input, random);
        }

        bool bigEndian = random.Next(4) == 0;
        var candidates = new List<int>();
        for (int at = 0; at + width <= input.Length; at++)
        {
            ulong value = Read(input, at, width, bigEndian);
            if (value > 0 && value <= (ulong)input.Length * 2)
            {
                candidates.Add(at);
            }
        }

        int position = candidates.Count > 0 ? candidates[random.Next(candidates.Count)] : random.Next(input.Length - width + 1);
        ulong old = Read(input, position, width, bigEndian);
        ulong inflated = random.Next(3) switch
        {
            0 => old + (ulong)random.Next(1, 16),
            1 => old * (ulong)random.Next(2, 1024),
            _ => Inflations[random.Next(Inflations.Length)],
        };
        byte[] bytes = (byte[])input.Clone();
        for (int i = 0; i < width; i++)
        {
            int shift = 8 * (bigEndian ? width - 1 - i : i);
            bytes[position + i] = (byte)(inflated >> shift);
        }

        return bytes;
    }

    private static ulong Read(byte[] bytes, int at, int width, bool bigEndian)
    {
        ulong value = 0;
        for (int i = 0; i < width; i++)
        {
            int shift = 8 * (bigEndian ? width - 1 - i : i);
            value |= (ulong)bytes[at + i] << shift;
        }

        return value;
    }

    /// <summary>Re-encodes a varint (protobuf, 7z numbers) at a random offset as a larger one.</summary>
    private static byte[] InflateVarint(byte[] input, Random random)
    {
        int start = random.Next(input.Length);
        int end = start;
        while (end < input.Length && end - start < 10 && (input[end] & 0x80) != 0)
        {
            end++;
        }

        end = Math.Min(end + 1, input.Length);
        ulong value = Inflations[random.Next(Inflations.Length)];
        var encoded = new List<byte>();
        do
        {
            byte b = (byte)(value & 0x7F);
            value >>= 7;
            encoded.Add(value != 0 ? (byte)(b | 0x80) : b);
        }
        while (value != 0);

        return Replace(input, start, end - start, encoded.ToArray());
    }

    /// <summary>Replaces a run of ASCII digits (JSON numbers, tar octal sizes, NumPy shapes, pickle INTs) with a large number.</summary>
    private static byte[] InflateDigits(byte[] input, Random random)
    {
        var runs = new List<(int Start, int Length)>();
        for (int i = 0; i < input.Length; i++)
        {
            if (input[i] is >= (byte)'0' and <= (byte)'9')
            {
                int start = i;
                while (i < input.Length && input[i] is >= (byte)'0' and <= (byte)'9')
                {
                    i++;
                }

                runs.Add((start, i - start));
            }
        }

        if (runs.Count == 0)
        {
            return InflateFixedWidth(input, random);
        }

        (int at, int length) = runs[random.Next(runs.Count)];
        string[] numbers = { "99999999999", "77777777777", "-1", "4294967296", "9223372036854775808", "0", new string('9', length) };
        byte[] replacement = Encoding.ASCII.GetBytes(numbers[random.Next(numbers.Length)]);
        return Replace(input, at, length, replacement);
    }

    private static byte[] InsertChunk(byte[] input, Random random)
    {
        var chunk = new byte[random.Next(1, 33)];
        random.NextBytes(chunk);
        return Replace(input, random.Next(input.Length + 1), 0, chunk);
    }

    private static byte[] DuplicateChunk(byte[] input, Random random)
    {
        int start = random.Next(input.Length);
        int length = random.Next(1, Math.Min(256, input.Length - start) + 1);
        byte[] chunk = input.AsSpan(start, length).ToArray();
        int copies = random.Next(4) == 0 ? random.Next(2, 64) : 1;
        var repeated = new byte[Math.Min(chunk.Length * copies, MaxOutput)];
        for (int i = 0; i < repeated.Length; i++)
        {
            repeated[i] = chunk[i % chunk.Length];
        }

        return Replace(input, random.Next(input.Length + 1), 0, repeated);
    }

    private static byte[] DeleteChunk(byte[] input, Random random)
    {
        int start = random.Next(input.Length);
        int length = random.Next(1, Math.Min(256, input.Length - start) + 1);
        return Replace(input, start, length, Array.Empty<byte>());
    }

    /// <summary>The head of one seed joined to the tail of another (a zip member in a tar, a GGUF tail on a pickle...).</summary>
    private static byte[] Splice(byte[] input, byte[] other, Random random)
    {
        int head = random.Next(input.Length + 1);
        int tail = other.Length == 0 ? 0 : random.Next(other.Length);
        return Replace(input, head, input.Length - head, other.AsSpan(tail).ToArray());
    }

    private static byte[] OverwriteChunk(byte[] input, byte[] other, Random random)
    {
        if (other.Length == 0)
        {
            return FlipBits(input, random);
        }

        int from = random.Next(other.Length);
        int length = random.Next(1, Math.Min(64, other.Length - from) + 1);
        int into = random.Next(input.Length);
        byte[] bytes = (byte[])input.Clone();
        other.AsSpan(from, Math.Min(length, bytes.Length - into)).CopyTo(bytes.AsSpan(into));
        return bytes;
    }

    private static byte[] Replace(byte[] input, int at, int removed, byte[] inserted)
    {
        int length = Math.Min(input.Length - removed + inserted.Length, MaxOutput);
        var bytes = new byte[length];
        input.AsSpan(0, Math.Min(at, length)).CopyTo(bytes);
        if (at < length)
        {
            inserted.AsSpan(0, Math.Min(inserted.Length, length - at)).CopyTo(bytes.AsSpan(at));
        }

        int rest = at + inserted.Length;
        if (rest < length)
        {
            input.AsSpan(at + removed, length - rest).CopyTo(bytes.AsSpan(rest));
        }

        return bytes;
    }
}
