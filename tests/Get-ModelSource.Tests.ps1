BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module $ModuleManifest -Force

    function Get-GgufWithMetadata {
        # A GGUF v3 header with string metadata only (no tensors).
        param([System.Collections.Specialized.OrderedDictionary] $Metadata)
        $stream = [IO.MemoryStream]::new()
        $writer = [IO.BinaryWriter]::new($stream)
        $utf8 = [Text.UTF8Encoding]::new($false)
        $writer.Write([Text.Encoding]::ASCII.GetBytes('GGUF'))
        $writer.Write([uint32]3)
        $writer.Write([uint64]0)
        $writer.Write([uint64]$Metadata.Count)
        foreach ($entry in $Metadata.GetEnumerator()) {
            foreach ($text in $entry.Key, $null) {
                if ($null -eq $text) { break }
                $bytes = $utf8.GetBytes($text)
                $writer.Write([uint64]$bytes.Length)
                $writer.Write($bytes)
            }
            $writer.Write([uint32]8)
            $bytes = $utf8.GetBytes([string]$entry.Value)
            $writer.Write([uint64]$bytes.Length)
            $writer.Write($bytes)
        }
        $writer.Flush()
        $stream.ToArray()
    }

    function Get-Sha256Hex([byte[]] $Bytes) {
        [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($Bytes)).ToLowerInvariant()
    }

    $script:Commit = '0123456789abcdef0123456789abcdef01234567'
    $card = "---`nlicense: apache-2.0`nbase_model: Qwen/Qwen3-8B`ndatasets: [c4]`n---`n# Model`n## Intended uses`nChat.`n## Training procedure`nFine-tuned.`n## Limitations`nNone known.`n"

    # Hugging Face hub cache: two repositories, snapshot files are links to blobs.
    $script:Hub = Join-Path $TestDrive 'hf/hub'
    function Add-HubFile([string] $RepoId, [string] $RelativePath, [byte[]] $Bytes) {
        $repo = Join-Path $Hub ('models--' + $RepoId.Replace('/', '--'))
        $blob = Join-Path $repo ('blobs/' + (Get-Sha256Hex $Bytes))
        New-TestFile -Path $blob -Bytes $Bytes | Out-Null
        New-TestFile -Path (Join-Path $repo 'refs/main') -Text $Commit | Out-Null
        $link = Join-Path $repo "snapshots/$Commit/$RelativePath"
        New-Item -ItemType Directory -Path (Split-Path $link) -Force | Out-Null
        New-Item -ItemType SymbolicLink -Path $link -Target $blob | Out-Null
        $link
    }
    $script:QwenFile = Add-HubFile 'Qwen/Qwen3-8B' 'model.gguf' (Get-GgufWithMetadata ([ordered]@{ 'general.architecture' = 'qwen3'; 'general.license' = 'apache-2.0' }))
    Add-HubFile 'Qwen/Qwen3-8B' 'README.md' ([Text.Encoding]::UTF8.GetBytes($card)) | Out-Null
    $script:UnslothFile = Add-HubFile 'unsloth/Qwen3-8B-GGUF' 'Qwen3-8B-Q4_K_M.gguf' (Get-GgufWithMetadata ([ordered]@{ 'general.architecture' = 'qwen3'; 'general.license' = 'apache-2.0'; 'general.organization' = 'Qwen' }))
    Add-HubFile 'unsloth/Qwen3-8B-GGUF' 'README.md' ([Text.Encoding]::UTF8.GetBytes($card)) | Out-Null
    $script:SquatFile = Add-HubFile 'meta-lama/Llama-3.1-8B-Instruct' 'model.gguf' (Get-GgufWithMetadata ([ordered]@{ 'general.architecture' = 'llama'; 'general.repo_url' = 'https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct' }))

    # Ollama store: the library's llama3.1:8b with its licence layer, and a user's model.
    $script:Ollama = Join-Path $TestDrive 'ollama/models'
    function Add-OllamaModel([string] $Namespace, [string] $Model, [string] $Tag, [byte[]] $Gguf, [string] $License) {
        $layers = [Collections.Generic.List[string]]::new()
        $config = [Text.Encoding]::UTF8.GetBytes('{"model_format":"gguf","model_family":"llama","file_type":"Q4_K_M"}')
        foreach ($item in @(@('config', $config), @('application/vnd.ollama.image.model', $Gguf), @('application/vnd.ollama.image.license', [Text.Encoding]::UTF8.GetBytes($License)))) {
            if ($item[1].Length -eq 0) { continue }
            $digest = Get-Sha256Hex $item[1]
            New-TestFile -Path (Join-Path $Ollama "blobs/sha256-$digest") -Bytes $item[1] | Out-Null
            if ($item[0] -eq 'config') { $configDigest = $digest; continue }
            $layers.Add(('{{"mediaType":"{0}","digest":"sha256:{1}","size":{2}}}' -f $item[0], $digest, $item[1].Length))
        }
        $manifest = '{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:{0}","size":{1}}},"layers":[{2}]}}' -f $configDigest, $config.Length, ($layers -join ',')
        $path = Join-Path $Ollama "manifests/registry.ollama.ai/$Namespace/$Model/$Tag"
        New-TestFile -Path $path -Text $manifest | Out-Null
        'sha256:' + (Get-Sha256Hex ([IO.File]::ReadAllBytes($path)))
    }
    $script:LlamaGguf = Get-GgufWithMetadata ([ordered]@{ 'general.architecture' = 'llama'; 'general.organization' = 'Meta Llama' })
    $script:LlamaManifest = Add-OllamaModel 'library' 'llama3.1' '8b' $LlamaGguf "LLAMA 3.1 COMMUNITY LICENSE AGREEMENT`n"
    $script:UserGguf = Get-GgufWithMetadata ([ordered]@{ 'general.architecture' = 'qwen3'; 'general.license' = 'mit' })
    $script:UserManifest = Add-OllamaModel 'someone' 'qwen3-tuned' 'latest' $UserGguf ''
}

