#Requires -Version 7.4
<#
.SYNOPSIS
    Packs the staged module into a Gallery-ready .nupkg, offline (PSResourceGet's Compress-PSResource).
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)][string] $ModulePath,
    [Parameter(Mandatory)][string] $DestinationPath
)

$ErrorActionPreference = 'Stop'
Import-Module Microsoft.PowerShell.PSResourceGet
Compress-PSResource -Path $ModulePath -DestinationPath $DestinationPath
