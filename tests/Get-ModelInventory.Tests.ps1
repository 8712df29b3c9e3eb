BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module $ModuleManifest -Force

    $gguf = Get-GgufBytes
    $hash = [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($gguf)).ToLowerInvariant()
    $hub = Join-Path $TestDrive 'hub'
    $repo = Join-Path $hub 'models--Qwen--Qwen3-0.6B-GGUF'
    $commit = '89abcdef0123456789abcdef0123456789abcdef'
    New-TestFile -Path (Join-Path $repo "blobs/$hash") -Bytes $gguf | Out-Null
    New-TestFile -Path (Join-Path $repo 'refs/main') -Text $commit | Out-Null
    $snapshot = New-Item -ItemType Directory -Path (Join-Path $repo "snapshots/$commit") -Force
    New-Item -ItemType SymbolicLink -Path (Join-Path $snapshot 'model.gguf') -Target "../../blobs/$hash" | Out-Null

    $ollama = Join-Path $TestDrive 'ollama'
    New-TestFile -Path (Join-Path $ollama "blobs/sha256-$hash") -Bytes $gguf | Out-Null
    New-TestFile -Path (Join-Path $ollama 'manifests/registry.ollama.ai/library/tiny/1b') -Text (@"
{"schemaVersion":2,"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:$hash","size":$($gguf.Length)}]}
"@) | Out-Null
}

Describe 'Get-ModelInventory' {
    It 'lists Hugging Face snapshot files with their repository, revision and content address' {
        $item = Get-ModelInventory -Path $hub
        $item | Should -BeOfType ModelSecurity.Provenance.ModelInventoryItem
        $item.Path | Should -Be (Join-Path $snapshot 'model.gguf')
        $item.Ecosystem | Should -Be 'HuggingFace'
        $item.Name | Should -Be 'Qwen/Qwen3-0.6B-GGUF'
        $item.Revision | Should -Be $commit
        $item.Format | Should -Be 'Gguf'
        $item.ContentAddress | Should -Be "sha256:$hash"
    }

    It 'lists Ollama blobs by model:tag, without the manifests' {
        $item = @(Get-ModelInventory -Path $ollama)
        $item.Count | Should -Be 1
        $item[0].Name | Should -Be 'tiny:1b'
        $item[0].MediaType | Should -Be 'application/vnd.ollama.image.model'
    }

    It 'reads the known caches from the environment when no path is given' {
        $output = Invoke-ChildPwsh -Command "Import-Module '$ModuleManifest'; Get-ModelInventory | ForEach-Object { '{0}|{1}' -f `$_.Ecosystem, `$_.Name }" -Environment @{
            HF_HUB_CACHE = $hub; OLLAMA_MODELS = $ollama; HOME = (Join-Path $TestDrive 'home'); XDG_CACHE_HOME = (Join-Path $TestDrive 'xdg')
        }
        $output | Should -Contain 'HuggingFace|Qwen/Qwen3-0.6B-GGUF'
        $output | Should -Contain 'Ollama|tiny:1b'
    }

    It 'pipes into Confirm-ModelHash and Test-ModelFile' {
        $hashes = @(Get-ModelInventory -Path $hub, $ollama | Confirm-ModelHash)
        $hashes.Status | Should -Be @('Match', 'Match')
        $hashes.ExpectedSource | Should -Be @('HuggingFaceCache', 'OllamaManifest')
        @(Get-ModelInventory -Path $hub | Test-ModelFile).Verdict | Should -Be 'Clean'
    }

    It 'formats as a table and writes PathNotFound for a missing folder' {
        Get-ModelInventory -Path $hub | Format-Table | Out-String -Width 200 | Should -Match 'Ecosystem\s+Name\s+Format\s+Length\s+FileName'
        Get-ModelInventory -Path (Join-Path $TestDrive 'nothing-here') -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -Be 'PathNotFound,ModelSecurity.Commands.GetModelInventoryCommand'
    }
}
