#Requires -Version 7.4
<#
.SYNOPSIS
    Measures the GGUF reader: how much of a sparse 8 GiB GGUF it reads and how long that takes, and
    how fast it scans the shared corpus's GGUF files next to @huggingface/gguf reading the same files.

.DESCRIPTION
    (1) Writes a sparse GGUF v3 of just over 8 GiB: general.* metadata, a 32,000-string
        tokenizer.ggml.tokens array, a chat template and eight 1 GiB F16 tensors whose data is never
        written (the script extends the file past it, so it takes a few hundred KiB of disk on file
        systems with sparse files; on Windows fsutil marks it sparse first). Runs Test-ModelFile once
        cold and -Iterations times warm and prints the bytes read and the warm median time. Targets:
        under 16 MiB read, under 50 ms warm.
    (2) Scans every *.gguf under -CorpusPath (default ../shared/corpus/gguf beside the repository)
        with Test-ModelFile, warm (one untimed pass first), and — when npm can install it into a
        temporary folder — reads the same files with @huggingface/gguf from a small node script, also
        warm. Prints both times and the ratio (target: at least 10x). Without node/npm or registry
        access that half is skipped with a message.
    Exits with 1 when the 8 GiB file's bytes read reach 16 MiB. Not run in CI: run it after
    `./build.ps1 -Task Build`.

.PARAMETER CorpusPath
    Folder searched recursively for *.gguf files.

.PARAMETER Iterations
    Timed warm runs of the sparse-file scan (the median is reported).

.PARAMETER HuggingFaceGgufVersion
    Version of @huggingface/gguf to install for the comparison.

.PARAMETER WorkPath
    Folder in which a temporary folder is made for the sparse file and the npm install.

.EXAMPLE
    dotnet pwsh -NoProfile -File ./bench/Measure-Gguf.ps1
