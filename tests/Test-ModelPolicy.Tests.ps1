BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module $ModuleManifest -Force
    $env:MODELSECURITY_CACHE_DIR = Join-Path $TestDrive 'hash-cache'

    function New-HubRepo {
        # A Hugging Face hub cache entry as huggingface_hub writes it: blobs named by SHA-256, snapshot symlinks, refs/main.
        param([string] $Root, [string] $Org, [string] $Repo, [string] $Commit, [System.Collections.IDictionary] $Files, [switch] $Copy)
        $base = Join-Path $Root "models--$Org--$Repo"
        $snapshot = Join-Path $base "snapshots/$Commit"
        New-Item -ItemType Directory -Force -Path (Join-Path $base 'blobs'), (Join-Path $base 'refs'), $snapshot | Out-Null
        Set-Content -LiteralPath (Join-Path $base 'refs/main') -Value $Commit -NoNewline
        foreach ($name in $Files.Keys) {
            [byte[]] $bytes = $Files[$name]
            $sha = [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($bytes)).ToLowerInvariant()
            $blob = Join-Path $base "blobs/$sha"
            [IO.File]::WriteAllBytes($blob, $bytes)
            New-Item -ItemType SymbolicLink -Path (Join-Path $snapshot $name) -Target "../../blobs/$sha" | Out-Null
        }
        $snapshot
    }

    function Get-RuleIds([object] $Result) { @($Result.Violations | ForEach-Object RuleId | Sort-Object -Unique) }

    $card = [Text.Encoding]::UTF8.GetBytes("---`nlicense: apache-2.0`n---`n# Qwen3 0.6B`n## Training details`nPre-trained on a public corpus; training data is listed in the datasets section.`n## Intended use`nChat and assistants.`n## Limitations`nIt can be wrong.`n")
    # PROTO 4, STACK_GLOBAL my_project.models Net, EMPTY_TUPLE, REDUCE, STOP: an import outside the allowlist (Suspicious).
    $pickle = [Collections.Generic.List[byte]]::new()
    $pickle.AddRange([byte[]](0x80, 0x04))
    foreach ($s in 'my_project.models', 'Net') {
        $pickle.Add(0x8C); $pickle.Add([byte]$s.Length); $pickle.AddRange([Text.Encoding]::ASCII.GetBytes($s))
    }
    $pickle.AddRange([byte[]](0x93, 0x29, 0x52, 0x2E))

    $commit = '3c7f1d1e5ab2f7c0a9e1d2b3c4d5e6f708192a3b'
    $files = [ordered]@{
        'model.gguf'  = [byte[]](Get-GgufBytes)
        'README.md'   = $card
        'model.onnx'  = [byte[]](Get-OnnxBytes)
        'custom.pkl'  = $pickle.ToArray()
    }
    $approved = New-HubRepo -Root (Join-Path $TestDrive 'hub') -Org 'Qwen' -Repo 'Qwen3-0.6B' -Commit $commit -Files $files

    # The policy: this repository approved and pinned (New-ModelPolicy), pickles allowed as a format for the Suspicious case.
    $policy = Join-Path $TestDrive 'policy/models.policy.json'
    New-ModelPolicy -OutputPath $policy -ApprovePath $approved -Name 'Contoso models' | Out-Null
    $text = (Get-Content -LiteralPath $policy -Raw) -replace '"allowedFormats": \[ "SafeTensors", "Gguf" \]', '"allowedFormats": [ "SafeTensors", "Gguf", "Pickle" ]'
    Set-Content -LiteralPath $policy -Value $text -NoNewline

    # The same repository and commit in another cache, with the GGUF's bytes changed behind its blob name.
    $tamperedFiles = [ordered]@{ 'model.gguf' = [byte[]](Get-GgufBytes); 'README.md' = $card }
    $tampered = New-HubRepo -Root (Join-Path $TestDrive 'hub-tampered') -Org 'Qwen' -Repo 'Qwen3-0.6B' -Commit $commit -Files $tamperedFiles
    $tamperedBlob = (Get-Item -LiteralPath (Join-Path $tampered 'model.gguf')).ResolvedTarget
    # Still a well-formed GGUF (version 2 instead of 3), so only the hash tells the copies apart.
    $bytes = [IO.File]::ReadAllBytes($tamperedBlob); $bytes[4] = 2
    [IO.File]::WriteAllBytes($tamperedBlob, $bytes)

    # The same files republished by someone the registry does not know.
    $otherPublisher = New-HubRepo -Root (Join-Path $TestDrive 'hub') -Org 'gguf-uploads-4u' -Repo 'Qwen3-0.6B-GGUF' -Commit $commit -Files ([ordered]@{ 'model.gguf' = [byte[]](Get-GgufBytes) + [byte[]](7); 'README.md' = $card })
}

