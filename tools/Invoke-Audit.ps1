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

# Every model file in the known caches of this machine (Hugging Face, Ollama, llama.cpp, LM Studio,
# GPT4All, Jan), as Get-ModelInventory finds them: snapshot files rather than blobs, no bookkeeping.
$inventory = @(Get-ModelInventory)
$caches = @($inventory | Where-Object CacheRoot | ForEach-Object CacheRoot | Sort-Object -Unique)
$extra = @($ExtraPath.Split([IO.Path]::PathSeparator, [StringSplitOptions]::RemoveEmptyEntries))
$targets = @($SamplePath) + $caches + $extra

Write-Output "ModelSecurity audit of $($targets.Count) folder(s):"
$targets | ForEach-Object { Write-Output "  $_" }
if (-not $caches) {
    Write-Output '  (no Hugging Face, Ollama, llama.cpp, LM Studio, GPT4All or Jan model cache found on this machine)'
}

function Get-DisplayPath([string] $Path) {
    # Samples are shown as benign/x or malicious/x; cache files keep their full path.
    $relative = [IO.Path]::GetRelativePath($SamplePath, $Path)
    if ($relative.StartsWith('..', [StringComparison]::Ordinal)) { $Path } else { $relative }
}

$results = @(Test-ModelFile -LiteralPath (@($SamplePath) + $extra))
if ($inventory) { $results += @($inventory | Test-ModelFile) }
$results | Sort-Object -Property @{ Expression = 'Verdict'; Descending = $true }, Path |
    Format-Table -Property @{ Label = 'Verdict'; Expression = { "$($_.Verdict)" } }, @{ Label = 'Format'; Expression = { "$($_.Format)" } },
        @{ Label = 'Top finding'; Expression = { if ($_.Findings.Count) { '{0} {1}' -f $_.Findings[0].RuleId, $_.Findings[0].Title } } },
        @{ Label = 'File'; Expression = { Get-DisplayPath $_.Path } } -AutoSize -Wrap |
    Out-String -Width 200 | Write-Output

$counts = $results | Group-Object -Property Verdict | Sort-Object -Property Name |
    ForEach-Object { '{0} {1}' -f $_.Count, $_.Name }
Write-Output ("{0} file(s) scanned: {1}." -f $results.Count, ($counts -join ', '))
Write-Output 'Inconclusive files were identified but not fully analysed: treat them as unscanned, never as clean.'
