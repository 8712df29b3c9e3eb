#Requires -Version 7.4
# The incident-response lookups of Get-ModelInventory's help (examples 3 to 5) and about_ModelSecurity,
# run on a machine with a bad file in a Hugging Face cache, an Ollama store and a renamed copy.

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module $ModuleManifest -Force

    $badBytes = [byte[]]((Get-GgufBytes) + [byte[]](1, 2, 3, 4))
    $script:Bad = [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($badBytes)).ToLowerInvariant()
    $goodBytes = Get-GgufBytes
    $good = [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($goodBytes)).ToLowerInvariant()
    $script:Machine = Join-Path $TestDrive 'machine'

    # Hugging Face: the bad repository at one commit, and a good one.
    $script:Hub = Join-Path $Machine 'hub'
    $script:Commit = '4f2a9c1e0123456789abcdef0123456789abcdef'
    foreach ($repo in @(@{ Name = 'acme--llama-3-8b-instruct'; Hash = $Bad; Bytes = $badBytes }, @{ Name = 'good--model'; Hash = $good; Bytes = $goodBytes })) {
        $folder = Join-Path $Hub "models--$($repo.Name)"
        New-TestFile -Path (Join-Path $folder "blobs/$($repo.Hash)") -Bytes $repo.Bytes | Out-Null
        New-TestFile -Path (Join-Path $folder 'refs/main') -Text $Commit | Out-Null
        $snapshot = New-Item -ItemType Directory -Path (Join-Path $folder "snapshots/$Commit") -Force
        New-Item -ItemType SymbolicLink -Path (Join-Path $snapshot 'model.gguf') -Target "../../blobs/$($repo.Hash)" | Out-Null
    }

    # Ollama: badmodel:7b uses the bad blob.
    $script:Ollama = Join-Path $Machine 'ollama'
    New-TestFile -Path (Join-Path $Ollama "blobs/sha256-$Bad") -Bytes $badBytes | Out-Null
    New-TestFile -Path (Join-Path $Ollama 'manifests/registry.ollama.ai/library/badmodel/7b') -Text (@"
{"schemaVersion":2,"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:$Bad","size":$($badBytes.Length)}]}
"@) | Out-Null

    # A copy someone renamed and put outside any cache, next to a good file.
    $script:Loose = Join-Path $Machine 'srv'
    New-TestFile -Path (Join-Path $Loose 'renamed[1].bin') -Bytes $badBytes | Out-Null
    New-TestFile -Path (Join-Path $Loose 'fine.gguf') -Bytes $goodBytes | Out-Null

    $saved = $env:MODELSECURITY_CACHE_DIR
    $env:MODELSECURITY_CACHE_DIR = Join-Path $TestDrive 'hash-cache'
    $script:Inventory = @(Get-ModelInventory -Path $Hub, $Ollama, $Loose)
}

AfterAll {
    $env:MODELSECURITY_CACHE_DIR = $saved
}

Describe 'Incident response with Get-ModelInventory' {
    It 'finds the cached copies of a bad SHA-256 from their content address alone' {
        $hits = @($Inventory | Where-Object ContentAddress -EQ "sha256:$Bad")
        @($hits.Ecosystem | Sort-Object) | Should -Be @('HuggingFace', 'Ollama')
        $hits.Name | Should -Contain 'acme/llama-3-8b-instruct'
        $hits.Name | Should -Contain 'badmodel:7b'
    }

    It 'finds every copy, renamed ones too, by hashing with -Expected; Remove-Item -WhatIf deletes nothing' {
        $copies = @(Get-ModelInventory -Path $Machine | Confirm-ModelHash -Expected $Bad | Where-Object Status -EQ Match)
        $copies.Count | Should -Be 3
        ($copies.Path | Split-Path -Leaf) | Should -Contain 'renamed[1].bin'
        $copies | ForEach-Object { Remove-Item -LiteralPath $_.Path -WhatIf }
        $copies | ForEach-Object { [IO.File]::Exists($_.Path) | Should -BeTrue }
        # The snapshot link leads to the blob that holds the bytes.
        $link = $copies | Where-Object { $_.Path -like '*snapshots*' }
        (Get-Item -LiteralPath $link.Path).ResolvedTarget | Should -BeLike "*blobs*$Bad"
    }

    It 'finds a bad repository, its revision, and the repository folder to remove' {
        $files = @($Inventory | Where-Object Name -EQ 'acme/llama-3-8b-instruct')
        $files.Count | Should -Be 1
        @($files | Where-Object Revision -Like '4f2a9c1*').Count | Should -Be 1
        ($files | Where-Object Revision -Like '4f2a9c1*' | Confirm-ModelHash).Status | Should -Be 'Match'
        @($Inventory | Where-Object Publisher -EQ 'acme').Count | Should -Be 1
        $folders = @($files | Where-Object Ecosystem -EQ HuggingFace |
                ForEach-Object { Join-Path $_.CacheRoot ('models--' + $_.Name.Replace('/', '--')) } | Sort-Object -Unique)
        $folders | Should -Be @(Join-Path $Hub 'models--acme--llama-3-8b-instruct')
        $folders | ForEach-Object { Remove-Item -LiteralPath $_ -Recurse -WhatIf }
        $folders[0] | Should -Exist
    }

    It 'finds an Ollama model''s layers by model:tag' {
        $layers = @($Inventory | Where-Object { $_.Ecosystem -eq 'Ollama' -and $_.Name -eq 'badmodel:7b' })
        $layers.Count | Should -Be 1
        $layers[0].ContentAddress | Should -Be "sha256:$Bad"
        ($layers | Confirm-ModelHash).Status | Should -Be 'Match'
    }
}
