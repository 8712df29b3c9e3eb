#Requires -Version 7.4
<#
.SYNOPSIS
    Measures Test-ModelFile on a large ONNX model: the bytes it reads must not grow with the
    initializers' payloads.

.DESCRIPTION
    Writes, in a temporary folder, an ONNX ModelProto (IR 8, opset 17) whose graph has a MatMul chain
    and -InitializerCount float32 initializers of -InitializerBytes each, their raw_data left as a
    hole (a sparse file where the file system has them), then scans it once cold and -Runs times warm.
    Prints Length, BytesRead, the share read and the median warm time. Exits with 1 when BytesRead
    reaches -MaxBytesRead. Not run in CI: run it after `./build.ps1 -Task Build`.

.PARAMETER InitializerCount
    Number of initializers.

.PARAMETER InitializerBytes
    raw_data bytes of each initializer (a multiple of 4).

.PARAMETER MaxBytesRead
    BytesRead must stay below this.

.EXAMPLE
    dotnet pwsh -NoProfile -File ./bench/Measure-Onnx.ps1                          # 16 × 128 MiB = 2 GiB
    dotnet pwsh -NoProfile -File ./bench/Measure-Onnx.ps1 -InitializerCount 4000 -InitializerBytes 262144
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [ValidateRange(1, 100000)]
    [int] $InitializerCount = 16,
    [ValidateRange(4, 1GB)]
    [long] $InitializerBytes = 128MB,
    [ValidateRange(1, 100)]
    [int] $Runs = 5,
    [long] $MaxBytesRead = 4MB,
    [string] $WorkPath = [IO.Path]::GetTempPath(),
    [switch] $KeepFile
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$root = Split-Path $PSScriptRoot
$manifest = Join-Path $root 'output/ModelSecurity/ModelSecurity.psd1'
if (-not (Test-Path -LiteralPath $manifest -PathType Leaf)) {
    throw "The module is not built ($manifest is missing). Run: dotnet pwsh -NoProfile -File ./build.ps1 -Task Build"
}
Import-Module $manifest -Force

# Protobuf wire encoding, enough for a ModelProto: varints, tags, length-delimited fields.
function ConvertTo-Varint([uint64] $Value) {
    $bytes = [Collections.Generic.List[byte]]::new()
    do {
        $b = [byte]($Value -band 0x7F)
        $Value = $Value -shr 7
        if ($Value -ne 0) { $b = $b -bor 0x80 }
        $bytes.Add($b)
    } while ($Value -ne 0)
    , $bytes.ToArray()
}
function Get-Field([int] $Number, [byte[]] $Payload) {
    , ([byte[]](ConvertTo-Varint (($Number -shl 3) -bor 2)) + (ConvertTo-Varint $Payload.Length) + $Payload)
}
function Get-Text([int] $Number, [string] $Text) { , (Get-Field $Number ([Text.Encoding]::UTF8.GetBytes($Text))) }
function Get-VarintField([int] $Number, [uint64] $Value) { , ([byte[]](ConvertTo-Varint ($Number -shl 3)) + (ConvertTo-Varint $Value)) }

