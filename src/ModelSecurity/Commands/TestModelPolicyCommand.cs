using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using ModelSecurity.Analysis;
using ModelSecurity.Governance;
using ModelSecurity.Integrity;
using ModelSecurity.Integrity.Signing;
using ModelSecurity.Provenance;

namespace ModelSecurity.Commands;

/// <summary>
/// <para type="synopsis">Tests model files against an organisation's policy, or the standard download checklist: approved and pinned, trusted publisher, allowed format and licence, clean scan, verified hash and signature.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "ModelPolicy", DefaultParameterSetName = PathSet)]
[OutputType(typeof(ModelPolicyResult), typeof(bool))]
public sealed class TestModelPolicyCommand : ModelFileCmdlet
{
    private readonly Dictionary<string, PolicyEvidence> _evidence = new(StringComparer.Ordinal);
    private readonly List<string> _deferred = new();
    private readonly HashSet<string> _deferredSet = new(StringComparer.Ordinal);
    private readonly HashSet<string> _done = new(StringComparer.Ordinal);
    private readonly List<ModelSignatureResult> _signatures = new();
    private ModelPolicy? _policy;
    private PolicyEvaluator? _evaluator;
    private HubApiClient? _hub;
    private ProgressReporter? _progress;
    private bool _allCompliant = true;
    private int _tested;

    /// <summary>The policy file (JSON); without it, the standard download checklist applies.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PolicyPath { get; set; }

    /// <summary>Also ask Hugging Face and the Ollama registry: community red flags, the hub's scan, published hashes.</summary>
    [Parameter]
    public SwitchParameter Online { get; set; }

    /// <summary>The Hugging Face endpoint for -Online (default: HF_ENDPOINT, else https://huggingface.co).</summary>
    [Parameter]
    [ValidateNotNull]
    public Uri? Endpoint { get; set; }

