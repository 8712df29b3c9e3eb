#Requires -Version 7.4
<#
.SYNOPSIS
    Measures how much of a ~4 GiB PyTorch zip checkpoint Test-ModelFile reads: it must stay under
    16 MiB however large the tensor data is.

.DESCRIPTION
    Writes, byte by byte, a sparse zip laid out as torch.save writes one (STORED members under
    archive/, each member's data aligned to 64 bytes with an "FB" extra field):
        archive/data.pkl               a protocol-2 pickle of an OrderedDict state dict holding one
                                       float32 tensor (torch._utils._rebuild_tensor_v2 over a
                                       BINPERSID ('storage', torch.FloatStorage, '0', 'cpu', numel))
        archive/byteorder              "little"
        archive/data/0                 the tensor's bytes: -DataBytes (default 0xFFFF0000), a hole
        archive/version                "3\n"
        archive/.data/serialization_id
    The data of archive/data/0 is never written: the script seeks past it, so the file takes a few
    KiB of disk on file systems with sparse files (ext4, xfs, btrfs, APFS, tmpfs; on Windows the
    script asks fsutil to mark the file sparse first). Its CRC field is 0: torch does not check it
    and the scanner must not read the data to compute it.

    The archive is plain zip32: the data stays just under 4 GiB (0xFFFF0000 bytes) so every size and
    offset fits 32 bits and no ZIP64 record is needed.

    Then runs Test-ModelFile on it once and prints the length, the bytes read, the verdict and the
    time taken. Exits with 1 when 16 MiB or more were read. The file is deleted unless -KeepFile.
    Not run in CI: run it after `./build.ps1 -Task Build`.

.PARAMETER DataBytes
    Size of the tensor data (a multiple of 4, float32 elements); at most 0xFFFF0000.

.PARAMETER WorkPath
    Folder in which a temporary folder for the checkpoint is made.

.PARAMETER KeepFile
    Keep the checkpoint and print where it is.

.EXAMPLE
    dotnet pwsh -NoProfile -File ./bench/Measure-LargeTorchZip.ps1
#>
[CmdletBinding()]
param(
    [ValidateRange(4, 0xFFFF0000L)]
    [long] $DataBytes = 0xFFFF0000L,
    [string] $WorkPath = [IO.Path]::GetTempPath(),
    [switch] $KeepFile
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$MaxBytesRead = 16MB
$Alignment = 64

if ($DataBytes % 4 -ne 0) {
    throw "-DataBytes must be a multiple of 4 (float32 elements); $DataBytes is not."
}

$root = Split-Path $PSScriptRoot
$manifest = Join-Path $root 'output/ModelSecurity/ModelSecurity.psd1'
if (-not (Test-Path -LiteralPath $manifest -PathType Leaf)) {
    throw "The module is not built ($manifest is missing). Run: dotnet pwsh -NoProfile -File ./build.ps1 -Task Build"
}
Import-Module $manifest -Force

$script:CrcTable = [uint32[]]::new(256)
for ($i = 0; $i -lt 256; $i++) {
    $c = [uint32]$i
    for ($k = 0; $k -lt 8; $k++) {
        $c = if ($c -band 1) { [uint32](0xEDB88320u -bxor ($c -shr 1)) } else { [uint32]($c -shr 1) }
    }
    $script:CrcTable[$i] = $c
}

function Get-Crc32 {
    [CmdletBinding()]
    [OutputType([uint32])]
    param([byte[]] $Bytes)

    $crc = [uint32]::MaxValue
    foreach ($b in $Bytes) {
        $crc = [uint32]($script:CrcTable[($crc -bxor $b) -band 0xFF] -bxor ($crc -shr 8))
    }
    return [uint32]($crc -bxor [uint32]::MaxValue)
}

function Get-StateDictPickle {
    # What torch.save({'weight': tensor}) pickles for one float32 tensor of $Elements elements,
    # opcode by opcode (protocol 2, memoized as CPython's pickler does).
    [CmdletBinding()]
    [OutputType([byte[]])]
    param([long] $Elements)

    $out = [Collections.Generic.List[byte]]::new()
    $memo = @{ Next = 0 }

    function Add-Op([byte[]] $Bytes) { $out.AddRange($Bytes) }
    function Add-Put { $out.AddRange([byte[]](0x71, $memo.Next)); $memo.Next++ }     # BINPUT n
    function Add-Global([string] $Module, [string] $Name) {                         # GLOBAL
        Add-Op 0x63
        Add-Op ([Text.Encoding]::ASCII.GetBytes("$Module`n$Name`n"))
        Add-Put
    }
    function Add-Unicode([string] $Text) {                                           # BINUNICODE
        $utf8 = [Text.Encoding]::UTF8.GetBytes($Text)
        Add-Op 0x58
        Add-Op ([BitConverter]::GetBytes([uint32]$utf8.Length))
        Add-Op $utf8
        Add-Put
    }
    function Add-BinInt([int] $Value) {                                              # BININT
        Add-Op 0x4A
        Add-Op ([BitConverter]::GetBytes($Value))
    }

    Add-Op 0x80, 0x02                                   # PROTO 2
    Add-Global 'collections' 'OrderedDict'              # memo 0: the state dict's class
    Add-Op 0x29, 0x52; Add-Put                          # EMPTY_TUPLE REDUCE: OrderedDict()
    Add-Unicode 'weight'                                # the key
    Add-Global 'torch._utils' '_rebuild_tensor_v2'
    Add-Op 0x28                                         # MARK: its six arguments
    Add-Op 0x28                                         #   MARK: the persistent id
    Add-Unicode 'storage'
    Add-Global 'torch' 'FloatStorage'
    Add-Unicode '0'                                     #     the key of archive/data/0
    Add-Unicode 'cpu'
    Add-BinInt $Elements                                #     numel
    Add-Op 0x74; Add-Put                                #   TUPLE
    Add-Op 0x51                                         #   BINPERSID: the storage
    Add-Op 0x4B, 0x00                                   #   storage_offset 0
    Add-BinInt $Elements; Add-Op 0x85; Add-Put          #   size (numel,)
    Add-Op 0x4B, 0x01, 0x85; Add-Put                    #   stride (1,)
    Add-Op 0x89                                         #   requires_grad False
    Add-Op 0x68, 0x00, 0x29, 0x52; Add-Put              #   backward hooks: OrderedDict() (BINGET 0)
    Add-Op 0x74; Add-Put                                # TUPLE
    Add-Op 0x52; Add-Put                                # REDUCE: the tensor
    Add-Op 0x73                                         # SETITEM
    Add-Op 0x2E                                         # STOP
    return , $out.ToArray()
}

function Write-LocalHeader {
    # A STORED member's local header, with torch's "FB" extra field padding its data to 64 bytes.
    [CmdletBinding()]
    [OutputType([long])]
    param([IO.BinaryWriter] $Writer, [string] $Name, [long] $Size, [uint32] $Crc)

    $nameBytes = [Text.Encoding]::ASCII.GetBytes($Name)
    $offset = $Writer.BaseStream.Position
    $dataStart = $offset + 30 + $nameBytes.Length + 4
    $padding = ($Alignment - ($dataStart % $Alignment)) % $Alignment
    $Writer.Write([uint32]0x04034b50)
    $Writer.Write([uint16]20)           # version needed: 2.0
    $Writer.Write([uint16]0)            # flags
    $Writer.Write([uint16]0)            # STORED
    $Writer.Write([uint16]0)            # time
    $Writer.Write([uint16]0x21)         # date: 1980-01-01
    $Writer.Write([uint32]$Crc)
    $Writer.Write([uint32]$Size)        # compressed
    $Writer.Write([uint32]$Size)        # uncompressed
    $Writer.Write([uint16]$nameBytes.Length)
    $Writer.Write([uint16](4 + $padding))
    $Writer.Write($nameBytes)
    $Writer.Write([uint16]0x4246)       # "FB"
    $Writer.Write([uint16]$padding)
    $Writer.Write([byte[]](@(0x5A) * $padding))   # 'Z' filler
    return $offset
}

function Write-CentralHeader {
    [CmdletBinding()]
    param([IO.BinaryWriter] $Writer, [pscustomobject] $Member)

    $nameBytes = [Text.Encoding]::ASCII.GetBytes($Member.Name)
    $Writer.Write([uint32]0x02014b50)
    $Writer.Write([uint16]20)           # made by
    $Writer.Write([uint16]20)           # needed
    $Writer.Write([uint16]0)
    $Writer.Write([uint16]0)
    $Writer.Write([uint16]0)
    $Writer.Write([uint16]0x21)
    $Writer.Write([uint32]$Member.Crc)
    $Writer.Write([uint32]$Member.Size)
    $Writer.Write([uint32]$Member.Size)
    $Writer.Write([uint16]$nameBytes.Length)
    $Writer.Write([uint16]0)            # extra
    $Writer.Write([uint16]0)            # comment
    $Writer.Write([uint16]0)            # disk
    $Writer.Write([uint16]0)            # internal attributes
    $Writer.Write([uint32]0)            # external attributes
    $Writer.Write([uint32]$Member.Offset)
    $Writer.Write($nameBytes)
}

function New-SparseTorchZip {
    [CmdletBinding(SupportsShouldProcess)]
    param([string] $Path, [long] $DataBytes)

    if (-not $PSCmdlet.ShouldProcess($Path, 'Write a sparse PyTorch checkpoint')) {
        return
    }

    $small = [ordered]@{
        'archive/data.pkl'               = Get-StateDictPickle -Elements ([long]($DataBytes / 4))
        'archive/byteorder'              = [Text.Encoding]::ASCII.GetBytes('little')
        'archive/data/0'                 = $null
        'archive/version'                = [Text.Encoding]::ASCII.GetBytes("3`n")
        'archive/.data/serialization_id' = [Text.Encoding]::ASCII.GetBytes('1234567890123456789012345678901234567890')
    }

    [IO.File]::WriteAllBytes($Path, [byte[]]@())
    if ($IsWindows) {
        # NTFS fills a skipped range with zeros unless the file is marked sparse.
        & fsutil sparse setflag $Path 2>&1 | Out-Null
        if ($LASTEXITCODE -ne 0) {
            Write-Warning "fsutil could not mark $Path sparse: the file will take $DataBytes bytes of disk."
        }
    }
    $stream = [IO.FileStream]::new($Path, [IO.FileMode]::Open, [IO.FileAccess]::ReadWrite, [IO.FileShare]::None)
    $writer = [IO.BinaryWriter]::new($stream)
    try {
        $members = foreach ($name in $small.Keys) {
            $content = $small[$name]
            if ($null -eq $content) {
                $offset = Write-LocalHeader -Writer $writer -Name $name -Size $DataBytes -Crc 0
                $writer.Flush()
                $stream.Seek($DataBytes, [IO.SeekOrigin]::Current) | Out-Null
                [pscustomobject]@{ Name = $name; Size = $DataBytes; Crc = [uint32]0; Offset = $offset }
            }
            else {
                $crc = Get-Crc32 -Bytes $content
                $offset = Write-LocalHeader -Writer $writer -Name $name -Size $content.Length -Crc $crc
                $writer.Write($content)
                [pscustomobject]@{ Name = $name; Size = $content.Length; Crc = $crc; Offset = $offset }
            }
        }

        $directoryOffset = $stream.Position
        foreach ($member in $members) {
            Write-CentralHeader -Writer $writer -Member $member
        }
        $directorySize = $stream.Position - $directoryOffset
        if ($stream.Position -ge [uint32]::MaxValue) {
            throw 'The archive does not fit zip32: use a smaller -DataBytes.'
        }

        $writer.Write([uint32]0x06054b50)
        $writer.Write([uint16]0)
        $writer.Write([uint16]0)
        $writer.Write([uint16]@($members).Count)
        $writer.Write([uint16]@($members).Count)
        $writer.Write([uint32]$directorySize)
        $writer.Write([uint32]$directoryOffset)
        $writer.Write([uint16]0)
    }
    finally {
        $writer.Dispose()
    }
}

$folder = Join-Path $WorkPath ('modelsecurity-torchzip-' + [Guid]::NewGuid().ToString('N').Substring(0, 8))
New-Item -ItemType Directory -Path $folder | Out-Null
$checkpoint = Join-Path $folder 'large-checkpoint.pt'
$failed = $false
try {
    New-SparseTorchZip -Path $checkpoint -DataBytes $DataBytes

    $watch = [Diagnostics.Stopwatch]::StartNew()
    $result = Test-ModelFile -LiteralPath $checkpoint
    $watch.Stop()

    [pscustomobject]@{
        Path                = if ($KeepFile) { $checkpoint } else { '(deleted)' }
        Length              = $result.Length
        BytesRead           = $result.BytesRead
        BytesReadLimit      = $MaxBytesRead
        Format              = $result.Format
        Verdict             = $result.Verdict
        ElapsedMilliseconds = [math]::Round($watch.Elapsed.TotalMilliseconds, 1)
    }
    $failed = $result.BytesRead -ge $MaxBytesRead
}
finally {
    if (-not $KeepFile) {
        Remove-Item -LiteralPath $folder -Recurse -Force
    }
}

if ($failed) {
    Write-Warning "Test-ModelFile read $($result.BytesRead) bytes of a $($result.Length)-byte checkpoint: the limit is $MaxBytesRead."
    exit 1
}
