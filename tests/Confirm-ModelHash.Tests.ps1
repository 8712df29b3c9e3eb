BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module $ModuleManifest -Force
    # The hash cache of these tests stays in the test drive.
    $env:MODELSECURITY_CACHE_DIR = Join-Path $TestDrive 'hash-cache'

    function Get-Sha256([byte[]] $Bytes) {
        [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($Bytes)).ToLowerInvariant()
    }

    $dir = Join-Path $TestDrive 'models'
    $gguf = Get-GgufBytes
    New-TestFile -Path (Join-Path $dir 'a.gguf') -Bytes $gguf | Out-Null
    New-TestFile -Path (Join-Path $dir 'x[1].gguf') -Bytes $gguf | Out-Null
    New-TestFile -Path (Join-Path $dir 'a.gguf.sha256') -Text "$(Get-Sha256 $gguf)  a.gguf" | Out-Null
    $ggufHash = Get-Sha256 $gguf

    # A Hugging Face cache with one LFS file and one small file, linked from the snapshot.
    $hub = Join-Path $TestDrive 'hub'
    $repo = Join-Path $hub 'models--org--model'
    $commit = '0123456789abcdef0123456789abcdef01234567'
    $config = [Text.Encoding]::ASCII.GetBytes('{"model_type":"llama"}')
    $configId = [Convert]::ToHexString([Security.Cryptography.SHA1]::HashData([byte[]]([Text.Encoding]::ASCII.GetBytes("blob $($config.Length)`0") + $config))).ToLowerInvariant()
    New-TestFile -Path (Join-Path $repo "blobs/$ggufHash") -Bytes $gguf | Out-Null
    New-TestFile -Path (Join-Path $repo "blobs/$configId") -Bytes $config | Out-Null
    New-TestFile -Path (Join-Path $repo 'refs/main') -Text $commit | Out-Null
    $snapshot = New-Item -ItemType Directory -Path (Join-Path $repo "snapshots/$commit") -Force
    New-Item -ItemType SymbolicLink -Path (Join-Path $snapshot 'model.gguf') -Target "../../blobs/$ggufHash" | Out-Null
    New-Item -ItemType SymbolicLink -Path (Join-Path $snapshot 'config.json') -Target "../../blobs/$configId" | Out-Null
}

AfterAll {
    Remove-Item Env:MODELSECURITY_CACHE_DIR -ErrorAction Ignore
}

