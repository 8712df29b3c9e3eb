using System;
using System.Buffers.Binary;
using ModelSecurity.Analysis;

namespace ModelSecurity.Formats.Gguf;

/// <summary>
/// Legacy GGML-family files (ggml, ggmf, ggjt, ggla) from before GGUF: current llama.cpp no longer
/// loads them and their layout is not analysed, so they are reported as such (MS-GGUF-003), naming
/// what the magic says.
/// </summary>
internal sealed class GgmlReader : IModelReader
{
    public void Read(ReadContext context)
    {
        byte[] head = context.Source.ReadBlock(0, 8);
        uint magic = head.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(head) : 0;
        string what = magic switch
        {
            0x67676d6c => "the unversioned 'ggml' magic (the original GGML layout, still written by whisper.cpp and older llama.cpp)",
            0x67676d66 => "the 'ggmf' magic (versioned GGML, llama.cpp of spring 2023)",
            0x67676a74 => "the 'ggjt' magic (mmap-able GGML, llama.cpp of 2023 before GGUF)",
            0x67676c61 => "the 'ggla' magic (a legacy llama.cpp LoRA adapter)",
            _ => "a legacy GGML magic",
        };
        if (magic is 0x67676d66 or 0x67676a74 or 0x67676c61 && head.Length >= 8)
        {
            what += $", version {BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(4))}";
        }

        context.Report(
            RuleIds.GgufLegacy,
            $"The file starts with {what}. Current llama.cpp does not load it and this version does not analyse its content.",
            "byte 0");
    }
}
