BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module $ModuleManifest -Force

    $dir = Join-Path $TestDrive 'models'
    New-TestFile -Path (Join-Path $dir 'clean.gguf') -Bytes (Get-GgufBytes) | Out-Null
    New-TestFile -Path (Join-Path $dir 'evil.pkl') -Text "cos`nsystem`n(S'id'`ntR." | Out-Null
    New-TestFile -Path (Join-Path $dir '<b>odd</b>.gguf') -Bytes (Get-GgufBytes) | Out-Null
    $results = Test-ModelFile -Path $dir
}

Describe 'Export-ModelReport' {
    It 'writes SARIF 2.1.0 with one result per finding and the rules they use' {
        $file = Join-Path $TestDrive 'scan.sarif'
        $results | Export-ModelReport -Path $file
        $sarif = Get-Content -LiteralPath $file -Raw | ConvertFrom-Json
        $sarif.version | Should -Be '2.1.0'
        $findings = @($results | ForEach-Object Findings)
        @($sarif.runs[0].results).Count | Should -Be $findings.Count
        @($sarif.runs[0].tool.driver.rules.id) | Should -Contain 'MS-PKL-001'
        @($sarif.runs[0].artifacts).Count | Should -Be 3
    }

    It 'writes JUnit with a failure for the malicious file and passes for the clean ones' {
        $file = Join-Path $TestDrive 'scan.xml'
        $results | Export-ModelReport -Path $file
        $xml = [xml](Get-Content -LiteralPath $file -Raw)
        $xml.testsuites.tests | Should -Be '3'
        $xml.testsuites.failures | Should -Be '1'
        $case = $xml.testsuites.testsuite.testcase | Where-Object name -Like '*evil.pkl'
        $case.failure.type | Should -Be 'Malicious'
    }

    It 'writes a CycloneDX 1.6 ML-BOM with a machine-learning-model per file' {
        $file = Join-Path $TestDrive 'models.cdx.json'
        $results | Export-ModelReport -Path $file
        $bom = Get-Content -LiteralPath $file -Raw | ConvertFrom-Json
        $bom.bomFormat | Should -Be 'CycloneDX'
        $bom.specVersion | Should -Be '1.6'
        @($bom.components.type | Sort-Object -Unique) | Should -Be @('machine-learning-model')
    }

    It 'writes HTML that encodes file names and has no script' {
        $file = Join-Path $TestDrive 'report.html'
        $results | Export-ModelReport -Path $file -Format Html
        $html = Get-Content -LiteralPath $file -Raw
        $html | Should -Not -Match '<script'
        $html | Should -Not -Match '<b>odd</b>'
        $html | Should -Match '&lt;b&gt;odd&lt;/b&gt;'
    }

    It 'reports results that came back from a background job the same as live ones' {
        $job = Start-Job -ScriptBlock {
            param($Manifest, $Path)
            Import-Module $Manifest
            Test-ModelFile -Path $Path
        } -ArgumentList $ModuleManifest, $dir
        $back = Receive-Job -Job $job -Wait -AutoRemoveJob
        $back[0].PSObject.TypeNames[0] | Should -BeLike 'Deserialized.*'
        $live = Join-Path $TestDrive 'live.json'
        $remote = Join-Path $TestDrive 'remote.json'
        $results | Export-ModelReport -Path $live
        $back | Export-ModelReport -Path $remote
        $a = Get-Content -LiteralPath $live -Raw | ConvertFrom-Json
        $b = Get-Content -LiteralPath $remote -Raw | ConvertFrom-Json
        ($b.files | Sort-Object path | ForEach-Object { $_.results.status }) | Should -Be ($a.files | Sort-Object path | ForEach-Object { $_.results.status })
        ($b.files | Sort-Object path | ForEach-Object { $_.results.findings.ruleId }) | Should -Be ($a.files | Sort-Object path | ForEach-Object { $_.results.findings.ruleId })
    }

    It 'refuses objects that are not results, with a stable error id, and reports the rest' {
        $file = Join-Path $TestDrive 'mixed.json'
        $errors = $null
        @($results[0], [pscustomobject]@{ Name = 'x' }) | Export-ModelReport -Path $file -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -Be 'ReportInputUnsupported,ModelSecurity.Commands.ExportModelReportCommand'
        (Get-Content -LiteralPath $file -Raw | ConvertFrom-Json).summary.results | Should -Be 1
    }

    It 'stops when the format cannot be told from the extension' {
        { $results | Export-ModelReport -Path (Join-Path $TestDrive 'report.txt') } |
            Should -Throw -ErrorId 'ReportFormatUnknown,ModelSecurity.Commands.ExportModelReportCommand'
    }

    It 'writes nothing with -WhatIf and keeps a file with -NoClobber' {
        $file = Join-Path $TestDrive 'whatif.json'
        $results | Export-ModelReport -Path $file -WhatIf
        $file | Should -Not -Exist
        Set-Content -LiteralPath $file -Value 'keep'
        $results | Export-ModelReport -Path $file -NoClobber -ErrorAction SilentlyContinue -ErrorVariable errors
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'ReportNotWritten,*'
        Get-Content -LiteralPath $file -Raw | Should -Match 'keep'
    }

    It 'returns the file with -PassThru' {
        $file = $results | Export-ModelReport -Path (Join-Path $TestDrive 'pass.json') -PassThru
        $file | Should -BeOfType [System.IO.FileInfo]
        $file.Length | Should -BeGreaterThan 0
    }
}