Describe 'Confirm-ModelHash' {
    It 'checks a Hugging Face cache: every snapshot file once, LFS by SHA-256 and small files by git blob id' {
        $results = @(Confirm-ModelHash -Path $hub)
        $results.Count | Should -Be 2
        $results | ForEach-Object { $_ | Should -BeOfType ModelSecurity.Integrity.ModelHashResult }
        ($results | Where-Object Name -EQ 'model.gguf').Algorithm | Should -Be 'SHA256'
        ($results | Where-Object Name -EQ 'config.json').Algorithm | Should -Be 'GitBlobSHA1'
        $results.Status | Should -Be @('Match', 'Match')
        $results.ExpectedSource | Sort-Object -Unique | Should -Be 'HuggingFaceCache'
    }

    It 'takes a sidecar as the reference and reports a file without one as NoReference' {
        $results = @(Confirm-ModelHash -Path (Join-Path $dir '*.gguf'))
        $results.Count | Should -Be 2
        ($results | Where-Object Name -EQ 'a.gguf').Status | Should -Be 'Match'
        ($results | Where-Object Name -EQ 'a.gguf').ExpectedSource | Should -Be 'Sidecar'
        ($results | Where-Object Name -EQ 'x[1].gguf').Status | Should -Be 'NoReference'
    }

    It 'takes -LiteralPath with brackets and -Expected in upper case' {
        $result = Confirm-ModelHash -LiteralPath (Join-Path $dir 'x[1].gguf') -Expected $ggufHash.ToUpperInvariant()
        $result.Status | Should -Be 'Match'
        $result.Hash | Should -BeExactly $ggufHash
    }

    It 'binds Get-ChildItem output and its own results' {
        $again = @(Get-ChildItem -LiteralPath $dir -Filter '*.gguf' | Confirm-ModelHash | Confirm-ModelHash)
        $again.Count | Should -Be 2
        $again | Where-Object Name -EQ 'a.gguf' | ForEach-Object FromCache | Should -BeTrue
    }

    It 'returns one Boolean with -Quiet: true only when every file matches' {
        Confirm-ModelHash -LiteralPath (Join-Path $dir 'a.gguf') -Quiet | Should -BeTrue
        Confirm-ModelHash -LiteralPath $dir -Quiet | Should -BeFalse
    }

    It 'verifies a manifest written by New-ModelManifest and reports missing and extra files' {
        $folder = Join-Path $TestDrive 'pinned'
        New-TestFile -Path (Join-Path $folder 'model.gguf') -Bytes $gguf | Out-Null
        New-TestFile -Path (Join-Path $folder 'tokenizer.json') -Text '{}' | Out-Null
        $manifest = New-ModelManifest -Path $folder
        $manifest | Should -BeOfType System.IO.FileInfo
        Confirm-ModelHash -ManifestPath $manifest.FullName -Quiet | Should -BeTrue

        Remove-Item -LiteralPath (Join-Path $folder 'tokenizer.json')
        New-TestFile -Path (Join-Path $folder 'payload.pkl') -Text 'extra' | Out-Null
        $results = @(Confirm-ModelHash -ManifestPath $manifest.FullName)
        ($results | Where-Object Name -EQ 'model.gguf').Status | Should -Be 'Match'
        ($results | Where-Object Name -EQ 'tokenizer.json').Status | Should -Be 'Missing'
        ($results | Where-Object Name -EQ 'payload.pkl').Status | Should -Be 'Unlisted'
    }

    It 'writes stable error ids' {
        Confirm-ModelHash -Path (Join-Path $dir 'missing.gguf') -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -Be 'PathNotFound,ModelSecurity.Commands.ConfirmModelHashCommand'
        { Confirm-ModelHash -LiteralPath $dir -Expected 'abc' } | Should -Throw -ErrorId 'ExpectedInvalid,ModelSecurity.Commands.ConfirmModelHashCommand'
        { Confirm-ModelHash -ManifestPath (Join-Path $dir 'none.json') } | Should -Throw -ErrorId 'ManifestNotFound,ModelSecurity.Commands.ConfirmModelHashCommand'
    }

    It 'formats results as a table with Status first' {
        $table = Confirm-ModelHash -LiteralPath (Join-Path $dir 'a.gguf') | Format-Table | Out-String -Width 200
        $table | Should -Match '^\s*Status\s+Algorithm\s+ExpectedSource'
        $table | Should -Match 'Match\s+SHA256\s+Sidecar'
    }
}

Describe 'New-ModelManifest' {
    It 'refuses to overwrite without -Force and writes nothing with -WhatIf' {
        $folder = Join-Path $TestDrive 'manifest-force'
        New-TestFile -Path (Join-Path $folder 'model.gguf') -Bytes $gguf | Out-Null
        New-ModelManifest -Path $folder -WhatIf
        Join-Path $folder 'modelsecurity-manifest.json' | Should -Not -Exist
        New-ModelManifest -Path $folder | Out-Null
        New-ModelManifest -Path $folder -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -Be 'ManifestExists,ModelSecurity.Commands.NewModelManifestCommand'
        New-ModelManifest -Path $folder -Force -Algorithm SHA512 | Out-Null
        (Get-Content -LiteralPath (Join-Path $folder 'modelsecurity-manifest.json') -Raw | ConvertFrom-Json).algorithm | Should -Be 'SHA512'
    }
}
