#Requires -Version 7.4
<#
.SYNOPSIS
    An unattended audit of the AI models on this machine, for Task Scheduler, cron or a systemd timer.

.DESCRIPTION
    Takes the inventory (Get-ModelInventory: the known model caches, or the folders given), scans
    every file (Test-ModelFile), checks every hash against its reference (Confirm-ModelHash), and
    writes dated reports with Export-ModelReport to -ReportFolder:
    model-audit-<yyyy-MM-dd-HHmmss>.sarif (for code-scanning tools) and .html (for people) by default.

    The exit code is what a scheduler acts on:
    - 0: every file is Clean and no hash is a Mismatch (NoReference is not a failure).
    - 1: some file is Suspicious, Malicious or Inconclusive, a hash is a Mismatch, or a file
      could not be read.
    - 2: the audit itself could not run (the module did not load, the report folder is not writable).

    Shipped with the ModelSecurity module in its Samples folder; it loads the module it is shipped
    with. Copy it elsewhere and it loads ModelSecurity from the module path.

.EXAMPLE
    pwsh -NoProfile -File ./Invoke-ModelAudit.ps1 -ReportFolder /var/log/model-audit

.EXAMPLE
    pwsh -NoProfile -File ./Invoke-ModelAudit.ps1 -Path /srv/models -Format Sarif, Html, Json
#>
[CmdletBinding()]
param(
    # Folders to audit. Without it, the model caches of this machine that Get-ModelInventory knows.
    [string[]] $Path,

    # Where the dated reports go; created when missing.
    [string] $ReportFolder = (Join-Path ([Environment]::GetFolderPath('LocalApplicationData')) 'ModelSecurity/audits'),

    # Report formats, one file each: Sarif, Html, Json, JUnit, CycloneDx. "Sarif,Html" works through
    # pwsh -File, which passes the list as one string.
    [string[]] $Format = @('Sarif', 'Html')
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$extensions = @{ Sarif = 'sarif'; Html = 'html'; Json = 'json'; JUnit = 'junit.xml'; CycloneDx = 'cdx.json' }

$Format = @($Format | ForEach-Object { $_ -split ',' } | ForEach-Object Trim | Where-Object { $_ })
$unknown = @($Format | Where-Object { $_ -notin $extensions.Keys })
if ($unknown -or -not $Format) {
    [Console]::Error.WriteLine("Model audit could not start: unknown report format '$($unknown -join ', ')'; use $($extensions.Keys -join ', ').")
    exit 2
}

try {
    $shipped = Join-Path $PSScriptRoot '../ModelSecurity.psd1'
    if (Test-Path -LiteralPath $shipped) {
        Import-Module -Name $shipped
    }
    else {
        Import-Module -Name ModelSecurity
    }
    New-Item -ItemType Directory -Path $ReportFolder -Force | Out-Null
    if (-not (Test-Path -LiteralPath $ReportFolder -PathType Container)) {
        throw "the report folder '$ReportFolder' is a file."
    }
}
catch {
    [Console]::Error.WriteLine("Model audit could not start: $($_.Exception.Message)")
    exit 2
}

# Errors for single files (unreadable, vanished) are collected, reported and make the audit fail;
# they do not stop it.
$problems = [System.Collections.Generic.List[System.Management.Automation.ErrorRecord]]::new()
$inventoryErrors = $scanErrors = $hashErrors = @()
$inventoryArguments = @{}
if ($Path) { $inventoryArguments['LiteralPath'] = $Path }
$items = @(Get-ModelInventory @inventoryArguments -ErrorAction SilentlyContinue -ErrorVariable inventoryErrors)
$scans = @(if ($items) { $items | Test-ModelFile -ErrorAction SilentlyContinue -ErrorVariable scanErrors })
$hashes = @(if ($items) { $items | Confirm-ModelHash -ErrorAction SilentlyContinue -ErrorVariable hashErrors })
foreach ($record in @($inventoryErrors) + @($scanErrors) + @($hashErrors)) {
    if ($record) { $problems.Add($record) }
}

$stamp = Get-Date -Format 'yyyy-MM-dd-HHmmss'
$reports = foreach ($kind in $Format) {
    $file = Join-Path $ReportFolder "model-audit-$stamp.$($extensions[$kind])"
    try {
        @($scans) + @($hashes) | Export-ModelReport -Path $file -Format $kind -PassThru
    }
    catch {
        [Console]::Error.WriteLine("Model audit could not write '$file': $($_.Exception.Message)")
        exit 2
    }
}

$notClean = @($scans | Where-Object { $_.Verdict -ne 'Clean' })
$mismatched = @($hashes | Where-Object { $_.Status -eq 'Mismatch' })
Write-Output ('Model audit {0}: {1} file(s); {2} not Clean; {3} hash mismatch(es); {4} error(s).' -f
    $stamp, $items.Count, $notClean.Count, $mismatched.Count, $problems.Count)
foreach ($scan in $notClean) {
    $top = if ($scan.Findings.Count) { ' ' + $scan.Findings[0].RuleId } else { '' }
    Write-Output ('  {0}{1}: {2}' -f $scan.Verdict, $top, $scan.Path)
}
foreach ($hash in $mismatched) {
    Write-Output ('  Mismatch ({0}): {1}' -f $hash.ExpectedSource, $hash.Path)
}
foreach ($record in $problems) {
    Write-Output ('  Error {0}: {1}' -f $record.FullyQualifiedErrorId.Split(',')[0], $record.TargetObject)
}
foreach ($report in $reports) {
    Write-Output "  Report: $($report.FullName)"
}

if ($notClean.Count -or $mismatched.Count -or $problems.Count) {
    exit 1
}
exit 0
