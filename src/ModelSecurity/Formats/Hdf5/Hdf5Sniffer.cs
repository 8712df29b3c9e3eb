using System;

namespace ModelSecurity.Formats.Hdf5;

/// <summary>
/// HDF5: the signature is at offset 0 or, after a user block, at 512, 1024, 2048... (HDF5 spec,
/// "Format Signature"). Legacy Keras <c>.h5</c> models and Keras weights files are HDF5.
/// </summary>
internal sealed class Hdf5Sniffer : IFormatSniffer
{
    private static readonly byte[] Signature = { 0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A };

    public FormatMatch? Sniff(SniffContext context)
    {
        for (long offset = 0; offset + Signature.Length <= context.Length; offset = offset == 0 ? 512 : offset * 2)
        {
            byte[] probe = offset + Signature.Length <= context.Head.Length
                ? context.Head.AsSpan((int)offset, Signature.Length).ToArray()
                : context.Source.ReadBlock(offset, Signature.Length);
            if (probe.AsSpan().SequenceEqual(Signature))
            {
                return new FormatMatch(
                    ModelFormat.Hdf5,
                    offset == 0 ? "HDF5 file" : $"HDF5 file after a {offset}-byte user block",
                    FormatMatch.Item("Hdf5SuperblockOffset", offset));
            }
        }

        return null;
    }
}
