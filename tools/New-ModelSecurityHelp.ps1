#Requires -Version 7.4
<#
.SYNOPSIS
Builds ModelSecurity's Get-Help content: ModelSecurity.dll-Help.xml (MAML) and about_ModelSecurity.help.txt.

.DESCRIPTION
Imports the staged module and, for every exported cmdlet, merges what the cmdlet really is
(parameter sets, positions, mandatory, pipeline input, aliases, types, wildcards - from
Get-Command) with the prose in <SourcePath>/<Verb-Noun>.md (platyPS 2.0 markdown). Syntax and
parameter metadata always come from the cmdlet, so help cannot drift from the code; the
markdown's SYNTAX section and parameter yaml blocks are ignored.

The about topic is written from the template <SourcePath>/about_ModelSecurity.help.txt: the line
that is exactly {{RULE_CATALOGUE}} is replaced by the rule catalogue generated from rules.json.

The script fails (throws, so a child pwsh exits non-zero) when help and code disagree: an exported
cmdlet without a markdown file, a documented parameter the cmdlet lacks, a parameter without a
"### -Name" section, an empty synopsis or description, no example, an example without code, or an
about topic that breaks the about-topic layout.

Run it in a child pwsh: importing the module loads ModelSecurity.dll into the process.

.PARAMETER ModulePath
Folder that holds the staged ModelSecurity.psd1 and ModelSecurity.dll.

.PARAMETER SourcePath
Folder of the help sources (en-US): one <Verb-Noun>.md per cmdlet and the about topic template.

.PARAMETER RulesPath
The rule catalogue, src/ModelSecurity/Data/rules.json.

.PARAMETER OutputPath
Folder to write ModelSecurity.dll-Help.xml and about_ModelSecurity.help.txt into; created if needed.

.EXAMPLE
dotnet pwsh -NoProfile -File tools/New-ModelSecurityHelp.ps1 -ModulePath output/ModelSecurity -SourcePath en-US -RulesPath src/ModelSecurity/Data/rules.json -OutputPath output/ModelSecurity/en-US
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $ModulePath,

    [Parameter(Mandatory)]
    [string] $SourcePath,

    [Parameter(Mandatory)]
    [string] $RulesPath,

    [Parameter(Mandatory)]
    [string] $OutputPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$ModuleName = 'ModelSecurity'
$AboutTopicName = "about_$ModuleName"
$CataloguePlaceholder = '{{RULE_CATALOGUE}}'
$AboutMaxColumns = 80
$CatalogueColumns = 76

$MamlNamespace = 'http://schemas.microsoft.com/maml/2004/10'
$CommandNamespace = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$DevNamespace = 'http://schemas.microsoft.com/maml/dev/2004/10'
$MSHelpNamespace = 'http://msdn.microsoft.com/mshelp'

# Fence languages of example code; other fences (Output, text) are what the example prints.
$CodeLanguages = @('powershell', 'pwsh', 'ps', 'ps1', '')

# Sections of a platyPS 2.0 cmdlet page, in the order platyPS writes them.
$KnownSections = @('SYNOPSIS', 'SYNTAX', 'ALIASES', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS', 'INPUTS', 'OUTPUTS', 'NOTES', 'RELATED LINKS')

#region Markdown

function Get-MarkdownSection {
    <#
    .SYNOPSIS
    Splits a platyPS page into its front matter, title and "## / ###" sections, ignoring headings inside code fences.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory)]
        [string] $Path
    )

    $lines = [System.IO.File]::ReadAllLines($Path)
    $index = 0
    $frontMatter = [ordered]@{}
    if ($lines.Count -gt 0 -and $lines[0].Trim() -eq '---') {
        $index = 1
        while ($index -lt $lines.Count -and $lines[$index].Trim() -ne '---') {
            if ($lines[$index] -match '^\s*([^:#][^:]*):\s*(.*)$') {
                $frontMatter[$Matches[1].Trim()] = $Matches[2].Trim().Trim("'", '"')
            }
            $index++
        }
        if ($index -ge $lines.Count) {
            throw "${Path}: the YAML front matter has no closing '---' line."
        }
        $index++
    }

    $title = $null
    $sections = [System.Collections.Generic.List[object]]::new()
    $current = $null
    $fence = $null
    for (; $index -lt $lines.Count; $index++) {
        $line = $lines[$index]
        if ($null -ne $fence) {
            if ($line -match '^\s*(`{3,}|~{3,})\s*$' -and $Matches[1][0] -eq $fence[0] -and $Matches[1].Length -ge $fence.Length) {
                $fence = $null
            }
        }
        elseif ($line -match '^\s*(`{3,}|~{3,})') {
            $fence = $Matches[1]
        }
        elseif ($line -match '^#\s+(.+?)\s*#*\s*$') {
            if ($null -ne $title) {
                throw "${Path}:$($index + 1): a page has one '# Verb-Noun' title; found a second one, '$($Matches[1])'."
            }
            $title = $Matches[1]
            continue
        }
        elseif ($line -match '^##\s+(.+?)\s*#*\s*$') {
            $current = @{ Name = $Matches[1].ToUpperInvariant(); Line = $index + 1; Lines = [System.Collections.Generic.List[string]]::new(); Subsections = [System.Collections.Generic.List[object]]::new() }
            $sections.Add($current)
            continue
        }
        elseif ($line -match '^###\s+(.+?)\s*#*\s*$') {
            if ($null -eq $current) {
                throw "${Path}:$($index + 1): '### $($Matches[1])' comes before any '## SECTION' heading."
            }
            $current.Subsections.Add(@{ Name = $Matches[1]; Line = $index + 1; Lines = [System.Collections.Generic.List[string]]::new() })
            continue
        }

        if ($null -eq $current) {
            if ($line.Trim().Length -gt 0) {
                throw "${Path}:$($index + 1): text before the first '## SECTION' heading: '$line'."
            }
            continue
        }

        if ($current.Subsections.Count -gt 0) {
            $current.Subsections[$current.Subsections.Count - 1].Lines.Add($line)
        }
        else {
            $current.Lines.Add($line)
        }
    }

    if ($null -ne $fence) {
        throw "${Path}: a code fence ($fence) is never closed."
    }

    @{ Path = $Path; FrontMatter = $frontMatter; Title = $title; Sections = $sections }
}

