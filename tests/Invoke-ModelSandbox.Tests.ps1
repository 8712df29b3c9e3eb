# Invoke-ModelSandbox with real isolation: every test runs a program in bubblewrap and checks, from the
# host, that the isolation held. Tests skip (with the reason) only where no sandbox backend works.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Import-Module $ModuleManifest -Force

    $models = Join-Path $TestDrive 'models'
    $model = Join-Path $models 'weights.bin'
    New-TestFile -Path $model -Text 'MODEL-BYTES-1234' | Out-Null
    $tag = [guid]::NewGuid().ToString('N')

    # The reason the sandbox cannot run here, or $null. Only a missing backend skips; any other failure fails.
    $script:NoBackend = $null
    try {
        $null = Invoke-ModelSandbox -Path $model -FilePath true -Backend Bubblewrap -ErrorAction Stop
    }
    catch {
        if ($_.FullyQualifiedErrorId -notlike 'SandboxBackendUnavailable,*') { throw }
        $script:NoBackend = "no sandbox backend works on this machine: $($_.Exception.Message)"
    }

    $python = @('/usr/local/bin/python3', '/usr/bin/python3') | Where-Object { Test-Path -LiteralPath $_ } | Select-Object -First 1

    function Skip-WithoutBackend {
        if ($script:NoBackend) { Set-ItResult -Skipped -Because $script:NoBackend }
        [bool]$script:NoBackend
    }

    function Get-ProcessCommandLine {
        # Every command line on the host, as 'arg0 arg1 ...'.
        Get-ChildItem -Path /proc -Directory | Where-Object Name -Match '^\d+$' | ForEach-Object {
            try { ([IO.File]::ReadAllText("$($_.FullName)/cmdline")).Replace([char]0, ' ').Trim() } catch { }
        }
    }
}

