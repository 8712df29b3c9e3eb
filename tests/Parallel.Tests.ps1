#Requires -Version 7.4
# Many files at once: ForEach-Object -Parallel (runspaces of one process, sharing the module's hash
# cache) and background jobs (processes sharing the cache file) give what a sequential run gives.

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module $ModuleManifest -Force

    # 40 files of five kinds: clean GGUF and ONNX, a malicious pickle, an executable named .gguf, and a
    # PNG (a format without a reader).
    $script:Folder = Join-Path $TestDrive 'many'
    $kinds = @(
        @{ Name = 'clean{0}.gguf'; Bytes = (Get-GgufBytes) }
        @{ Name = 'graph{0}.onnx'; Bytes = (Get-OnnxBytes) }
        @{ Name = 'evil{0}.pkl'; Bytes = [Text.Encoding]::ASCII.GetBytes("cos`nsystem`n(S'id'`ntR.") }
        @{ Name = 'elf{0}.gguf'; Bytes = (Get-ElfBytes) }
        @{ Name = 'image{0}.bin'; Bytes = (Get-PngBytes) }
    )
    for ($i = 0; $i -lt 8; $i++) {
        foreach ($kind in $kinds) {
            # A byte of padding per copy makes every file's hash different.
            $bytes = [byte[]]($kind.Bytes + [byte[]]::new($i))
            New-TestFile -Path (Join-Path $Folder ($kind.Name -f $i)) -Bytes $bytes | Out-Null
        }
    }
    $script:Files = @(Get-ChildItem -LiteralPath $Folder -File | Sort-Object FullName | ForEach-Object FullName)

    function ConvertTo-Map {
        # path -> one comparable line per result.
        param([object[]] $Results, [string[]] $Property)
        $map = [ordered]@{}
        foreach ($r in $Results | Sort-Object Path) {
            $map[$r.Path] = ($Property | ForEach-Object { "$($r.$_)" }) -join '|'
        }
        $map
    }
}

Describe 'ForEach-Object -Parallel over many files' {
    It 'has 40 fixture files of five kinds' {
        $Files.Count | Should -Be 40
    }

    It 'Test-ModelFile gives the same verdicts, formats and findings as a sequential run' {
        $sequential = @($Files | ForEach-Object { Test-ModelFile -LiteralPath $_ })
        $manifest = $ModuleManifest
        $parallel = @($Files | ForEach-Object -Parallel {
                Import-Module $using:manifest
                Test-ModelFile -LiteralPath $_
            } -ThrottleLimit 4)

        $parallel.Count | Should -Be 40
        $parallel | Should -BeOfType ModelSecurity.Analysis.ModelScanResult
        $expected = ConvertTo-Map $sequential 'Verdict', 'Format'
        $actual = ConvertTo-Map $parallel 'Verdict', 'Format'
        $actual.Keys | Should -Be $expected.Keys
        $actual.Values | Should -Be $expected.Values
        @($parallel | ForEach-Object { $_.Findings.RuleId -join ',' }) | Sort-Object |
            Should -Be (@($sequential | ForEach-Object { $_.Findings.RuleId -join ',' }) | Sort-Object)
        @($parallel | Group-Object Verdict -NoElement | Sort-Object Name | ForEach-Object { "$($_.Name)=$($_.Count)" }) |
            Should -Be @($sequential | Group-Object Verdict -NoElement | Sort-Object Name | ForEach-Object { "$($_.Name)=$($_.Count)" })
    }

    It 'Confirm-ModelHash gives the same hashes, and runspaces writing the hash cache at once leave it whole' {
        $saved = $env:MODELSECURITY_CACHE_DIR
        $env:MODELSECURITY_CACHE_DIR = Join-Path $TestDrive 'cache-parallel'
        try {
            $manifest = $ModuleManifest
            # A cold cache: four runspaces hash and save at the same time.
            $parallel = @($Files | ForEach-Object -Parallel {
                    Import-Module $using:manifest
                    Confirm-ModelHash -LiteralPath $_
                } -ThrottleLimit 4)
            $sequential = @($Files | ForEach-Object { Confirm-ModelHash -LiteralPath $_ })
        }
        finally {
            $env:MODELSECURITY_CACHE_DIR = $saved
        }

        $parallel.Count | Should -Be 40
        $parallel | Should -BeOfType ModelSecurity.Integrity.ModelHashResult
        $parallel.FromCache | Should -Not -Contain $true
        $expected = $Files | ForEach-Object { [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData([IO.File]::ReadAllBytes($_))).ToLowerInvariant() }
        (ConvertTo-Map $parallel 'Hash').Values | Should -Be $expected
        (ConvertTo-Map $sequential 'Hash', 'Status').Values | Should -Be (ConvertTo-Map $parallel 'Hash', 'Status').Values
        # What the runspaces saved is a whole cache that the sequential run answered every file from.
        $sequential.FromCache | Should -Not -Contain $false
        $cacheFile = Join-Path $TestDrive 'cache-parallel/hash-cache.json'
        (Get-Content -LiteralPath $cacheFile -Raw | ConvertFrom-Json -AsHashtable).entries.Count | Should -Be 40
        Get-ChildItem -LiteralPath (Split-Path $cacheFile) -Filter '*.tmp' | Should -BeNullOrEmpty
    }

    It 'Confirm-ModelHash in two processes writing one cache file at once: same hashes, no errors, a readable cache' {
        $cache = Join-Path $TestDrive 'cache-jobs'
        # Two processes: starting pwsh is what costs here, and two writers are enough to overlap.
        $jobs = foreach ($n in 1..2) {
            Start-Job -ScriptBlock {
                param($Manifest, $Cache, $Files)
                $env:MODELSECURITY_CACHE_DIR = $Cache
                Import-Module $Manifest
                # Each process hashes every file, one call per file, so each saves the cache 40 times.
                foreach ($file in $Files) {
                    Confirm-ModelHash -LiteralPath $file -ErrorAction Stop
                }
            } -ArgumentList $ModuleManifest, $cache, $Files
        }
        $results = @($jobs | Receive-Job -Wait -AutoRemoveJob -ErrorVariable jobErrors)
        $jobErrors | Should -BeNullOrEmpty
        $results.Count | Should -Be 80
        $expected = $Files | ForEach-Object { [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData([IO.File]::ReadAllBytes($_))).ToLowerInvariant() }
        $groups = @($results | Group-Object RunspaceId)
        $groups.Count | Should -Be 2
        foreach ($group in $groups) {
            (ConvertTo-Map $group.Group 'Hash').Values | Should -Be $expected
        }
        $text = Get-Content -LiteralPath (Join-Path $cache 'hash-cache.json') -Raw
        ($text | ConvertFrom-Json -AsHashtable).format | Should -Be 'modelsecurity-hash-cache/1'
        Get-ChildItem -LiteralPath $cache -Filter '*.tmp' | Should -BeNullOrEmpty
    }
}