    /// <summary>Return one Boolean: true only when every file is compliant.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    /// <inheritdoc />
    protected override void BeginProcessing()
    {
        _progress = new ProgressReporter(this, 3, "Test-ModelPolicy");
        _policy = ModelPolicy.Standard;
        if (PolicyPath is not null)
        {
            (string json, string path) = ReadPolicyFile(PolicyPath);
            try
            {
                _policy = ModelPolicy.Parse(json, path);
            }
            catch (InvalidDataException e)
            {
                ThrowTerminatingError(new ErrorRecord(e, ErrorIds.PolicyInvalid, ErrorCategory.InvalidData, PolicyPath)
                {
                    ErrorDetails = new ErrorDetails(e.Message) { RecommendedAction = "Fix the policy file; the MODEL POLICY FILES section of Get-Help about_ModelSecurity describes every key, and New-ModelPolicy writes a valid starting point." },
                });
                return;
            }
        }

        if (Endpoint is not null && (!Endpoint.IsAbsoluteUri || (Endpoint.Scheme != Uri.UriSchemeHttps && Endpoint.Scheme != Uri.UriSchemeHttp)))
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException($"'{Endpoint}' is not an http or https address."), ErrorIds.EndpointInvalid, ErrorCategory.InvalidArgument, Endpoint));
        }

        SignatureTrust? trust = null;
        try
        {
            if (_policy.SignaturePublicKeyPath is { } key)
            {
                trust = SignatureTrust.ForKey(SigningKeys.LoadPublicKey(key));
            }
            else if (_policy.SignatureCertificateRootPath is { } roots)
            {
                trust = SignatureTrust.ForRoots(SigningKeys.LoadCertificates(roots, "root certificate"));
            }
        }
        catch (SigningKeyException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, ErrorIds.PolicySignatureKeyInvalid, ErrorCategory.InvalidData, PolicyPath)
            {
                ErrorDetails = new ErrorDetails($"The policy's signature key or root cannot be loaded: {e.Message}")
                {
                    RecommendedAction = "Point signature.publicKeyPath or signature.certificateRootPath (relative to the policy file) at a PEM public key or certificate.",
                },
            });
            return;
        }

        OnlineProvenance? online = null;
        if (Online)
        {
            var timeout = TimeSpan.FromSeconds(30);
            online = new OnlineProvenance(new HubClient(Endpoint, timeout), new OllamaRegistryClient(null, timeout), _policy.Registry);
            _hub = new HubApiClient(HubApiClient.ResolveEndpoint(Endpoint?.ToString()), Environment.GetEnvironmentVariable("HF_TOKEN"), timeout);
        }

        HashCache? cache = null;
        try
        {
            cache = HashCache.Open();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            WriteWarning($"The hash cache cannot be opened ({e.Message}); every file is read in full.");
        }

        _evaluator = new PolicyEvaluator(_policy, trust, online, _hub, cache, CancelToken);
        WriteVerbose(_policy.PolicyPath is null
            ? "No -PolicyPath: the standard download checklist applies (trusted publisher, SafeTensors or GGUF, model card, clear licence, Clean scan, verified hash)."
            : $"Policy '{_policy.Name}' from {_policy.PolicyPath}: {_policy.ApprovedModels.Count} approved models.");
    }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        if (ParameterSetName == InputObjectSet && Remember(InputObject!))
        {
            return;
        }

        foreach (string file in ResolveInputFiles())
        {
            if (!_deferredSet.Contains(file))
            {
                Test(file);
            }
        }
    }

    /// <inheritdoc />
    protected override void EndProcessing()
    {
        foreach (string file in _deferred)
        {
            Test(file);
        }

        _evaluator?.Save();
        _progress?.Complete();
        if (Quiet)
        {
            // No file at all is not "every file compliant": nothing was shown to comply.
            WriteObject(_allCompliant && _tested > 0);
        }
    }

    /// <inheritdoc />
    protected override bool IncludeFromFolder(string file) =>
        !string.Equals(System.IO.Path.GetFileName(file), PolicyEvaluator.SignatureFileName, StringComparison.Ordinal)
        && (_policy?.PolicyPath is null || !string.Equals(file, _policy.PolicyPath, StringComparison.Ordinal))
        && ModelInventory.IsListed(file, ModelInventory.SafeIdentify(file));

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _evaluator?.Dispose();
            _hub?.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>Keeps a piped result as evidence for its file, which is then tested at the end (after every piece for it has come).</summary>
    private bool Remember(IModelFileReference reference)
    {
        switch (reference)
        {
            case ModelScanResult scan:
                Evidence(scan.Path).Scan = scan;
                break;
            case ModelHashResult hash:
                Evidence(hash.Path).Hash = hash;
                break;
            case ModelSignatureResult signature:
                _signatures.Add(signature);
                foreach (string file in ResolveInputFiles())
                {
                    Defer(file);
                }

                return true;
            default:
                return false;
        }

        return true;
    }

    private PolicyEvidence Evidence(string path)
    {
        Defer(path);
        if (!_evidence.TryGetValue(path, out PolicyEvidence? evidence))
        {
            evidence = new PolicyEvidence();
            _evidence[path] = evidence;
        }

        return evidence;
    }

    private void Defer(string path)
    {
        if (_deferredSet.Add(path))
        {
            _deferred.Add(path);
        }
    }

    private void Test(string file)
    {
        if (!_done.Add(file))
        {
            return;
        }

        CancelToken.ThrowIfCancellationRequested();
        _progress!.Report($"{_tested} files tested", file);
        _evidence.TryGetValue(file, out PolicyEvidence? evidence);
        if (_signatures.FirstOrDefault(s => IsUnder(file, s.Path)) is { } signature)
        {
            evidence ??= new PolicyEvidence();
            evidence.Signature = signature;
        }

        ModelPolicyResult result;
        try
        {
            result = _evaluator!.Evaluate(file, evidence);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            _allCompliant = false;
            _tested++;
            WriteInputError(e, ErrorIds.PolicyCheckFailed, ErrorCategory.ReadError, file, "Check that the file can be read, then test it again; until then it is not compliant.");
            return;
        }

        foreach (string warning in _evaluator.Warnings)
        {
            WriteWarning(warning);
        }

        _evaluator.Warnings.Clear();
        _tested++;
        _allCompliant &= result.Compliant;
        WriteVerbose($"{(result.Compliant ? "Compliant" : "NotCompliant")} {file}: " + string.Join("; ", result.Checks));
        if (!Quiet)
        {
            WriteObject(result);
        }
    }

    private static bool IsUnder(string file, string folder)
    {
        string prefix = folder.TrimEnd(System.IO.Path.DirectorySeparatorChar, System.IO.Path.AltDirectorySeparatorChar) + System.IO.Path.DirectorySeparatorChar;
        return file.StartsWith(prefix, OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);
    }
}