#>
[CmdletBinding()]
param(
    [string] $CorpusPath = (Join-Path (Split-Path (Split-Path $PSScriptRoot)) 'shared/corpus/gguf'),
    [ValidateRange(1, 1000)]
    [int] $Iterations = 20,
    [string] $HuggingFaceGgufVersion = '0.4.6',
    [string] $WorkPath = [IO.Path]::GetTempPath()
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$MaxBytesRead = 16MB
$TargetWarmMs = 50
$TargetRatio = 10

$root = Split-Path $PSScriptRoot
$manifest = Join-Path $root 'output/ModelSecurity/ModelSecurity.psd1'
if (-not (Test-Path -LiteralPath $manifest -PathType Leaf)) {
    throw "The module is not built ($manifest is missing). Run: dotnet pwsh -NoProfile -File ./build.ps1 -Task Build"
}
Import-Module $manifest -Force

function Write-GgufString([IO.BinaryWriter] $Writer, [string] $Text) {
    $bytes = [Text.Encoding]::UTF8.GetBytes($Text)
    $Writer.Write([uint64]$bytes.Length)
    $Writer.Write($bytes)
}

function Write-GgufKey([IO.BinaryWriter] $Writer, [string] $Key, [uint32] $Type) {
    Write-GgufString $Writer $Key
    $Writer.Write($Type)
}

function New-SparseGguf {
    [CmdletBinding(SupportsShouldProcess)]
    param([string] $Path, [int] $TensorCount = 8, [long] $ElementsPerTensor = 512MB)

    if (-not $PSCmdlet.ShouldProcess($Path, 'Write a sparse GGUF')) {
        return
    }

    [IO.File]::WriteAllBytes($Path, [byte[]]@())
    if ($IsWindows) {
        & fsutil sparse setflag $Path 2>&1 | Out-Null
    }
    $stream = [IO.FileStream]::new($Path, [IO.FileMode]::Open, [IO.FileAccess]::ReadWrite, [IO.FileShare]::None)
    $writer = [IO.BinaryWriter]::new($stream)
    try {
        $writer.Write([Text.Encoding]::ASCII.GetBytes('GGUF'))
        $writer.Write([uint32]3)
        $writer.Write([uint64]$TensorCount)
        $writer.Write([uint64]7)
        Write-GgufKey $writer 'general.architecture' 8; Write-GgufString $writer 'llama'
        Write-GgufKey $writer 'general.name' 8; Write-GgufString $writer 'Sparse 8 GiB'
        Write-GgufKey $writer 'general.alignment' 4; $writer.Write([uint32]32)
        Write-GgufKey $writer 'general.file_type' 4; $writer.Write([uint32]1)
        Write-GgufKey $writer 'llama.context_length' 4; $writer.Write([uint32]4096)
        Write-GgufKey $writer 'tokenizer.chat_template' 8
        Write-GgufString $writer "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}"
        Write-GgufKey $writer 'tokenizer.ggml.tokens' 9
        $writer.Write([uint32]8)
        $writer.Write([uint64]32000)
        for ($i = 0; $i -lt 32000; $i++) {
            Write-GgufString $writer "tok$i"
        }
        $bytes = $ElementsPerTensor * 2
        for ($t = 0; $t -lt $TensorCount; $t++) {
            Write-GgufString $writer "blk.$t.weight"
            $writer.Write([uint32]2)
            $writer.Write([uint64]16384)
            $writer.Write([uint64]($ElementsPerTensor / 16384))
            $writer.Write([uint32]1)    # F16
            $writer.Write([uint64]($t * $bytes))
        }
        $writer.Flush()
        $dataStart = [long]([math]::Ceiling($stream.Position / 32) * 32)
        $stream.SetLength($dataStart + ($TensorCount * $bytes))
    }
    finally {
        $writer.Dispose()
    }
}

function Get-Median([double[]] $Values) {
    $sorted = $Values | Sort-Object
    return $sorted[[int][math]::Floor($sorted.Count / 2)]
}

$folder = Join-Path $WorkPath ('modelsecurity-gguf-' + [Guid]::NewGuid().ToString('N').Substring(0, 8))
New-Item -ItemType Directory -Path $folder | Out-Null
$failed = $false
try {
    # (1) the sparse 8 GiB file
    $big = Join-Path $folder 'sparse-8gib.gguf'
    New-SparseGguf -Path $big
    $cold = [Diagnostics.Stopwatch]::StartNew()
    $result = Test-ModelFile -LiteralPath $big
    $cold.Stop()
    $times = for ($i = 0; $i -lt $Iterations; $i++) {
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $result = Test-ModelFile -LiteralPath $big
        $watch.Stop()
        $watch.Elapsed.TotalMilliseconds
    }
    $warm = Get-Median $times
    [pscustomobject]@{
        Benchmark               = 'Sparse GGUF'
        Length                  = $result.Length
        BytesRead               = $result.BytesRead
        BytesReadLimit          = $MaxBytesRead
        Verdict                 = $result.Verdict
        ParameterCount          = $result.Metadata['ParameterCount']
        ColdMilliseconds        = [math]::Round($cold.Elapsed.TotalMilliseconds, 1)
        WarmMedianMilliseconds  = [math]::Round($warm, 2)
        WarmTargetMilliseconds  = $TargetWarmMs
    } | Format-List | Out-String | Write-Host
    $failed = $result.BytesRead -ge $MaxBytesRead
    if ($warm -ge $TargetWarmMs) {
        Write-Warning "Warm scan took $([math]::Round($warm, 1)) ms; the target is under $TargetWarmMs ms."
    }

    # (2) the corpus
    if (-not (Test-Path -LiteralPath $CorpusPath -PathType Container)) {
        Write-Warning "No corpus at ${CorpusPath}: the corpus comparison is skipped."
        return
    }
    $files = @(Get-ChildItem -LiteralPath $CorpusPath -Recurse -File -Filter '*.gguf' | Sort-Object FullName)
    $null = Test-ModelFile -LiteralPath $files.FullName
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $scans = @(Test-ModelFile -LiteralPath $files.FullName)
    $watch.Stop()
    $oursMs = $watch.Elapsed.TotalMilliseconds
    $verdicts = ($scans | Group-Object Verdict | ForEach-Object { "$($_.Name)=$($_.Count)" }) -join ', '

    $hfMs = $null
    $hfNote = $null
    $node = Get-Command node -ErrorAction Ignore
    $npm = Get-Command npm -ErrorAction Ignore
    if (-not $node -or -not $npm) {
        $hfNote = 'node/npm not found: @huggingface/gguf comparison skipped'
    }
    else {
        $npmFolder = Join-Path $folder 'hf'
        New-Item -ItemType Directory -Path $npmFolder | Out-Null
        Push-Location $npmFolder
        try {
            & $npm.Source init -y 2>&1 | Out-Null
            & $npm.Source install --silent --no-audit --no-fund "@huggingface/gguf@$HuggingFaceGgufVersion" 2>&1 | Out-Null
            if ($LASTEXITCODE -ne 0) {
                $hfNote = "npm could not install @huggingface/gguf@$HuggingFaceGgufVersion (no registry access?): comparison skipped"
            }
            else {
                $script = @'
import { gguf } from "@huggingface/gguf";
import { readFileSync } from "node:fs";
const files = JSON.parse(readFileSync(process.argv[2], "utf8"));
async function pass() {
  let ok = 0, failed = 0;
  for (const f of files) { try { await gguf(f, { allowLocalFile: true }); ok++; } catch { failed++; } }
  return { ok, failed };
}
await pass();
const start = process.hrtime.bigint();
const r = await pass();
console.log(JSON.stringify({ ms: Number(process.hrtime.bigint() - start) / 1e6, ok: r.ok, failed: r.failed }));
'@
                Set-Content -LiteralPath (Join-Path $npmFolder 'read.mjs') -Value $script -Encoding utf8
                $list = Join-Path $npmFolder 'files.json'
                ConvertTo-Json -InputObject @($files.FullName) | Set-Content -LiteralPath $list -Encoding utf8
                $out = & $node.Source (Join-Path $npmFolder 'read.mjs') $list
                $hf = $out | Select-Object -Last 1 | ConvertFrom-Json
                $hfMs = [double]$hf.ms
                $hfNote = "@huggingface/gguf@$HuggingFaceGgufVersion parsed $($hf.ok), threw on $($hf.failed)"
            }
        }
        finally {
            Pop-Location
        }
    }

    [pscustomobject]@{
        Benchmark                = 'Corpus GGUF (warm)'
        Files                    = $files.Count
        Verdicts                 = $verdicts
        ModelSecurityMs          = [math]::Round($oursMs, 1)
        HuggingFaceGgufMs        = if ($null -ne $hfMs) { [math]::Round($hfMs, 1) } else { $null }
        Ratio                    = if ($null -ne $hfMs -and $oursMs -gt 0) { [math]::Round($hfMs / $oursMs, 1) } else { $null }
        RatioTarget              = $TargetRatio
        Note                     = $hfNote
    } | Format-List | Out-String | Write-Host
}
finally {
    Remove-Item -LiteralPath $folder -Recurse -Force
}

if ($failed) {
    Write-Warning "Test-ModelFile read $($result.BytesRead) bytes of a $($result.Length)-byte GGUF: the limit is $MaxBytesRead."
    exit 1
}
