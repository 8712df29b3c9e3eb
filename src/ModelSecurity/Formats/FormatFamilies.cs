namespace ModelSecurity.Formats;

/// <summary>What a format can do when a program loads it.</summary>
internal static class FormatFamilies
{
    /// <summary>Native programs and scripts.</summary>
    public static bool IsExecutable(this ModelFormat format) => format is
        ModelFormat.Elf or ModelFormat.PE or ModelFormat.MachO or ModelFormat.Script or ModelFormat.Llamafile;

    /// <summary>Formats whose ordinary loaders can run code from the file (pickles and what carries them, Keras, TorchScript).</summary>
    public static bool CanCarryCode(this ModelFormat format) => format is
        ModelFormat.Pickle or ModelFormat.Joblib or ModelFormat.PyTorchZip or ModelFormat.PyTorchLegacy
        or ModelFormat.PyTorchTar or ModelFormat.TorchScript or ModelFormat.Keras or ModelFormat.Skops
        or ModelFormat.NeMo;

    /// <summary>Formats whose content is a pickle stream read by a loader that unpickles it.</summary>
    public static bool IsPickleFamily(this ModelFormat format) => format is
        ModelFormat.Pickle or ModelFormat.Joblib or ModelFormat.PyTorchLegacy;
}