Describe 'Invoke-ModelSandbox isolation (bubblewrap)' {
    It 'lets the program read a model, and no write reaches the host outside -OutputPath' {
        if (Skip-WithoutBackend) { return }
        $out = Join-Path $TestDrive "out-$tag"
        $outside = Join-Path $TestDrive "outside-$tag"
        $hostHome = [Environment]::GetFolderPath('UserProfile')
        $script = @(
            "cat '$model'; echo",
            "echo overwritten > '$model' && echo WROTE-MODEL",
            "echo x > '$hostHome/ms-sandbox-$tag' && echo WROTE-HOST-HOME",
            "echo x > `"`$HOME/ms-sandbox-$tag`" && echo WROTE-PRIVATE-HOME",
            "echo x > '/tmp/ms-sandbox-$tag' && echo WROTE-PRIVATE-TMP",
            "echo x > '$outside' && echo WROTE-OUTSIDE",
            "echo kept > '$out/result.txt' && echo WROTE-OUTPUT"
        ) -join '; '

        $result = Invoke-ModelSandbox -Path $models -FilePath sh -ArgumentList '-c', $script -OutputPath $out

        $result | Should -BeOfType ModelSecurity.Sandbox.SandboxResult
        $result.Backend | Should -Be 'Bubblewrap'
        $result.Output | Should -Match 'MODEL-BYTES-1234'
        $result.Output | Should -Not -Match 'WROTE-MODEL|WROTE-HOST-HOME|WROTE-OUTSIDE'
        $result.ErrorOutput | Should -Match 'Read-only file system'
        # Private HOME and /tmp are writable inside, and vanish with the sandbox.
        $result.Output | Should -Match 'WROTE-PRIVATE-HOME'
        $result.Output | Should -Match 'WROTE-PRIVATE-TMP'
        $result.Output | Should -Match 'WROTE-OUTPUT'

        Get-Content -LiteralPath $model -Raw | Should -Be 'MODEL-BYTES-1234'
        Join-Path $hostHome "ms-sandbox-$tag" | Should -Not -Exist
        "/tmp/ms-sandbox-$tag" | Should -Not -Exist
        $outside | Should -Not -Exist
        Get-Content -LiteralPath (Join-Path $out 'result.txt') | Should -Be 'kept'
        # Whatever uid the program ran as, its files end up owned by the caller.
        (& stat -c '%u' (Join-Path $out 'result.txt')) | Should -Be (& id -u)
        (& stat -c '%u' $out) | Should -Be (& id -u)
    }

    It 'cannot connect to a loopback server that the same program reaches from outside' {
        if (Skip-WithoutBackend) { return }
        $bash = @('/usr/bin/bash', '/bin/bash') | Where-Object { Test-Path -LiteralPath $_ } | Select-Object -First 1
        if (-not $bash) { Set-ItResult -Skipped -Because 'bash (for /dev/tcp) is not installed'; return }
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        try {
            $port = $listener.LocalEndpoint.Port
            $connect = "exec 3<>/dev/tcp/127.0.0.1/$port && echo CONNECTED"

            $outsideOutput = & $bash -c $connect 2>&1
            $result = Invoke-ModelSandbox -Path $models -FilePath $bash -ArgumentList '-c', $connect

            ($outsideOutput -join "`n") | Should -Match 'CONNECTED'
            $result.Output | Should -Not -Match 'CONNECTED'
            $result.ErrorOutput | Should -Match 'Connection refused|Network is unreachable'
            $result.ExitCode | Should -Not -Be 0
            $result.Network | Should -Be 'None'
            $result.Enforced -join "`n" | Should -Match 'network namespace'
        }
        finally {
            $listener.Stop()
        }
    }

    It 'passes no secret of the caller''s environment, only fresh decoys' {
        if (Skip-WithoutBackend) { return }
        $secrets = @{
            HF_TOKEN = "hf_real$tag"; AWS_SECRET_ACCESS_KEY = "aws-real-$tag"; GITHUB_TOKEN = "ghp_real$tag"
            OPENAI_API_KEY = "sk-real-$tag"; MY_DB_PASSWORD = "pw-real-$tag"; HARMLESS_SETTING = "plain-$tag"
        }
        foreach ($name in $secrets.Keys) { [Environment]::SetEnvironmentVariable($name, $secrets[$name]) }
        try {
            $result = Invoke-ModelSandbox -Path $models -FilePath env
        }
        finally {
            foreach ($name in $secrets.Keys) { [Environment]::SetEnvironmentVariable($name, $null) }
        }

        $result.Output | Should -Not -Match $tag
        $result.Output | Should -Not -Match 'MY_DB_PASSWORD|HARMLESS_SETTING'
        $result.Output | Should -Match '(?m)^HF_TOKEN=hf_\w{34}$'
        $result.Output | Should -Match '(?m)^AWS_ACCESS_KEY_ID=AKIA[A-Z2-7]{16}$'
        $result.Output | Should -Match '(?m)^PATH='
        $result.Output | Should -Match '(?m)^HOME=/home/sandbox$'
    }

    It 'reports a decoy that the program prints or writes to -OutputPath' {
        if (Skip-WithoutBackend) { return }
        $out = Join-Path $TestDrive "leak-$tag"
        $leaky = Invoke-ModelSandbox -Path $models -FilePath sh -ArgumentList '-c', 'echo "token: $HF_TOKEN"; mkdir -p sub; printf %s "$AWS_SECRET_ACCESS_KEY" > sub/cache.bin' -OutputPath $out
        $quiet = Invoke-ModelSandbox -Path $models -FilePath sh -ArgumentList '-c', 'echo nothing to see'

        $leaky.CanaryLeaks | Should -Contain 'HF_TOKEN in Output'
        $leaky.CanaryLeaks | Should -Contain "AWS_SECRET_ACCESS_KEY in $(Join-Path $out 'sub/cache.bin')"
        @($leaky.CanaryLeaks).Count | Should -Be 2
        @($quiet.CanaryLeaks).Count | Should -Be 0
    }

    It 'kills sleep 600 at -TimeoutSeconds 2, with every process it started' {
        if (Skip-WithoutBackend) { return }
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $result = Invoke-ModelSandbox -Path $models -FilePath sh -ArgumentList '-c', 'sleep 613 & sleep 600' -TimeoutSeconds 2
        $clock.Stop()

        $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
        $result.TimedOut | Should -BeTrue
        $result.Duration.TotalSeconds | Should -BeGreaterOrEqual 2
        @(Get-ProcessCommandLine | Where-Object { $_ -eq 'sleep 613' -or $_ -eq 'sleep 600' }).Count | Should -Be 0
    }

    It 'stops an allocation past -MemoryMB' {
        if (Skip-WithoutBackend) { return }
        # dd allocates its whole block at once: 300 MB is past the limit, 16 MB (the control) within it.
        $hog = Invoke-ModelSandbox -Path $models -FilePath dd -ArgumentList 'if=/dev/zero', 'of=/dev/null', 'bs=300M', 'count=1' -MemoryMB 128
        $fits = Invoke-ModelSandbox -Path $models -FilePath dd -ArgumentList 'if=/dev/zero', 'of=/dev/null', 'bs=16M', 'count=1' -MemoryMB 128

        $hog.ExitCode | Should -Not -Be 0
        $hog.ErrorOutput | Should -Match 'memory exhausted'
        $fits.ExitCode | Should -Be 0
    }

    It 'contains a fork bomb at -MaxProcesses' {
        if (Skip-WithoutBackend) { return }
        # Bounded for the CI machine's sake: at most 10000 sleeping children, all killed with the sandbox.
        $bomb = 'n=0; while [ $n -lt 10000 ]; do sleep 619 & n=$((n+1)); echo $n; done'
        $result = Invoke-ModelSandbox -Path $models -FilePath sh -ArgumentList '-c', $bomb -MaxProcesses 32 -TimeoutSeconds 20

        $spawned = [int](($result.Output.Trim() -split "`n")[-1])
        $spawned | Should -BeLessThan 32
        $spawned | Should -BeGreaterThan 0
        $result.ErrorOutput | Should -Match 'fork'
        $result.TimedOut | Should -BeFalse
        @(Get-ProcessCommandLine | Where-Object { $_ -eq 'sleep 619' }).Count | Should -Be 0
    }

    It 'lets a malicious pickle run its payload inside, and the host stays untouched' {
        if (Skip-WithoutBackend) { return }
        if (-not $python) { Set-ItResult -Skipped -Because 'python3 is not installed'; return }
        $hostHome = [Environment]::GetFolderPath('UserProfile')
        $pickle = Join-Path $models "evil-$tag.pkl"
        # Protocol 0: os.system("...") when unpickled. Made here, never taken from the corpus.
        $payload = "echo PAYLOAD-RAN; touch /tmp/pwned-$tag `$HOME/pwned-$tag $hostHome/pwned-$tag; ls /tmp/pwned-$tag"
        New-TestFile -Path $pickle -Text "cos`nsystem`n(S'$payload'`ntR." | Out-Null
        $load = 'import pickle, sys; pickle.load(open(sys.argv[1], "rb"))'

        $result = Invoke-ModelSandbox -Path $models -FilePath $python -ArgumentList '-c', $load, $pickle

        $result.ExitCode | Should -Be 0
        $result.Output | Should -Match 'PAYLOAD-RAN'
        $result.Output | Should -Match "/tmp/pwned-$tag"
        "/tmp/pwned-$tag" | Should -Not -Exist
        Join-Path $hostHome "pwned-$tag" | Should -Not -Exist
    }
}

