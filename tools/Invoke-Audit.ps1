#Requires -Version 7.4
<#
.SYNOPSIS
    The main job: scans the generated sample folder and every model cache found on this machine,
    and prints the results as a table.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)][string] $ModulePath,
    [Parameter(Mandatory)][string] $SamplePath,
    # Extra folders, joined with the platform's path separator (build.ps1 passes them as one string).
    [string] $ExtraPath = ''
)

$ErrorActionPreference = 'Stop'
Import-Module -Name (Join-Path $ModulePath 'ModelSecurity.psd1') -Force

& (Join-Path $PSScriptRoot 'New-SampleModels.ps1') -Path $SamplePath | Out-Null

function Get-ModelCacheFolder {
    # Where the common tools keep downloaded models on this OS, honouring their environment variables.
    # (Get-ModelInventory will replace this with full cache-layout knowledge.)
    $homeDir = [Environment]::GetFolderPath('UserProfile')
    $xdgCache = if ($env:XDG_CACHE_HOME) { $env:XDG_CACHE_HOME } else { Join-Path $homeDir '.cache' }
    $hfHome = if ($env:HF_HOME) { $env:HF_HOME } else { Join-Path $xdgCache 'huggingface' }
    $hfHub = if ($env:HF_HUB_CACHE) { $env:HF_HUB_CACHE } elseif ($env:HUGGINGFACE_HUB_CACHE) { $env:HUGGINGFACE_HUB_CACHE } else { Join-Path $hfHome 'hub' }
    $ollama = if ($env:OLLAMA_MODELS) { $env:OLLAMA_MODELS } else { Join-Path $homeDir '.ollama/models' }
    $llamaCpp = if ($env:LLAMA_CACHE) { $env:LLAMA_CACHE }
    elseif ($IsWindows) { Join-Path $env:LOCALAPPDATA 'llama.cpp' }
    elseif ($IsMacOS) { Join-Path $homeDir 'Library/Caches/llama.cpp' }
    else { Join-Path $xdgCache 'llama.cpp' }

    # Hugging Face: the snapshot folders (their files link to blobs/, so blobs/ is not scanned twice).
    if (Test-Path -LiteralPath $hfHub) {
        Get-ChildItem -LiteralPath $hfHub -Directory -Filter 'models--*' | ForEach-Object {
            $snapshots = Join-Path $_.FullName 'snapshots'
            if (Test-Path -LiteralPath $snapshots) { $snapshots }
        }
    }
    $blobs = Join-Path $ollama 'blobs'
    if (Test-Path -LiteralPath $blobs) { $blobs }
    foreach ($candidate in $llamaCpp, (Join-Path $homeDir '.lmstudio/models'), (Join-Path $xdgCache 'lm-studio/models')) {
        if ($candidate -and (Test-Path -LiteralPath $candidate)) { $candidate }
    }
}

$caches = @(Get-ModelCacheFolder)
$extra = @($ExtraPath.Split([IO.Path]::PathSeparator, [StringSplitOptions]::RemoveEmptyEntries))
$targets = @($SamplePath) + $caches + $extra

Write-Output "ModelSecurity audit of $($targets.Count) folder(s):"
$targets | ForEach-Object { Write-Output "  $_" }
if (-not $caches) {
    Write-Output '  (no Hugging Face, Ollama, llama.cpp or LM Studio model cache found on this machine)'
}

function Get-DisplayPath([string] $Path) {
    # Samples are shown as benign/x or malicious/x; cache files keep their full path.
    $relative = [IO.Path]::GetRelativePath($SamplePath, $Path)
    if ($relative.StartsWith('..', [StringComparison]::Ordinal)) { $Path } else { $relative }
}

$results = @(Test-ModelFile -LiteralPath $targets)
$results | Sort-Object -Property @{ Expression = 'Verdict'; Descending = $true }, Path |
    Format-Table -Property @{ Label = 'Verdict'; Expression = { "$($_.Verdict)" } }, @{ Label = 'Format'; Expression = { "$($_.Format)" } },
        @{ Label = 'Top finding'; Expression = { if ($_.Findings.Count) { '{0} {1}' -f $_.Findings[0].RuleId, $_.Findings[0].Title } } },
        @{ Label = 'File'; Expression = { Get-DisplayPath $_.Path } } -AutoSize -Wrap |
    Out-String -Width 200 | Write-Output

$counts = $results | Group-Object -Property Verdict | Sort-Object -Property Name |
    ForEach-Object { '{0} {1}' -f $_.Count, $_.Name }
Write-Output ("{0} file(s) scanned: {1}." -f $results.Count, ($counts -join ', '))
Write-Output 'Inconclusive files were identified but not fully analysed: treat them as unscanned, never as clean.'
