#Requires -Version 7.4
<#
.SYNOPSIS
    Scans the shared third-party corpus with the built module and compares the verdicts with the
    corpus labels and with other scanners' verdicts.

.DESCRIPTION
    Reads ../shared/corpus/MANIFEST.tsv (labels: benign or malicious) and PEER_VERDICTS.tsv (what
    picklescan, fickling and the GGUF parsers said), scans every listed file with Test-ModelFile
    (files are only read, never loaded or run), and prints one table per kind (the corpus' top-level
    folder) with a row for ModelSecurity and one for each peer column:

        Files      files of that kind the tool has a verdict for
        Mal        malicious files;  Caught: not Clean;  AsMal: rated Malicious
        Benign     benign files;     Clean: rated Clean;  BenMal: rated Malicious (a false alarm)

    Peers are read from their own words: CLEAN, SAFE... and "ok" are Clean; INFECTED and
    OVERTLY_MALICIOUS are Malicious; anything else (SUSPICIOUS, UNSAFE, errors, crashes) is not Clean;
    an empty cell or "skip" means the peer did not look at the file; "=" repeats the column before.

    Exits 1 when ModelSecurity rates any malicious file Clean or any benign file Malicious, or when a
    listed file is missing. Exits 0 with a message when the corpus is absent.

.PARAMETER ModulePath
    The staged module folder (output/ModelSecurity).

.PARAMETER CorpusPath
    The corpus folder; by default ../shared/corpus beside the repository.

.EXAMPLE
    dotnet pwsh -NoProfile -File ./build.ps1 -Task Conformance