function Split-MarkdownBlock {
    <#
    .SYNOPSIS
    Splits markdown lines into prose paragraphs, list blocks and fenced code blocks, in document order.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory)]
        [AllowEmptyCollection()]
        [AllowEmptyString()]
        [string[]] $Line
    )

    $blocks = [System.Collections.Generic.List[hashtable]]::new()
    $prose = [System.Collections.Generic.List[string]]::new()
    $code = $null
    $fence = $null
    $language = $null

    $flushProse = {
        if ($prose.Count -gt 0) {
            $isList = $prose[0] -match '^\s*([-*+]|\d+[.)])\s+'
            $blocks.Add(@{ Kind = $(if ($isList) { 'List' } else { 'Prose' }); Lines = $prose.ToArray() })
            $prose.Clear()
        }
    }

    foreach ($text in $Line) {
        if ($null -ne $fence) {
            if ($text -match '^\s*(`{3,}|~{3,})\s*$' -and $Matches[1][0] -eq $fence[0] -and $Matches[1].Length -ge $fence.Length) {
                $blocks.Add(@{ Kind = 'Code'; Language = $language; Lines = $code.ToArray() })
                $fence = $null
            }
            else {
                $code.Add($text)
            }
            continue
        }

        if ($text -match '^\s*(`{3,}|~{3,})\s*([\w+-]*)') {
            . $flushProse
            $fence = $Matches[1]
            $language = $Matches[2].ToLowerInvariant()
            $code = [System.Collections.Generic.List[string]]::new()
            continue
        }

        if ($text.Trim().Length -eq 0) {
            . $flushProse
            continue
        }

        $prose.Add($text)
    }

    . $flushProse
    $blocks
}

function ConvertFrom-MarkdownInline {
    <#
    .SYNOPSIS
    Turns one line of markdown into console text: links become "text (uri)", escapes are removed.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [AllowEmptyString()]
        [string] $Text
    )

    $result = [regex]::Replace($Text, '\[([^\]]+)\]\(([^)\s]+)\)', {
            param($match)
            $label = $match.Groups[1].Value
            $uri = $match.Groups[2].Value
            if ($uri -match '^https?://') { "$label ($uri)" } else { $label }
        })
    $result = [regex]::Replace($result, '<(https?://[^>]+)>', '$1')
    [regex]::Replace($result, '\\([\\`*_{}\[\]()#+\-.!<>|])', '$1')
}

function ConvertTo-HelpParagraph {
    <#
    .SYNOPSIS
    Turns markdown prose into MAML paragraphs: text is reflowed, lists keep one item a line, code keeps its lines.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [AllowEmptyCollection()]
        [AllowEmptyString()]
        [string[]] $Line,

        # Code blocks in these languages are dropped (platyPS parameter metadata).
        [string[]] $IgnoreLanguage = @()
    )

    foreach ($block in Split-MarkdownBlock -Line $Line) {
        switch ($block.Kind) {
            'Prose' {
                ConvertFrom-MarkdownInline -Text ((@($block.Lines) | ForEach-Object { $_.Trim() }) -join ' ')
            }
            'List' {
                $items = [System.Collections.Generic.List[string]]::new()
                foreach ($text in $block.Lines) {
                    if ($text -match '^\s*([-*+]|\d+[.)])\s+(.*)$') {
                        $marker = if ($Matches[1] -match '^\d') { $Matches[1] } else { '-' }
                        $items.Add("$marker $($Matches[2].Trim())")
                    }
                    elseif ($items.Count -gt 0) {
                        $items[$items.Count - 1] += ' ' + $text.Trim()
                    }
                }
                (@($items) | ForEach-Object { ConvertFrom-MarkdownInline -Text $_ }) -join "`n"
            }
            'Code' {
                if ($block.Language -notin $IgnoreLanguage -and $block.Lines.Count -gt 0) {
                    (@($block.Lines) | ForEach-Object { '    ' + $_ }) -join "`n"
                }
            }
        }
    }
}

