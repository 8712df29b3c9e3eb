#Requires -Version 7.4
# Results as they come back from Start-Job and remoting: the same table views, the same values, the
# same reports. PSSerializer with the default depth is what remoting and jobs apply to each object
# (plus the SerializationDepth the module's Types.ps1xml sets per type); Start-Job is the real thing.

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module $ModuleManifest -Force

    $script:Root = Join-Path $TestDrive 'serial'
    $models = Join-Path $Root 'models'
    New-TestFile -Path (Join-Path $models 'clean.gguf') -Bytes (Get-GgufBytes) | Out-Null
    New-TestFile -Path (Join-Path $models 'evil.pkl') -Text "cos`nsystem`n(S'id'`ntR." | Out-Null
    New-TestFile -Path (Join-Path $models 'graph.onnx') -Bytes (Get-OnnxBytes) | Out-Null
    $signed = Join-Path $Root 'signed'
    New-TestFile -Path (Join-Path $signed 'model.gguf') -Bytes (Get-GgufBytes) | Out-Null
    New-TestFile -Path (Join-Path $signed 'config.json') -Text '{"model_type":"llama"}' | Out-Null
    $key = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP256)
    Set-Content -LiteralPath (Join-Path $Root 'key.pem') -Value $key.ExportPkcs8PrivateKeyPem() -NoNewline
    Set-Content -LiteralPath (Join-Path $Root 'key.pub.pem') -Value $key.ExportSubjectPublicKeyInfoPem() -NoNewline

    $script:SandboxWorks = $true
    try {
        $null = Invoke-ModelSandbox -Path (Join-Path $models 'clean.gguf') -FilePath true -Backend Bubblewrap -ErrorAction Stop
    }
    catch {
        if ($_.FullyQualifiedErrorId -notlike 'SandboxBackendUnavailable,*') { throw }
        $script:SandboxWorks = $false
    }

    # One producer, run here and inside a job, so both sides describe the same files.
    $script:Producer = @'
param($Manifest, $Root, $Sandbox, $Run)
Import-Module $Manifest
# A hash cache per run, so both runs hash (FromCache is the same on both sides).
$env:MODELSECURITY_CACHE_DIR = Join-Path $Root "hash-cache-$Run"
$models = Join-Path $Root 'models'
$signed = Join-Path $Root 'signed'
Test-ModelFile -Path $models
Get-ModelSource -Path $models
Confirm-ModelHash -Path $models -Expected 'a4e5e156ddec4d3d8e4d0b8b6f8e8e1a3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f'
Get-ModelInventory -Path $models
New-ModelSignature -Path $signed -PrivateKeyPath (Join-Path $Root 'key.pem') -Force
Confirm-ModelSignature -Path $signed -PublicKeyPath (Join-Path $Root 'key.pub.pem')
[ModelSecurity.Analysis.RuleCatalogue]::All | Select-Object -First 4
if ($Sandbox) { Invoke-ModelSandbox -Path (Join-Path $models 'clean.gguf') -FilePath sh -ArgumentList '-c', 'echo hello' -Backend Bubblewrap }
'@
    $savedCacheDir = $env:MODELSECURITY_CACHE_DIR
    $script:Live = @(& ([scriptblock]::Create($Producer)) $ModuleManifest $Root $SandboxWorks 'live')
    $env:MODELSECURITY_CACHE_DIR = $savedCacheDir
    $script:Serialised = @($Live | ForEach-Object {
            [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($_))
        })
    $job = Start-Job -ScriptBlock ([scriptblock]::Create($Producer)) -ArgumentList $ModuleManifest, $Root, $SandboxWorks, 'job'
    $script:FromJob = @(Receive-Job -Job $job -Wait -AutoRemoveJob)

    function Select-Kind {
        # The objects of one type, live or deserialised, by their first type name.
        param([object[]] $Objects, [string] $TypeName)
        @($Objects | Where-Object { $_.PSObject.TypeNames[0] -in $TypeName, "Deserialized.$TypeName" })
    }

    function Format-AsTable {
        # The table as a user sees it; a sandbox run's duration differs between runs, so it is masked.
        param([object[]] $Objects)
        ($Objects | Format-Table | Out-String -Width 250) -replace '\d+\.\d\ds\b', '#.##s' -replace '\b\d\d:\d\d:\d\d(\.\d+)?\b', 'DURATION' -split '\r?\n' |
            ForEach-Object TrimEnd | Where-Object { $_ }
    }

    function Get-ViewLabel {
        param([string] $TypeName)
        $view = (Get-FormatData -TypeName $TypeName).FormatViewDefinition | Where-Object { $_.Control -is [System.Management.Automation.TableControl] } | Select-Object -First 1
        @($view.Control.Headers | ForEach-Object Label)
    }
}