Describe 'Invoke-ModelSandbox as a command' {
    BeforeAll {
        $whatIfMarker = Join-Path $TestDrive "whatif-$tag"
        $hostRunMarker = Join-Path $TestDrive "hostnet-$tag"
    }

    It 'prints the exact backend command line with -WhatIf and runs nothing' {
        if (Skip-WithoutBackend) { return }
        # What-if text goes to the host, so a transcript is what sees it.
        $transcript = Join-Path $TestDrive "whatif-$tag.txt"
        Start-Transcript -LiteralPath $transcript -UseMinimalHeader | Out-Null
        try {
            $objects = @(Invoke-ModelSandbox -Path $models -FilePath sh -ArgumentList '-c', "touch $whatIfMarker" -OutputPath (Join-Path $TestDrive 'whatif-out') -WhatIf)
        }
        finally {
            Stop-Transcript | Out-Null
        }

        $objects.Count | Should -Be 0
        (Get-Content -LiteralPath $transcript -Raw) | Should -Match 'What if: .*bwrap .*--unshare-net .*--ro-bind .*--bind .*sh -c .touch'
        $whatIfMarker | Should -Not -Exist
        Join-Path $TestDrive 'whatif-out' | Should -Not -Exist
    }

    It 'asks before -Network Host, and shows the weakening once confirmed' {
        if (Skip-WithoutBackend) { return }
        $command = Get-Command Invoke-ModelSandbox
        $command.ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false).ConfirmImpact | Should -Be 'High'

        # A runspace with no interactive host cannot answer the confirmation prompt, so nothing runs.
        $shell = [powershell]::Create()
        try {
            $null = $shell.AddCommand('Import-Module').AddParameter('Name', $ModuleManifest).AddStatement().
                AddCommand('Invoke-ModelSandbox').AddParameter('Path', $models).AddParameter('FilePath', 'sh').
                AddParameter('ArgumentList', @('-c', "touch $hostRunMarker")).AddParameter('OutputPath', (Join-Path $TestDrive 'hostnet-out')).
                AddParameter('Network', 'Host')
            $output = $shell.Invoke()
            $output.Count | Should -Be 0
            ($shell.Streams.Error | Out-String) | Should -Match 'confirmation.*network: the host''s network'
        }
        finally {
            $shell.Dispose()
        }
        $hostRunMarker | Should -Not -Exist

        $result = Invoke-ModelSandbox -Path $models -FilePath sh -ArgumentList '-c', 'cat /proc/net/dev' -Network Host -Confirm:$false
        $result.Network | Should -Be 'Host'
        $result.Weakened | Should -Match 'network'
        $result.CommandLine | Should -Not -Match '--unshare-net'
    }

    It 'asks before passing a secret-looking variable, and passes an ordinary one' {
        if (Skip-WithoutBackend) { return }
        $result = Invoke-ModelSandbox -Path $models -FilePath env -Environment @{ MODEL_NAME = 'tiny'; HF_TOKEN = "hf_mine$tag" } -Confirm:$false
        $result.Output | Should -Match '(?m)^MODEL_NAME=tiny$'
        $result.Output | Should -Match "(?m)^HF_TOKEN=hf_mine$tag$"
        $result.Weakened | Should -Contain 'secret: HF_TOKEN passed in (-Environment)'
        @($result.Weakened).Count | Should -Be 1
    }

    It 'refuses, running nothing, when the backend asked for is unavailable' {
        $docker = Get-Command docker -CommandType Application -ErrorAction Ignore
        if ($docker -and (& docker version --format '{{.Server.Version}}' 2>$null)) {
            Set-ItResult -Skipped -Because 'a Docker engine works here'
            return
        }
        $marker = Join-Path $TestDrive "docker-$tag"
        { Invoke-ModelSandbox -Path $models -FilePath touch -ArgumentList $marker -Backend Docker -Image debian:12 -ErrorAction Stop } |
            Should -Throw -ErrorId 'SandboxBackendUnavailable,ModelSecurity.Commands.InvokeModelSandboxCommand' -ExpectedMessage '*Docker*'
        $marker | Should -Not -Exist
    }

    It 'refuses an -OutputPath that would make a model writable' {
        { Invoke-ModelSandbox -Path $model -FilePath true -OutputPath $models -ErrorAction Stop } |
            Should -Throw -ErrorId 'SandboxPathInvalid,ModelSecurity.Commands.InvokeModelSandboxCommand'
    }

    It 'refuses a program that would not be visible inside' {
        if (Skip-WithoutBackend) { return }
        $program = New-TestFile -Path (Join-Path $TestDrive 'elsewhere/tool.sh') -Text "#!/bin/sh`necho hi"
        { Invoke-ModelSandbox -Path $models -FilePath $program.FullName -ErrorAction Stop } |
            Should -Throw -ErrorId 'SandboxProgramNotFound,ModelSecurity.Commands.InvokeModelSandboxCommand'
    }

    It 'caps the captured output at -MaxOutputBytes' {
        if (Skip-WithoutBackend) { return }
        $result = Invoke-ModelSandbox -Path $models -FilePath head -ArgumentList '-c', '100000', '/dev/zero' -MaxOutputBytes 4096
        $result.Output.Length | Should -Be 4096
        $result.OutputTruncated | Should -BeTrue
        $result.ExitCode | Should -Be 0
    }
}