function Read-CommandHelpSource {
    <#
    .SYNOPSIS
    Reads one platyPS cmdlet page into the prose the MAML needs, and reports anything malformed.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory)]
        [string] $Path,

        [Parameter(Mandatory)]
        [string] $CommandName,

        [Parameter(Mandatory)]
        [AllowEmptyCollection()]
        [System.Collections.Generic.List[string]] $Problems
    )

    $page = Get-MarkdownSection -Path $Path
    $fileName = [System.IO.Path]::GetFileName($Path)
    $help = @{
        Synopsis      = @()
        Description   = @()
        Examples      = [System.Collections.Generic.List[hashtable]]::new()
        Parameters    = [ordered]@{}
        Inputs        = [System.Collections.Generic.List[hashtable]]::new()
        Outputs       = [System.Collections.Generic.List[hashtable]]::new()
        Notes         = @()
        Links         = [System.Collections.Generic.List[hashtable]]::new()
        OnlineVersion = $page.FrontMatter['online version']
    }

    if ($page.Title -ne $CommandName) {
        $Problems.Add("${fileName}: the title must be '# $CommandName', found '# $($page.Title)'.")
    }

    $seen = @{}
    foreach ($section in $page.Sections) {
        if ($section.Name -notin $KnownSections) {
            $Problems.Add("${fileName}:$($section.Line): unknown section '## $($section.Name)'; platyPS sections are $($KnownSections -join ', ').")
            continue
        }
        if ($seen.ContainsKey($section.Name)) {
            $Problems.Add("${fileName}:$($section.Line): section '## $($section.Name)' appears twice.")
            continue
        }
        $seen[$section.Name] = $true

        switch ($section.Name) {
            'SYNOPSIS' {
                $help.Synopsis = @(ConvertTo-HelpParagraph -Line $section.Lines)
            }
            'DESCRIPTION' {
                $help.Description = @(ConvertTo-HelpParagraph -Line $section.Lines)
            }
            'EXAMPLES' {
                foreach ($example in $section.Subsections) {
                    $code = [System.Collections.Generic.List[string]]::new()
                    $remarks = [System.Collections.Generic.List[string]]::new()
                    $blocks = @(Split-MarkdownBlock -Line $example.Lines)
                    $hasCommand = $false
                    foreach ($block in $blocks) {
                        if ($block.Kind -eq 'Code') {
                            # PowerShell blocks are the example; other blocks (```Output) show what it prints.
                            $hasCommand = $hasCommand -or ($block.Language -in $CodeLanguages -and ($block.Lines -join '').Trim().Length -gt 0)
                            if ($code.Count -gt 0) { $code.Add('') }
                            $code.AddRange([string[]]$block.Lines)
                        }
                    }
                    # Remarks are the prose around the code, in order, as paragraphs.
                    $proseLines = foreach ($block in $blocks) {
                        if ($block.Kind -ne 'Code') { $block.Lines; '' }
                    }
                    if ($null -ne $proseLines) {
                        $remarks.AddRange([string[]]@(ConvertTo-HelpParagraph -Line @($proseLines)))
                    }
                    if (-not $hasCommand) {
                        $Problems.Add("${fileName}:$($example.Line): example '$($example.Name)' has no ``````powershell code block.")
                    }
                    if ($example.Name -notmatch '^Example \d+') {
                        $Problems.Add("${fileName}:$($example.Line): example headings are '### Example N: title', found '### $($example.Name)'.")
                    }
                    $help.Examples.Add(@{ Title = $example.Name; Code = ($code -join "`n"); Remarks = $remarks.ToArray() })
                }
            }
            'PARAMETERS' {
                foreach ($parameter in $section.Subsections) {
                    if ($parameter.Name -eq 'CommonParameters') {
                        continue
                    }
                    if ($parameter.Name -notmatch '^-(\w+)$') {
                        $Problems.Add("${fileName}:$($parameter.Line): parameter headings are '### -Name', found '### $($parameter.Name)'.")
                        continue
                    }
                    $name = $Matches[1]
                    if ($help.Parameters.Contains($name)) {
                        $Problems.Add("${fileName}:$($parameter.Line): parameter -$name is documented twice.")
                        continue
                    }
                    $help.Parameters[$name] = @{ Line = $parameter.Line; Description = @(ConvertTo-HelpParagraph -Line $parameter.Lines -IgnoreLanguage 'yaml', 'yml') }
                }
            }
            { $_ -in 'INPUTS', 'OUTPUTS' } {
                $target = $help[$(if ($_ -eq 'INPUTS') { 'Inputs' } else { 'Outputs' })]
                foreach ($type in $section.Subsections) {
                    $target.Add(@{ Type = $type.Name.Trim('`'); Description = @(ConvertTo-HelpParagraph -Line $type.Lines) })
                }
            }
            'NOTES' {
                $noteLines = @($section.Lines) + @($section.Subsections | ForEach-Object { ''; $_.Name; ''; $_.Lines })
                $help.Notes = @(ConvertTo-HelpParagraph -Line $noteLines)
            }
            'RELATED LINKS' {
                foreach ($text in $section.Lines) {
                    foreach ($match in [regex]::Matches($text, '\[([^\]]+)\]\(([^)]*)\)')) {
                        $help.Links.Add(@{ Text = $match.Groups[1].Value; Uri = $match.Groups[2].Value.Trim() })
                    }
                }
            }
        }
    }

    if (($help.Synopsis -join '').Trim().Length -eq 0) {
        $Problems.Add("${fileName}: '## SYNOPSIS' is missing or empty.")
    }
    if (($help.Description -join '').Trim().Length -eq 0) {
        $Problems.Add("${fileName}: '## DESCRIPTION' is missing or empty.")
    }
    if ($help.Examples.Count -eq 0) {
        $Problems.Add("${fileName}: '## EXAMPLES' has no '### Example N: title' example.")
    }
    foreach ($text in @($help.Synopsis) + @($help.Description)) {
        if ($text -match '\{\{.*\}\}') {
            $Problems.Add("${fileName}: platyPS placeholder text left in: '$text'.")
        }
    }

    $help
}

