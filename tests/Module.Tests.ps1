BeforeDiscovery {
    $root = (Resolve-Path (Join-Path $PSScriptRoot '..')).Path
    $output = Join-Path $root 'output'
    $script:PowerShellFiles = Get-ChildItem -LiteralPath $root -Recurse -File -Include '*.ps1', '*.psm1', '*.psd1' |
        Where-Object { -not $_.FullName.StartsWith($output, [StringComparison]::Ordinal) } |
        ForEach-Object { @{ Path = $_.FullName; Name = $_.FullName.Substring($root.Length + 1) } }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'PowerShell sources' {
    It '<Name> parses without errors' -TestCases $PowerShellFiles {
        param($Path)
        $tokens = $null
        $errors = $null
        [void][Management.Automation.Language.Parser]::ParseFile($Path, [ref]$tokens, [ref]$errors)
        $errors | ForEach-Object { '{0}:{1} {2}' -f $_.Extent.StartLineNumber, $_.Extent.StartColumnNumber, $_.Message } | Should -BeNullOrEmpty
    }
}

Describe 'Module manifest' {
    BeforeAll {
        $manifest = Test-ModuleManifest -Path $ModuleManifest
        $module = Import-Module $ModuleManifest -PassThru -Force
    }

    It 'is valid and has what the Gallery requires' {
        $manifest.Description | Should -Not -BeNullOrEmpty
        $manifest.Author | Should -Not -BeNullOrEmpty
        $manifest.Guid | Should -Not -Be ([guid]::Empty)
        $manifest.PowerShellVersion | Should -Be ([version]'7.4')
    }

    It 'exports exactly the cmdlets it declares' {
        $declared = (Import-PowerShellDataFile -LiteralPath $ModuleManifest).CmdletsToExport | Sort-Object
        $module.ExportedCmdlets.Keys | Sort-Object | Should -Be $declared
        $module.ExportedFunctions.Count | Should -Be 0
        $module.ExportedAliases.Count | Should -Be 0
    }

    It 'has the same version as the source manifest' {
        $manifest.Version | Should -Be ([version](Import-PowerShellDataFile (Join-Path $RepoRoot 'ModelSecurity.psd1')).ModuleVersion)
    }

    It 'ships only the allow-listed files' {
        $files = Get-ChildItem -LiteralPath (Split-Path $ModuleManifest) -Recurse -File | ForEach-Object Name | Sort-Object
        $files | Should -Be (@('about_ModelSecurity.help.txt', 'LICENSE', 'ModelSecurity.dll', 'ModelSecurity.dll-Help.xml', 'ModelPolicy.schema.json', 'Invoke-ModelAudit.ps1', 'ModelSecurity.Format.ps1xml', 'ModelSecurity.psd1', 'ModelSecurity.Types.ps1xml', 'PureHDF.dll', 'SharpCompress.dll', 'THIRD-PARTY-NOTICES.txt', 'YamlDotNet.dll') | Sort-Object)
    }

    It 'has a table view for each result type' {
        foreach ($type in 'ModelSecurity.Analysis.ModelScanResult', 'ModelSecurity.Analysis.ModelFinding', 'ModelSecurity.Sandbox.SandboxResult', 'ModelSecurity.Provenance.ModelSource',
            'ModelSecurity.Integrity.ModelHashResult', 'ModelSecurity.Provenance.ModelInventoryItem', 'ModelSecurity.Integrity.Signing.ModelSignatureResult',
            'ModelSecurity.Mcp.McpServer', 'ModelSecurity.Mcp.McpServerTestResult', 'ModelSecurity.Mcp.McpLockEntry', 'ModelSecurity.Governance.ModelPolicyResult') {
            Get-FormatData -TypeName $type | Should -Not -BeNullOrEmpty
        }
    }
}

Describe 'Package' {
    It 'builds a .nupkg that Install-PSResource installs from a local repository, and the installed module runs' {
        $feed = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'feed') -Force
        $fakeHome = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'home') -Force
        Compress-PSResource -Path (Split-Path $ModuleManifest) -DestinationPath $feed.FullName
        $nupkg = @(Get-ChildItem -LiteralPath $feed.FullName -Filter 'ModelSecurity.*.nupkg')
        $nupkg.Count | Should -Be 1

        $sample = New-TestFile -Path (Join-Path $TestDrive 'pkg/model.gguf') -Bytes (Get-ElfBytes)
        # A fresh pwsh with its own home: the install goes to a throw-away CurrentUser scope.
        $command = @"
`$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name LocalTest -Uri '$($feed.FullName)' -Trusted
Install-PSResource -Name ModelSecurity -Repository LocalTest -Scope CurrentUser -TrustRepository -Quiet
Import-Module ModelSecurity
`$installed = (Get-Module ModelSecurity).ModuleBase
'INSTALLED:' + `$installed
'VERDICT:' + (Test-ModelFile -LiteralPath '$($sample.FullName)').Verdict
"@
        # .NET answers GetFolderPath with '' for a folder that does not exist, so create them all.
        $data, $config, $cache = foreach ($sub in '.local/share', '.config', '.cache') {
            (New-Item -ItemType Directory -Path (Join-Path $fakeHome.FullName $sub) -Force).FullName
        }
        $environment = @{ HOME = $fakeHome.FullName; XDG_DATA_HOME = $data; XDG_CONFIG_HOME = $config; XDG_CACHE_HOME = $cache; PSModulePath = $null }
        if ($IsWindows) {
            $environment['USERPROFILE'] = $fakeHome.FullName
            $environment['LOCALAPPDATA'] = (New-Item -ItemType Directory -Path (Join-Path $fakeHome.FullName 'AppData/Local') -Force).FullName
        }
        $lines = Invoke-ChildPwsh -Command $command -Environment $environment
        $LASTEXITCODE | Should -Be 0 -Because ($lines -join [Environment]::NewLine)
        ($lines | Where-Object { $_ -like 'INSTALLED:*' }) | Should -BeLike "INSTALLED:$($fakeHome.FullName)*"
        $lines | Should -Contain 'VERDICT:Malicious'
    }
}

Describe 'Audit task' {
    It 'writes the sample folder and shows each sample with its verdict' {
        $samples = Join-Path $TestDrive 'samples'
        $command = "& '$(Join-Path $RepoRoot 'tools/Invoke-Audit.ps1')' -ModulePath '$(Split-Path $ModuleManifest)' -SamplePath '$samples'"
        $lines = Invoke-ChildPwsh -Command $command -Environment @{ HF_HUB_CACHE = (Join-Path $TestDrive 'no-hf'); OLLAMA_MODELS = (Join-Path $TestDrive 'no-ollama'); LLAMA_CACHE = (Join-Path $TestDrive 'no-llama'); HOME = (Join-Path $TestDrive 'no-home') }
        $LASTEXITCODE | Should -Be 0 -Because ($lines -join [Environment]::NewLine)
        $text = $lines -join "`n"
        $text | Should -Match 'Malicious\s+Elf\s+MS-FMT-005.*malicious[/\\]qwen2\.5-7b-instruct\.gguf'
        $text | Should -Match 'Malicious\s+Pickle\s+MS-PKL-001.*vectors\.safetensors'
        $text | Should -Match 'Malicious\s+Gguf\s+MS-TPL-001.*malicious[/\\]llama-3-8b-instruct\.Q4_K_M\.gguf'
        $text | Should -Match '10 file\(s\) scanned'
    }
}