AfterAll {
    Remove-Item Env:MODELSECURITY_CACHE_DIR -ErrorAction SilentlyContinue
}

Describe 'New-ModelPolicy' {
    It 'writes a commented starting point that Test-ModelPolicy reads' {
        $path = Join-Path $TestDrive 'blank/policy.json'
        $file = New-ModelPolicy -OutputPath $path
        $file | Should -BeOfType System.IO.FileInfo
        $text = Get-Content -LiteralPath $path -Raw
        $text | Should -Match '(?m)^\s*// '
        foreach ($key in 'approvedModels', 'requireApproved', 'publishers', 'blockedPublishers', 'minimumTrust', 'allowedFormats', 'allowedLicenses', 'maximumVerdict', 'requireHashMatch', 'requireSignature', 'requireModelCard', 'checkCommunity', 'pickle') {
            $text | Should -Match "`"$key`""
        }
        $gguf = New-TestFile -Path (Join-Path $TestDrive 'blank/m.gguf') -Bytes (Get-GgufBytes)
        { Test-ModelPolicy -LiteralPath $gguf -PolicyPath $path -ErrorAction Stop } | Should -Not -Throw
    }

    It 'validates against the shipped ModelPolicy.schema.json once comments are removed' {
        $schema = Join-Path (Split-Path $ModuleManifest) 'ModelPolicy.schema.json'
        Test-Path -LiteralPath $schema | Should -BeTrue
        $json = ((Get-Content -LiteralPath $policy) | Where-Object { $_ -notmatch '^\s*//' }) -join "`n"
        $json | Test-Json -SchemaFile $schema | Should -BeTrue
    }

    It 'pins the approved repository by name, revision and every file''s SHA-256' {
        $text = Get-Content -LiteralPath $policy -Raw
        $text | Should -Match '"name": "Qwen/Qwen3-0.6B"'
        $text | Should -Match "`"revision`": `"$commit`""
        $sha = (Get-FileHash -LiteralPath (Join-Path $approved 'model.gguf') -Algorithm SHA256).Hash.ToLowerInvariant()
        $text | Should -Match "`"model.gguf`": `"$sha`""
        $text | Should -Match '"allowedLicenses": \[ "apache-2.0" \]'
    }

    It 'refuses to replace a policy without -Force' {
        New-ModelPolicy -OutputPath $policy -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'PolicyFileExists,ModelSecurity.Commands.NewModelPolicyCommand'
    }

    It 'writes nothing with -WhatIf' {
        $path = Join-Path $TestDrive 'whatif/policy.json'
        New-ModelPolicy -OutputPath $path -WhatIf
        Test-Path -LiteralPath $path | Should -BeFalse
    }
}

Describe 'Test-ModelPolicy with a policy' {
    It 'passes the approved, pinned model' {
        $results = @(Test-ModelPolicy -LiteralPath (Join-Path $approved 'model.gguf'), (Join-Path $approved 'README.md') -PolicyPath $policy)
        $results.Count | Should -Be 2
        foreach ($result in $results) {
            $result | Should -BeOfType ModelSecurity.Governance.ModelPolicyResult
            $result.Violations | Should -BeNullOrEmpty
            $result.Compliant | Should -BeTrue
            $result.Policy | Should -Be 'Contoso models'
        }
        $results[0].Checks | Should -Contain "PinnedRevision: $commit is the approved revision of 'Qwen/Qwen3-0.6B'"
    }

    It 'fails a tampered copy with a hash violation only' {
        $result = Test-ModelPolicy -LiteralPath (Join-Path $tampered 'model.gguf') -PolicyPath $policy
        $result.Compliant | Should -BeFalse
        Get-RuleIds $result | Should -Be @('MS-POL-003')
        $result.Violations[0].Rule | Should -Be 'Hash'
        $result.Violations[0].Detail | Should -Match 'not the approved bytes'
    }

    It 'fails an unapproved publisher with a publisher violation' {
        $result = Test-ModelPolicy -LiteralPath (Join-Path $otherPublisher 'model.gguf') -PolicyPath $policy
        $result.Compliant | Should -BeFalse
        Get-RuleIds $result | Should -Contain 'MS-POL-004'
        ($result.Violations | Where-Object RuleId -EQ 'MS-POL-004').Detail | Should -Match "'gguf-uploads-4u' is trusted (Low|Unknown); the policy asks for at least Medium"
        Get-RuleIds $result | Should -Contain 'MS-POL-001'
    }

    It 'fails a disallowed format with a format violation only, even when its bytes are approved' {
        $result = Test-ModelPolicy -LiteralPath (Join-Path $approved 'model.onnx') -PolicyPath $policy
        Get-RuleIds $result | Should -Be @('MS-POL-005')
        $result.Violations[0].Detail | Should -Match 'The file is Onnx; the policy allows Gguf, Pickle, SafeTensors'
    }

    It 'fails a Suspicious file with a verdict violation only' {
        (Test-ModelFile -LiteralPath (Join-Path $approved 'custom.pkl')).Verdict | Should -Be 'Suspicious'
        $result = Test-ModelPolicy -LiteralPath (Join-Path $approved 'custom.pkl') -PolicyPath $policy
        Get-RuleIds $result | Should -Be @('MS-POL-007')
        $result.Violations[0].Detail | Should -Match 'verdict is Suspicious \(Test-ModelFile\); the policy accepts at worst Clean.*MS-PKL-002'
    }

    It 'blocks a publisher on the blocked list whatever its trust' {
        $blocked = Join-Path $TestDrive 'policy/blocked.json'
        Set-Content -LiteralPath $blocked -Value '{ "blockedPublishers": [ "Qwen" ], "allowedLicenses": [], "requireModelCard": false }'
        $result = Test-ModelPolicy -LiteralPath (Join-Path $approved 'model.gguf') -PolicyPath $blocked
        ($result.Violations | Where-Object RuleId -EQ 'MS-POL-004').Detail | Should -Be "The publisher 'Qwen' is blocked by the policy."
    }

    It 'fails a revision other than the pinned one' {
        $newer = New-HubRepo -Root (Join-Path $TestDrive 'hub-newer') -Org 'Qwen' -Repo 'Qwen3-0.6B' -Commit ('f' * 40) -Files ([ordered]@{ 'model.gguf' = [byte[]](Get-GgufBytes); 'README.md' = $card })
        $result = Test-ModelPolicy -LiteralPath (Join-Path $newer 'model.gguf') -PolicyPath $policy
        Get-RuleIds $result | Should -Be @('MS-POL-002')
        $result.Violations[0].Detail | Should -Match "approved at revision $commit; this copy is revision f{40}"
    }

    It 'uses results piped from the other cmdlets, and tests each file once' {
        $scan = Test-ModelFile -LiteralPath (Join-Path $approved 'custom.pkl')
        $hash = Confirm-ModelHash -LiteralPath (Join-Path $approved 'custom.pkl')
        $results = @($scan, $hash | Test-ModelPolicy -PolicyPath $policy)
        $results.Count | Should -Be 1
        $results[0].Violations[0].Detail | Should -Match 'Suspicious \(piped Test-ModelFile result\)' -Because 'a piped verdict is used, not scanned again'
        $results[0].Checks | Should -Contain 'Verdict: failed (MS-POL-007)'
    }

    It 'tests a folder file by file and returns one Boolean with -Quiet' {
        $all = @(Test-ModelPolicy -LiteralPath $approved -PolicyPath $policy)
        $all.Count | Should -Be 4
        Test-ModelPolicy -LiteralPath $approved -PolicyPath $policy -Quiet | Should -BeFalse
        Test-ModelPolicy -LiteralPath (Join-Path $approved 'model.gguf') -PolicyPath $policy -Quiet | Should -BeTrue
    }

    It 'stops with PolicyInvalid naming a misspelt key' {
        $bad = Join-Path $TestDrive 'policy/typo.json'
        Set-Content -LiteralPath $bad -Value '{ "alowedFormats": [ "Gguf" ] }'
        $err = { Test-ModelPolicy -LiteralPath (Join-Path $approved 'model.gguf') -PolicyPath $bad } |
            Should -Throw -ErrorId 'PolicyInvalid,ModelSecurity.Commands.TestModelPolicyCommand' -PassThru
        $err.Exception.Message | Should -Match "'alowedFormats' is not a policy key"
    }

    It 'stops with PolicyNotFound for a missing policy file' {
        { Test-ModelPolicy -LiteralPath (Join-Path $approved 'model.gguf') -PolicyPath (Join-Path $TestDrive 'nope.json') } |
            Should -Throw -ErrorId 'PolicyNotFound,ModelSecurity.Commands.TestModelPolicyCommand'
    }
}

Describe 'Test-ModelPolicy with an Ollama store' {
    BeforeAll {
        function New-OllamaModel([string] $Root, [string] $Model, [string] $Tag, [byte[]] $Bytes) {
            $sha = [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($Bytes)).ToLowerInvariant()
            New-TestFile -Path (Join-Path $Root "blobs/sha256-$sha") -Bytes $Bytes | Out-Null
            New-TestFile -Path (Join-Path $Root "manifests/registry.ollama.ai/library/$Model/$Tag") -Text ('{"schemaVersion":2,"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:' + $sha + '","size":' + $Bytes.Length + '}]}') | Out-Null
            Join-Path $Root "blobs/sha256-$sha"
        }
        $store = Join-Path $TestDrive 'ollama'
        $blob = New-OllamaModel $store 'llama3.2' '1b' ([byte[]](Get-GgufBytes))
        $ollamaPolicy = Join-Path $TestDrive 'policy/ollama.json'
        Get-ModelInventory -Path $store | New-ModelPolicy -OutputPath $ollamaPolicy | Out-Null
    }

    It 'approves the inventory''s models by model:tag, manifest digest and blob hash' {
        $text = Get-Content -LiteralPath $ollamaPolicy -Raw
        $text | Should -Match '"name": "llama3.2:1b"'
        $text | Should -Match '"revision": "sha256:[0-9a-f]{64}"'
        $result = Test-ModelPolicy -LiteralPath $blob -PolicyPath $ollamaPolicy
        $result.Violations | Should -BeNullOrEmpty
        $result.Checks | Should -Contain 'Licence: none declared; the policy approves these exact bytes'
    }

    It 'fails a tag nobody approved' {
        $other = New-OllamaModel $store 'llama3.2' '3b' ([byte[]](Get-GgufBytes) + [byte[]](0))
        $result = Test-ModelPolicy -LiteralPath $other -PolicyPath $ollamaPolicy
        Get-RuleIds $result | Should -Contain 'MS-POL-001'
        ($result.Violations | Where-Object RuleId -EQ 'MS-POL-001').Detail | Should -Match "No approved model names 'llama3.2:3b'"
    }
}

Describe 'Test-ModelPolicy signatures' {
    BeforeAll {
        $key = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP256)
        $keyFolder = Join-Path $TestDrive 'keys'
        New-Item -ItemType Directory -Force -Path $keyFolder | Out-Null
        Set-Content -LiteralPath (Join-Path $keyFolder 'signing.pem') -Value $key.ExportPkcs8PrivateKeyPem() -NoNewline
        Set-Content -LiteralPath (Join-Path $keyFolder 'signing.pub.pem') -Value $key.ExportSubjectPublicKeyInfoPem() -NoNewline
        $signedPolicy = Join-Path $TestDrive 'signed.policy.json'
        Set-Content -LiteralPath $signedPolicy -Value '{
  "requireApproved": false, "minimumTrust": null, "allowedLicenses": [], "requireModelCard": false, "requireHashMatch": false,
  "requireSignature": true, "signature": { "publicKeyPath": "keys/signing.pub.pem" } }'
        $model = Join-Path $TestDrive 'signed-model'
        New-TestFile -Path (Join-Path $model 'model.gguf') -Bytes (Get-GgufBytes) | Out-Null
        New-TestFile -Path (Join-Path $model 'config.json') -Text '{"model_type":"llama"}' | Out-Null
        New-ModelSignature -Path $model -PrivateKeyPath (Join-Path $keyFolder 'signing.pem') | Out-Null
    }

    It 'passes a folder whose model.sig verifies with the policy''s key' {
        $results = @(Test-ModelPolicy -LiteralPath $model -PolicyPath $signedPolicy)
        $results.Count | Should -Be 2
        $results.Compliant | Should -Not -Contain $false
        $results[0].Checks | Where-Object { $_ -like 'Signature: Valid*' } | Should -Not -BeNullOrEmpty
    }

    It 'fails every file once one file changed after signing' {
        Add-Content -LiteralPath (Join-Path $model 'config.json') -Value ' '
        $results = @(Test-ModelPolicy -LiteralPath $model -PolicyPath $signedPolicy)
        $results | ForEach-Object { Get-RuleIds $_ | Should -Be @('MS-POL-008') }
        ($results | Where-Object Name -EQ 'config.json').Violations[0].Detail | Should -Match 'This file is Changed'
    }

    It 'fails a folder without model.sig' {
        $unsigned = New-TestFile -Path (Join-Path $TestDrive 'unsigned/model.gguf') -Bytes (Get-GgufBytes)
        $result = Test-ModelPolicy -LiteralPath $unsigned -PolicyPath $signedPolicy
        Get-RuleIds $result | Should -Be @('MS-POL-008')
        $result.Violations[0].Detail | Should -Match 'no model\.sig'
    }
}

