using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using ModelSecurity.Mcp;
using ModelSecurity.Provenance;

namespace ModelSecurity.Commands;

/// <summary>
/// <para type="synopsis">Writes the exact versions of MCP servers into a lock file that Test-McpServer -LockPath checks later.</para>
/// </summary>
[Cmdlet(VerbsData.Export, "McpServerLock", SupportsShouldProcess = true)]
[OutputType(typeof(McpLockEntry))]
public sealed class ExportMcpServerLockCommand : McpCmdlet
{
    private readonly List<McpLockEntry> _entries = new();
    private McpVersionResolver? _resolver;
    private bool _sawInput;

    /// <summary>The lock file to write.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    /// <summary>MCP server entries from Get-McpServer; when none are piped, every server Get-McpServer finds is locked.</summary>
    [Parameter(ValueFromPipeline = true)]
    public McpServer? InputObject { get; set; }

    /// <summary>Ask the npm registry and PyPI for versions that are neither pinned nor cached.</summary>
    [Parameter]
    public SwitchParameter Online { get; set; }

    /// <summary>The npm registry for -Online (default https://registry.npmjs.org/).</summary>
    [Parameter]
    [ValidateNotNull]
    public Uri? NpmRegistry { get; set; }

    /// <summary>The PyPI server for -Online (default https://pypi.org/).</summary>
    [Parameter]
    [ValidateNotNull]
    public Uri? PyPIEndpoint { get; set; }

    /// <summary>Seconds each online request may take.</summary>
    [Parameter]
    [ValidateRange(1, 600)]
    public int TimeoutSec { get; set; } = 30;

    /// <summary>Also write the lock entries to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <inheritdoc />
    protected override void BeginProcessing()
    {
        foreach (Uri? uri in new[] { NpmRegistry, PyPIEndpoint })
        {
            if (uri is not null && (!uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)))
            {
                ThrowTerminatingError(new ErrorRecord(new ArgumentException($"'{uri}' is not an http or https address."), ErrorIds.EndpointInvalid, ErrorCategory.InvalidArgument, uri));
            }
        }

        _resolver = new McpVersionResolver(DefaultLocations().Home)
        {
            NpmRegistry = Online ? WithSlash(NpmRegistry ?? McpVersionResolver.DefaultNpmRegistry) : null,
            PyPI = Online ? WithSlash(PyPIEndpoint ?? McpVersionResolver.DefaultPyPI) : null,
            Timeout = TimeSpan.FromSeconds(TimeoutSec),
        };
    }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        if (InputObject is not null)
        {
            _sawInput = true;
            Add(InputObject);
        }
    }

    /// <inheritdoc />
    protected override void EndProcessing()
    {
        if (!_sawInput)
        {
            foreach (McpServer server in ReadServers(null, null))
            {
                Add(server);
            }
        }

        string path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        if (!ShouldProcess(path, $"Write an MCP server lock of {_entries.Count} server(s)"))
        {
            return;
        }

        try
        {
            McpLock.Write(path, _entries);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            WriteInputError(new IOException($"The lock file '{path}' cannot be written: {e.Message}", e), ErrorIds.McpLockNotWritten, ErrorCategory.WriteError, Path);
            return;
        }

        WriteVerbose($"Wrote {path} ({_entries.Count} servers).");
        if (PassThru)
        {
            WriteObject(_entries, enumerateCollection: true);
        }
    }

    private void Add(McpServer server)
    {
        CancelToken.ThrowIfCancellationRequested();
        McpResolvedVersion? resolved = null;
        string? reason;
        try
        {
            resolved = _resolver!.Resolve(server, CancelToken, out reason);
        }
        catch (OnlineLookupException e)
        {
            reason = $"the online look-up failed ({e.ErrorId}): {e.Message}";
        }

        bool fetched = server.Transport == McpTransport.Stdio && server.Package is not null
            && server.PackageManager is McpPackageManager.Npx or McpPackageManager.Uvx or McpPackageManager.Pipx or McpPackageManager.Docker;
        if (resolved is null && fetched)
        {
            WriteWarning($"{server.Client}:{server.Name} ({server.Package}): no version recorded, {reason}.");
        }

        _entries.Add(new McpLockEntry
        {
            Client = server.Client,
            ConfigPath = server.ConfigPath,
            Project = server.Project,
            Name = server.Name,
            Transport = server.Transport,
            PackageManager = server.PackageManager,
            Package = server.Package,
            Version = resolved?.Version,
            Integrity = resolved?.Integrity,
            ResolvedFrom = resolved?.Source,
            Url = server.Url,
        });
    }

    private static Uri WithSlash(Uri uri) => uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
}
