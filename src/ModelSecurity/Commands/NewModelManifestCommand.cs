using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Threading.Tasks;
using ModelSecurity.Integrity;
using ModelSecurity.Provenance;

namespace ModelSecurity.Commands;

/// <summary>
/// <para type="synopsis">Writes a manifest of a model folder (every file, its size and hash) for Confirm-ModelHash -ManifestPath.</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "ModelManifest", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class NewModelManifestCommand : ModelSecurityCmdlet
{
    /// <summary>The model folder.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>Where to write the manifest; default modelsecurity-manifest.json in the folder.</summary>
    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    public string? OutputPath { get; set; }

    /// <summary>SHA256 (default) or SHA512.</summary>
    [Parameter]
    [ValidateSet("SHA256", "SHA512")]
    public string Algorithm { get; set; } = "SHA256";

    /// <summary>Overwrite an existing manifest.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Read every file again, ignoring the hash cache.</summary>
    [Parameter]
    public SwitchParameter NoCache { get; set; }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        string folder = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        if (!Directory.Exists(folder))
        {
            WriteInputError(new DirectoryNotFoundException($"The folder '{folder}' does not exist."), ErrorIds.PathNotFound, ErrorCategory.ObjectNotFound, Path, "Give the model's folder.");
            return;
        }

        string output = OutputPath is null
            ? System.IO.Path.Combine(folder, ChecksumList.DefaultFileName)
            : SessionState.Path.GetUnresolvedProviderPathFromPSPath(OutputPath);
        if (File.Exists(output) && !Force)
        {
            WriteInputError(new IOException($"The manifest '{output}' exists; use -Force to replace it."), ErrorIds.ManifestExists, ErrorCategory.ResourceExists, output, "Use -Force, or another -OutputPath.");
            return;
        }

        if (!ShouldProcess(output, $"Write a manifest of '{folder}'"))
        {
            return;
        }

        ModelHashAlgorithm algorithm = Algorithm == "SHA512" ? ModelHashAlgorithm.SHA512 : ModelHashAlgorithm.SHA256;
        var files = new List<(string Full, string Relative, Task<FileDigests> Digests)>();
        HashCache cache = HashCache.Open();
        using (var scheduler = new HashScheduler(Environment.ProcessorCount, cache, CancelToken))
        {
            // Every file, including cache bookkeeping: a pinned folder is pinned whole. Only the manifest itself is left out.
            bool unreadable = false;
            foreach (string file in ModelInventory.Files(folder, (directory, e) =>
            {
                unreadable = true;
                WriteInputError(e, ErrorIds.DirectoryUnreadable, ErrorCategory.ReadError, directory, "Make every folder readable, then create the manifest again.");
            }, CancelToken, everyFile: true))
            {
                if (!string.Equals(System.IO.Path.GetFullPath(file), System.IO.Path.GetFullPath(output), StringComparison.Ordinal))
                {
                    files.Add((file, System.IO.Path.GetRelativePath(folder, file).Replace('\\', '/'), scheduler.Hash(file, algorithm.ToKinds(), !NoCache)));
                }
            }

            if (unreadable)
            {
                return;
            }

            var entries = new List<(string, long, string)>();
            var progress = new ProgressReporter(this, 3, "New-ModelManifest");
            foreach ((string full, string relative, Task<FileDigests> digests) in files)
            {
                while (!WaitQuietly(digests))
                {
                    progress.Report($"{scheduler.BytesHashed >> 20:N0} of {scheduler.BytesQueued >> 20:N0} MiB hashed", full);
                }

                if (digests.IsCanceled)
                {
                    throw new OperationCanceledException();
                }

                if (digests.IsFaulted)
                {
                    // A manifest with a hole would pin less than it claims: write none.
                    progress.Complete();
                    WriteInputError(digests.Exception!.GetBaseException(), ErrorIds.HashFailed, ErrorCategory.ReadError, full, "Make every file readable, then create the manifest again.");
                    return;
                }

                entries.Add((relative, digests.Result.Length, digests.Result.Get(algorithm)!));
            }

            progress.Complete();
            try
            {
                ChecksumList.Write(output, algorithm, entries, DateTimeOffset.UtcNow);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                WriteInputError(e, ErrorIds.ManifestWriteFailed, ErrorCategory.WriteError, output, "Check that the folder is writable.");
                return;
            }
        }

        cache.Save();
        WriteObject(new FileInfo(output));
    }

    private bool WaitQuietly(Task task)
    {
        try
        {
            return task.Wait(250, CancelToken);
        }
        catch (AggregateException)
        {
            return true;
        }
    }
}