Describe 'Test-ModelPolicy without a policy (the standard download checklist)' {
    It 'lists every checklist item a loose pickle breaks, and advises a sandbox' {
        $loose = New-TestFile -Path (Join-Path $TestDrive 'downloads/pytorch_model.bin') -Bytes ([byte[]](0x80, 0x02, 0x7D, 0x71, 0x00, 0x2E))
        $result = Test-ModelPolicy -LiteralPath $loose
        $result.Policy | Should -Be 'standard download checklist'
        $result.PolicyPath | Should -BeNullOrEmpty
        $rules = Get-RuleIds $result
        foreach ($rule in 'MS-POL-003', 'MS-POL-004', 'MS-POL-005', 'MS-POL-006') {
            $rules | Should -Contain $rule
        }
        ($result.Violations | Where-Object RuleId -EQ 'MS-POL-005').Detail | Should -Match 'a pickle, which runs code when loaded'
        $result.Advice | Should -Match 'Invoke-ModelSandbox'
    }

    It 'passes a trusted publisher''s GGUF with a card, a licence and a verified hash' {
        $result = Test-ModelPolicy -LiteralPath (Join-Path $approved 'model.gguf')
        $result.Violations | Should -BeNullOrEmpty
        $result.Checks | Should -Contain 'Community: not checked (needs -Online)'
    }
}

