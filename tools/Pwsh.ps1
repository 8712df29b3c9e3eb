# Dot-sourced by build.ps1 and tests/common.ps1: how to start a fresh copy of the running PowerShell.

function Get-PwshCommand {
    # This pwsh as a command line for a child process: under the dotnet tool the process is
    # 'dotnet' and pwsh.dll is its first argument.
    $processPath = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($processPath) -eq 'dotnet') {
        return @($processPath, (Join-Path $PSHOME 'pwsh.dll'))
    }
    return @($processPath)
}
