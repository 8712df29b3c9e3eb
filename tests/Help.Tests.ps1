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

Describe 'Code in the help' {
    BeforeAll {
        function Get-ParseError {
            # The parser's complaints about a piece of PowerShell, one line each.
            param([string] $Code)
            $errors = $null
            [void][System.Management.Automation.Language.Parser]::ParseInput($Code, [ref]$null, [ref]$errors)
            $errors | ForEach-Object { '{0}:{1} {2}' -f $_.Extent.StartLineNumber, $_.Extent.StartColumnNumber, $_.Message }
        }

        # The indented code blocks of the about topic, up to the rule catalogue, with the heading of
        # the section each is in. A block runs over blank lines while the next line is indented too.
        $lines = [System.IO.File]::ReadAllLines((Join-Path $helpFolder 'about_ModelSecurity.help.txt'))
        $end = [array]::IndexOf($lines, 'RULE CATALOGUE')
        $script:AboutBlocks = [System.Collections.Generic.List[hashtable]]::new()
        $section = ''
        $current = $null
        for ($i = 0; $i -lt $end; $i++) {
            $line = $lines[$i]
            if ($line -match '^[A-Z]') { $section = $line }
            $isCode = $line.StartsWith('        ')
            $continues = $line -eq '' -and $null -ne $current -and $i + 1 -lt $end -and $lines[$i + 1].StartsWith('        ')
            if ($isCode -or $continues) {
                if ($null -eq $current) { $current = @{ Section = $section; Lines = [System.Collections.Generic.List[string]]::new() } }
                $current.Lines.Add($(if ($isCode) { $line.Substring(8) } else { '' }))
            }
            elseif ($null -ne $current) {
                $AboutBlocks.Add($current)
                $current = $null
            }
        }
        function Get-BlockKind {
            param([hashtable] $Block)
            # Prose indented as a list is neither: code starts with a variable, a command or a comment.
            switch -Regex ($Block.Lines[0]) {
                '^\[' { 'systemd'; break }
                '^([A-Z_]+=|[\d*] )' { 'cron'; break }
                '^(\$|&|#|[A-Z][a-z]+-[A-Z][A-Za-z]+)' { 'PowerShell'; break }
                default { 'prose' }
            }
        }
    }

    It 'every powershell block of every cmdlet''s examples parses' {
        # From the sources: in the MAML, an example's code is followed by the output it prints.
        $sources = @(Get-ChildItem -LiteralPath (Join-Path $PSScriptRoot '../en-US') -Filter '*-*.md')
        $sources.Count | Should -Be $module.ExportedCmdlets.Count
        $count = 0
        $problems = foreach ($source in $sources) {
            $text = [System.IO.File]::ReadAllText($source.FullName) -replace '\r\n', "`n"
            $examples = $text.Substring($text.IndexOf("`n## EXAMPLES`n"))
            $examples = $examples.Substring(0, $examples.IndexOf("`n## PARAMETERS`n"))
            foreach ($match in [regex]::Matches($examples, '(?ms)^```powershell\n(.*?)^```')) {
                $count++
                Get-ParseError $match.Groups[1].Value | ForEach-Object { "$($source.Name) '$($match.Groups[1].Value.Split("`n")[0])': $_" }
            }
        }
        $count | Should -BeGreaterThan 40
        $problems | Should -BeNullOrEmpty
    }

    It 'every PowerShell block of about_ModelSecurity parses' {
        $blocks = @($AboutBlocks | Where-Object { (Get-BlockKind $_) -eq 'PowerShell' })
        $blocks.Count | Should -BeGreaterThan 8
        $problems = foreach ($block in $blocks) {
            Get-ParseError ($block.Lines -join "`n") | ForEach-Object { "$($block.Section) '$($block.Lines[0])': $_" }
        }
        $problems | Should -BeNullOrEmpty
    }

    It 'shows the incident-response lookups by content address, repository and Ollama name' {
        $code = @($AboutBlocks | Where-Object Section -EQ 'INCIDENT RESPONSE' | ForEach-Object { $_.Lines }) -join "`n"
        $code | Should -Match 'Where-Object ContentAddress -eq "sha256:'
        $code | Should -Match "Where-Object Name -eq '[\w.-]+/[\w.-]+'"
        $code | Should -Match "Where-Object Name -eq '[\w.-]+:[\w.-]+'"
        $code | Should -Match 'Remove-Item -LiteralPath \$_\.Path -WhatIf'
        $examples = (Get-Help -Name Get-ModelInventory -Examples).examples.example.code -join "`n"
        $examples | Should -Match 'ContentAddress -eq "sha256:\$bad"'
        $examples | Should -Match 'Where-Object Name -eq \$repo'
        $examples | Should -Match "Ecosystem -eq 'Ollama' -and \`$_.Name -eq '[\w.-]+:[\w.-]+'"
        $examples | Should -Match 'Confirm-ModelHash'
    }

    It 'has a Task Scheduler, a cron and a systemd snippet for the scheduled audit, each running the script with pwsh -NoProfile -File' {
        $scheduled = @($AboutBlocks | Where-Object Section -EQ 'SCHEDULED AUDITS')
        $powershell = ($scheduled | Where-Object { (Get-BlockKind $_) -eq 'PowerShell' } | ForEach-Object { $_.Lines }) -join "`n"
        $powershell | Should -Match "New-ScheduledTaskAction -Execute 'pwsh.exe'"
        $powershell | Should -Match '-NoProfile -NonInteractive -File'
        $powershell | Should -Match 'New-ScheduledTaskTrigger -Daily'
        $powershell | Should -Match 'Register-ScheduledTask'

        $cron = @($scheduled | Where-Object { (Get-BlockKind $_) -eq 'cron' })
        $cron.Count | Should -Be 1
        $job = $cron[0].Lines | Where-Object { $_ -notmatch '^[A-Z_]+=' }
        # Five time fields, then the command.
        $job | Should -Match '^(\S+ ){5}pwsh -NoProfile -File \S+/audit\.ps1\b'
        ($job -split ' ')[0..4] | ForEach-Object { $_ | Should -Match '^(\*|\d+)([,/-]\d+)*$' }

        $units = @($scheduled | Where-Object { (Get-BlockKind $_) -eq 'systemd' } | ForEach-Object { $_.Lines -join "`n" })
        $units.Count | Should -Be 2
        $service = $units | Where-Object { $_ -match '\[Service\]' }
        $timer = $units | Where-Object { $_ -match '\[Timer\]' }
        $service | Should -Match 'Type=oneshot'
        ($service -replace '\\\n\s*', '') | Should -Match 'ExecStart=/\S+/pwsh -NoProfile -NonInteractive -File %h/bin/audit\.ps1'
        $timer | Should -Match 'OnCalendar='
        $timer | Should -Match '\[Install\]\s+WantedBy=timers\.target'
        # Every unit line is a [Section], a Key=value or blank.
        foreach ($unit in $units) {
            ($unit -replace '\\\n\s*', '') -split "`n" | Where-Object { $_ -and $_ -notmatch '^\[\w+\]$' -and $_ -notmatch '^[A-Za-z]+=\S' } | Should -BeNullOrEmpty
        }
    }
}
