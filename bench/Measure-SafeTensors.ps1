#Requires -Version 7.4
<#
.SYNOPSIS
    Measures how much of a ~8 GiB SafeTensors file Test-ModelFile reads, and how long a warm scan
    takes: it must read under 16 MiB and take under 50 ms (median of 5 warm runs).

.DESCRIPTION
    Writes a sparse SafeTensors file laid out as the reference writer lays one out: the u64 header
    length, a JSON header padded with spaces to a multiple of 8 (a "__metadata__" {"format":"pt"}
    and -TensorCount BF16 tensors named like a transformer's layers, placed back to back), then the
    tensor data, which is never written: the script only sets the file's length, so the file takes
    a few KiB of disk on file systems with sparse files (ext4, xfs, btrfs, APFS, tmpfs; on Windows
    the script asks fsutil to mark the file sparse first).

    Then runs Test-ModelFile on it once (cold, not judged) and -Runs more times (warm) and prints
    the length, the bytes read, the verdict and the warm times. Exits with 1 when 16 MiB or more
    were read, when the median warm time is 50 ms or more, or when the file is not Clean. The file
    is deleted unless -KeepFile. Not run in CI: run it after `./build.ps1 -Task Build`.

.PARAMETER TensorCount
    Number of tensors in the header.

.PARAMETER TargetBytes
    Approximate size of the tensor data; each tensor's shape is chosen to reach it.

.PARAMETER Runs
    Warm runs whose median is judged.

.PARAMETER WorkPath
    Folder in which a temporary folder for the file is made.

.PARAMETER KeepFile
    Keep the file and print where it is.

.EXAMPLE
    dotnet pwsh -NoProfile -File ./bench/Measure-SafeTensors.ps1
#>
[CmdletBinding()]
param(
    [ValidateRange(1, 100000)]
    [int] $TensorCount = 300,
    [ValidateRange(1MB, 1TB)]
    [long] $TargetBytes = 8GB + 64MB,
    [ValidateRange(1, 100)]
    [int] $Runs = 5,
    [string] $WorkPath = [IO.Path]::GetTempPath(),
    [switch] $KeepFile
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$MaxBytesRead = 16MB
$MaxMilliseconds = 50

$root = Split-Path $PSScriptRoot
$manifest = Join-Path $root 'output/ModelSecurity/ModelSecurity.psd1'
if (-not (Test-Path -LiteralPath $manifest -PathType Leaf)) {
    throw "The module is not built ($manifest is missing). Run: dotnet pwsh -NoProfile -File ./build.ps1 -Task Build"
}
Import-Module $manifest -Force

function New-SparseSafeTensors {
    [CmdletBinding(SupportsShouldProcess)]
    param([string] $Path, [int] $TensorCount, [long] $TargetBytes)

    if (-not $PSCmdlet.ShouldProcess($Path, 'Write a sparse SafeTensors file')) {
        return
    }

    # BF16 matrices of 4096 rows; columns chosen so the tensors add up to about -TargetBytes.
    $rows = 4096
    $columns = [long][math]::Ceiling($TargetBytes / ($TensorCount * $rows * 2))
    $size = $rows * $columns * 2
    $entries = [Collections.Generic.List[string]]::new()
    $entries.Add('"__metadata__":{"format":"pt"}')
    $offset = [long]0
    for ($i = 0; $i -lt $TensorCount; $i++) {
        $layer = [math]::Floor($i / 4)
        $part = @('self_attn.q_proj', 'self_attn.k_proj', 'mlp.up_proj', 'mlp.down_proj')[$i % 4]
        $entries.Add(('"model.layers.{0}.{1}.weight":{{"dtype":"BF16","shape":[{2},{3}],"data_offsets":[{4},{5}]}}' -f $layer, $part, $rows, $columns, $offset, ($offset + $size)))
        $offset += $size
    }
    $json = '{' + ($entries -join ',') + '}'
    while (($json.Length % 8) -ne 0) { $json += ' ' }
    $header = [Text.Encoding]::UTF8.GetBytes($json)

    [IO.File]::WriteAllBytes($Path, [byte[]]@())
    if ($IsWindows) {
        # NTFS fills a skipped range with zeros unless the file is marked sparse.
        & fsutil sparse setflag $Path 2>&1 | Out-Null
        if ($LASTEXITCODE -ne 0) {
            Write-Warning "fsutil could not mark $Path sparse: the file will take $offset bytes of disk."
        }
    }
    $stream = [IO.FileStream]::new($Path, [IO.FileMode]::Open, [IO.FileAccess]::ReadWrite, [IO.FileShare]::None)
    try {
        $stream.Write([BitConverter]::GetBytes([uint64]$header.Length), 0, 8)
        $stream.Write($header, 0, $header.Length)
        $stream.SetLength(8 + $header.Length + $offset)
    }
    finally {
        $stream.Dispose()
    }
}

$folder = Join-Path $WorkPath ('modelsecurity-safetensors-' + [Guid]::NewGuid().ToString('N').Substring(0, 8))
New-Item -ItemType Directory -Path $folder | Out-Null
$file = Join-Path $folder 'model.safetensors'
$failed = $false
try {
    New-SparseSafeTensors -Path $file -TensorCount $TensorCount -TargetBytes $TargetBytes

    $result = Test-ModelFile -LiteralPath $file   # cold: JIT and file cache
    $times = foreach ($run in 1..$Runs) {
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $result = Test-ModelFile -LiteralPath $file
        $watch.Stop()
        $watch.Elapsed.TotalMilliseconds
    }
    $sorted = @($times | Sort-Object)
    $median = $sorted[[math]::Floor(($sorted.Count - 1) / 2)]

    [pscustomobject]@{
        Path                = if ($KeepFile) { $file } else { '(deleted)' }
        Length              = $result.Length
        BytesRead           = $result.BytesRead
        BytesReadLimit      = $MaxBytesRead
        Format              = $result.Format
        Verdict             = $result.Verdict
        TensorCount         = $result.Metadata['TensorCount']
        ParameterCount      = $result.Metadata['ParameterCount']
        HeaderLength        = $result.Metadata['HeaderLength']
        ElapsedMilliseconds = [math]::Round($median, 1)
        ElapsedLimit        = $MaxMilliseconds
        WarmRuns            = ($sorted | ForEach-Object { [math]::Round($_, 1) }) -join ', '
    }
    if ($result.BytesRead -ge $MaxBytesRead) {
        Write-Warning "Test-ModelFile read $($result.BytesRead) bytes of a $($result.Length)-byte file: the limit is $MaxBytesRead."
        $failed = $true
    }
    if ($median -ge $MaxMilliseconds) {
        Write-Warning "The median warm scan took $([math]::Round($median, 1)) ms: the limit is $MaxMilliseconds ms."
        $failed = $true
    }
    if ($result.Verdict -ne 'Clean') {
        Write-Warning "The file is $($result.Verdict), not Clean: $($result.Findings -join '; ')"
        $failed = $true
    }
}
finally {
    if (-not $KeepFile) {
        Remove-Item -LiteralPath $folder -Recurse -Force
    }
}

if ($failed) {
    exit 1
}
