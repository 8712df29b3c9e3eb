#Requires -Version 7.4
<#
.SYNOPSIS
    Measures Confirm-ModelHash against OpenSSL on the same 2 GiB files in the same run: single-file
    throughput, two files on two cores, a cached re-check, and the working set while hashing.

.DESCRIPTION
    Writes two files of -SizeMiB MiB (random bytes, made once and kept in -WorkPath; -Clean removes
    them) and reads each once so both tools hash from the page cache: the CPU, not the disk, is
    measured. Then, each -Iterations times (the best run is reported):

    (1) `openssl dgst -sha256` of file 1, and `Confirm-ModelHash -NoCache` of file 1. Target: our
        throughput at least 0.9x OpenSSL's. Both wall-clock throughput and CPU seconds (user +
        system) are reported: on a busy shared machine the CPU time is the fairer comparison.
    (2) `Confirm-ModelHash -NoCache -ThrottleLimit 2` of both files. Target: at least 1.6x the
        single-file rate (needs two free cores).
    (3) `Confirm-ModelHash` of file 1 again, unchanged: the hash cache answers. Target: under 5 ms
        (median of 20 calls, the whole cmdlet call included).
    (4) In a fresh pwsh, the working set before and at its peak while hashing file 1 (on Linux the
        peak is reset first through /proc/self/clear_refs, so it is the hashing's own). Target: the
        hashing adds under 100 MB, whatever the file size.

    The hash cache of the run lives in -WorkPath (MODELSECURITY_CACHE_DIR), never the user's. Not run
    in CI: run it after `./build.ps1 -Task Build`.

.PARAMETER SizeMiB
    Size of each test file in MiB (default 2048).

.PARAMETER Iterations
    Timed runs of (1) and (2); the best is reported.

.PARAMETER WorkPath
    Folder for the test files and the run's hash cache.

.PARAMETER Clean
    Delete the test files at the end.

.EXAMPLE
    dotnet pwsh -NoProfile -File ./bench/Measure-Hash.ps1
#>
[CmdletBinding()]
param(
    [ValidateRange(16, 65536)]
    [int] $SizeMiB = 2048,

    [ValidateRange(1, 100)]
    [int] $Iterations = 3,

    [string] $WorkPath = (Join-Path ([IO.Path]::GetTempPath()) 'modelsecurity-bench-hash'),

    [switch] $Clean
)

$ErrorActionPreference = 'Stop'
$root = Split-Path $PSScriptRoot
$manifest = Join-Path $root 'output/ModelSecurity/ModelSecurity.psd1'
if (-not (Test-Path -LiteralPath $manifest)) {
    throw "Build the module first: dotnet pwsh -NoProfile -File ./build.ps1 -Task Build"
}
$openssl = Get-Command -Name openssl -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
if (-not $openssl) {
    throw 'openssl is not on PATH; it is the yardstick of this benchmark.'
}

New-Item -ItemType Directory -Path $WorkPath -Force | Out-Null
$env:MODELSECURITY_CACHE_DIR = Join-Path $WorkPath 'hash-cache'
$bytes = [long]$SizeMiB * 1MB
$files = foreach ($i in 1, 2) {
    $path = Join-Path $WorkPath "model-$i.bin"
    if (-not (Test-Path -LiteralPath $path) -or (Get-Item -LiteralPath $path).Length -ne $bytes) {
        Write-Host "Writing $SizeMiB MiB to $path"
        $buffer = [byte[]]::new(8MB)
        $stream = [IO.File]::Create($path)
        try {
            for ($written = 0L; $written -lt $bytes; $written += $buffer.Length) {
                [Security.Cryptography.RandomNumberGenerator]::Fill($buffer)
                $stream.Write($buffer, 0, [int][Math]::Min([long]$buffer.Length, $bytes - $written))
            }
        }
        finally {
            $stream.Dispose()
        }
    }
    $path
}

function Read-Through([string] $Path) {
    # Warm the page cache so both tools measure hashing, not the disk.
    $stream = [IO.File]::OpenRead($Path)
    try { $buffer = [byte[]]::new(4MB); while ($stream.Read($buffer, 0, $buffer.Length) -gt 0) { } } finally { $stream.Dispose() }
}
$files | ForEach-Object { Read-Through $_ }

Import-Module $manifest -Force
$gib = $bytes / 1GB
function Measure-Best([scriptblock] $Action) {
    $best = [double]::MaxValue
    for ($i = 0; $i -lt $Iterations; $i++) {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        & $Action | Out-Null
        $best = [Math]::Min($best, $clock.Elapsed.TotalSeconds)
    }
    $best
}

function Measure-Cpu([scriptblock] $Action) {
    # CPU seconds (user + system) of the best run: on a shared machine wall time also measures the neighbours.
    $best = [double]::MaxValue
    for ($i = 0; $i -lt $Iterations; $i++) {
        $best = [Math]::Min($best, (& $Action))
    }
    $best
}

$timeCommand = Get-Command -Name time -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
$opensslCpu = if ($timeCommand) {
    Measure-Cpu {
        # time(1) reports the child's user and system seconds on stderr.
        $line = (& $timeCommand.Source -f '%U %S' $openssl.Source dgst -sha256 $files[0] 2>&1 | Select-Object -Last 1).ToString()
        $user, $system = $line.Trim() -split '\s+'
        [double]$user + [double]$system
    }
} else { [double]::NaN }
$oursCpu = Measure-Cpu {
    $self = [Diagnostics.Process]::GetCurrentProcess()
    $before = $self.TotalProcessorTime
    Confirm-ModelHash -LiteralPath $files[0] -NoCache | Out-Null
    $self.Refresh()
    ($self.TotalProcessorTime - $before).TotalSeconds
}
$opensslSeconds = Measure-Best { & $openssl.Source dgst -sha256 $files[0] }
$opensslHash = ((& $openssl.Source dgst -sha256 $files[0]) -split '=\s*')[-1].Trim()
$oursSeconds = Measure-Best { Confirm-ModelHash -LiteralPath $files[0] -NoCache }
$ours = Confirm-ModelHash -LiteralPath $files[0] -NoCache
if ($ours.Hash -ne $opensslHash) {
    throw "Confirm-ModelHash and openssl disagree on $($files[0]): $($ours.Hash) vs $opensslHash"
}
$pairSeconds = Measure-Best { Confirm-ModelHash -LiteralPath $files -NoCache -ThrottleLimit 2 }

# The cache was filled by the runs above: now every call is one stat and a lookup.
Confirm-ModelHash -LiteralPath $files[0] | Out-Null
$cached = for ($i = 0; $i -lt 20; $i++) {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $result = Confirm-ModelHash -LiteralPath $files[0]
    $clock.Elapsed.TotalMilliseconds
    if (-not $result.FromCache) { throw 'The re-check did not come from the hash cache.' }
}
$cachedMedian = ($cached | Sort-Object)[10]

# Memory in a fresh process: the baseline is pwsh with the module loaded and one small file hashed.
$probe = Join-Path $WorkPath 'probe.txt'
Set-Content -LiteralPath $probe -Value 'probe'
$memoryScript = @"
`$env:MODELSECURITY_CACHE_DIR = '$($env:MODELSECURITY_CACHE_DIR)'
Import-Module '$manifest'
Confirm-ModelHash -LiteralPath '$probe' -NoCache | Out-Null
[GC]::Collect()
`$process = [Diagnostics.Process]::GetCurrentProcess()
`$before = `$process.WorkingSet64
# Linux: reset the peak (VmHWM) so it measures the hashing, not the start-up.
if (`$IsLinux) { [IO.File]::WriteAllText('/proc/self/clear_refs', '5') }
Confirm-ModelHash -LiteralPath '$($files[0])' -NoCache | Out-Null
`$process.Refresh()
'{0} {1}' -f `$before, `$process.PeakWorkingSet64
"@
. (Join-Path $root 'tools/Pwsh.ps1')
$pwsh = @(Get-PwshCommand)
$memory = (& $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -Command $memoryScript | Select-Object -Last 1) -split ' '
$baselineMB = [long]$memory[0] / 1MB
$peakMB = [long]$memory[1] / 1MB

$single = $gib / $oursSeconds
$reference = $gib / $opensslSeconds
$pair = 2 * $gib / $pairSeconds
[pscustomobject]@{
    FileGiB                 = $gib
    OpenSslGiBPerSecond     = [Math]::Round($reference, 3)
    OursGiBPerSecond        = [Math]::Round($single, 3)
    RatioToOpenSsl          = [Math]::Round($single / $reference, 3)
    OpenSslCpuSeconds       = [Math]::Round($opensslCpu, 3)
    OursCpuSeconds          = [Math]::Round($oursCpu, 3)
    CpuRatioToOpenSsl       = [Math]::Round($opensslCpu / $oursCpu, 3)
    TwoFilesGiBPerSecond    = [Math]::Round($pair, 3)
    TwoFileSpeedup          = [Math]::Round($pair / $single, 3)
    CachedRecheckMs         = [Math]::Round($cachedMedian, 2)
    BaselineWorkingSetMB    = [Math]::Round($baselineMB, 1)
    PeakWorkingSetMB        = [Math]::Round($peakMB, 1)
    HashingAddsMB           = [Math]::Round($peakMB - $baselineMB, 1)
    Processors              = [Environment]::ProcessorCount
} | Format-List

$failed = @()
if ($single / $reference -lt 0.9) { $failed += 'single-file throughput below 0.9x openssl' }
if ([Environment]::ProcessorCount -ge 2 -and $pair / $single -lt 1.6) { $failed += 'two files on two cores below 1.6x' }
if ($cachedMedian -ge 5) { $failed += 'cached re-check not under 5 ms' }
if ($peakMB - $baselineMB -ge 100) { $failed += 'hashing adds 100 MB or more to the working set' }
if ($Clean) { Remove-Item -LiteralPath $WorkPath -Recurse -Force }
if ($failed) {
    Write-Warning ($failed -join '; ')
    exit 1
}