Describe 'Test-ModelPolicy results elsewhere' {
    It 'reports violations by rule in SARIF' {
        $sarif = Join-Path $TestDrive 'policy.sarif'
        Test-ModelPolicy -LiteralPath (Join-Path $tampered 'model.gguf') -PolicyPath $policy | Export-ModelReport -Format Sarif -Path $sarif | Out-Null
        $log = Get-Content -LiteralPath $sarif -Raw | ConvertFrom-Json
        $log.runs[0].results.ruleId | Should -Contain 'MS-POL-003'
        $log.runs[0].tool.driver.rules.id | Should -Contain 'MS-POL-003'
    }

    It 'keeps its table view and its violations through Start-Job' {
        $live = Test-ModelPolicy -LiteralPath (Join-Path $tampered 'model.gguf') -PolicyPath $policy
        $job = Start-Job -ScriptBlock {
            param($manifest, $file, $policyFile, $cache)
            $env:MODELSECURITY_CACHE_DIR = $cache
            Import-Module $manifest
            Test-ModelPolicy -LiteralPath $file -PolicyPath $policyFile
        } -ArgumentList $ModuleManifest, (Join-Path $tampered 'model.gguf'), $policy, $env:MODELSECURITY_CACHE_DIR
        $remote = $job | Wait-Job -Timeout 120 | Receive-Job
        $job | Remove-Job -Force
        $remote.PSObject.TypeNames[0] | Should -Be 'Deserialized.ModelSecurity.Governance.ModelPolicyResult'
        $remote.Violations[0].RuleId | Should -Be 'MS-POL-003'
        ($remote | Format-Table | Out-String) | Should -Be ($live | Format-Table | Out-String)
    }
}