#>
[CmdletBinding()]
param(
    [string] $ModulePath = (Join-Path (Split-Path $PSScriptRoot) 'output/ModelSecurity'),
    [string] $CorpusPath = (Join-Path (Split-Path $PSScriptRoot) '../shared/corpus')
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$manifestPath = Join-Path $CorpusPath 'MANIFEST.tsv'
if (-not (Test-Path -LiteralPath $manifestPath -PathType Leaf)) {
    Write-Host "Conformance: skipped, no corpus at '$CorpusPath' (MANIFEST.tsv not found)."
    exit 0
}
$corpus = (Get-Item -LiteralPath $CorpusPath).FullName

Import-Module (Join-Path $ModulePath 'ModelSecurity.psd1') -Force

$manifest = @(Import-Csv -LiteralPath $manifestPath -Delimiter "`t")
$peerPath = Join-Path $corpus 'PEER_VERDICTS.tsv'
$peerRows = @{}
$peerNames = @()
if (Test-Path -LiteralPath $peerPath -PathType Leaf) {
    $peers = @(Import-Csv -LiteralPath $peerPath -Delimiter "`t")
    # Every column that is not bookkeeping is a tool's verdict, so new peers are picked up as they come.
    $bookkeeping = 'relpath', 'kind', 'format', 'label', 'bytes', 'ps_dir', 'sha256', 'note'
    if ($peers.Count -gt 0) {
        $peerNames = @($peers[0].PSObject.Properties.Name | Where-Object { $_ -notin $bookkeeping })
    }
    foreach ($row in $peers) { $peerRows[$row.relpath] = $row }
}

function Get-PeerClass {
    # Clean, NotClean, Malicious, or $null when the tool gave no verdict for the file.
    param([string] $Value)
    $v = $Value.Trim()
    if ($v -eq '' -or $v -eq 'skip' -or $v -eq '-') { return $null }
    if ($v -match 'INFECTED|OVERTLY_MALICIOUS|\bMALICIOUS\b') { return 'Malicious' }
    if ($v -match '^(CLEAN|SAFE|ok)\b') { return 'Clean' }
    return 'NotClean'
}

# Scan: one Test-ModelFile call over every listed file that exists.
$missing = [Collections.Generic.List[string]]::new()
$paths = [Collections.Generic.List[string]]::new()
foreach ($entry in $manifest) {
    $full = Join-Path $corpus $entry.relpath
    if (Test-Path -LiteralPath $full -PathType Leaf) { $paths.Add($full) } else { $missing.Add($entry.relpath) }
}
$verdicts = @{}
$clock = [Diagnostics.Stopwatch]::StartNew()
foreach ($result in (Test-ModelFile -LiteralPath $paths.ToArray())) {
    $verdicts[[IO.Path]::GetRelativePath($corpus, $result.Path).Replace('\', '/')] = $result.Verdict.ToString()
}
$clock.Stop()

# Tally: per kind and tool.
$tools = @('ModelSecurity') + $peerNames
$stats = [ordered]@{}
$violations = [Collections.Generic.List[string]]::new()
foreach ($entry in $manifest | Sort-Object { $_.relpath.Split('/')[0] }, relpath) {
    $peer = $peerRows[$entry.relpath]
    $kind = if ($peer -and $peer.kind) { $peer.kind } else { $entry.relpath.Split('/')[0] }
    $malicious = $entry.label -eq 'malicious'
    $previous = ''
    foreach ($tool in $tools) {
        if ($tool -eq 'ModelSecurity') {
            if (-not $verdicts.ContainsKey($entry.relpath)) { continue }
            $verdict = $verdicts[$entry.relpath]
            $class = switch ($verdict) { 'Clean' { 'Clean' } 'Malicious' { 'Malicious' } default { 'NotClean' } }
            if ($malicious -and $class -eq 'Clean') { $violations.Add("malicious file rated Clean: $($entry.relpath)") }
            if (-not $malicious -and $class -eq 'Malicious') { $violations.Add("benign file rated Malicious: $($entry.relpath)") }
        }
        else {
            if (-not $peer) { continue }
            $value = [string]$peer.$tool
            if ($value.Trim() -eq '=') { $value = $previous }
            $previous = $value
            $class = Get-PeerClass $value
            if (-not $class) { continue }
        }

        foreach ($group in $kind, 'TOTAL') {
            $key = "$group|$tool"
            if (-not $stats.Contains($key)) {
                $stats[$key] = [pscustomobject]@{ Kind = $group; Tool = $tool; Files = 0; Mal = 0; Caught = 0; AsMal = 0; Benign = 0; Clean = 0; BenMal = 0 }
            }
            $s = $stats[$key]
            $s.Files++
            if ($malicious) {
                $s.Mal++
                if ($class -ne 'Clean') { $s.Caught++ }
                if ($class -eq 'Malicious') { $s.AsMal++ }
            }
            else {
                $s.Benign++
                if ($class -eq 'Clean') { $s.Clean++ }
                if ($class -eq 'Malicious') { $s.BenMal++ }
            }
        }
    }
}

$rows = @($stats.Values | Sort-Object @{ Expression = { $_.Kind -eq 'TOTAL' } }, Kind, @{ Expression = { [array]::IndexOf($tools, $_.Tool) } })
$table = $rows | Format-Table Kind, Tool, Files, Mal, Caught, AsMal, Benign, Clean, BenMal -AutoSize | Out-String -Width 200
Write-Host $table.TrimEnd()
Write-Host ''
Write-Host ('Scanned {0} files in {1:N1} s. Mal: malicious files; Caught: not Clean; AsMal: rated Malicious; Clean: benign rated Clean; BenMal: benign rated Malicious.' -f $verdicts.Count, $clock.Elapsed.TotalSeconds)

foreach ($m in $missing) { $violations.Add("listed in MANIFEST.tsv but missing: $m") }
if ($violations.Count -gt 0) {
    $violations | ForEach-Object { Write-Host "FAIL $_" }
    Write-Host "Conformance: failed ($($violations.Count) problem(s))."
    exit 1
}
Write-Host 'Conformance: passed (no malicious file Clean, no benign file Malicious).'
exit 0