Describe 'Invoke-ModelSandbox with standard input and MCP servers' {
    BeforeAll {
        # A stdio MCP server: answers initialize and tools/list, and first tries the host's TCP port given as
        # its second argument, reporting on stderr whether it connected.
        $serverScript = New-TestFile -Path (Join-Path $TestDrive "mcp-$tag/server.py") -Text (@(
                'import json, socket, sys'
                'try:'
                '    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3).close()'
                '    sys.stderr.write("NETWORK: connected\n")'
                'except OSError as e:'
                '    sys.stderr.write("NETWORK: blocked (%s)\n" % e)'
                'sys.stderr.flush()'
                'for line in sys.stdin:'
                '    msg = json.loads(line)'
                '    if "id" not in msg:'
                '        continue'
                '    if msg["method"] == "initialize":'
                '        result = {"protocolVersion": msg["params"]["protocolVersion"], "capabilities": {"tools": {}}, "serverInfo": {"name": "pester-mcp", "version": "2.1.0"}}'
                '    elif msg["method"] == "tools/list":'
                '        result = {"tools": [{"name": "read_note", "inputSchema": {"type": "object"}}, {"name": "search_notes", "inputSchema": {"type": "object"}}]}'
                '    else:'
                '        result = {}'
                '    print(json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": result}), flush=True)'
            ) -join "`n")
        $systemPython = @('/usr/bin/python3', '/usr/local/bin/python3') | Where-Object { Test-Path -LiteralPath $_ } | Select-Object -First 1

        function New-Server([int] $Port) {
            [ModelSecurity.Mcp.McpServer]@{
                Client = 'Custom'; ConfigPath = (Join-Path $TestDrive 'mcp.json'); Name = 'pester'; Transport = 'Stdio'
                Command = 'python3'; Arguments = [string[]]@($serverScript.FullName, "$Port"); PackageManager = 'Local'
                Package = $serverScript.FullName; EnvironmentNames = [string[]]@('NOTES_TOKEN')
            }
        }
    }

    It 'runs a stdio MCP server that answers initialize through the pipe, while its network attempt fails' {
        if (Skip-WithoutBackend) { return }
        if (-not $systemPython) { Set-ItResult -Skipped -Because 'python3 is not installed in a system folder'; return }
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        try {
            $result = New-Server -Port $listener.LocalEndpoint.Port | Invoke-ModelSandbox -TimeoutSeconds 60

            $result | Should -BeOfType ModelSecurity.Sandbox.SandboxResult
            $result.TimedOut | Should -BeFalse
            $result.ExitCode | Should -Be 0
            $result.McpServerInfo.Name | Should -Be 'pester-mcp'
            $result.McpServerInfo.Version | Should -Be '2.1.0'
            $result.McpServerInfo.ProtocolVersion | Should -Be '2025-06-18'
            $result.McpTools | Should -Be @('read_note', 'search_notes')
            $result.ErrorOutput | Should -Match 'NETWORK: blocked'
            $result.ErrorOutput | Should -Not -Match 'NETWORK: connected'
            # Nothing reached the listener on the host.
            $listener.Pending() | Should -BeFalse
            $result.Network | Should -Be 'None'
        }
        finally {
            $listener.Stop()
        }
    }

    It 'binds an MCP server given as a PSCustomObject, or deserialised as from a job' {
        if (Skip-WithoutBackend) { return }
        if (-not $systemPython) { Set-ItResult -Skipped -Because 'python3 is not installed in a system folder'; return }
        $custom = [pscustomobject]@{ Name = 'custom'; Transport = 'Stdio'; Command = 'python3'; Arguments = @($serverScript.FullName, '9') }
        $fromJob = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize((New-Server -Port 9)))
        $fromJob.PSObject.TypeNames[0] | Should -Be 'Deserialized.ModelSecurity.Mcp.McpServer'

        $results = @($custom, $fromJob | Invoke-ModelSandbox -TimeoutSeconds 60)

        $results.Count | Should -Be 2
        $results.McpServerInfo.Name | Should -Be @('pester-mcp', 'pester-mcp')
        $results[1].McpTools | Should -Contain 'search_notes'
    }

    It 'names the variables the configuration would pass, without passing them' {
        if (Skip-WithoutBackend) { return }
        if (-not $systemPython) { Set-ItResult -Skipped -Because 'python3 is not installed in a system folder'; return }
        $verbose = New-Server -Port 9 | Invoke-ModelSandbox -TimeoutSeconds 60 -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }

        ($verbose.Message -join "`n") | Should -Match 'NOTES_TOKEN'
    }

    It 'warns that an npx server needs its package installed, or -Network Host' {
        if (Skip-WithoutBackend) { return }
        $npx = [ModelSecurity.Mcp.McpServer]@{ Name = 'fetched'; Transport = 'Stdio'; Command = 'true'; PackageManager = 'Npx'; Package = '@example/server' }

        $result = $npx | Invoke-ModelSandbox -WarningVariable warnings -WarningAction SilentlyContinue

        ($warnings -join "`n") | Should -Match "'@example/server'.*no network.*-Network Host"
        $result.Network | Should -Be 'None'
        @($result.Weakened).Count | Should -Be 0
    }

    It 'refuses a remote (Http) MCP server, running nothing' {
        $remote = [ModelSecurity.Mcp.McpServer]@{ Name = 'remote'; Transport = 'Http'; Url = 'https://mcp.example.com/mcp' }
        { $remote | Invoke-ModelSandbox -ErrorAction Stop } |
            Should -Throw -ErrorId 'SandboxMcpServerRemote,ModelSecurity.Commands.InvokeModelSandboxCommand' -ExpectedMessage '*https://mcp.example.com/mcp*'
    }

    It 'writes -StandardInput to a plain program, then ends its input' {
        if (Skip-WithoutBackend) { return }
        $result = Invoke-ModelSandbox -Path $models -FilePath cat -StandardInput 'first line', 'second line'

        $result.Output | Should -Be "first line`nsecond line`n"
        $result.ExitCode | Should -Be 0
        $result.McpServerInfo | Should -BeNullOrEmpty
        @($result.McpTools).Count | Should -Be 0
    }

    It 'has -Path optional only for an MCP server' {
        $sets = (Get-Command Invoke-ModelSandbox).ParameterSets
        ($sets | Where-Object Name -EQ 'Program').Parameters.Where({ $_.Name -eq 'Path' }).IsMandatory | Should -BeTrue
        ($sets | Where-Object Name -EQ 'McpServer').Parameters.Where({ $_.Name -eq 'Path' }).IsMandatory | Should -BeFalse
        ($sets | Where-Object Name -EQ 'McpServer').Parameters.Where({ $_.Name -eq 'McpServer' }).ValueFromPipeline | Should -BeTrue
    }
}
