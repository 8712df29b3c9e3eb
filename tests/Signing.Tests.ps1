BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module $ModuleManifest -Force

    function New-SignedTestModel {
        # A small model folder with a nested file and a .git folder that signing leaves out.
        param([Parameter(Mandatory)][string] $Path)
        New-TestFile -Path (Join-Path $Path 'model.gguf') -Bytes (Get-GgufBytes) | Out-Null
        New-TestFile -Path (Join-Path $Path 'config.json') -Text '{"model_type":"llama"}' | Out-Null
        New-TestFile -Path (Join-Path $Path 'tokenizer/vocab.txt') -Text "a`nb`nc" | Out-Null
        New-TestFile -Path (Join-Path $Path '.git/HEAD') -Text 'ref: refs/heads/main' | Out-Null
        $Path
    }

    $key = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP384)
    $privateKey = Join-Path $TestDrive 'key.pem'
    $publicKey = Join-Path $TestDrive 'key.pub.pem'
    Set-Content -LiteralPath $privateKey -Value $key.ExportPkcs8PrivateKeyPem() -NoNewline
    Set-Content -LiteralPath $publicKey -Value $key.ExportSubjectPublicKeyInfoPem() -NoNewline
    $other = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP256)
    $otherPublicKey = Join-Path $TestDrive 'other.pub.pem'
    Set-Content -LiteralPath $otherPublicKey -Value $other.ExportSubjectPublicKeyInfoPem() -NoNewline
}

