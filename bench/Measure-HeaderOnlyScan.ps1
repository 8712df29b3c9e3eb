#Requires -Version 7.4
<#
.SYNOPSIS
    Measures what a header-only scan costs on a large model cache: time, files per second, and the
    bytes actually read against the bytes on disk.

.DESCRIPTION
    Writes a cache of sparse files (a real header, then a hole up to the requested size, so a 70 GB
    cache takes no disk space), runs Test-ModelFile over it in a fresh process, and prints the figures.
    Not run in CI: run it after `./build.ps1 -Task Build`.

.EXAMPLE
    dotnet pwsh -NoProfile -File ./bench/Measure-HeaderOnlyScan.ps1 -FileCount 20 -FileSizeGB 3.5
#>
[CmdletBinding()]
param(
    [int] $FileCount = 20,
    [double] $FileSizeGB = 3.5,
    [int] $Repeat = 3,
    [string] $WorkPath = (Join-Path ([IO.Path]::GetTempPath()) 'modelsecurity-bench')
)

$ErrorActionPreference = 'Stop'
$root = Split-Path $PSScriptRoot
Import-Module (Join-Path $root 'output/ModelSecurity/ModelSecurity.psd1') -Force

if (Test-Path -LiteralPath $WorkPath) {
    Remove-Item -LiteralPath $WorkPath -Recurse -Force
}
New-Item -ItemType Directory -Path $WorkPath | Out-Null
& (Join-Path $root 'tools/New-SampleModels.ps1') -Path (Join-Path $WorkPath 'seed') | Out-Null
$seeds = @(Get-ChildItem -LiteralPath (Join-Path $WorkPath 'seed') -Recurse -File | Where-Object Extension -In '.gguf', '.safetensors', '.bin', '.npy')

$size = [long]($FileSizeGB * 1GB)
for ($i = 0; $i -lt $FileCount; $i++) {
    $seed = $seeds[$i % $seeds.Count]
    $target = Join-Path $WorkPath ('model-{0:d3}{1}' -f $i, $seed.Extension)
    $header = [IO.File]::ReadAllBytes($seed.FullName)
    $stream = [IO.File]::Create($target)
    try {
        $stream.Write($header, 0, $header.Length)
        $stream.SetLength($size)
    }
    finally {
        $stream.Dispose()
    }
}
Remove-Item -LiteralPath (Join-Path $WorkPath 'seed') -Recurse -Force

$times = foreach ($run in 1..$Repeat) {
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $results = @(Test-ModelFile -LiteralPath $WorkPath)
    $watch.Stop()
    $watch.Elapsed.TotalMilliseconds
}
$onDisk = ($results | Measure-Object -Property Length -Sum).Sum
$read = ($results | Measure-Object -Property BytesRead -Sum).Sum
$best = ($times | Measure-Object -Minimum).Minimum

[pscustomobject]@{
    Files             = $results.Count
    CacheGB           = [math]::Round($onDisk / 1GB, 1)
    BytesRead         = $read
    ReadPerFileKiB    = [math]::Round($read / $results.Count / 1KB, 1)
    BestMilliseconds  = [math]::Round($best, 1)
    FilesPerSecond    = [math]::Round($results.Count / ($best / 1000), 0)
    RunsMilliseconds  = ($times | ForEach-Object { [math]::Round($_, 1) }) -join ', '
}
Remove-Item -LiteralPath $WorkPath -Recurse -Force
