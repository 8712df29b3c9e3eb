BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module $ModuleManifest -Force

    $dir = Join-Path $TestDrive 'models'
    New-TestFile -Path (Join-Path $dir 'a.gguf') -Bytes (Get-GgufBytes) | Out-Null
    New-TestFile -Path (Join-Path $dir 'b.gguf') -Bytes (Get-GgufBytes) | Out-Null
    New-TestFile -Path (Join-Path $dir 'x[1].gguf') -Bytes (Get-GgufBytes) | Out-Null
    New-TestFile -Path (Join-Path $dir 'config.json') -Text '{"model_type":"llama"}' | Out-Null
    New-TestFile -Path (Join-Path $dir 'model.gguf') -Bytes (Get-ElfBytes) | Out-Null
    New-TestFile -Path (Join-Path $dir 'nested/deeper/weights.bin') -Text "cos`nsystem`n(S'id'`ntR." | Out-Null
}

Describe 'Test-ModelFile' {
    Context 'input binding' {
        It 'scans every file piped from Get-ChildItem, once each' {
            $results = @(Get-ChildItem -LiteralPath $dir -File | Test-ModelFile)
            $results.Count | Should -Be 5
            $results | ForEach-Object { $_ | Should -BeOfType ModelSecurity.Analysis.ModelScanResult }
            ($results.Path | Sort-Object -Unique).Count | Should -Be 5
        }

        It 'expands wildcards in -Path' {
            $results = @(Test-ModelFile -Path (Join-Path $dir '*.gguf'))
            $results.Name | Sort-Object | Should -Be @('a.gguf', 'b.gguf', 'model.gguf', 'x[1].gguf')
        }

        It 'takes -LiteralPath exactly, brackets included' {
            $result = Test-ModelFile -LiteralPath (Join-Path $dir 'x[1].gguf')
            $result.Name | Should -Be 'x[1].gguf'
            $result.Format | Should -Be 'Gguf'
        }

        It 'binds a FileInfo whose name has brackets through PSPath' {
            $result = Get-Item -LiteralPath (Join-Path $dir 'x[1].gguf') | Test-ModelFile
            $result.Name | Should -Be 'x[1].gguf'
        }

        It 'accepts its own results from the pipeline' {
            $again = @(Test-ModelFile -LiteralPath (Join-Path $dir 'x[1].gguf') | Test-ModelFile)
            $again.Count | Should -Be 1
            $again[0].Name | Should -Be 'x[1].gguf'
        }

        It 'expands a folder recursively and reports a file reached twice once' {
            $weights = Join-Path $dir 'nested/deeper/weights.bin'
            $results = @(Test-ModelFile -LiteralPath $dir, $weights)
            $results.Count | Should -Be 6
            @($results | Where-Object Path -EQ $weights).Count | Should -Be 1
        }

        It 'resolves relative paths against the current location' {
            Push-Location $dir
            try {
                (Test-ModelFile -Path './a.gguf').Path | Should -Be (Join-Path $dir 'a.gguf')
            }
            finally {
                Pop-Location
            }
        }
    }

    Context 'errors' {
        It 'writes PathNotFound for a missing file and goes on with the next input' {
            $missing = Join-Path $dir 'missing.gguf'
            $results = @(Test-ModelFile -Path $missing, (Join-Path $dir 'a.gguf') -ErrorVariable errs -ErrorAction SilentlyContinue)
            $results.Count | Should -Be 1
            $errs.Count | Should -Be 1
            $errs[0].FullyQualifiedErrorId | Should -Be 'PathNotFound,ModelSecurity.Commands.TestModelFileCommand'
            $errs[0].TargetObject | Should -Be $missing
            $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }

        It 'writes PathNotFound for a missing -LiteralPath' {
            Test-ModelFile -LiteralPath (Join-Path $dir 'nope[1].gguf') -ErrorVariable errs -ErrorAction SilentlyContinue
            $errs[0].FullyQualifiedErrorId | Should -BeLike 'PathNotFound,*'
        }

        It 'rejects paths on other providers with PathNotFileSystem' {
            Test-ModelFile -Path 'Env:PATH' -ErrorVariable errs -ErrorAction SilentlyContinue
            $errs[0].FullyQualifiedErrorId | Should -BeLike 'PathNotFileSystem,*'
        }

        It 'stops with a terminating error under -ErrorAction Stop' {
            { Test-ModelFile -Path (Join-Path $dir 'missing.gguf') -ErrorAction Stop } | Should -Throw -ErrorId 'PathNotFound,ModelSecurity.Commands.TestModelFileCommand'
        }
    }

    Context 'verdicts' {
        It 'calls an executable named as a model file Malicious' {
            $result = Test-ModelFile -LiteralPath (Join-Path $dir 'model.gguf')
            $result.Format | Should -Be 'Elf'
            $result.Verdict | Should -Be 'Malicious'
            $result.Findings[0].RuleId | Should -Be 'MS-FMT-005'
            $result.Findings[0].Severity | Should -Be 'Critical'
        }

        It 'never calls a file it has no reader for Clean' {
            $png = New-TestFile -Path (Join-Path $TestDrive 'unread/model.png') -Bytes (Get-PngBytes)
            $result = Test-ModelFile -LiteralPath $png.FullName
            $result.Format | Should -Be 'Image'
            $result.Verdict | Should -Be 'Inconclusive'
            $result.Findings.RuleId | Should -Contain 'MS-FMT-002'
        }

        It 'reads an ONNX model and shows its metadata' {
            $onnx = New-TestFile -Path (Join-Path $TestDrive 'read/model.onnx') -Bytes (Get-OnnxBytes)
            $result = Test-ModelFile -LiteralPath $onnx.FullName
            $result.Format | Should -Be 'Onnx'
            $result.Verdict | Should -Be 'Clean'
            $result.Metadata['ProducerName'] | Should -Be 'pytorch'
            $result.Metadata['GraphName'] | Should -Be 'main_graph'
        }

        It 'identifies a protocol-0 pickle by content whatever its name' {
            $result = Test-ModelFile -LiteralPath (Join-Path $dir 'nested/deeper/weights.bin')
            $result.Format | Should -Be 'Pickle'
            $result.Metadata['PickleProtocol'] | Should -Be '0/1'
        }

        It 'calls a pickle that runs os.system Malicious, naming the global and where it is' {
            $result = Test-ModelFile -LiteralPath (Join-Path $dir 'nested/deeper/weights.bin')
            $result.Verdict | Should -Be 'Malicious'
            $finding = $result.Findings | Where-Object RuleId -EQ 'MS-PKL-001'
            $finding.Detail | Should -Match 'os\.system'
            $finding.Location | Should -Match '^byte 0 \(GLOBAL\)$'
            $result.Metadata['PickleGlobals'] | Should -Be @('os.system')
        }

        It 'reads only the head of a large file' {
            $big = Join-Path $TestDrive 'big.gguf'
            $stream = [IO.File]::Create($big)
            try {
                $header = Get-GgufBytes
                $stream.Write($header, 0, $header.Length)
                $stream.SetLength(256MB)
            }
            finally {
                $stream.Dispose()
            }
            $result = Test-ModelFile -LiteralPath $big
            $result.Length | Should -Be 256MB
            $result.BytesRead | Should -BeLessOrEqual 1MB
        }
    }

    Context 'containers' {
        It 'decompresses an xz-wrapped pickle with the bundled codec and finds its payload' {
            # xz -c of the protocol-0 pickle "cposix\nsystem\n(S'id'\ntR."
            $xz = [Convert]::FromBase64String('/Td6WFoAAATm1rRGAgAhARYAAAB0L+WjAQAXY3Bvc2l4CnN5c3RlbQooUydpZCcKdFIuAIE7nj2GIJD0AAEwGI4brOwftvN9AQAAAAAEWVo=')
            $file = New-TestFile -Path (Join-Path $TestDrive 'containers/model.pkl.xz') -Bytes $xz
            $result = Test-ModelFile -LiteralPath $file
            $result.Format | Should -Be 'Xz'
            $result.Verdict | Should -Be 'Malicious'
            ($result.Findings | Where-Object RuleId -EQ 'MS-PKL-001').Location | Should -Match '^<xz>, byte 0'
        }
    }

    Context 'pickle allowlist' {
        BeforeAll {
            # PROTO 4, STACK_GLOBAL my_project.models Net, EMPTY_TUPLE, REDUCE, STOP: an unknown class.
            $bytes = [Collections.Generic.List[byte]]::new()
            $bytes.AddRange([byte[]](0x80, 0x04))
            foreach ($s in 'my_project.models', 'Net') {
                $bytes.Add(0x8C); $bytes.Add([byte]$s.Length); $bytes.AddRange([Text.Encoding]::ASCII.GetBytes($s))
            }
            $bytes.AddRange([byte[]](0x93, 0x29, 0x52, 0x2E))
            $custom = New-TestFile -Path (Join-Path $TestDrive 'allow/custom.pkl') -Bytes $bytes.ToArray()
            $evil = Join-Path $dir 'nested/deeper/weights.bin'
        }

        It 'calls an import outside the allowlist Suspicious and says how to accept it' {
            $result = Test-ModelFile -LiteralPath $custom
            $result.Verdict | Should -Be 'Suspicious'
            $result.Findings[0].RuleId | Should -Be 'MS-PKL-002'
            $result.Findings[0].Detail | Should -Match "-AllowGlobal 'my_project\.models\.Net'"
        }

        It 'accepts it with -AllowGlobal' {
            (Test-ModelFile -LiteralPath $custom -AllowGlobal 'my_project.models.Net').Verdict | Should -Be 'Clean'
        }

        It 'accepts it with a policy file' {
            $policy = New-TestFile -Path (Join-Path $TestDrive 'allow/policy.json') -Text '{ // reviewed
  "pickle": { "allowGlobals": [ "my_project.models.Net", ] } }'
            (Test-ModelFile -LiteralPath $custom -PolicyPath $policy).Verdict | Should -Be 'Clean'
        }

        It 'never accepts a denylisted name, whatever is allowed' {
            (Test-ModelFile -LiteralPath $evil -AllowGlobal 'os.system').Verdict | Should -Be 'Malicious'
        }

        It 'stops with AllowGlobalInvalid for a name that is not module.name' {
            { Test-ModelFile -LiteralPath $custom -AllowGlobal 'Net' } |
                Should -Throw -ErrorId 'AllowGlobalInvalid,ModelSecurity.Commands.TestModelFileCommand'
        }

        It 'stops with PolicyNotFound and PolicyInvalid for a bad policy file' {
            { Test-ModelFile -LiteralPath $custom -PolicyPath (Join-Path $TestDrive 'missing.json') } |
                Should -Throw -ErrorId 'PolicyNotFound,ModelSecurity.Commands.TestModelFileCommand'
            $bad = New-TestFile -Path (Join-Path $TestDrive 'allow/bad.json') -Text '{ "pickle": { "allowGlobals": "x.y" } }'
            { Test-ModelFile -LiteralPath $custom -PolicyPath $bad } |
                Should -Throw -ErrorId 'PolicyInvalid,ModelSecurity.Commands.TestModelFileCommand'
        }
    }

    Context '-Quiet' {
        It 'returns one false when any file is not Clean' {
            $answer = @(Get-ChildItem -LiteralPath $dir -File | Test-ModelFile -Quiet)
            $answer.Count | Should -Be 1
            $answer[0] | Should -BeOfType bool
            $answer[0] | Should -BeFalse
        }

        It 'returns false when there was no file at all' {
            $empty = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'empty') -Force
            Test-ModelFile -LiteralPath $empty.FullName -Quiet | Should -BeFalse
        }
    }

    Context 'output' {
        It 'declares its output types' {
            (Get-Command Test-ModelFile).OutputType.Name | Should -Contain 'ModelSecurity.Analysis.ModelScanResult'
            (Get-Command Test-ModelFile).OutputType.Name | Should -Contain 'System.Boolean'
        }

        It 'formats as a table with the verdict first' {
            $text = Test-ModelFile -LiteralPath (Join-Path $dir 'model.gguf') | Format-Table | Out-String
            $text | Should -Match 'Verdict\s+Format'
            $text | Should -Match 'Malicious'
        }

        It 'formats findings as a table' {
            $text = (Test-ModelFile -LiteralPath (Join-Path $dir 'model.gguf')).Findings | Format-Table | Out-String
            $text | Should -Match 'Severity\s+RuleId'
        }

        It 'survives serialisation the way remoting and jobs send it' {
            $result = Test-ModelFile -LiteralPath (Join-Path $dir 'model.gguf')
            $copy = [Management.Automation.PSSerializer]::Deserialize([Management.Automation.PSSerializer]::Serialize($result, 3))
            $copy.Verdict | Should -Be 'Malicious'
            $copy.Path | Should -Be $result.Path
            $copy.Findings[0].RuleId | Should -Be 'MS-FMT-005'
        }
    }
}