#endregion

#region Cmdlet metadata

function Get-CommandHelpMetadata {
    <#
    .SYNOPSIS
    What Get-Help should say about a cmdlet's syntax and parameters, read from the live cmdlet.
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param(
        [Parameter(Mandatory)]
        [System.Management.Automation.CmdletInfo] $Command
    )

    $common = [System.Collections.Generic.HashSet[string]]::new(
        [string[]]([System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters),
        [System.StringComparer]::OrdinalIgnoreCase)

    $parameters = [ordered]@{}
    foreach ($set in $Command.ParameterSets) {
        foreach ($parameter in $set.Parameters) {
            if ($common.Contains($parameter.Name)) {
                continue
            }
            if (-not $parameters.Contains($parameter.Name)) {
                $metadata = $Command.Parameters[$parameter.Name]
                $parameters[$parameter.Name] = @{
                    Name              = $parameter.Name
                    Type              = $parameter.ParameterType
                    IsSwitch          = $parameter.ParameterType -eq [System.Management.Automation.SwitchParameter]
                    Aliases           = @($metadata.Aliases)
                    SupportsWildcards = [bool]@($metadata.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] }).Count
                    Sets              = [System.Collections.Generic.List[object]]::new()
                }
            }
            $parameters[$parameter.Name].Sets.Add($parameter)
        }
    }

    # The default set first, as Get-Command -Syntax and platyPS show it.
    $sets = @($Command.ParameterSets | Sort-Object -Property @{ Expression = { -not $_.IsDefault } }, @{ Expression = { [array]::IndexOf(@($Command.ParameterSets), $_) } })
    $syntax = foreach ($set in $sets) {
        $setParameters = @($set.Parameters | Where-Object { -not $common.Contains($_.Name) })
        # Positional by position, then mandatory named, then optional named, then switches.
        $ordered = $setParameters | Sort-Object -Property @(
            @{ Expression = { if ($_.Position -ge 0) { 0 } elseif ($_.IsMandatory) { 1 } elseif ($_.ParameterType -ne [System.Management.Automation.SwitchParameter]) { 2 } else { 3 } } },
            @{ Expression = { if ($_.Position -ge 0) { $_.Position } else { 0 } } },
            @{ Expression = { [array]::IndexOf($setParameters, $_) } })
        @{ Name = $set.Name; Parameters = @($ordered) }
    }

    @{ Parameters = $parameters; Syntax = @($syntax) }
}

function Get-PipelineInputText {
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [object[]] $Sets
    )

    $kinds = @(
        if (@($Sets | Where-Object ValueFromPipeline).Count) { 'ByValue' }
        if (@($Sets | Where-Object ValueFromPipelineByPropertyName).Count) { 'ByPropertyName' }
    )
    if ($kinds.Count -eq 0) { 'False' } else { "True ($($kinds -join ', '))" }
}

