#Requires -Version 7.4
# Get-McpServer, Test-McpServer and Export-McpServerLock as users run them: the built module, client
# configuration files written in each client's format under a home folder given by MODELSECURITY_HOME.

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module $ModuleManifest -Force

    $script:Token = 'ghp_Q1w2E3r4T5y6U7i8O9p0AsDfGhJkLzXcVbNm'
    $script:SavedHome = $env:MODELSECURITY_HOME
    $script:FakeHome = Join-Path $TestDrive 'home'
    $script:Project = Join-Path $TestDrive 'project'
    $env:MODELSECURITY_HOME = $FakeHome
    $configHome = if ($IsWindows) { Join-Path $FakeHome 'AppData/Roaming' } elseif ($IsMacOS) { Join-Path $FakeHome 'Library/Application Support' } else { Join-Path $FakeHome '.config' }

    function Write-Config([string] $Path, [string] $Text) {
        New-Item -ItemType Directory -Path (Split-Path -Parent $Path) -Force | Out-Null
        [IO.File]::WriteAllText($Path, $Text)
    }

    Write-Config (Join-Path $configHome 'Claude/claude_desktop_config.json') @'
{ "mcpServers": { "filesystem": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/me"] } } }
'@
    Write-Config (Join-Path $FakeHome '.claude.json') @'
{ "mcpServers": { "time": { "type": "stdio", "command": "uvx", "args": ["mcp-server-time==0.6.2"] } },
  "projects": { "/work/app": { "mcpServers": { "github": { "type": "http", "url": "https://api.githubcopilot.com/mcp/" } } } } }
'@
    Write-Config (Join-Path $configHome 'Code/User/settings.json') @'
{
  // JSONC, as VS Code writes it
  "mcp": { "servers": { "fetch": { "type": "stdio", "command": "uvx", "args": ["mcp-server-fetch"], }, }, },
}
'@
    Write-Config (Join-Path $Project '.vscode/mcp.json') @"
{ "inputs": [ { "type": "promptString", "id": "pat", "password": true } ],
  "servers": { "gh": { "type": "stdio", "command": "npx", "args": ["@modelcontextprotocol/server-github@2025.4.8"], "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "$Token" } } } }
"@
    Write-Config (Join-Path $FakeHome '.cursor/mcp.json') @'
{ "mcpServers": { "plain": { "url": "http://mcp.example.com/mcp" } } }
'@
    Write-Config (Join-Path $FakeHome '.codeium/windsurf/mcp_config.json') @'
{ "mcpServers": { "linear": { "serverUrl": "https://mcp.linear.app/sse" } } }
'@
    Write-Config (Join-Path $FakeHome '.continue/config.yaml') @'
name: assistant
version: 0.0.1
schema: v1
mcpServers:
  - name: sqlite
    command: uvx
    args: ["mcp-server-sqlite==0.6.2", "--db-path", "/data/x.db"]
'@
    Push-Location $Project
}

AfterAll {
    Pop-Location
    $env:MODELSECURITY_HOME = $SavedHome
}

Describe 'Get-McpServer' {
    It 'reads every client''s configuration from its default place' {
        $servers = @(Get-McpServer)
        ($servers | ForEach-Object { "$($_.Client)/$($_.Name)" } | Sort-Object) | Should -Be @(
            'ClaudeCode/github', 'ClaudeCode/time', 'ClaudeDesktop/filesystem', 'Continue/sqlite', 'Cursor/plain', 'VSCode/fetch', 'VSCode/gh', 'Windsurf/linear')
        $servers | ForEach-Object { $_ | Should -BeOfType ([ModelSecurity.Mcp.McpServer]) }
        $fs = $servers | Where-Object Name -eq 'filesystem'
        $fs.PackageManager | Should -Be 'Npx'
        $fs.Package | Should -Be '@modelcontextprotocol/server-filesystem'
        $fs.RequestedVersion | Should -BeNullOrEmpty
        ($servers | Where-Object Name -eq 'time').RequestedVersion | Should -Be '0.6.2'
        ($servers | Where-Object Name -eq 'github').Project | Should -Be '/work/app'
        ($servers | Where-Object Name -eq 'linear').Transport | Should -Be 'Http'
        ($servers | Where-Object Name -eq 'gh').EnvironmentNames | Should -Be @('GITHUB_PERSONAL_ACCESS_TOKEN')
    }

    It 'filters by -Client' {
        @(Get-McpServer -Client Windsurf, Continue).Name | Sort-Object | Should -Be @('linear', 'sqlite')
    }

    It 'filters by -Name, with wildcards' {
        @(Get-McpServer -Name 'LIN*', 'sqlite').Name | Sort-Object | Should -Be @('linear', 'sqlite')
        Get-McpServer -Name 'no-such-server' | Should -BeNullOrEmpty
    }

    It 'writes McpConfigInvalid naming the file, line and position, and goes on' {
        $bad = Join-Path $TestDrive 'bad.json'
        Set-Content -LiteralPath $bad -Value "{`n  `"mcpServers`": {`n    `"a`": { `"command`": `"npx`" ,, }`n  }`n}"
        $good = Join-Path $FakeHome '.cursor/mcp.json'
        $servers = @(Get-McpServer -Path $bad, $good -ErrorVariable errors -ErrorAction SilentlyContinue)
        $servers.Name | Should -Be @('plain')
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -Be 'McpConfigInvalid,ModelSecurity.Commands.GetMcpServerCommand'
        $errors[0].Exception.Message | Should -BeLike "*bad.json: not valid JSON at line 3, position 30*"
    }

    It 'writes PathNotFound for a -Path that does not exist' {
        Get-McpServer -Path (Join-Path $TestDrive 'none.json') -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -Be 'PathNotFound,ModelSecurity.Commands.GetMcpServerCommand'
    }

    It 'has the approved verb and a table view' {
        (Get-Verb -Verb Export) | Should -Not -BeNullOrEmpty
        (Get-McpServer | Format-Table | Out-String) | Should -Match 'PackageManager'
    }
}

Describe 'Test-McpServer' {
    It 'reports findings with the secret redacted everywhere' {
        $results = @(Get-McpServer | Test-McpServer -Verbose 4>&1)
        $text = ($results | Format-List * | Out-String -Width 400) + ($results | ForEach-Object { $_.Findings | Out-String -Width 400 })
        $text | Should -Not -Match ([regex]::Escape($Token.Substring(4)))
        $tests = $results | Where-Object { $_ -is [ModelSecurity.Mcp.McpServerTestResult] }
        $gh = $tests | Where-Object Name -eq 'gh'
        $gh.Verdict | Should -Be 'Suspicious'
        $gh.Findings.RuleId | Should -Contain 'MS-MCP-003'
        ($gh.Findings | Where-Object RuleId -eq 'MS-MCP-003').Detail | Should -Match 'ghp_…'
        ($tests | Where-Object Name -eq 'plain').Findings.RuleId | Should -Contain 'MS-MCP-004'
        ($tests | Where-Object Name -eq 'filesystem').Findings.RuleId | Should -Contain 'MS-MCP-001'
        ($tests | Where-Object Name -eq 'time').Verdict | Should -Be 'Clean'
    }

    It 'tests entries that come back from a job by reading their configuration again' {
        $live = @(Get-McpServer | Test-McpServer)
        $copies = Get-McpServer | ForEach-Object { [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($_)) }
        $copies[0].PSObject.TypeNames[0] | Should -BeLike 'Deserialized.ModelSecurity.Mcp.McpServer'
        $again = @($copies | Test-McpServer)
        $again.Count | Should -Be $live.Count
        ($again | Where-Object Name -eq 'gh').Findings.RuleId | Should -Contain 'MS-MCP-003'
        ($again | ForEach-Object { "$($_.Name)=$($_.Verdict)" }) | Should -Be ($live | ForEach-Object { "$($_.Name)=$($_.Verdict)" })
        [pscustomobject]@{ Name = 'x' } | Test-McpServer -ErrorAction SilentlyContinue -ErrorVariable bad | Should -BeNullOrEmpty
        $bad[0].FullyQualifiedErrorId | Should -Be 'McpServerInputInvalid,ModelSecurity.Commands.TestMcpServerCommand'
    }

    It 'goes into Export-ModelReport' {
        $report = Join-Path $TestDrive 'mcp.json'
        Test-McpServer -Path (Join-Path $FakeHome '.cursor/mcp.json') | Export-ModelReport -Path $report -Format Json
        Get-Content -LiteralPath $report -Raw | Should -Match 'MS-MCP-004'
    }

    It 'passes against its own lock and reports drift once the version changes' {
        $config = Join-Path $TestDrive 'drift/.mcp.json'
        Write-Config $config '{ "mcpServers": { "memory": { "command": "npx", "args": ["@modelcontextprotocol/server-memory@2025.4.25"] } } }'
        $lock = Join-Path $TestDrive 'drift/mcp-lock.json'
        Get-McpServer -Path $config | Export-McpServerLock -Path $lock
        (Get-Content -LiteralPath $lock -Raw | ConvertFrom-Json).servers[0].version | Should -Be '2025.4.25'
        (Test-McpServer -Path $config -LockPath $lock).Findings | Should -BeNullOrEmpty

        Write-Config $config '{ "mcpServers": { "memory": { "command": "npx", "args": ["@modelcontextprotocol/server-memory@2025.9.1"] } } }'
        $result = Test-McpServer -Path $config -LockPath $lock
        $result.Findings.RuleId | Should -Be 'MS-MCP-008'
        $result.LockedVersion | Should -Be '2025.4.25'
    }

    It 'stops with McpLockInvalid for a file that is not a lock' {
        $notLock = Join-Path $TestDrive 'not-a-lock.json'
        Set-Content -LiteralPath $notLock -Value '{ "hello": 1 }'
        { Test-McpServer -LockPath $notLock } | Should -Throw -ErrorId 'McpLockInvalid,ModelSecurity.Commands.TestMcpServerCommand'
    }

    It 'does not write the lock with -WhatIf' {
        $lock = Join-Path $TestDrive 'whatif-lock.json'
        Get-McpServer -Client Windsurf | Export-McpServerLock -Path $lock -WhatIf
        $lock | Should -Not -Exist
    }
}
