#Requires -Version 7.4
<#
.SYNOPSIS
    Measures Test-ModelFile over the shared third-party corpus: seconds per warm pass, files per
    second, and the verdicts it gives.

.DESCRIPTION
    Imports the built module, scans every corpus file once to warm up (JIT, file cache), then times
    -Passes more scans of the same files in the same session and prints the figures. The corpus
    files are only read by the scanner: nothing in them is loaded or run. Exits with 1 when the
    median pass takes longer than -TargetSeconds. Progress output is turned off while timing.
    Not run in CI: run it after `./build.ps1 -Task Build`.

.PARAMETER CorpusPath
    The corpus folder; by default ../shared/corpus beside the repository.

.PARAMETER Passes
    Timed passes after the warm-up pass.

.PARAMETER TargetSeconds
    The median pass must take no longer than this.

.EXAMPLE
    dotnet pwsh -NoProfile -File ./bench/Measure-CorpusScan.ps1 -Passes 5 -TargetSeconds 1.0
#>
[CmdletBinding()]
param(
    [string] $CorpusPath = (Join-Path (Split-Path $PSScriptRoot) '../shared/corpus'),
    [ValidateRange(1, 1000)]
    [int] $Passes = 5,
    [ValidateRange(0.001, 3600)]
    [double] $TargetSeconds = 1.0
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

if (-not (Test-Path -LiteralPath $CorpusPath -PathType Container)) {
    throw "No corpus at '$CorpusPath'. Put the shared corpus beside the repository (../shared/corpus) or pass -CorpusPath."
}
$corpus = Get-Item -LiteralPath $CorpusPath

# The corpus's own bookkeeping at its root is not part of it.
$bookkeeping = 'MANIFEST.tsv', 'PEER_VERDICTS.tsv', 'README.md'
$files = @(Get-ChildItem -LiteralPath $corpus.FullName -File -Recurse |
        Where-Object { -not ($_.Name -in $bookkeeping -and $_.Directory.FullName -eq $corpus.FullName) })
if ($files.Count -eq 0) {
    throw "The corpus at '$($corpus.FullName)' holds no files."
}
$paths = [string[]]@($files.FullName)
$totalBytes = ($files | Measure-Object -Property Length -Sum).Sum

function Invoke-CorpusPass {
    [CmdletBinding()]
    param([string[]] $Path)

    # A file the scanner cannot open is an error record, not the end of the pass.
    $scanErrors = $null
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $results = @(Test-ModelFile -LiteralPath $Path -ErrorAction SilentlyContinue -ErrorVariable scanErrors -Verbose:$false)
    $watch.Stop()
    [pscustomobject]@{
        Seconds = $watch.Elapsed.TotalSeconds
        Results = $results
        Errors  = @($scanErrors).Count
    }
}

Write-Verbose "Warm-up pass over $($paths.Count) files in $($corpus.FullName)"
$warmUp = Invoke-CorpusPass -Path $paths
Write-Verbose ('Warm-up pass: {0:N3} s' -f $warmUp.Seconds)

$timed = foreach ($pass in 1..$Passes) {
    $run = Invoke-CorpusPass -Path $paths
    Write-Verbose ('Pass {0}: {1:N3} s' -f $pass, $run.Seconds)
    $run
}
$timed = @($timed)
$last = $timed[-1]

$seconds = @($timed.Seconds | Sort-Object)
$middle = [int][math]::Floor($seconds.Count / 2)
$median = if ($seconds.Count % 2 -eq 1) { $seconds[$middle] } else { ($seconds[$middle - 1] + $seconds[$middle]) / 2 }
$verdicts = ($last.Results | Group-Object -Property Verdict | Sort-Object -Property Name |
        ForEach-Object { '{0} {1}' -f $_.Name, $_.Count }) -join ', '
$read = ($last.Results | Measure-Object -Property BytesRead -Sum).Sum

if ($last.Results.Count -ne $paths.Count) {
    Write-Warning "$($paths.Count) files, but the last pass returned $($last.Results.Count) results and $($last.Errors) errors."
}

[pscustomobject]@{
    Files            = $paths.Count
    TotalBytes       = $totalBytes
    BytesRead        = $read
    Passes           = $Passes
    Cores            = [Environment]::ProcessorCount
    WarmUpSeconds    = [math]::Round($warmUp.Seconds, 3)
    MinSeconds       = [math]::Round($seconds[0], 3)
    MedianSeconds    = [math]::Round($median, 3)
    MaxSeconds       = [math]::Round($seconds[-1], 3)
    FilesPerSecond   = [math]::Round($paths.Count / $median, 0)
    Errors           = $last.Errors
    Verdicts         = $verdicts
    TargetSeconds    = $TargetSeconds
}

if ($median -gt $TargetSeconds) {
    Write-Warning ('The median pass took {0:N3} s, more than the {1:N3} s target.' -f $median, $TargetSeconds)
    exit 1
}