function Get-TypeDisplayName {
    <#
    .SYNOPSIS
    The short type name Get-Help shows in syntax (String[], SwitchParameter, IModelFileReference[]).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [type] $Type
    )

    if ($Type.IsGenericType) {
        $arguments = ($Type.GetGenericArguments() | ForEach-Object { Get-TypeDisplayName -Type $_ }) -join ', '
        return '{0}[{1}]' -f ($Type.Name -replace '`\d+$'), $arguments
    }
    $Type.Name
}

#endregion

#region MAML

function Write-MamlPara {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [System.Xml.XmlWriter] $Writer,

        [Parameter(Mandatory)]
        [string] $Prefix,

        [Parameter(Mandatory)]
        [string] $Element,

        [Parameter(Mandatory)]
        [AllowEmptyCollection()]
        [AllowEmptyString()]
        [string[]] $Paragraph
    )

    $namespace = if ($Prefix -eq 'dev') { $DevNamespace } elseif ($Prefix -eq 'command') { $CommandNamespace } else { $MamlNamespace }
    $Writer.WriteStartElement($Prefix, $Element, $namespace)
    $paragraphs = @($Paragraph | Where-Object { $_.Trim().Length -gt 0 })
    if ($paragraphs.Count -eq 0) {
        $Writer.WriteElementString('maml', 'para', $MamlNamespace, '')
    }
    foreach ($text in $paragraphs) {
        $Writer.WriteElementString('maml', 'para', $MamlNamespace, $text)
    }
    $Writer.WriteEndElement()
}

function Write-MamlParameter {
    <#
    .SYNOPSIS
    Writes one command:parameter, for the syntax block (per set) or the parameters block (whole cmdlet).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [System.Xml.XmlWriter] $Writer,

        [Parameter(Mandatory)]
        [hashtable] $Parameter,

        [AllowEmptyCollection()]
        [string[]] $Description = @(),

        # The parameter as it is in one set (syntax item); without it, the parameter across all its sets.
        [System.Management.Automation.CommandParameterInfo] $InSet
    )

    $sets = if ($InSet) { @($InSet) } else { @($Parameter.Sets) }
    $required = @($sets | Where-Object IsMandatory).Count -gt 0
    $positions = @($sets | Where-Object { $_.Position -ge 0 } | ForEach-Object Position | Sort-Object -Unique)
    $position = if ($positions.Count -gt 0) { [string]$positions[0] } else { 'named' }
    $aliases = if ($Parameter.Aliases.Count -gt 0) { $Parameter.Aliases -join ', ' } else { 'none' }
    $variableLength = $Parameter.Type.IsArray

    $Writer.WriteStartElement('command', 'parameter', $CommandNamespace)
    $Writer.WriteAttributeString('required', $required.ToString().ToLowerInvariant())
    $Writer.WriteAttributeString('variableLength', $variableLength.ToString().ToLowerInvariant())
    $Writer.WriteAttributeString('globbing', $Parameter.SupportsWildcards.ToString().ToLowerInvariant())
    $Writer.WriteAttributeString('pipelineInput', (Get-PipelineInputText -Sets $sets))
    $Writer.WriteAttributeString('position', $position)
    $Writer.WriteAttributeString('aliases', $aliases)

    $Writer.WriteElementString('maml', 'name', $MamlNamespace, $Parameter.Name)
    # Get-Help reads descriptions from command:parameters only; syntax items carry none (as platyPS writes them).
    if (-not $InSet) {
        Write-MamlPara -Writer $Writer -Prefix 'maml' -Element 'description' -Paragraph $Description
    }
    # A switch has no value: without parameterValue Get-Help shows [-Quiet] rather than [-Quiet <SwitchParameter>].
    if (-not $Parameter.IsSwitch -or -not $InSet) {
        $Writer.WriteStartElement('command', 'parameterValue', $CommandNamespace)
        $Writer.WriteAttributeString('required', (-not $Parameter.IsSwitch).ToString().ToLowerInvariant())
        $Writer.WriteAttributeString('variableLength', $variableLength.ToString().ToLowerInvariant())
        $Writer.WriteString((Get-TypeDisplayName -Type $Parameter.Type))
        $Writer.WriteEndElement()
    }
    $Writer.WriteStartElement('dev', 'type', $DevNamespace)
    $Writer.WriteElementString('maml', 'name', $MamlNamespace, $Parameter.Type.FullName)
    $Writer.WriteElementString('maml', 'uri', $MamlNamespace, '')
    $Writer.WriteEndElement()
    $Writer.WriteElementString('dev', 'defaultValue', $DevNamespace, $(if ($Parameter.IsSwitch) { 'False' } else { 'None' }))
    $Writer.WriteEndElement()
}

