using System.Management.Automation;
using ModelSecurity.Mcp;

namespace ModelSecurity.Commands;

/// <summary>
/// <para type="synopsis">Lists the MCP servers that AI clients (Claude Desktop, Claude Code, VS Code, Cursor, Windsurf, Continue) are configured to start or connect to.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "McpServer")]
[OutputType(typeof(McpServer))]
public sealed class GetMcpServerCommand : McpCmdlet
{
    /// <summary>Configuration files to read instead of the clients' default locations (wildcards allowed).</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string[]? Path { get; set; }

    /// <summary>Only servers of these clients.</summary>
    [Parameter]
    [ValidateSet(McpClients.ClaudeDesktop, McpClients.ClaudeCode, McpClients.VSCode, McpClients.Cursor, McpClients.Windsurf, McpClients.Continue, McpClients.Custom, IgnoreCase = true)]
    public string[]? Client { get; set; }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        foreach (McpServer server in ReadServers(Path, Client))
        {
            WriteObject(server);
        }
    }
}