Describe 'New-ModelSignature and Confirm-ModelSignature' {
    It 'signs a folder, and the signature verifies Valid' {
        $model = New-SignedTestModel -Path (Join-Path $TestDrive 'valid')
        $signed = New-ModelSignature -Path $model -PrivateKeyPath $privateKey
        $signed | Should -BeOfType ModelSecurity.Integrity.Signing.ModelSignature
        $signed.FileCount | Should -Be 3
        $signed.Algorithm | Should -Be 'ECDSA P-384 SHA-384'
        $signed.SignaturePath | Should -Be (Join-Path $model 'model.sig')
        $signed.KeyHint | Should -Match '^[0-9a-f]{64}$'

        $result = Confirm-ModelSignature -Path $model -PublicKeyPath $publicKey
        $result | Should -BeOfType ModelSecurity.Integrity.Signing.ModelSignatureResult
        $result.Status | Should -Be 'Valid'
        $result.Signer | Should -Be "key $($signed.KeyHint)"
        $result.Files.Name | Should -Be @('config.json', 'model.gguf', 'tokenizer/vocab.txt')
        Confirm-ModelSignature -Path $model -PublicKeyPath $publicKey -Quiet | Should -BeTrue
    }

    It 'reports a changed byte as Invalid with the file and both digests' {
        $model = New-SignedTestModel -Path (Join-Path $TestDrive 'tampered')
        New-ModelSignature -Path $model -PrivateKeyPath $privateKey | Out-Null
        $file = Join-Path $model 'tokenizer/vocab.txt'
        $before = (Get-FileHash -LiteralPath $file -Algorithm SHA256).Hash.ToLowerInvariant()
        Set-Content -LiteralPath $file -Value "a`nb`nd" -NoNewline
        $after = (Get-FileHash -LiteralPath $file -Algorithm SHA256).Hash.ToLowerInvariant()

        $result = Confirm-ModelSignature -Path $model -PublicKeyPath $publicKey
        $result.Status | Should -Be 'Invalid'
        $result.Reason | Should -Be "file 'tokenizer/vocab.txt' changed: expected sha256 $before, found $after"
        ($result.Files | Where-Object Status -eq 'Changed').Name | Should -Be 'tokenizer/vocab.txt'
        Confirm-ModelSignature -Path $model -PublicKeyPath $publicKey -Quiet | Should -BeFalse
    }

    It 'reports an added file, and accepts it with -IgnoreUnsignedFiles' {
        $model = New-SignedTestModel -Path (Join-Path $TestDrive 'added')
        New-ModelSignature -Path $model -PrivateKeyPath $privateKey | Out-Null
        New-TestFile -Path (Join-Path $model 'run.py') -Text 'import os' | Out-Null
        (Confirm-ModelSignature -Path $model -PublicKeyPath $publicKey).Reason | Should -Be "file 'run.py' is not in the signature"
        (Confirm-ModelSignature -Path $model -PublicKeyPath $publicKey -IgnoreUnsignedFiles).Status | Should -Be 'Valid'
    }

    It 'says a different key does not verify the signature' {
        $model = New-SignedTestModel -Path (Join-Path $TestDrive 'otherkey')
        New-ModelSignature -Path $model -PrivateKeyPath $privateKey | Out-Null
        $result = Confirm-ModelSignature -Path $model -PublicKeyPath $otherPublicKey
        $result.Status | Should -Be 'Invalid'
        $result.Reason | Should -BeLike 'signature does not verify with the given key*'
    }

    It 'refuses to overwrite model.sig without -Force, and -WhatIf writes nothing' {
        $model = New-SignedTestModel -Path (Join-Path $TestDrive 'force')
        New-ModelSignature -Path $model -PrivateKeyPath $privateKey -WhatIf
        Join-Path $model 'model.sig' | Should -Not -Exist
        New-ModelSignature -Path $model -PrivateKeyPath $privateKey | Out-Null
        New-ModelSignature -Path $model -PrivateKeyPath $privateKey -ErrorVariable problems -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $problems[0].FullyQualifiedErrorId | Should -Be 'SignatureExists,ModelSecurity.Commands.NewModelSignatureCommand'
        $problems[0].TargetObject | Should -Be $model
        (New-ModelSignature -Path $model -PrivateKeyPath $privateKey -Force).FileCount | Should -Be 3
    }

    It 'takes folders from Get-ChildItem, brackets included, and signs in shards' {
        $model = New-SignedTestModel -Path (Join-Path $TestDrive 'piped/model[1]')
        $signed = Get-ChildItem -LiteralPath (Join-Path $TestDrive 'piped') -Directory | New-ModelSignature -PrivateKeyPath $privateKey -HashMethod Shards -ShardSize 4
        $signed.Method | Should -Be 'Shards'
        $signed.ResourceCount | Should -BeGreaterThan 3
        $result = Get-Item -LiteralPath $model | Confirm-ModelSignature -PublicKeyPath $publicKey
        $result.Status | Should -Be 'Valid'
        $result.Method | Should -Be 'Shards'
        $result.Files.Name | Should -Contain 'model.gguf:0:4'
    }

    It 'gives a missing signature Status Error, and a bad key a stable error id' {
        $model = New-SignedTestModel -Path (Join-Path $TestDrive 'unsigned')
        $result = Confirm-ModelSignature -Path $model -PublicKeyPath $publicKey
        $result.Status | Should -Be 'Error'
        $result.Reason | Should -BeLike "the signature file '*model.sig' does not exist"

        $bad = New-TestFile -Path (Join-Path $TestDrive 'bad.pem') -Text 'not a key'
        { Confirm-ModelSignature -Path $model -PublicKeyPath $bad.FullName -ErrorAction Stop } | Should -Throw -ErrorId 'SigningKeyUnreadable,ModelSecurity.Commands.ConfirmModelSignatureCommand'
        { New-ModelSignature -Path $model -PrivateKeyPath $bad.FullName -ErrorAction Stop } | Should -Throw -ErrorId 'SigningKeyUnreadable,ModelSecurity.Commands.NewModelSignatureCommand'
        Confirm-ModelSignature -Path (Join-Path $model 'config.json') -PublicKeyPath $publicKey -ErrorVariable notFolder -ErrorAction SilentlyContinue
        $notFolder[0].FullyQualifiedErrorId | Should -Be 'PathNotFolder,ModelSecurity.Commands.ConfirmModelSignatureCommand'
    }

    It 'signs with a key made by openssl, as the help shows' -Skip:(-not (Get-Command openssl -ErrorAction SilentlyContinue)) {
        $model = New-SignedTestModel -Path (Join-Path $TestDrive 'openssl')
        $sec1 = Join-Path $TestDrive 'openssl-ec.pem'
        $pub = Join-Path $TestDrive 'openssl.pub.pem'
        & openssl ecparam -name prime256v1 -genkey -noout -out $sec1 2>$null
        & openssl ec -in $sec1 -pubout -out $pub 2>$null
        (New-ModelSignature -Path $model -PrivateKeyPath $sec1).Algorithm | Should -Be 'ECDSA P-256 SHA-256'
        (Confirm-ModelSignature -Path $model -PublicKeyPath $pub).Status | Should -Be 'Valid'
    }

    It 'formats results as tables, also after a job serialised them' {
        $model = New-SignedTestModel -Path (Join-Path $TestDrive 'format')
        New-ModelSignature -Path $model -PrivateKeyPath $privateKey | Out-Null
        foreach ($type in 'ModelSecurity.Integrity.Signing.ModelSignatureResult', 'ModelSecurity.Integrity.Signing.ModelSignature', 'ModelSecurity.Integrity.Signing.ModelSignatureFile') {
            Get-FormatData -TypeName $type | Should -Not -BeNullOrEmpty
        }

        $table = Confirm-ModelSignature -Path $model -PublicKeyPath $publicKey | Out-String -Width 200
        $table | Should -Match 'Status\s+Name\s+Signer\s+Reason'
        $table | Should -Match 'Valid\s+format\s+key [0-9a-f]+'

        $job = Start-Job -ScriptBlock { param($m, $k, $p) Import-Module $m; Confirm-ModelSignature -Path $p -PublicKeyPath $k } -ArgumentList $ModuleManifest, $publicKey, $model
        $received = $job | Wait-Job | Receive-Job
        $job | Remove-Job
        $received.Status | Should -Be 'Valid'
        ($received | Out-String -Width 200) | Should -Match 'Valid\s+format\s+key [0-9a-f]+'
    }
}
