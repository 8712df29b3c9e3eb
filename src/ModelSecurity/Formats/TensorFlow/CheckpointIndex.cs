using System;
using System.Collections.Generic;
using System.Text;
using ModelSecurity.Analysis;

namespace ModelSecurity.Formats.TensorFlow;

/// <summary>
/// A TensorFlow checkpoint index (<c>variables.index</c>, tensorflow/core/lib/io/table): a 48-byte
/// footer (metaindex and index block handles, padding, magic), an index block of handles to data
/// blocks, and data blocks whose keys are the tensors' names and whose values say where each
/// tensor's bytes sit in <c>variables.data-*</c>. It holds no code; a well-formed one is named and
/// counted, a broken one is Inconclusive.
/// </summary>
internal static class CheckpointIndex
{
    private const int FooterSize = 48;
    private const int TrailerSize = 5;
    private const int MaxBlockBytes = 4 * 1024 * 1024;
    private const long MaxTotalBlockBytes = 32L * 1024 * 1024;
    private const int MaxListed = 32;

    public static void Read(ReadContext context)
    {
        string? error = TryRead(context, out List<string> names, out long count, out bool compressed);
        if (error is not null)
        {
            context.Report(RuleIds.TensorFlowMalformed, $"The checkpoint index is malformed: {error}. TensorFlow would refuse to restore from it.");
            return;
        }

        if (context.Member is null)
        {
            var metadata = context.Scan.Metadata;
            metadata["CheckpointTensorCount"] = count;
            metadata["CheckpointTensors"] = names.ToArray();
            if (compressed)
            {
                metadata["CheckpointBlocksCompressed"] = true;
            }
        }
    }

    private static string? TryRead(ReadContext context, out List<string> names, out long count, out bool compressed)
    {
        names = new List<string>();
        count = 0;
        compressed = false;
        ModelFileSource source = context.Source;
        long footerAt = source.Length - FooterSize;
        if (footerAt < 0)
        {
            return "the file is shorter than the 48-byte table footer";
        }

        byte[] footer = source.ReadBlock(footerAt, FooterSize);
        int pos = 0;
        if (!TryHandle(footer, ref pos, out long _, out long _) || !TryHandle(footer, ref pos, out long indexOffset, out long indexSize) || pos > 40)
        {
            return "the footer's block handles are not valid varints";
        }

        string? problem = ReadBlock(source, indexOffset, indexSize, footerAt, "index", out byte[]? index, out bool indexCompressed);
        if (problem is not null)
        {
            return problem;
        }

        if (indexCompressed || index is null)
        {
            compressed = true;
            return null;
        }

        var handles = new List<(long Offset, long Size)>();
        problem = ForEachEntry(index, (_, value) =>
        {
            int at = 0;
            if (!TryHandle(value, ref at, out long offset, out long size))
            {
                return "an index entry's block handle is not valid";
            }

            handles.Add((offset, size));
            return null;
        });
        if (problem is not null)
        {
            return problem;
        }

        long budget = MaxTotalBlockBytes;
        foreach ((long offset, long size) in handles)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            if (size > budget)
            {
                break;
            }

            budget -= size;
            problem = ReadBlock(source, offset, size, footerAt, "data", out byte[]? block, out bool blockCompressed);
            if (problem is not null)
            {
                return problem;
            }

            if (blockCompressed || block is null)
            {
                compressed = true;
                continue;
            }

            var localNames = names;
            long localCount = 0;
            problem = ForEachEntry(block, (key, _) =>
            {
                // The empty key holds the bundle header, not a tensor.
                if (key.Length > 0)
                {
                    localCount++;
                    if (localNames.Count < MaxListed)
                    {
                        localNames.Add(Encoding.UTF8.GetString(key));
                    }
                }

                return null;
            });
            count += localCount;
            if (problem is not null)
            {
                return problem;
            }
        }

        return null;
    }

    private static string? ReadBlock(ModelFileSource source, long offset, long size, long limit, string what, out byte[]? block, out bool compressed)
    {
        block = null;
        compressed = false;
        if (offset < 0 || size < 0 || offset > limit || size + TrailerSize > limit - offset)
        {
            return $"the {what} block at {offset:N0} ({size:N0} bytes) runs past the end of the table";
        }

        if (size > MaxBlockBytes)
        {
            return $"the {what} block claims {size:N0} bytes, more than the {MaxBlockBytes:N0} a table block is read with";
        }

        byte[] bytes = source.ReadBlock(offset, (int)size + 1);
        if (bytes[size] != 0)
        {
            compressed = true;
            return null;
        }

        block = bytes.AsSpan(0, (int)size).ToArray();
        return null;
    }

    /// <summary>Walks a block's prefix-compressed entries (shared, unshared, value length, key suffix, value), then checks the restart array.</summary>
    private static string? ForEachEntry(byte[] block, Func<byte[], byte[], string?> each)
    {
        if (block.Length < 4)
        {
            return "a block is too short for its restart count";
        }

        uint restarts = BitConverter.ToUInt32(block, block.Length - 4);
        if (restarts > (block.Length - 4) / 4)
        {
            return "a block's restart count exceeds its size";
        }

        int end = block.Length - 4 - (int)restarts * 4;
        int pos = 0;
        byte[] key = Array.Empty<byte>();
        while (pos < end)
        {
            if (!TryVarint(block, ref pos, end, out ulong shared) || !TryVarint(block, ref pos, end, out ulong unshared) || !TryVarint(block, ref pos, end, out ulong valueLength))
            {
                return "a block entry's lengths are not valid varints";
            }

            if (shared > (ulong)key.Length || unshared > (ulong)(end - pos) || valueLength > (ulong)(end - pos) - unshared)
            {
                return "a block entry's lengths run past the block";
            }

            byte[] next = new byte[(int)shared + (int)unshared];
            Array.Copy(key, next, (int)shared);
            Array.Copy(block, pos, next, (int)shared, (int)unshared);
            pos += (int)unshared;
            byte[] value = block.AsSpan(pos, (int)valueLength).ToArray();
            pos += (int)valueLength;
            key = next;
            string? problem = each(key, value);
            if (problem is not null)
            {
                return problem;
            }
        }

        return null;
    }

    private static bool TryHandle(byte[] data, ref int pos, out long offset, out long size)
    {
        offset = 0;
        size = 0;
        if (!TryVarint(data, ref pos, data.Length, out ulong o) || !TryVarint(data, ref pos, data.Length, out ulong s) || o > long.MaxValue || s > long.MaxValue)
        {
            return false;
        }

        offset = (long)o;
        size = (long)s;
        return true;
    }

    private static bool TryVarint(byte[] data, ref int pos, int end, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (pos >= end)
            {
                return false;
            }

            byte b = data[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return true;
            }
        }

        return false;
    }
}
