#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests, lints, documents and packages ModelSecurity, and runs its main job.

.DESCRIPTION
    Needs only the .NET SDK: run it through the PowerShell dotnet tool pinned in dotnet-tools.json.

        dotnet tool restore && dotnet pwsh -NoProfile -File ./build.ps1 -Task Audit
        dotnet tool restore && dotnet pwsh -NoProfile -File ./build.ps1 -Task Test

    Tasks run in the order given. Every task that needs the module builds it first.

    Clean    removes output/.
    Build    compiles src/ModelSecurity and stages an importable module in output/ModelSecurity/,
             with MAML help and about_ModelSecurity generated from en-US/ and the rule catalogue.
    Help     regenerates the help in output/ModelSecurity/en-US/ (part of Build).
    Lint     PowerShell parser over every .ps1/.psm1/.psd1, Test-ModuleManifest on the staged module,
             PSScriptAnalyzer when it is installed; the C# analyzers run in every build.
    Test     xunit (tests/ModelSecurity.Tests) and Pester (tests/*.Tests.ps1), then one line
             "N passed, N failed, N skipped"; exits non-zero on any failure.
    Package  writes output/ModelSecurity.<version>.nupkg, ready for the PowerShell Gallery.
    Audit    the main job: builds, writes a small sample model folder (benign and malicious files) to
             output/samples, and scans it together with every model cache found on this machine.
    Conformance  scans ../shared/corpus and compares with its labels and peers' verdicts (a table per
             kind); fails when a malicious file is Clean or a benign one Malicious; skips without
             the corpus. Test runs it too, counted as one test.

.EXAMPLE
    dotnet pwsh -NoProfile -File ./build.ps1 -Task Clean, Build, Test
#>
[CmdletBinding()]
param(
    # One or more of Clean, Build, Help, Lint, Test, Package, Audit, Conformance; "Build,Test" works through -File too.
    [ArgumentCompletions('Clean', 'Build', 'Help', 'Lint', 'Test', 'Package', 'Audit', 'Conformance')]
    [string[]] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Extra folders for the Audit task to scan.
    [string[]] $AuditPath = @()
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$KnownTasks = 'Clean', 'Build', 'Help', 'Lint', 'Test', 'Package', 'Audit', 'Conformance'
$Task = @($Task | ForEach-Object { $_ -split ',' } | ForEach-Object Trim | Where-Object { $_ })
$unknown = @($Task | Where-Object { $_ -notin $KnownTasks })
if ($unknown) {
    throw "Unknown task(s): $($unknown -join ', '). Tasks are: $($KnownTasks -join ', ')."
}

$Root = $PSScriptRoot
$Output = Join-Path $Root 'output'
$ModuleOut = Join-Path $Output 'ModelSecurity'
$TestResults = Join-Path $Output 'TestResults'
$PesterVersion = '5.7.1'
$ModuleVersion = (Import-PowerShellDataFile (Join-Path $Root 'ModelSecurity.psd1')).ModuleVersion
$script:Built = $false
. (Join-Path $Root 'tools/Pwsh.ps1')

function Invoke-Native {
    # Runs a program and stops the build when it fails.
    param([Parameter(Mandatory)][string] $FilePath, [string[]] $ArgumentList = @())
    & $FilePath @ArgumentList
    if ($LASTEXITCODE -ne 0) {
        throw "'$FilePath $($ArgumentList -join ' ')' failed with exit code $LASTEXITCODE."
    }
}

function Invoke-ChildPwsh {
    # Runs a script in a fresh pwsh, so this process never loads the module's dll.
    param([Parameter(Mandatory)][string] $File, [string[]] $ArgumentList = @())
    $pwsh = @(Get-PwshCommand)
    $arguments = @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', $File) + $ArgumentList
    # Out-Host: the child's output is for the reader, and must not become this function's return value.
    & $pwsh[0] @arguments | Out-Host
    return $LASTEXITCODE
}

function Invoke-Clean {
    if (Test-Path $Output) {
        Remove-Item -LiteralPath $Output -Recurse -Force
    }
    Write-Information "Removed $Output" -InformationAction Continue
}

function Invoke-Build {
    if ($script:Built) { return }
    $publish = Join-Path $Output 'publish'
    Invoke-Native dotnet @('publish', (Join-Path $Root 'src/ModelSecurity/ModelSecurity.csproj'),
        '--configuration', $Configuration, '--output', $publish, "-p:Version=$ModuleVersion", '--nologo', '--verbosity', 'quiet')

    # Stage an allow-list only: the module runs on the .NET inside PowerShell 7.4+, so none of the
    # publish folder's System.* assemblies ship. SharpCompress (bzip2, xz, LZMA, zstd and the 7z
    # codecs) and YamlDotNet (YAML documents) are the third-party assemblies; their net8.0 builds
    # depend on nothing else.
    if (Test-Path $ModuleOut) {
        Remove-Item -LiteralPath $ModuleOut -Recurse -Force
    }
    New-Item -ItemType Directory -Path $ModuleOut | Out-Null
    Copy-Item -LiteralPath (Join-Path $publish 'ModelSecurity.dll') -Destination $ModuleOut
    Copy-Item -LiteralPath (Join-Path $publish 'SharpCompress.dll') -Destination $ModuleOut
    Copy-Item -LiteralPath (Join-Path $publish 'YamlDotNet.dll') -Destination $ModuleOut
    # PureHDF (HDF5 root attributes of legacy Keras models); its net8.0 build depends on nothing else.
    Copy-Item -LiteralPath (Join-Path $publish 'PureHDF.dll') -Destination $ModuleOut
    Copy-Item -LiteralPath (Join-Path $Root 'ModelSecurity.psd1') -Destination $ModuleOut
    Copy-Item -LiteralPath (Join-Path $Root 'src/ModelSecurity/ModelSecurity.Format.ps1xml') -Destination $ModuleOut
    Copy-Item -LiteralPath (Join-Path $Root 'src/ModelSecurity/ModelSecurity.Types.ps1xml') -Destination $ModuleOut
    Copy-Item -LiteralPath (Join-Path $Root 'src/ModelSecurity/ModelPolicy.schema.json') -Destination $ModuleOut
    Copy-Item -LiteralPath (Join-Path $Root 'LICENSE') -Destination $ModuleOut
    Copy-Item -LiteralPath (Join-Path $Root 'THIRD-PARTY-NOTICES.txt') -Destination $ModuleOut
    # The scheduled-audit script the help shows (about_ModelSecurity, SCHEDULED AUDITS), as a sample.
    $samplesOut = New-Item -ItemType Directory -Path (Join-Path $ModuleOut 'Samples')
    Copy-Item -LiteralPath (Join-Path $Root 'src/ModelSecurity/Samples/Invoke-ModelAudit.ps1') -Destination $samplesOut.FullName
    Invoke-Help
    $script:Built = $true
    Write-Information "Built ModelSecurity $ModuleVersion in $ModuleOut" -InformationAction Continue
}

function Invoke-Help {
    $exit = Invoke-ChildPwsh (Join-Path $Root 'tools/New-ModelSecurityHelp.ps1') @(
        '-ModulePath', $ModuleOut,
        '-SourcePath', (Join-Path $Root 'en-US'),
        '-RulesPath', (Join-Path $Root 'src/ModelSecurity/Data/rules.json'),
        '-OutputPath', (Join-Path $ModuleOut 'en-US'))
    if ($exit -ne 0) {
        throw "Help generation failed (exit code $exit)."
    }
}

function Invoke-Lint {
    Invoke-Build
    $problems = [Collections.Generic.List[string]]::new()
    $files = Get-ChildItem -LiteralPath $Root -Recurse -File -Include '*.ps1', '*.psm1', '*.psd1' |
        Where-Object { -not $_.FullName.StartsWith($Output, [StringComparison]::Ordinal) }
    foreach ($file in $files) {
        $tokens = $null
        $errors = $null
        [void][Management.Automation.Language.Parser]::ParseFile($file.FullName, [ref]$tokens, [ref]$errors)
        foreach ($e in $errors) {
            $problems.Add(('{0}:{1}:{2}: {3}' -f $file.FullName, $e.Extent.StartLineNumber, $e.Extent.StartColumnNumber, $e.Message))
        }
    }
    Write-Information "Parsed $($files.Count) PowerShell files." -InformationAction Continue

    $exit = Invoke-ChildPwsh (Join-Path $Root 'tools/Test-StagedModule.ps1') @('-ModulePath', (Join-Path $ModuleOut 'ModelSecurity.psd1'))
    if ($exit -ne 0) {
        $problems.Add("The staged module failed Test-ModuleManifest or import (exit code $exit).")
    }

    if (Get-Module -ListAvailable -Name PSScriptAnalyzer) {
        $findings = Invoke-ScriptAnalyzer -Path $Root -Recurse -Severity Warning, Error |
            Where-Object { -not $_.ScriptPath.StartsWith($Output, [StringComparison]::Ordinal) }
        foreach ($f in $findings) {
            $problems.Add(('{0}:{1}: {2} {3}' -f $f.ScriptPath, $f.Line, $f.RuleName, $f.Message))
        }
    }
    else {
        Write-Information 'PSScriptAnalyzer is not installed; skipped (parser and manifest checks ran).' -InformationAction Continue
    }

    if ($problems.Count) {
        $problems | ForEach-Object { Write-Warning $_ }
        throw "Lint found $($problems.Count) problem(s)."
    }
    Write-Information 'Lint: no problems.' -InformationAction Continue
}

function Get-PesterModulePath {
    $packages = Join-Path $Output 'packages'
    $psd1 = Join-Path $packages "pester/$PesterVersion/tools/Pester.psd1"
    if (-not (Test-Path $psd1)) {
        # Pester comes from NuGet into output/, never from the user's module path or profile.
        Invoke-Native dotnet @('restore', (Join-Path $Root 'tools/Dependencies.csproj'), '--packages', $packages, '--nologo', '--verbosity', 'quiet')
    }
    return $psd1
}

function Invoke-Test {
    Invoke-Build
    New-Item -ItemType Directory -Path $TestResults -Force | Out-Null

    $trx = Join-Path $TestResults 'xunit.trx'
    Remove-Item -LiteralPath $trx -ErrorAction Ignore
    & dotnet test (Join-Path $Root 'tests/ModelSecurity.Tests/ModelSecurity.Tests.csproj') `
        --configuration $Configuration --nologo --verbosity quiet `
        --logger 'trx;LogFileName=xunit.trx' --logger 'console;verbosity=minimal' --results-directory $TestResults
    $xunitExit = $LASTEXITCODE
    $xunit = @{ Passed = 0; Failed = 0; Skipped = 0 }
    if (Test-Path $trx) {
        $counters = ([xml](Get-Content -LiteralPath $trx -Raw)).TestRun.ResultSummary.Counters
        $xunit.Passed = [int]$counters.passed
        $xunit.Failed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
        # Skipped tests are the ones counted in total but never executed (trx leaves notExecuted at 0).
        $xunit.Skipped = [int]$counters.total - [int]$counters.executed
    }
    if ($xunitExit -ne 0 -and $xunit.Failed -eq 0) {
        # The run broke before reporting (a build error): count it as a failure, never as a pass.
        $xunit.Failed = 1
    }
    Write-Information ('xunit: {0} passed, {1} failed, {2} skipped' -f $xunit.Passed, $xunit.Failed, $xunit.Skipped) -InformationAction Continue

    $summary = Join-Path $TestResults 'pester-summary.json'
    Remove-Item -LiteralPath $summary -ErrorAction Ignore
    $pesterExit = Invoke-ChildPwsh (Join-Path $Root 'tools/Invoke-PesterTests.ps1') @(
        '-PesterPath', (Get-PesterModulePath),
        '-TestPath', (Join-Path $Root 'tests'),
        '-ResultPath', (Join-Path $TestResults 'pester.xml'),
        '-SummaryPath', $summary)
    $pester = @{ Passed = 0; Failed = 0; Skipped = 0 }
    if (Test-Path $summary) {
        $counts = Get-Content -LiteralPath $summary -Raw | ConvertFrom-Json
        $pester.Passed = [int]$counts.Passed
        $pester.Failed = [int]$counts.Failed
        $pester.Skipped = [int]$counts.Skipped
    }
    if ($pesterExit -ne 0 -and $pester.Failed -eq 0) {
        $pester.Failed = 1
    }
    Write-Information ('Pester: {0} passed, {1} failed, {2} skipped' -f $pester.Passed, $pester.Failed, $pester.Skipped) -InformationAction Continue

    # The corpus conformance check, counted as one test (skipped without ../shared/corpus).
    $conformance = Invoke-Conformance -NoThrow
    Write-Information "Conformance: $conformance" -InformationAction Continue

    $passed = $xunit.Passed + $pester.Passed + [int]($conformance -eq 'passed')
    $failed = $xunit.Failed + $pester.Failed + [int]($conformance -eq 'failed')
    $skipped = $xunit.Skipped + $pester.Skipped + [int]($conformance -eq 'skipped')
    # The closing line CI reads: totals over xunit and Pester.
    [Console]::Out.WriteLine(('{0} passed, {1} failed, {2} skipped' -f $passed, $failed, $skipped))
    if ($failed -gt 0) {
        exit 1
    }
}

function Invoke-Package {
    Invoke-Build
    $nupkg = Join-Path $Output "ModelSecurity.$ModuleVersion.nupkg"
    Remove-Item -LiteralPath $nupkg -ErrorAction Ignore
    $exit = Invoke-ChildPwsh (Join-Path $Root 'tools/New-ModulePackage.ps1') @('-ModulePath', $ModuleOut, '-DestinationPath', $Output)
    if ($exit -ne 0 -or -not (Test-Path $nupkg)) {
        throw "Packaging failed (exit code $exit)."
    }
    Write-Information "Package: $nupkg" -InformationAction Continue
}

function Invoke-Audit {
    Invoke-Build
    $samples = Join-Path $Output 'samples'
    # -File passes plain strings, so the extra folders travel as one path-separator-joined list.
    $exit = Invoke-ChildPwsh (Join-Path $Root 'tools/Invoke-Audit.ps1') @(
        '-ModulePath', $ModuleOut,
        '-SamplePath', $samples,
        '-ExtraPath', ($AuditPath -join [IO.Path]::PathSeparator))
    if ($exit -ne 0) {
        throw "The audit failed (exit code $exit)."
    }
}

function Invoke-Conformance {
    # Returns passed, failed or skipped; throws on failure unless -NoThrow.
    param([switch] $NoThrow)
    Invoke-Build
    $corpus = Join-Path $Root '../shared/corpus'
    if (-not (Test-Path -LiteralPath (Join-Path $corpus 'MANIFEST.tsv'))) {
        Write-Information "Conformance: skipped, no corpus at $corpus." -InformationAction Continue
        return 'skipped'
    }
    $exit = Invoke-ChildPwsh (Join-Path $Root 'tools/Measure-Conformance.ps1') @('-ModulePath', $ModuleOut, '-CorpusPath', $corpus)
    if ($exit -eq 0) {
        return 'passed'
    }
    if (-not $NoThrow) {
        throw "Conformance failed (exit code $exit)."
    }
    return 'failed'
}

foreach ($step in $Task) {
    switch ($step) {
        'Clean' { Invoke-Clean }
        'Build' { Invoke-Build }
        'Help' { if ($script:Built) { Invoke-Help } else { Invoke-Build } }
        'Lint' { Invoke-Lint }
        'Test' { Invoke-Test }
        'Package' { Invoke-Package }
        'Audit' { Invoke-Audit }
        'Conformance' { [void](Invoke-Conformance) }
    }
}
