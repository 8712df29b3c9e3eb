# Shared by the Pester tests: where the built module is, and how to start a fresh pwsh.
$ErrorActionPreference = 'Stop'

$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '..')).Path
$script:ModuleManifest = Join-Path $script:RepoRoot 'output/ModelSecurity/ModelSecurity.psd1'
$script:CorpusRoot = Join-Path (Split-Path $script:RepoRoot) 'shared/corpus'
. (Join-Path $script:RepoRoot 'tools/Pwsh.ps1')

if (-not (Test-Path -LiteralPath $script:ModuleManifest)) {
    throw "The module is not built: run 'dotnet pwsh -NoProfile -File ./build.ps1 -Task Build' first."
}

function Invoke-ChildPwsh {
    # Runs a command in a fresh pwsh and returns its output lines; $LASTEXITCODE is the child's.
    param(
        [Parameter(Mandatory)][string] $Command,
        [hashtable] $Environment = @{}
    )
    $pwsh = @(Get-PwshCommand)
    $saved = @{}
    foreach ($name in $Environment.Keys) {
        $saved[$name] = [Environment]::GetEnvironmentVariable($name)
        [Environment]::SetEnvironmentVariable($name, $Environment[$name])
    }
    try {
        $arguments = @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', $Command)
        & $pwsh[0] @arguments 2>&1 | ForEach-Object { "$_" }
    }
    finally {
        foreach ($name in $saved.Keys) {
            [Environment]::SetEnvironmentVariable($name, $saved[$name])
        }
    }
}

function New-TestFile {
    # Writes bytes (or ASCII text) to a file and returns its FileInfo.
    param([Parameter(Mandatory)][string] $Path, [byte[]] $Bytes, [string] $Text)
    $parent = Split-Path -Parent $Path
    if (-not (Test-Path -LiteralPath $parent)) {
        New-Item -ItemType Directory -Path $parent | Out-Null
    }
    if ($PSBoundParameters.ContainsKey('Text')) {
        $Bytes = [Text.Encoding]::ASCII.GetBytes($Text)
    }
    [IO.File]::WriteAllBytes($Path, $Bytes)
    Get-Item -LiteralPath $Path
}

function Get-GgufBytes {
    # A minimal GGUF v3 header: no tensors, no metadata.
    $stream = [IO.MemoryStream]::new()
    $writer = [IO.BinaryWriter]::new($stream)
    $writer.Write([Text.Encoding]::ASCII.GetBytes('GGUF'))
    $writer.Write([uint32]3)
    $writer.Write([uint64]0)
    $writer.Write([uint64]0)
    $writer.Flush()
    $stream.ToArray()
}

function Get-OnnxBytes {
    # A minimal ONNX ModelProto (ir_version 8, one Relu node, opset 17).
    [Convert]::FromBase64String('CAgSB3B5dG9yY2gaBTIuMS4wOhoKDAoBeBIBeSIEUmVsdRIKbWFpbl9ncmFwaEICEBE=')
}

function Get-PngBytes {
    # A 1x1 PNG signature and IHDR: a format without a reader.
    [byte[]](0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89)
}

function Get-ElfBytes {
    $bytes = [byte[]]::new(64)
    ([byte[]](0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0)).CopyTo($bytes, 0)
    $bytes[16] = 2
    $bytes
}