function Write-MamlCommand {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [System.Xml.XmlWriter] $Writer,

        [Parameter(Mandatory)]
        [System.Management.Automation.CmdletInfo] $Command,

        [Parameter(Mandatory)]
        [hashtable] $Metadata,

        [Parameter(Mandatory)]
        [hashtable] $Help
    )

    $Writer.WriteStartElement('command', 'command', $CommandNamespace)
    $Writer.WriteAttributeString('xmlns', 'maml', $null, $MamlNamespace)
    $Writer.WriteAttributeString('xmlns', 'command', $null, $CommandNamespace)
    $Writer.WriteAttributeString('xmlns', 'dev', $null, $DevNamespace)
    $Writer.WriteAttributeString('xmlns', 'MSHelp', $null, $MSHelpNamespace)

    $Writer.WriteStartElement('command', 'details', $CommandNamespace)
    $Writer.WriteElementString('command', 'name', $CommandNamespace, $Command.Name)
    $Writer.WriteElementString('command', 'verb', $CommandNamespace, $Command.Verb)
    $Writer.WriteElementString('command', 'noun', $CommandNamespace, $Command.Noun)
    Write-MamlPara -Writer $Writer -Prefix 'maml' -Element 'description' -Paragraph $Help.Synopsis
    $Writer.WriteEndElement()

    Write-MamlPara -Writer $Writer -Prefix 'maml' -Element 'description' -Paragraph $Help.Description

    $Writer.WriteStartElement('command', 'syntax', $CommandNamespace)
    foreach ($item in $Metadata.Syntax) {
        $Writer.WriteStartElement('command', 'syntaxItem', $CommandNamespace)
        $Writer.WriteElementString('maml', 'name', $MamlNamespace, $Command.Name)
        foreach ($parameter in $item.Parameters) {
            Write-MamlParameter -Writer $Writer -Parameter $Metadata.Parameters[$parameter.Name] -InSet $parameter
        }
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'parameters', $CommandNamespace)
    # In the order the page documents them (platyPS pages sort them by name).
    foreach ($name in $Help.Parameters.Keys) {
        Write-MamlParameter -Writer $Writer -Parameter $Metadata.Parameters[$name] -Description $Help.Parameters[$name].Description
    }
    $Writer.WriteEndElement()

    foreach ($kind in @(
            @{ List = 'inputTypes'; Item = 'inputType'; Values = $Help.Inputs },
            @{ List = 'returnValues'; Item = 'returnValue'; Values = $Help.Outputs })) {
        $Writer.WriteStartElement('command', $kind.List, $CommandNamespace)
        foreach ($value in $kind.Values) {
            $Writer.WriteStartElement('command', $kind.Item, $CommandNamespace)
            $Writer.WriteStartElement('dev', 'type', $DevNamespace)
            $Writer.WriteElementString('maml', 'name', $MamlNamespace, $value.Type)
            $Writer.WriteElementString('maml', 'uri', $MamlNamespace, '')
            $Writer.WriteEndElement()
            Write-MamlPara -Writer $Writer -Prefix 'maml' -Element 'description' -Paragraph $value.Description
            $Writer.WriteEndElement()
        }
        $Writer.WriteEndElement()
    }

    $Writer.WriteStartElement('maml', 'alertSet', $MamlNamespace)
    if (@($Help.Notes).Count -gt 0) {
        Write-MamlPara -Writer $Writer -Prefix 'maml' -Element 'alert' -Paragraph $Help.Notes
    }
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'examples', $CommandNamespace)
    foreach ($example in $Help.Examples) {
        $Writer.WriteStartElement('command', 'example', $CommandNamespace)
        $Writer.WriteElementString('maml', 'title', $MamlNamespace, "--------- $($example.Title) ---------")
        $Writer.WriteElementString('dev', 'code', $DevNamespace, $example.Code)
        # Get-Help prints the next example's title right under the last remark; an empty para is the blank line between.
        $Writer.WriteStartElement('dev', 'remarks', $DevNamespace)
        foreach ($text in @($example.Remarks) + '') {
            $Writer.WriteElementString('maml', 'para', $MamlNamespace, $text)
        }
        $Writer.WriteEndElement()
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'relatedLinks', $CommandNamespace)
    $links = @($Help.Links)
    if ($Help.OnlineVersion) {
        $links = @(@{ Text = 'Online Version:'; Uri = $Help.OnlineVersion }) + $links
    }
    foreach ($link in $links) {
        $Writer.WriteStartElement('maml', 'navigationLink', $MamlNamespace)
        $Writer.WriteElementString('maml', 'linkText', $MamlNamespace, $link.Text)
        $Writer.WriteElementString('maml', 'uri', $MamlNamespace, $link.Uri)
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteEndElement()
}

#endregion

#region About topic

function Format-WrappedText {
    <#
    .SYNOPSIS
    Word-wraps text so that no line, indent included, is longer than Width (a longer single word stays whole).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [AllowEmptyString()]
        [string] $Text,

        [Parameter(Mandatory)]
        [int] $Indent,

        [Parameter(Mandatory)]
        [int] $Width
    )

    $prefix = ' ' * $Indent
    $line = ''
    foreach ($word in ($Text -split '\s+' | Where-Object { $_ })) {
        if ($line.Length -gt 0 -and $prefix.Length + $line.Length + 1 + $word.Length -gt $Width) {
            $prefix + $line
            $line = $word
        }
        elseif ($line.Length -gt 0) {
            $line += ' ' + $word
        }
        else {
            $line = $word
        }
    }
    if ($line.Length -gt 0) {
        $prefix + $line
    }
}