Describe 'Get-ModelSource' {
    Context 'Hugging Face cache built by the test' {
        BeforeAll {
            $script:HubResults = @(Get-ModelSource -LiteralPath $Hub)
        }

        It 'reads a whole cache folder, skipping refs, and names each snapshot file' {
            $HubResults | ForEach-Object { $_ | Should -BeOfType ModelSecurity.Provenance.ModelSource }
            @($HubResults | Where-Object { $_.Path -like '*refs*' }).Count | Should -Be 0
            foreach ($file in $QwenFile, $UnslothFile, $SquatFile) {
                @($HubResults | Where-Object Path -EQ $file).Count | Should -Be 1
            }
        }

        It 'gives publisher, repository, revision, tag, licence and trust for <Name>' -ForEach @(
            @{ Name = 'Qwen/Qwen3-8B'; Publisher = 'Qwen'; Repository = 'Qwen3-8B'; License = 'apache-2.0'; Trust = 'High'; Lookalike = $null }
            @{ Name = 'unsloth/Qwen3-8B-GGUF'; Publisher = 'unsloth'; Repository = 'Qwen3-8B-GGUF'; License = 'apache-2.0'; Trust = 'Medium'; Lookalike = $null }
            @{ Name = 'meta-lama/Llama-3.1-8B-Instruct'; Publisher = 'meta-lama'; Repository = 'Llama-3.1-8B-Instruct'; License = $null; Trust = 'Low'; Lookalike = 'meta-llama/Llama-3.1-8B-Instruct' }
        ) {
            $file = @{ 'Qwen/Qwen3-8B' = $QwenFile; 'unsloth/Qwen3-8B-GGUF' = $UnslothFile; 'meta-lama/Llama-3.1-8B-Instruct' = $SquatFile }[$Name]
            $result = Get-ModelSource -LiteralPath $file
            $result.Ecosystem | Should -Be 'HuggingFace'
            $result.Name | Should -Be $Name
            $result.Publisher | Should -Be $Publisher
            $result.Repository | Should -Be $Repository
            $result.Revision | Should -Be $Commit
            $result.Tag | Should -Be 'main'
            $result.License | Should -Be $License
            $result.TrustLevel | Should -Be $Trust
            $result.LookalikeOf | Should -Be $Lookalike
        }

        It 'reads the model card: base model, no card gaps for a complete card' {
            $result = Get-ModelSource -LiteralPath $QwenFile
            $result.BaseModel | Should -Be @('Qwen/Qwen3-8B')
            $result.Findings | Should -BeNullOrEmpty
            $result.Evidence | Should -Contain 'License: model card ''license'''
        }

        It 'reports the look-alike and the metadata that claims the official repository' {
            $result = Get-ModelSource -LiteralPath $SquatFile
            $result.Findings.RuleId | Should -Contain 'MS-SRC-001'
            $result.Findings.RuleId | Should -Contain 'MS-SRC-002'
            $result.Findings.RuleId | Should -Contain 'MS-SRC-004'
        }
    }

    Context 'Ollama store built by the test' {
        It 'gives name, namespace, tag, manifest digest, licence and trust for <Model>' -ForEach @(
            @{ Model = 'llama3.1:8b'; Publisher = 'library'; Repository = 'llama3.1'; Tag = '8b'; License = 'llama3.1'; Trust = 'High' }
            @{ Model = 'someone/qwen3-tuned:latest'; Publisher = 'someone'; Repository = 'qwen3-tuned'; Tag = 'latest'; License = 'mit'; Trust = 'Low' }
        ) {
            $gguf = if ($Publisher -eq 'library') { $LlamaGguf } else { $UserGguf }
            $manifest = if ($Publisher -eq 'library') { $LlamaManifest } else { $UserManifest }
            $result = Get-ModelSource -LiteralPath (Join-Path $Ollama ('blobs/sha256-' + (Get-Sha256Hex $gguf)))
            $result.Ecosystem | Should -Be 'Ollama'
            $result.Name | Should -Be $Model
            $result.Publisher | Should -Be $Publisher
            $result.Repository | Should -Be $Repository
            $result.Tag | Should -Be $Tag
            $result.Revision | Should -Be $manifest
            $result.License | Should -Be $License
            $result.TrustLevel | Should -Be $Trust
        }

        It 'reads every blob of the store from the pipeline and skips the manifests' {
            $results = @(Get-ChildItem -LiteralPath $Ollama -Recurse -File | Get-ModelSource -Verbose 4>&1)
            $sources = @($results | Where-Object { $_ -is [ModelSecurity.Provenance.ModelSource] })
            $skipped = @($results | Where-Object { $_ -is [Management.Automation.VerboseRecord] -and $_.Message -like 'Skipped*' })
            $skipped.Count | Should -Be 2
            @($sources | Where-Object Name -EQ 'llama3.1:8b').Count | Should -Be 3
        }
    }

    Context '-Name' {
        It 'flags qwen35:27b as a look-alike of qwen3.5:27b, before anything is downloaded' {
            $result = Get-ModelSource -Name 'qwen35:27b'
            $result.LookalikeOf | Should -Be 'qwen3.5:27b'
            $result.TrustLevel | Should -Be 'Low'
            $result.Path | Should -BeNullOrEmpty
            $result.Findings[0].RuleId | Should -Be 'MS-SRC-001'
        }

        It 'does not flag the official names' {
            $results = Get-ModelSource -Name 'qwen3.5:27b', 'llama3.1:8b', 'meta-llama/Llama-3.1-8B-Instruct', 'google/gemma-3-27b-it'
            $results | ForEach-Object { $_.LookalikeOf | Should -BeNullOrEmpty }
            $results.TrustLevel | Should -Be @('High', 'High', 'High', 'High')
        }

        It 'writes NameInvalid for a name of neither form and goes on' {
            $results = @(Get-ModelSource -Name 'not a name', 'mistral' -ErrorVariable nameErrors -ErrorAction SilentlyContinue)
            $results.Count | Should -Be 1
            $nameErrors[0].FullyQualifiedErrorId | Should -Be 'NameInvalid,ModelSecurity.Commands.GetModelSourceCommand'
            $nameErrors[0].TargetObject | Should -Be 'not a name'
        }

        It 'writes OnlineUnavailable offline and still outputs the result' {
            $result = Get-ModelSource -Name 'Qwen/Qwen3-8B' -Online -Endpoint 'http://127.0.0.1:9' -TimeoutSec 5 -ErrorVariable onlineErrors -ErrorAction SilentlyContinue
            $result.TrustLevel | Should -Be 'High'
            $onlineErrors[0].FullyQualifiedErrorId | Should -Be 'OnlineUnavailable,ModelSecurity.Commands.GetModelSourceCommand'
            $onlineErrors[0].Exception.Message | Should -Not -Match '\bat ModelSecurity\.'
        }
    }

    Context 'policy' {
        It 'lets a policy file rate a publisher' {
            $policy = New-TestFile -Path (Join-Path $TestDrive 'policy.json') -Text '{ "publishers": [ { "name": "Unsloth", "huggingFace": [ "unsloth" ], "trust": "Low", "reason": "Not approved" } ] }'
            $result = Get-ModelSource -LiteralPath $UnslothFile -PolicyPath $policy.FullName
            $result.TrustLevel | Should -Be 'Low'
            $result.TrustReason | Should -Match 'Not approved'
        }

        It 'stops with PolicyInvalid on a bad policy' {
            $bad = New-TestFile -Path (Join-Path $TestDrive 'bad-policy.json') -Text '{ "publishers": [ { "name": "x", "trust": "Great" } ] }'
            { Get-ModelSource -Name 'mistral' -PolicyPath $bad.FullName -ErrorAction Stop } | Should -Throw -ErrorId 'PolicyInvalid,ModelSecurity.Commands.GetModelSourceCommand'
        }
    }

    Context 'output' {
        It 'declares its output type and has a table view' {
            (Get-Command Get-ModelSource).OutputType.Name | Should -Contain 'ModelSecurity.Provenance.ModelSource'
            (Get-ModelSource -Name 'mistral' | Format-Table | Out-String) | Should -Match 'TrustLevel'
        }
    }
}