function New-SparseOnnx {
    [CmdletBinding(SupportsShouldProcess)]
    param([string] $Path)

    if (-not $PSCmdlet.ShouldProcess($Path, 'Write a sparse ONNX model')) {
        return
    }

    $columns = [uint64]($InitializerBytes / 4 / 1024)
    # Each initializer: TensorProto { dims 1024, dims n, data_type 1, name, raw_data (a hole) }; its bytes before the payload.
    $heads = foreach ($i in 0..($InitializerCount - 1)) {
        $fields = [byte[]](Get-VarintField 1 1024) + (Get-VarintField 1 $columns) + (Get-VarintField 2 1) + (Get-Text 8 "w$i") +
            (ConvertTo-Varint ((9 -shl 3) -bor 2)) + (ConvertTo-Varint $InitializerBytes)
        $tensorLength = [uint64]$fields.Length + [uint64]$InitializerBytes
        , ([byte[]](ConvertTo-Varint ((5 -shl 3) -bor 2)) + (ConvertTo-Varint $tensorLength) + $fields)
    }
    $nodes = foreach ($i in 0..($InitializerCount - 1)) {
        $input = if ($i -eq 0) { 'x' } else { "h$($i - 1)" }
        , (Get-Field 1 ([byte[]](Get-Text 1 $input) + (Get-Text 1 "w$i") + (Get-Text 2 "h$i") + (Get-Text 3 "matmul_$i") + (Get-Text 4 'MatMul')))
    }
    # Graph input x: float32[batch, 1024] (ValueInfoProto 1 name, 2 type: tensor_type 1 elem_type, 2 shape).
    $shape = Get-Field 2 ([byte[]](Get-Field 1 (Get-Text 2 'batch')) + (Get-Field 1 (Get-VarintField 1 1024)))
    $type = Get-Field 2 (Get-Field 1 ([byte[]](Get-VarintField 1 1) + $shape))
    $tail = [byte[]](Get-Text 2 'bench_graph') + (Get-Field 11 ([byte[]](Get-Text 1 'x') + $type)) + (Get-Field 12 (Get-Text 1 "h$($InitializerCount - 1)"))
    [uint64] $graphLength = $tail.Length
    foreach ($n in $nodes) { $graphLength += $n.Length }
    foreach ($h in $heads) { $graphLength += [uint64]$h.Length + [uint64]$InitializerBytes }

    [IO.File]::WriteAllBytes($Path, [byte[]]@())
    if ($IsWindows) {
        & fsutil sparse setflag $Path 2>&1 | Out-Null
        if ($LASTEXITCODE -ne 0) {
            Write-Warning "fsutil could not mark $Path sparse: the file will take its full size on disk."
        }
    }
    $stream = [IO.FileStream]::new($Path, [IO.FileMode]::Open, [IO.FileAccess]::ReadWrite, [IO.FileShare]::None)
    try {
        $write = { param([byte[]] $b) $stream.Write($b, 0, $b.Length) }
        & $write ([byte[]](Get-VarintField 1 8) + (Get-Text 2 'modelsecurity-bench') + (Get-Text 3 '1.0'))
        & $write ([byte[]](ConvertTo-Varint ((7 -shl 3) -bor 2)) + (ConvertTo-Varint $graphLength))
        foreach ($n in $nodes) { & $write $n }
        foreach ($h in $heads) {
            & $write $h
            $stream.Seek($InitializerBytes, [IO.SeekOrigin]::Current) | Out-Null   # raw_data: a hole
        }
        & $write $tail
        & $write (Get-Field 8 ([byte[]](Get-Text 1 '') + (Get-VarintField 2 17)))
        $stream.SetLength($stream.Position)
    }
    finally {
        $stream.Dispose()
    }
}

$folder = Join-Path $WorkPath ('modelsecurity-onnx-' + [Guid]::NewGuid().ToString('N').Substring(0, 8))
New-Item -ItemType Directory -Path $folder | Out-Null
$file = Join-Path $folder 'model.onnx'
$failed = $false
try {
    New-SparseOnnx -Path $file

    $watch = [Diagnostics.Stopwatch]::StartNew()
    $result = Test-ModelFile -LiteralPath $file   # cold: JIT and file cache
    $cold = $watch.Elapsed.TotalMilliseconds
    $times = foreach ($run in 1..$Runs) {
        $watch.Restart()
        $result = Test-ModelFile -LiteralPath $file
        $watch.Elapsed.TotalMilliseconds
    }
    $sorted = @($times | Sort-Object)
    $median = $sorted[[math]::Floor(($sorted.Count - 1) / 2)]

    [pscustomobject]@{
        Path                  = if ($KeepFile) { $file } else { '(deleted)' }
        Length                = $result.Length
        BytesRead             = $result.BytesRead
        ShareRead             = '{0:P6}' -f ($result.BytesRead / $result.Length)
        BytesReadLimit        = $MaxBytesRead
        Format                = $result.Format
        Verdict               = $result.Verdict
        InitializerCount      = $result.Metadata['InitializerCount']
        NodeCount             = $result.Metadata['NodeCount']
        ColdMilliseconds      = [math]::Round($cold, 1)
        ElapsedMilliseconds   = [math]::Round($median, 1)
        WarmRuns              = ($sorted | ForEach-Object { [math]::Round($_, 1) }) -join ', '
    }
    if ($result.BytesRead -ge $MaxBytesRead) {
        Write-Warning "Test-ModelFile read $($result.BytesRead) bytes of a $($result.Length)-byte file: the limit is $MaxBytesRead."
        $failed = $true
    }
}
finally {
    if (-not $KeepFile) {
        Remove-Item -LiteralPath $folder -Recurse -Force -ErrorAction SilentlyContinue
    }
}

if ($failed) {
    exit 1
}
