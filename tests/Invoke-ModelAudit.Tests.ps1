#Requires -Version 7.4
# The scheduled-audit sample shipped in the module's Samples folder, run the way a scheduler runs it:
# pwsh -NoProfile -File <script>, judged by its exit code and the report files it leaves.

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:AuditScript = Join-Path (Split-Path $ModuleManifest) 'Samples/Invoke-ModelAudit.ps1'

    function Invoke-Audit {
        # Runs the shipped script in a fresh pwsh; returns its output lines, $LASTEXITCODE is its exit code.
        param([string[]] $ArgumentList)
        $pwsh = @(Get-PwshCommand)
        $saved = $env:MODELSECURITY_CACHE_DIR
        $env:MODELSECURITY_CACHE_DIR = Join-Path $TestDrive 'hash-cache'
        try {
            $arguments = @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', $AuditScript) + $ArgumentList
            & $pwsh[0] @arguments 2>&1 | ForEach-Object { "$_" }
        }
        finally {
            $env:MODELSECURITY_CACHE_DIR = $saved
        }
    }

    # A Hugging Face cache whose config.json blob no longer has the bytes its name (the SHA-256) says.
    function New-TamperedHubCache {
        param([string] $Path)
        $original = [Text.Encoding]::ASCII.GetBytes('{"model_type":"llama"}')
        $hash = [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($original)).ToLowerInvariant()
        $repo = Join-Path $Path 'models--acme--tiny'
        $commit = '0123456789abcdef0123456789abcdef01234567'
        New-TestFile -Path (Join-Path $repo "blobs/$hash") -Text '{"model_type":"gpt2"}' | Out-Null
        New-TestFile -Path (Join-Path $repo 'refs/main') -Text $commit | Out-Null
        $snapshot = New-Item -ItemType Directory -Path (Join-Path $repo "snapshots/$commit") -Force
        New-Item -ItemType SymbolicLink -Path (Join-Path $snapshot 'config.json') -Target "../../blobs/$hash" | Out-Null
    }
}

Describe 'Samples/Invoke-ModelAudit.ps1' {
    It 'is shipped with the module and parses' {
        $AuditScript | Should -Exist
        $errors = $null
        [void][Management.Automation.Language.Parser]::ParseFile($AuditScript, [ref]$null, [ref]$errors)
        $errors | Should -BeNullOrEmpty
    }

    It 'exits 1 and names the malicious file and the tampered cache file, with dated SARIF and HTML reports' {
        $models = Join-Path $TestDrive 'bad'
        New-TestFile -Path (Join-Path $models 'clean.gguf') -Bytes (Get-GgufBytes) | Out-Null
        New-TestFile -Path (Join-Path $models 'evil.pkl') -Text "cos`nsystem`n(S'id'`ntR." | Out-Null
        New-TamperedHubCache -Path (Join-Path $models 'hub')
        $reports = Join-Path $TestDrive 'reports-bad'

        $lines = Invoke-Audit -ArgumentList '-Path', $models, '-ReportFolder', $reports
        $LASTEXITCODE | Should -Be 1 -Because ($lines -join "`n")
        $text = $lines -join "`n"
        $text | Should -Match 'Model audit \d{4}-\d\d-\d\d-\d{6}: 3 file\(s\); 1 not Clean; 1 hash mismatch\(es\); 0 error\(s\)\.'
        $text | Should -Match 'Malicious MS-PKL-001: .*evil\.pkl'
        $text | Should -Match 'Mismatch \(HuggingFaceCache\): .*config\.json'

        $sarif = @(Get-ChildItem -LiteralPath $reports -Filter 'model-audit-*.sarif')
        $html = @(Get-ChildItem -LiteralPath $reports -Filter 'model-audit-*.html')
        $sarif.Count | Should -Be 1
        $html.Count | Should -Be 1
        $sarif[0].BaseName | Should -Be $html[0].BaseName
        $sarif[0].Name | Should -Match '^model-audit-\d{4}-\d\d-\d\d-\d{6}\.sarif$'
        $log = Get-Content -LiteralPath $sarif[0].FullName -Raw | ConvertFrom-Json
        $log.version | Should -Be '2.1.0'
        @($log.runs[0].results.ruleId) | Should -Contain 'MS-PKL-001'
        Get-Content -LiteralPath $html[0].FullName -Raw | Should -Match 'evil\.pkl'
        $lines | Where-Object { $_ -like '  Report: *' } | Should -HaveCount 2
    }

    It 'exits 0 for clean files, and writes every format asked for' {
        $models = Join-Path $TestDrive 'good'
        New-TestFile -Path (Join-Path $models 'clean.gguf') -Bytes (Get-GgufBytes) | Out-Null
        New-TestFile -Path (Join-Path $models 'graph.onnx') -Bytes (Get-OnnxBytes) | Out-Null
        $reports = Join-Path $TestDrive 'reports-good'

        $lines = Invoke-Audit -ArgumentList '-Path', $models, '-ReportFolder', $reports, '-Format', 'Sarif,Html,Json,JUnit,CycloneDx'
        $LASTEXITCODE | Should -Be 0 -Because ($lines -join "`n")
        ($lines -join "`n") | Should -Match '2 file\(s\); 0 not Clean; 0 hash mismatch\(es\); 0 error\(s\)\.'
        $names = @(Get-ChildItem -LiteralPath $reports | ForEach-Object { $_.Name -replace '^model-audit-[\d-]+\.', '' }) | Sort-Object
        $names | Should -Be @('cdx.json', 'html', 'json', 'junit.xml', 'sarif')
        ([xml](Get-Content -LiteralPath (Get-ChildItem -LiteralPath $reports -Filter '*.junit.xml').FullName -Raw)).testsuites.failures | Should -Be '0'
    }

    It 'exits 2 when it cannot write its reports' {
        $blocked = New-TestFile -Path (Join-Path $TestDrive 'not-a-folder') -Text 'x'
        $models = Join-Path $TestDrive 'good2'
        New-TestFile -Path (Join-Path $models 'clean.gguf') -Bytes (Get-GgufBytes) | Out-Null
        $lines = Invoke-Audit -ArgumentList '-Path', $models, '-ReportFolder', $blocked.FullName
        $LASTEXITCODE | Should -Be 2 -Because ($lines -join "`n")
        ($lines -join "`n") | Should -Match 'Model audit could not start'
    }
}