function Get-RuleCatalogueText {
    <#
    .SYNOPSIS
    The rule catalogue as about-topic text, from rules.json (the file the module embeds).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [string] $Path
    )

    $catalogue = Get-Content -LiteralPath $Path -Raw -Encoding utf8 | ConvertFrom-Json
    # Ordinal, as RuleCatalogue.All orders them.
    $rules = [System.Collections.Generic.List[object]]::new([object[]]@($catalogue.rules))
    $rules.Sort([System.Comparison[object]] { param($left, $right) [string]::CompareOrdinal($left.id, $right.id) })
    if ($rules.Count -eq 0) {
        throw "${Path}: the rule catalogue has no rules."
    }

    $first = $true
    foreach ($rule in $rules) {
        foreach ($field in 'id', 'severity', 'verdict', 'title', 'description') {
            if (-not $rule.PSObject.Properties[$field] -or [string]::IsNullOrWhiteSpace($rule.$field)) {
                throw "${Path}: rule '$($rule.id)' has no '$field'."
            }
        }
        if (-not $first) { '' }
        $first = $false
        $heading = "    $($rule.id)  $($rule.title)"
        if ($heading.Length -le $CatalogueColumns) { $heading } else { Format-WrappedText -Text $heading -Indent 4 -Width $CatalogueColumns }
        $verdict = if ($rule.verdict -eq 'Clean') { 'Clean (informs only)' } else { $rule.verdict }
        '        Severity: {0,-10}  Verdict: {1}' -f $rule.severity, $verdict
        ''
        Format-WrappedText -Text $rule.description -Indent 8 -Width $CatalogueColumns
        $references = @(if ($rule.PSObject.Properties['references']) { $rule.references | Where-Object { $_ } })
        ''
        Format-WrappedText -Text "References: $(if ($references.Count) { $references -join ', ' } else { 'none' })" -Indent 8 -Width $CatalogueColumns
    }
}

function New-AboutTopic {
    <#
    .SYNOPSIS
    Fills the about topic template's {{RULE_CATALOGUE}} line and checks the about-topic layout.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [string] $TemplatePath,

        [Parameter(Mandatory)]
        [string] $RulesPath,

        [Parameter(Mandatory)]
        [AllowEmptyCollection()]
        [System.Collections.Generic.List[string]] $Problems
    )

    $fileName = [System.IO.Path]::GetFileName($TemplatePath)
    $template = [System.IO.File]::ReadAllLines($TemplatePath)
    $placeholders = @($template | Where-Object { $_ -ceq $CataloguePlaceholder }).Count
    if ($placeholders -ne 1) {
        $Problems.Add("${fileName}: needs exactly one line that is '$CataloguePlaceholder'; found $placeholders.")
    }

    $lines = foreach ($line in $template) {
        if ($line -ceq $CataloguePlaceholder) {
            Get-RuleCatalogueText -Path $RulesPath
        }
        else {
            $line.TrimEnd()
        }
    }
    $lines = @($lines)

    if ($lines.Count -lt 4 -or $lines[0] -cne 'TOPIC' -or $lines[1].Trim() -cne $AboutTopicName -or $lines[1] -notmatch '^\s+') {
        $Problems.Add("${fileName}: an about topic starts with 'TOPIC' and the indented name '$AboutTopicName' on the next line.")
    }
    foreach ($heading in 'SHORT DESCRIPTION', 'LONG DESCRIPTION', 'SEE ALSO') {
        if ($lines -cnotcontains $heading) {
            $Problems.Add("${fileName}: the about topic has no '$heading' heading.")
        }
    }
    for ($i = 0; $i -lt $lines.Count; $i++) {
        if ($lines[$i].Length -gt $AboutMaxColumns) {
            $Problems.Add("${fileName}: generated line $($i + 1) is $($lines[$i].Length) columns; about topics keep to $AboutMaxColumns.")
        }
        if ($lines[$i] -match '\t') {
            $Problems.Add("${fileName}: generated line $($i + 1) has a tab; indent with spaces.")
        }
    }

    ($lines -join "`n") + "`n"
}

#endregion

$resolve = { param($path) $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($path) }
$ModulePath = & $resolve $ModulePath
$SourcePath = & $resolve $SourcePath
$RulesPath = & $resolve $RulesPath
$OutputPath = & $resolve $OutputPath

