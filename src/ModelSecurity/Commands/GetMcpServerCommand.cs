using System.Linq;
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

    /// <summary>Only servers with these names (wildcards allowed).</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        WildcardPattern[] patterns = (Name ?? System.Array.Empty<string>()).Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToArray();
        foreach (McpServer server in ReadServers(Path, Client))
        {
            if (patterns.Length == 0 || patterns.Any(p => p.IsMatch(server.Name)))
            {
                WriteObject(server);
            }
        }
    }
}
