#Requires -Version 7.4
<#
.SYNOPSIS
    Checks the staged module the way the Gallery and a user's Import-Module will: Test-ModuleManifest,
    import, every declared cmdlet exported, and a format view for every output type.
#>
[CmdletBinding()]
param([Parameter(Mandatory)][string] $ModulePath)

$ErrorActionPreference = 'Stop'
$manifest = Test-ModuleManifest -Path $ModulePath
$module = Import-Module -Name $ModulePath -PassThru -Force
$declared = @((Import-PowerShellDataFile -LiteralPath $ModulePath).CmdletsToExport)
$missing = @($declared | Where-Object { $_ -notin $module.ExportedCmdlets.Keys })
if ($missing) {
    throw "Declared but not exported: $($missing -join ', ')"
}
foreach ($typeName in 'ModelSecurity.Analysis.ModelScanResult', 'ModelSecurity.Analysis.ModelFinding') {
    if (-not (Get-FormatData -TypeName $typeName)) {
        throw "No format view for $typeName."
    }
}
'{0} {1}: manifest valid, {2} cmdlet(s) exported.' -f $manifest.Name, $manifest.Version, $module.ExportedCmdlets.Count
