#Requires -Version 7.4
# Help as users read it: Get-Help on the built module, with the MAML and about topic that
# build.ps1 generated into output/ModelSecurity/en-US (tools/New-ModelSecurityHelp.ps1).

BeforeDiscovery {
    $ErrorActionPreference = 'Stop'
    $manifest = Join-Path $PSScriptRoot '../output/ModelSecurity/ModelSecurity.psd1'
    $module = Import-Module -Name $manifest -PassThru
    $common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters

    $cmdlets = foreach ($name in $module.ExportedCmdlets.Keys | Sort-Object) {
        $command = Get-Command -Name $name -Module $module.Name
        $parameters = foreach ($parameter in $command.Parameters.Values | Sort-Object -Property Name) {
            if ($parameter.Name -notin $common) {
                @{ ParameterName = $parameter.Name; Aliases = @($parameter.Aliases) }
            }
        }
        @{ Name = $name; Parameters = @($parameters) }
    }

    $ruleIds = @([ModelSecurity.Analysis.RuleCatalogue]::All | ForEach-Object Id)
}

BeforeAll {
    $ErrorActionPreference = 'Stop'
    $manifest = Join-Path $PSScriptRoot '../output/ModelSecurity/ModelSecurity.psd1'
    $module = Import-Module -Name $manifest -PassThru
    $helpFolder = Join-Path $module.ModuleBase 'en-US'
}

Describe 'Help files' {
    It 'ships the MAML help file next to the module' {
        Join-Path $helpFolder 'ModelSecurity.dll-Help.xml' | Should -Exist
    }

    It 'ships the MAML as UTF-8 without a byte order mark' {
        $bytes = [System.IO.File]::ReadAllBytes((Join-Path $helpFolder 'ModelSecurity.dll-Help.xml'))
        $bytes[0..2] | Should -Not -Be @(0xEF, 0xBB, 0xBF)
        $document = [xml][System.Text.Encoding]::UTF8.GetString($bytes)
        $document.DocumentElement.LocalName | Should -Be 'helpItems'
        $document.DocumentElement.NamespaceURI | Should -Be 'http://msh'
        $document.DocumentElement.GetAttribute('schema') | Should -Be 'maml'
    }

    It 'documents every exported cmdlet in the MAML, and nothing else' {
        $document = [xml](Get-Content -LiteralPath (Join-Path $helpFolder 'ModelSecurity.dll-Help.xml') -Raw)
        $names = @($document.helpItems.command | ForEach-Object { $_.details.name })
        $names | Sort-Object | Should -Be @($module.ExportedCmdlets.Keys | Sort-Object)
    }
}

Describe '<Name> help' -ForEach $cmdlets {
    BeforeAll {
        $help = Get-Help -Name $Name -Full
        $command = Get-Command -Name $Name -Module 'ModelSecurity'
    }

    It 'comes from the MAML file, not from the cmdlet metadata' {
        # Without a help file Get-Help makes a synopsis out of the syntax and has no description.
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis.Trim() | Should -Not -Match "^$([regex]::Escape($Name))\s+(\[|-|$)"
        $help.Synopsis.Trim() | Should -Not -Be ((Get-Command -Name $Name -Syntax).Trim())
    }

    It 'has a description' {
        $text = ($help.description | ForEach-Object Text) -join ''
        $text.Trim() | Should -Not -BeNullOrEmpty
        $text | Should -Not -Match '\{\{.*\}\}'
    }

    It 'has at least one example with code' {
        $examples = @($help.examples.example)
        $examples.Count | Should -BeGreaterThan 0
        foreach ($example in $examples) {
            $example.code.Trim() | Should -Not -BeNullOrEmpty -Because "example '$($example.title)' needs code"
            $example.code | Should -Match ([regex]::Escape($Name)) -Because "example '$($example.title)' should use $Name"
        }
    }

    It 'shows one syntax line per parameter set' {
        @($help.syntax.syntaxItem).Count | Should -Be @($command.ParameterSets).Count
    }

    It 'describes parameter -<ParameterName>' -ForEach $Parameters {
        $parameterHelp = Get-Help -Name $Name -Parameter $ParameterName
        $parameterHelp | Should -Not -BeNullOrEmpty
        (($parameterHelp.description | ForEach-Object Text) -join '').Trim() | Should -Not -BeNullOrEmpty
    }

    It 'shows the aliases of parameter -<ParameterName>' -ForEach @($Parameters | Where-Object { $_.Aliases.Count -gt 0 }) {
        $parameterHelp = Get-Help -Name $Name -Parameter $ParameterName
        foreach ($alias in $Aliases) {
            ($parameterHelp.aliases -split ',\s*') | Should -Contain $alias
        }
    }

    It 'documents exactly the parameters the cmdlet has' {
        $documented = @($help.parameters.parameter | ForEach-Object name)
        $documented | Sort-Object | Should -Be @($Parameters | ForEach-Object { $_.ParameterName } | Sort-Object)
    }

    It 'has no placeholder text left from platyPS' {
        ($help | Out-String -Width 200) | Should -Not -Match '\{\{ ?Fill|\{\{.*\}\}'
    }
}