Describe 'Test-ModelFile on the shared corpus' {
    It 'scans all of ../shared/corpus without an error or an exception' {
        if (-not (Test-Path -LiteralPath (Join-Path $CorpusRoot 'MANIFEST.tsv'))) {
            Set-ItResult -Skipped -Because '../shared/corpus not found: corpus tests need the shared folder beside the repository'
            return
        }
        $manifest = Import-Csv -LiteralPath (Join-Path $CorpusRoot 'MANIFEST.tsv') -Delimiter "`t"
        $results = @(Test-ModelFile -LiteralPath $CorpusRoot -ErrorVariable errs)
        $errs.Count | Should -Be 0
        $scanned = @($results | Where-Object { $_.Name -notin 'MANIFEST.tsv', 'PEER_VERDICTS.tsv', 'README.md' })
        $scanned.Count | Should -Be $manifest.Count
        $byPath = @{}
        $manifest | ForEach-Object { $byPath[(Join-Path $CorpusRoot $_.relpath)] = $_ }
        $benignMalicious = @($scanned | Where-Object { $byPath[$_.Path].label -eq 'benign' -and $_.Verdict -eq 'Malicious' })
        $benignMalicious.Path | Should -BeNullOrEmpty
        $maliciousClean = @($scanned | Where-Object { $byPath[$_.Path].label -eq 'malicious' -and $_.Verdict -eq 'Clean' })
        $maliciousClean.Path | Should -BeNullOrEmpty
    }
}