$manifestPath = Join-Path -Path $ModulePath -ChildPath "$ModuleName.psd1"
foreach ($required in @($manifestPath, $RulesPath)) {
    if (-not (Test-Path -LiteralPath $required -PathType Leaf)) {
        throw "Cannot find '$required'."
    }
}
if (-not (Test-Path -LiteralPath $SourcePath -PathType Container)) {
    throw "Cannot find the help source folder '$SourcePath'."
}

$manifest = Import-PowerShellDataFile -LiteralPath $manifestPath
$helpFileName = "$($manifest.RootModule)-Help.xml"
$module = Import-Module -Name $manifestPath -PassThru -Force
$commands = @($module.ExportedCmdlets.Values | Sort-Object -Property Name)
if ($commands.Count -eq 0) {
    throw "$ModuleName exports no cmdlets; nothing to document."
}

$problems = [System.Collections.Generic.List[string]]::new()
$documented = [System.Collections.Generic.List[object]]::new()
foreach ($command in $commands) {
    $markdownPath = Join-Path -Path $SourcePath -ChildPath "$($command.Name).md"
    if (-not (Test-Path -LiteralPath $markdownPath -PathType Leaf)) {
        $problems.Add("$($command.Name) is exported but has no help source '$markdownPath'.")
        continue
    }

    $metadata = Get-CommandHelpMetadata -Command $command
    $help = Read-CommandHelpSource -Path $markdownPath -CommandName $command.Name -Problems $problems
    foreach ($name in $help.Parameters.Keys) {
        if (-not $metadata.Parameters.Contains($name)) {
            $problems.Add("$($command.Name).md:$($help.Parameters[$name].Line): documents -$name, which $($command.Name) does not have.")
        }
        elseif ($metadata.Parameters[$name].Name -cne $name) {
            $problems.Add("$($command.Name).md:$($help.Parameters[$name].Line): write -$($metadata.Parameters[$name].Name) as the cmdlet spells it, not -$name.")
        }
    }
    foreach ($name in $metadata.Parameters.Keys) {
        if (-not $help.Parameters.Contains($name)) {
            $problems.Add("$($command.Name).md: parameter -$name has no '### -$name' section under '## PARAMETERS'.")
        }
        elseif (($help.Parameters[$name].Description -join '').Trim().Length -eq 0) {
            $problems.Add("$($command.Name).md:$($help.Parameters[$name].Line): '### -$name' has no description.")
        }
    }
    $documented.Add(@{ Command = $command; Metadata = $metadata; Help = $help })
}

$commandNames = @($commands | ForEach-Object Name)
foreach ($page in Get-ChildItem -LiteralPath $SourcePath -Filter '*-*.md' -File) {
    if ($page.BaseName -notin $commandNames) {
        $problems.Add("$($page.Name) documents '$($page.BaseName)', which $ModuleName does not export (renamed or not exported yet?).")
    }
}

$templatePath = Join-Path -Path $SourcePath -ChildPath "$AboutTopicName.help.txt"
$aboutText = $null
if (Test-Path -LiteralPath $templatePath -PathType Leaf) {
    $aboutText = New-AboutTopic -TemplatePath $templatePath -RulesPath $RulesPath -Problems $problems
}
else {
    $problems.Add("The about topic template '$templatePath' is missing.")
}

if ($problems.Count -gt 0) {
    # One error record per problem (stderr in a child pwsh), then one terminating error for the exit code.
    foreach ($problem in $problems) {
        Write-Error -Message $problem -Category InvalidData -ErrorId 'HelpOutOfStep' -ErrorAction Continue
    }
    throw "Help for $ModuleName is not in step with the module: $($problems.Count) problem(s), listed above. Nothing was written."
}

$null = New-Item -Path $OutputPath -ItemType Directory -Force
$encoding = [System.Text.UTF8Encoding]::new($false)

$settings = [System.Xml.XmlWriterSettings]::new()
$settings.Encoding = $encoding
$settings.Indent = $true
$settings.IndentChars = '  '
$settings.NewLineChars = "`n"
$settings.NewLineHandling = [System.Xml.NewLineHandling]::Replace
$mamlPath = Join-Path -Path $OutputPath -ChildPath $helpFileName
$writer = [System.Xml.XmlWriter]::Create($mamlPath, $settings)
try {
    $writer.WriteStartDocument()
    $writer.WriteStartElement('helpItems', 'http://msh')
    $writer.WriteAttributeString('schema', 'maml')
    foreach ($entry in $documented) {
        Write-MamlCommand -Writer $writer -Command $entry.Command -Metadata $entry.Metadata -Help $entry.Help
    }
    $writer.WriteEndElement()
    $writer.WriteEndDocument()
}
finally {
    $writer.Dispose()
}

$aboutPath = Join-Path -Path $OutputPath -ChildPath "$AboutTopicName.help.txt"
[System.IO.File]::WriteAllText($aboutPath, $aboutText, $encoding)

# Nothing on the output stream: the build reads this child's stdout.
Write-Verbose "Wrote $mamlPath ($($commandNames -join ', ')) and $aboutPath."