Describe 'Results after serialisation (<Transport>)' -ForEach @(
    @{ Transport = 'PSSerializer' }
    @{ Transport = 'Start-Job' }
) {
    BeforeAll {
        $back = if ($Transport -eq 'Start-Job') { $FromJob } else { $Serialised }
    }

    It 'arrive as Deserialized.<type> objects' {
        $back.Count | Should -Be $Live.Count
        $back | ForEach-Object { $_.PSObject.TypeNames[0] } | Should -BeLike 'Deserialized.ModelSecurity.*'
    }

    It 'format <TypeName> with the module''s table view, the same columns and values as the live object' -ForEach @(
        @{ TypeName = 'ModelSecurity.Analysis.ModelScanResult' }
        @{ TypeName = 'ModelSecurity.Provenance.ModelSource' }
        @{ TypeName = 'ModelSecurity.Integrity.ModelHashResult' }
        @{ TypeName = 'ModelSecurity.Provenance.ModelInventoryItem' }
        @{ TypeName = 'ModelSecurity.Integrity.Signing.ModelSignature' }
        @{ TypeName = 'ModelSecurity.Integrity.Signing.ModelSignatureResult' }
        @{ TypeName = 'ModelSecurity.Analysis.RuleDefinition' }
        @{ TypeName = 'ModelSecurity.Sandbox.SandboxResult' }
    ) {
        if ($TypeName -eq 'ModelSecurity.Sandbox.SandboxResult' -and -not $SandboxWorks) {
            Set-ItResult -Skipped -Because 'no sandbox backend works on this machine'
            return
        }
        $live = Select-Kind $Live $TypeName
        $deserialised = Select-Kind $back $TypeName
        $live.Count | Should -BeGreaterThan 0
        $deserialised.Count | Should -Be $live.Count
        (Get-FormatData -TypeName "Deserialized.$TypeName") | Should -Not -BeNullOrEmpty -Because 'each view names the deserialised type too'

        $expected = Format-AsTable $live
        $actual = Format-AsTable $deserialised
        $labels = Get-ViewLabel $TypeName
        foreach ($label in $labels) {
            $expected[0] | Should -Match ([regex]::Escape($label))
        }
        $actual | Should -Be $expected
    }

    It 'format nested <TypeName> objects (<Property>) with their view too' -ForEach @(
        @{ TypeName = 'ModelSecurity.Analysis.ModelScanResult'; Property = 'Findings' }
        @{ TypeName = 'ModelSecurity.Provenance.ModelSource'; Property = 'Findings' }
        @{ TypeName = 'ModelSecurity.Integrity.Signing.ModelSignatureResult'; Property = 'Files' }
    ) {
        $live = @((Select-Kind $Live $TypeName) | ForEach-Object $Property)
        $deserialised = @((Select-Kind $back $TypeName) | ForEach-Object $Property)
        $live.Count | Should -BeGreaterThan 0
        $deserialised | ForEach-Object { $_.PSObject.TypeNames[0] } | Should -BeLike 'Deserialized.ModelSecurity.*' -Because 'nested results must arrive as objects, not strings'
        Format-AsTable $deserialised | Should -Be (Format-AsTable $live)
    }

    It 'keep finding severities, verdicts and statuses as the module''s enums' {
        $scan = Select-Kind $back 'ModelSecurity.Analysis.ModelScanResult' | Where-Object Verdict -EQ Malicious
        $scan.Verdict | Should -BeOfType ModelSecurity.Analysis.ScanVerdict
        $scan.Findings[0].Severity | Should -BeOfType ModelSecurity.Analysis.FindingSeverity
        $scan.Findings[0].RuleId | Should -Be 'MS-PKL-001'
        $source = Select-Kind $back 'ModelSecurity.Provenance.ModelSource' | Select-Object -First 1
        $source.TrustLevel | Should -BeOfType ModelSecurity.Provenance.TrustLevel
        $source.Findings[0].Severity | Should -BeOfType ModelSecurity.Analysis.FindingSeverity
        (Select-Kind $back 'ModelSecurity.Integrity.ModelHashResult')[0].Status | Should -BeOfType ModelSecurity.Integrity.ModelHashStatus
        (Select-Kind $back 'ModelSecurity.Provenance.ModelInventoryItem')[0].Ecosystem | Should -BeOfType ModelSecurity.Provenance.ModelEcosystem
        (Select-Kind $back 'ModelSecurity.Integrity.Signing.ModelSignatureResult')[0].Files[0].Status | Should -BeOfType ModelSecurity.Integrity.Signing.ModelSignatureFileStatus
    }

    It 'give the same <Format> report as the live objects' -ForEach @(
        @{ Format = 'Json' }, @{ Format = 'Sarif' }, @{ Format = 'JUnit' }, @{ Format = 'CycloneDx' }, @{ Format = 'Html' }
    ) {
        # Everything Export-ModelReport takes: not rule definitions or the signing receipt.
        $reportable = { $_.PSObject.TypeNames[0] -notmatch 'ModelInventoryItem|RuleDefinition|\.ModelSignature$' }
        $liveFile = Join-Path $TestDrive "live-$Transport.$Format.txt"
        $backFile = Join-Path $TestDrive "back-$Transport.$Format.txt"
        $Live | Where-Object $reportable | Export-ModelReport -Path $liveFile -Format $Format
        $back | Where-Object $reportable | Export-ModelReport -Path $backFile -Format $Format
        # Run times, durations and the random serial number and finding refs of a BOM may differ.
        $normalise = {
            param($Text)
            $Text -replace '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?', 'TIME' -replace 'urn:uuid:[0-9a-f-]{36}', 'urn:uuid:X' -replace '-finding-[0-9a-f]{32}', '-finding-X' -replace '\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC', 'TIME' -replace '"(duration|durationSeconds|time)"\s*:\s*[\d.]+', '"$1":0' -replace 'time="[\d.]+"', 'time="0"' -replace '\d+\.\d\ds\b', '#.##s' -replace '\b\d\d:\d\d:\d\d(\.\d+)?\b', 'DURATION' -replace '--setenv (\S+) \S+', '--setenv $1 X' -replace '--(uid|gid|reuid|regid)[ =]\d+', '--$1 N'
        }
        $expected = & $normalise (Get-Content -LiteralPath $liveFile -Raw)
        $actual = & $normalise (Get-Content -LiteralPath $backFile -Raw)
        $actual | Should -Be $expected
    }
}