Describe 'Test-ModelFile help content' {
    It 'shows PSPath as an alias of -LiteralPath' {
        (Get-Help -Name Test-ModelFile -Parameter LiteralPath).aliases | Should -Match '\bPSPath\b'
    }

    It 'shows that -LiteralPath binds by property name and -Path takes wildcards' {
        (Get-Help -Name Test-ModelFile -Parameter LiteralPath).pipelineInput | Should -Match 'ByPropertyName'
        (Get-Help -Name Test-ModelFile -Parameter Path).globbing | Should -Be 'true'
        (Get-Help -Name Test-ModelFile -Parameter Path).position | Should -Be '0'
    }

    It 'has examples for the pipeline, wildcards, -LiteralPath and -Quiet' {
        $code = (Get-Help -Name Test-ModelFile -Examples).examples.example.code -join "`n"
        $code | Should -Match 'Get-ChildItem[^\n]*\|\s*Test-ModelFile'
        $code | Should -Match '-Path\s+\S*\*'
        $code | Should -Match '-LiteralPath\s+\S*\['
        $code | Should -Match '-Quiet'
        $code | Should -Match 'Select-Object\s+-ExpandProperty\s+Findings'
    }

    It 'names the stable error ids' {
        $text = Get-Help -Name Test-ModelFile -Full | Out-String -Width 200
        foreach ($id in 'PathNotFound', 'PathNotFileSystem', 'DirectoryUnreadable') {
            $text | Should -Match $id
        }
    }

    It 'documents both output types' {
        $outputs = (Get-Help -Name Test-ModelFile -Full).returnValues.returnValue.type.name
        $outputs | Should -Contain 'ModelSecurity.Analysis.ModelScanResult'
        $outputs | Should -Contain 'System.Boolean'
    }
}

Describe 'about_ModelSecurity' {
    BeforeAll {
        $aboutPath = Join-Path $helpFolder 'about_ModelSecurity.help.txt'
        $text = Get-Help -Name about_ModelSecurity | Out-String -Width 200
    }

    It 'is found by Get-Help' {
        $text | Should -Match 'about_ModelSecurity'
        $text | Should -Match 'SHORT DESCRIPTION'
    }

    It 'lists rule <_> with its title' -ForEach $ruleIds {
        $rule = [ModelSecurity.Analysis.RuleCatalogue]::Get($_)
        $text | Should -Match ([regex]::Escape($rule.Id))
        $text | Should -Match ([regex]::Escape($rule.Title))
    }

    It 'lists every rule of the module''s catalogue' {
        $ids = @([ModelSecurity.Analysis.RuleCatalogue]::All | ForEach-Object Id)
        $ids.Count | Should -BeGreaterThan 0
        $ids | Where-Object { $text -notmatch [regex]::Escape($_) } | Should -BeNullOrEmpty
    }

    It 'has no template placeholder left' {
        $text | Should -Not -Match '\{\{RULE_CATALOGUE\}\}'
    }

    It 'follows the about-topic layout' {
        $lines = [System.IO.File]::ReadAllLines($aboutPath)
        $lines[0] | Should -BeExactly 'TOPIC'
        $lines[1] | Should -Match '^\s+about_ModelSecurity$'
        $lines | Should -Contain 'SHORT DESCRIPTION'
        $lines | Should -Contain 'LONG DESCRIPTION'
        $lines | Should -Contain 'SEE ALSO'
        $lines | Where-Object { $_.Length -gt 80 } | Should -BeNullOrEmpty
    }
}
