using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using ModelSecurity.Mcp;

namespace ModelSecurity.Commands;

/// <summary>
/// What the MCP cmdlets share: finding the client configuration files (the defaults of this OS, or
/// -Path), reading each, and reporting a broken or unreadable file as an error before going on.
/// </summary>
public abstract class McpCmdlet : ModelSecurityCmdlet
{
    /// <summary>The default locations for the current user and the current folder (MODELSECURITY_HOME overrides the home folder).</summary>
    internal McpConfigLocations DefaultLocations() =>
        McpConfigLocations.ForCurrentUser(SessionState.Path.CurrentFileSystemLocation.ProviderPath);

    /// <summary>The servers of the files named by <paramref name="paths"/> (wildcards), or of every default file when null.</summary>
    internal IEnumerable<McpServer> ReadServers(string[]? paths, string[]? clients)
    {
        IEnumerable<(string Client, string Path)> files = paths is null ? DefaultLocations().Existing() : ResolveConfigFiles(paths);
        foreach (var (client, file) in files)
        {
            CancelToken.ThrowIfCancellationRequested();
            if (clients is { Length: > 0 } && !clients.Contains(client, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            List<McpServer> servers;
            var problems = new List<string>();
            try
            {
                servers = McpConfigReader.Read(file, client, problems);
            }
            catch (McpConfigException e)
            {
                WriteInputError(e, ErrorIds.McpConfigInvalid, ErrorCategory.ParserError, file, "Fix the file (the client would not read it either), then run the command again.");
                continue;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                WriteInputError(new IOException($"{file}: the MCP configuration cannot be read: {e.Message}", e), ErrorIds.McpConfigUnreadable, ErrorCategory.ReadError, file);
                continue;
            }

            foreach (string problem in problems)
            {
                WriteWarning(problem);
            }

            WriteVerbose($"{file}: {servers.Count} MCP server(s) for {client}.");
            foreach (McpServer server in servers)
            {
                yield return server;
            }
        }
    }

    private IEnumerable<(string Client, string Path)> ResolveConfigFiles(string[] paths)
    {
        foreach (string path in paths)
        {
            Collection? resolved = null;
            try
            {
                resolved = new Collection(GetResolvedProviderPathFromPSPath(path, out ProviderInfo provider), provider);
            }
            catch (Exception e) when (e is ItemNotFoundException or System.Management.Automation.DriveNotFoundException)
            {
                WriteInputError(e, ErrorIds.PathNotFound, ErrorCategory.ObjectNotFound, path);
            }

            if (resolved is null)
            {
                continue;
            }

            if (resolved.Provider.Name != "FileSystem")
            {
                WriteInputError(new ArgumentException($"'{path}' is not a file system path."), ErrorIds.PathNotFileSystem, ErrorCategory.InvalidArgument, path);
                continue;
            }

            if (resolved.Paths.Count == 0)
            {
                WriteInputError(new ItemNotFoundException($"No file matches the path '{path}'."), ErrorIds.PathNotFound, ErrorCategory.ObjectNotFound, path);
            }

            foreach (string file in resolved.Paths)
            {
                if (Directory.Exists(file))
                {
                    WriteInputError(new ArgumentException($"'{file}' is a folder; name the MCP configuration file."), ErrorIds.PathNotFound, ErrorCategory.InvalidArgument, file);
                    continue;
                }

                yield return (McpConfigReader.ClientOf(file), file);
            }
        }
    }

    private sealed record Collection(IReadOnlyList<string> Paths, ProviderInfo Provider);
}
