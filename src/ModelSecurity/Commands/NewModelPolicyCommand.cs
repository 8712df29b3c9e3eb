using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text;
using ModelSecurity.Governance;
using ModelSecurity.Integrity;
using ModelSecurity.Provenance;

namespace ModelSecurity.Commands;

/// <summary>
/// <para type="synopsis">Writes a commented model policy file to start from, optionally approving and pinning the models given.</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "ModelPolicy", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class NewModelPolicyCommand : ModelSecurityCmdlet
{
    private readonly List<string> _files = new();
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _roots = new(StringComparer.Ordinal);

    /// <summary>The policy file to write.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string OutputPath { get; set; } = string.Empty;

    /// <summary>Model files or folders to approve: each is pinned with its name, revision and SHA-256.</summary>
    [Parameter(Position = 1, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Path", "PSPath", "FullName")]
    [ValidateNotNullOrEmpty]
    public string[]? ApprovePath { get; set; }

    /// <summary>The policy's name, shown in results and reports.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>Replace the file when it exists.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        foreach (string path in ApprovePath ?? Array.Empty<string>())
        {
            string full = GetUnresolvedProviderPathFromPSPath(path);
            if (!File.Exists(full) && !Directory.Exists(full))
            {
                WriteInputError(new ItemNotFoundException($"Cannot find path '{full}' because it does not exist."), ErrorIds.PathNotFound, ErrorCategory.ObjectNotFound, path);
                continue;
            }

            foreach (string file in ModelInventory.Files(full, (folder, e) => WriteInputError(e, ErrorIds.DirectoryUnreadable, ErrorCategory.ReadError, folder), CancelToken))
            {
                if (System.IO.Path.GetFileName(file) != PolicyEvaluator.SignatureFileName && _seen.Add(file))
                {
                    _files.Add(file);
                    _roots[file] = full;
                }
            }
        }
    }

    /// <inheritdoc />
    protected override void EndProcessing()
    {
        string output = GetUnresolvedProviderPathFromPSPath(OutputPath);
        if (File.Exists(output) && !Force)
        {
            WriteInputError(new IOException($"The policy file '{output}' exists; use -Force to replace it."), ErrorIds.PolicyFileExists, ErrorCategory.ResourceExists, output, "Use -Force, or another -OutputPath.");
            return;
        }

        List<Approval> approvals = Approve();
        if (approvals.Count == 0 && _files.Count > 0)
        {
            return;
        }

        if (!ShouldProcess(output, $"Write a model policy{(approvals.Count > 0 ? $" approving {approvals.Count} models ({approvals.Sum(a => a.Files.Count)} files)" : string.Empty)}"))
        {
            return;
        }

        string text = PolicyTemplate.Write(Name ?? System.IO.Path.GetFileNameWithoutExtension(output), approvals);
        try
        {
            // Checked by the parser Test-ModelPolicy uses, so what is written is always a valid policy.
            ModelPolicy.Parse(text, output);
            string? folder = System.IO.Path.GetDirectoryName(output);
            if (folder is not null)
            {
                Directory.CreateDirectory(folder);
            }

            File.WriteAllText(output, text, new UTF8Encoding(false));
            WriteObject(new FileInfo(output));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            WriteInputError(e, ErrorIds.PolicyNotWritten, ErrorCategory.WriteError, output, "Check that the folder exists and can be written to.");
        }
    }

    private List<Approval> Approve()
    {
        var approvals = new Dictionary<(string Name, string? Revision), Approval>();
        if (_files.Count == 0)
        {
            return new List<Approval>();
        }

        var reader = new ModelSourceReader(PublisherRegistry.Default, Lookalikes.Default);
        HashCache? cache = null;
        try
        {
            cache = HashCache.Open();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            WriteWarning($"The hash cache cannot be opened ({e.Message}); every file is read in full.");
        }

        using var scheduler = new HashScheduler(Environment.ProcessorCount, cache, CancelToken);
        var pending = _files.Select(f => (File: f, Digest: scheduler.Hash(f, DigestKinds.Sha256))).ToList();
        var progress = new ProgressReporter(this, 4, "New-ModelPolicy");
        int done = 0;
        foreach ((string file, System.Threading.Tasks.Task<FileDigests> digest) in pending)
        {
            progress.Report($"{done++} of {pending.Count} files hashed", file, pending.Count == 0 ? -1 : done * 100 / pending.Count);
            string sha256;
            try
            {
                sha256 = digest.GetAwaiter().GetResult().Sha256!;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                WriteInputError(e, ErrorIds.PolicyApproveFailed, ErrorCategory.ReadError, file, "A file that cannot be read cannot be approved; check it, then run New-ModelPolicy again.");
                continue;
            }

            CacheLocation? location = ModelInventory.SafeIdentify(file);
            SourceFacts facts = reader.ReadFile(file, CancelToken);
            string root = _roots[file];
            string name = location?.Name
                ?? (facts.Publisher is not null && facts.Repository is not null ? facts.Publisher + "/" + facts.Repository : null)
                ?? System.IO.Path.GetFileName(root.TrimEnd('/', '\\'));
            string? revision = location?.Name is not null ? facts.Revision : null;
            string relative = (location?.RepoPath ?? (File.Exists(root) ? System.IO.Path.GetFileName(file) : System.IO.Path.GetRelativePath(root, file))).Replace('\\', '/');
            if (!approvals.TryGetValue((name, revision), out Approval? approval))
            {
                approval = new Approval(name, revision);
                approvals[(name, revision)] = approval;
            }

            approval.Files[relative] = sha256;
            if (facts.License is not null)
            {
                approval.Licenses.Add(facts.License);
            }
        }

        progress.Complete();
        cache?.Save();
        return approvals.Values.OrderBy(a => a.Name, StringComparer.OrdinalIgnoreCase).ToList();
    }
}
