using System;
using System.IO;
using System.Management.Automation;
using ModelSecurity.Provenance;

namespace ModelSecurity.Commands;

/// <summary>
/// <para type="synopsis">Tells where model files (or a model name) came from, how far to trust the publisher, and whether the name imitates a popular one.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "ModelSource", DefaultParameterSetName = PathSet)]
[OutputType(typeof(ModelSource))]
public sealed class GetModelSourceCommand : ModelFileCmdlet
{
    private const string NameSet = "Name";

    private ModelSourceReader? _reader;
    private OnlineProvenance? _online;
    private ProgressReporter? _progress;
    private int _done;

    /// <summary>Model names to check before anything is downloaded: 'org/repo' (Hugging Face) or '[namespace/]model[:tag]' (Ollama).</summary>
    [Parameter(Mandatory = true, ParameterSetName = NameSet)]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = Array.Empty<string>();

    /// <summary>Also ask Hugging Face and the Ollama registry.</summary>
    [Parameter]
    public SwitchParameter Online { get; set; }

    /// <summary>The Hugging Face endpoint for -Online (default: HF_ENDPOINT, else https://huggingface.co).</summary>
    [Parameter]
    [ValidateNotNull]
    public Uri? Endpoint { get; set; }

    /// <summary>The Ollama registry for -Online (default https://registry.ollama.ai).</summary>
    [Parameter]
    [ValidateNotNull]
    public Uri? OllamaEndpoint { get; set; }

    /// <summary>Seconds each online request may take.</summary>
    [Parameter]
    [ValidateRange(1, 600)]
    public int TimeoutSec { get; set; } = 30;

    /// <summary>A policy file whose publishers array overrides and extends the publisher registry.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PolicyPath { get; set; }

    /// <inheritdoc />
    protected override void BeginProcessing()
    {
        _progress = new ProgressReporter(this, 2, "Get-ModelSource");
        PublisherRegistry registry = PublisherRegistry.Default;
        if (PolicyPath is not null)
        {
            (string json, string path) = ReadPolicyFile(PolicyPath);
            try
            {
                registry = registry.WithPolicy(json, path);
            }
            catch (InvalidDataException e)
            {
                ThrowTerminatingError(new ErrorRecord(e, ErrorIds.PolicyInvalid, ErrorCategory.InvalidData, PolicyPath));
            }
        }

        foreach (Uri? uri in new[] { Endpoint, OllamaEndpoint })
        {
            if (uri is not null && (!uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)))
            {
                ThrowTerminatingError(new ErrorRecord(
                    new ArgumentException($"'{uri}' is not an http or https address."), ErrorIds.EndpointInvalid, ErrorCategory.InvalidArgument, uri));
            }
        }

        _reader = new ModelSourceReader(registry, Lookalikes.Default);
        if (Online)
        {
            var timeout = TimeSpan.FromSeconds(TimeoutSec);
            _online = new OnlineProvenance(new HubClient(Endpoint, timeout), new OllamaRegistryClient(OllamaEndpoint, timeout), registry);
        }
    }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        if (ParameterSetName == NameSet)
        {
            foreach (string name in Name)
            {
                CancelToken.ThrowIfCancellationRequested();
                SourceFacts facts;
                try
                {
                    facts = _reader!.ReadName(name);
                }
                catch (ArgumentException e)
                {
                    WriteInputError(e, ErrorIds.NameInvalid, ErrorCategory.InvalidArgument, name, "Write a Hugging Face repository as org/repo and an Ollama model as model:tag or namespace/model:tag.");
                    continue;
                }

                Emit(facts, name);
            }

            return;
        }

        foreach (string file in ResolveInputFiles())
        {
            CancelToken.ThrowIfCancellationRequested();
            if (CacheLayouts.IsBookkeeping(CacheLayouts.Identify(file)))
            {
                WriteVerbose($"Skipped {file}: cache bookkeeping (refs, trees, manifests), not a model file.");
                continue;
            }

            _progress!.Report($"{_done} files read", file);
            Emit(_reader!.ReadFile(file, CancelToken), file);
        }
    }

    /// <inheritdoc />
    protected override void EndProcessing() => _progress?.Complete();

    private void Emit(SourceFacts facts, object target)
    {
        if (_online is not null)
        {
            try
            {
                _online.Enrich(facts, CancelToken);
            }
            catch (OnlineLookupException e)
            {
                facts.Evidence.Add($"Remote: the online lookup failed ({e.ErrorId}): {e.Message}");
                WriteInputError(e, e.ErrorId, e.ErrorId == ErrorIds.OnlineNotFound ? ErrorCategory.ObjectNotFound
                    : e.ErrorId == ErrorIds.OnlineAccessDenied ? ErrorCategory.PermissionDenied
                    : e.ErrorId == ErrorIds.OnlineUnavailable ? ErrorCategory.ConnectionError : ErrorCategory.InvalidResult,
                    target, "Check the name and the network; results without -Online still show what the disk and the name tell.");
            }
        }

        _done++;
        var result = new ModelSource(facts);
        WriteVerbose($"{result.TrustLevel} {result.Ecosystem} {result.Name} ({result.Findings.Count} findings)");
        WriteObject(result);
    }
}
