using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using ModelSecurity.Analysis;
using ModelSecurity.Formats;
using ModelSecurity.Integrity;
using ModelSecurity.Integrity.Signing;
using ModelSecurity.Provenance;

namespace ModelSecurity.Governance;

/// <summary>What is already known about one file: the results piped into Test-ModelPolicy.</summary>
internal sealed class PolicyEvidence
{
    public ModelScanResult? Scan { get; set; }

    public ModelSource? Source { get; set; }

    public ModelHashResult? Hash { get; set; }

    public ModelSignatureResult? Signature { get; set; }
}

/// <summary>
/// Judges files against a <see cref="ModelPolicy"/>: runs the scan, source, hash and signature checks
/// the evidence does not already hold, and turns what they found into violations, one per broken rule.
/// </summary>
internal sealed class PolicyEvaluator : IDisposable
{
    public const string SignatureFileName = "model.sig";

    private const string RuleApproved = "ApprovedModel";
    private const string RuleRevision = "PinnedRevision";
    private const string RuleHash = "Hash";
    private const string RulePublisher = "Publisher";
    private const string RuleFormat = "Format";
    private const string RuleLicence = "Licence";
    private const string RuleVerdict = "Verdict";
    private const string RuleSignature = "Signature";
    private const string RuleModelCard = "ModelCard";
    private const string RuleCommunity = "Community";

    private const string SandboxAdvice = "Run it first with Invoke-ModelSandbox: static checks cannot show everything a model's loader will do.";

    private readonly ModelPolicy _policy;
    private readonly ScanOptions _scanOptions;
    private readonly ModelSourceReader _sources;
    private readonly OnlineProvenance? _online;
    private readonly HashScheduler _scheduler;
    private readonly HashCache? _cache;
    private readonly HashVerifier _verifier;
    private readonly SignatureTrust? _trust;
    private readonly Dictionary<string, ModelSignatureResult> _signatures = new(StringComparer.Ordinal);
    private readonly CancellationToken _cancel;

    public PolicyEvaluator(ModelPolicy policy, SignatureTrust? trust, OnlineProvenance? online, HubApiClient? hub, HashCache? cache, CancellationToken cancel)
    {
        _policy = policy;
        _trust = trust;
        _online = online;
        _cache = cache;
        _cancel = cancel;
        _scanOptions = new ScanOptions(PicklePolicy.WithAllowed(policy.AllowGlobals), ScanLimits.Default);
        _sources = new ModelSourceReader(policy.Registry, Lookalikes.Default);
        _scheduler = new HashScheduler(Environment.ProcessorCount, cache, cancel);
        _verifier = new HashVerifier(new ReferenceResolver(null, Array.Empty<ChecksumList>(), hub, cancel), _scheduler, ModelHashAlgorithm.SHA256, useCache: true);
    }

    /// <summary>Problems met on the way (online lookups that failed), for the cmdlet to write as warnings.</summary>
    public List<string> Warnings { get; } = new();

    public ModelPolicyResult Evaluate(string file, PolicyEvidence? evidence)
    {
        evidence ??= new PolicyEvidence();
        var violations = new List<ModelPolicyViolation>();
        var checks = new List<string>();
        CacheLocation? location = ModelInventory.SafeIdentify(file);

        ModelScanResult scan = evidence.Scan ?? ModelScanner.Scan(file, _scanOptions, _cancel);
        ModelSource source = evidence.Source ?? ReadSource(file);
        // The file's own SHA-256 matters only for comparing with approved hashes; without any, the hash rule reads what its reference needs.
        string? hashError = null;
        string? sha256 = _policy.ApprovedModels.Count > 0 ? Sha256(file, out hashError) : null;

        bool hashApproved = CheckApproved(file, location, source, sha256, hashError, violations, checks, out bool hashMismatch);
        CheckHash(file, location, evidence, hashApproved, hashMismatch, hashError, violations, checks);
        CheckPublisher(source, approved: hashApproved, violations, checks);
        CheckFormat(scan, violations, checks);
        CheckLicence(source, hashApproved, violations, checks);
        CheckVerdict(scan, evidence.Scan is not null, violations, checks);
        CheckSignature(file, location, evidence.Signature, violations, checks);
        CheckModelCard(source, hashApproved, violations, checks);
        CheckCommunity(source, violations, checks);

        checks.AddRange(violations.Select(v => $"{v.Rule}: failed ({v.RuleId})"));
        return new ModelPolicyResult(file, _policy.Name, _policy.PolicyPath, violations, new[] { SandboxAdvice }, checks);
    }

    /// <summary>Writes the hash cache (hashes read for this run are not read again next time).</summary>
    public void Save() => _cache?.Save();

    public void Dispose()
    {
        _scheduler.Dispose();
        _cache?.Save();
    }

    private static void Violate(List<ModelPolicyViolation> violations, string ruleId, string rule, string detail) =>
        violations.Add(new ModelPolicyViolation(ruleId, rule, detail));

    /// <summary>"llama3.2:1b", "library/llama3.2:1b" and "registry.ollama.ai/library/llama3.2:1b" are one Ollama model.</summary>
    private static string NormaliseName(string name)
    {
        string n = name.Trim().ToLowerInvariant();
        foreach (string host in new[] { "registry.ollama.ai/", "ollama.com/", "https://huggingface.co/", "huggingface.co/", "hf.co/" })
        {
            if (n.StartsWith(host, StringComparison.Ordinal))
            {
                n = n.Substring(host.Length);
            }
        }

        if (n.StartsWith("library/", StringComparison.Ordinal))
        {
            n = n.Substring("library/".Length);
        }

        // An Ollama name without a tag is its :latest; a Hugging Face repository has a slash and no colon.
        bool ollamaLike = n.Contains(':') || !n.Contains('/');
        return ollamaLike && !n.Contains(':') ? n + ":latest" : n;
    }

    private static bool RevisionMatches(string pinned, string? actual)
    {
        if (actual is null)
        {
            return false;
        }

        static string Bare(string r) => (r.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase) ? r.Substring(7) : r).Trim().ToLowerInvariant();
        string p = Bare(pinned);
        string a = Bare(actual);

        // A shortened commit (at least 7 hex digits, as git prints them) pins the commit it starts.
        return p == a || (p.Length >= 7 && p.Length < a.Length && p.All(Uri.IsHexDigit) && a.StartsWith(p, StringComparison.Ordinal));
    }

    private ModelSource ReadSource(string file)
    {
        SourceFacts facts = _sources.ReadFile(file, _cancel);
        if (_online is not null)
        {
            try
            {
                _online.Enrich(facts, _cancel);
            }
            catch (OnlineLookupException e)
            {
                Warnings.Add($"{file}: the online lookup failed ({e.ErrorId}): {e.Message}");
            }
        }

        return new ModelSource(facts);
    }

    private string? Sha256(string file, out string? error)
    {
        error = null;
        try
        {
            FileDigests digests = _scheduler.Hash(file, DigestKinds.Sha256).GetAwaiter().GetResult();
            return digests.Sha256;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = e.Message;
            return null;
        }
    }

    private static IEnumerable<string> NamesOf(CacheLocation? location, ModelSource source)
    {
        if (location?.Name is { } name)
        {
            yield return name;
        }

        if (location is not null)
        {
            foreach (string other in location.AlsoNamedBy)
            {
                yield return other;
            }
        }

        if (source.Publisher is not null && source.Repository is not null)
        {
            yield return source.Publisher + "/" + source.Repository;
        }

        if (source.Name is not null)
        {
            yield return source.Name;
        }
    }

    /// <summary>The approved-model rules; true when the file's bytes are the approved ones.</summary>
    private bool CheckApproved(string file, CacheLocation? location, ModelSource source, string? sha256, string? hashError, List<ModelPolicyViolation> violations, List<string> checks, out bool mismatch)
    {
        mismatch = false;
        if (_policy.ApprovedModels.Count == 0)
        {
            checks.Add("ApprovedModel: the policy lists no approved models");
            return false;
        }

        var names = new HashSet<string>(NamesOf(location, source).Select(NormaliseName), StringComparer.Ordinal);
        List<ApprovedModel> byName = _policy.ApprovedModels.Where(a => names.Contains(NormaliseName(a.Name))).ToList();
        string repoPath = (location?.RepoPath ?? Path.GetFileName(file)).Replace('\\', '/');
        string shown = names.FirstOrDefault() ?? Path.GetFileName(file);

        if (byName.Count > 0)
        {
            ApprovedModel entry = byName.FirstOrDefault(a => a.Revision is null || RevisionMatches(a.Revision, source.Revision)) ?? byName[0];
            if (entry.Revision is not null && !RevisionMatches(entry.Revision, source.Revision))
            {
                Violate(violations, RuleIds.PolicyRevisionNotPinned, RuleRevision,
                    $"'{entry.Name}' is approved at revision {entry.Revision}; this copy is {(source.Revision is null ? "of an unknown revision" : "revision " + source.Revision)}.");
            }
            else if (entry.Revision is not null)
            {
                checks.Add($"PinnedRevision: {source.Revision} is the approved revision of '{entry.Name}'");
            }

            if (entry.Files.Count == 0)
            {
                checks.Add($"ApprovedModel: '{entry.Name}' is approved (the policy pins no file hashes for it)");
                return false;
            }

            if (sha256 is null)
            {
                Violate(violations, RuleIds.PolicyHashMismatch, RuleHash, $"The file cannot be read to compare it with the approved hash of '{entry.Name}': {hashError}");
                mismatch = true;
                return false;
            }

            if (entry.Files.TryGetValue(repoPath, out string? approvedHash))
            {
                if (approvedHash == sha256)
                {
                    checks.Add($"ApprovedModel: '{entry.Name}' file '{repoPath}' has its approved SHA-256");
                    return true;
                }

                Violate(violations, RuleIds.PolicyHashMismatch, RuleHash,
                    $"'{repoPath}' of '{entry.Name}' has SHA-256 {sha256}; the policy approved {approvedHash}. These are not the approved bytes: a tampered, swapped or different file.");
                mismatch = true;
                return false;
            }

            if (entry.Files.Values.Contains(sha256))
            {
                checks.Add($"ApprovedModel: the file's SHA-256 is one the policy approves for '{entry.Name}'");
                return true;
            }

            Violate(violations, RuleIds.PolicyNotApproved, RuleApproved,
                $"'{repoPath}' is not among the {entry.Files.Count} files approved for '{entry.Name}', and no approved file has its SHA-256 ({sha256}).");
            return false;
        }

        if (sha256 is not null)
        {
            ApprovedModel? byContent = _policy.ApprovedModels.FirstOrDefault(a => a.Files.Values.Contains(sha256));
            if (byContent is not null)
            {
                checks.Add($"ApprovedModel: the file's SHA-256 is one the policy approves for '{byContent.Name}'");
                return true;
            }
        }

        if (_policy.RequireApproved)
        {
            string fileName = Path.GetFileName(file);
            ApprovedModel? sameName = _policy.ApprovedModels.FirstOrDefault(a => a.Files.Keys.Any(k => k.EndsWith("/" + fileName, StringComparison.Ordinal) || k == fileName));
            Violate(violations, RuleIds.PolicyNotApproved, RuleApproved,
                $"No approved model names '{shown}', and no approved file has this file's SHA-256"
                + (sha256 is null ? $" (the file cannot be read: {hashError})" : $" ({sha256})")
                + (sameName is null ? "." : $". '{sameName.Name}' approves a file of this name: this may be a modified or re-hosted copy of it."));
        }
        else
        {
            checks.Add("ApprovedModel: not on the approved list, which the policy does not require (requireApproved is false)");
        }

        return false;
    }

    private void CheckHash(string file, CacheLocation? location, PolicyEvidence evidence, bool approved, bool mismatch, string? hashError, List<ModelPolicyViolation> violations, List<string> checks)
    {
        if (approved || mismatch)
        {
            return;
        }

        ModelHashResult? result = evidence.Hash;
        if (result is null && hashError is null)
        {
            PendingCheck? pending = _verifier.Check(file, location).FirstOrDefault();
            if (pending is not null)
            {
                while (!pending.Wait(TimeSpan.FromMilliseconds(250), _cancel))
                {
                }

                result = pending.Complete(out Exception? error);
                hashError = error?.Message;
            }
        }

        switch (result?.Status)
        {
            case ModelHashStatus.Match:
                checks.Add($"Hash: matches the {result.ExpectedSource} reference ({result.Detail})");
                break;
            case ModelHashStatus.Mismatch:
                // A published reference that disagrees is tampering whether or not the policy requires a match.
                Violate(violations, RuleIds.PolicyHashMismatch, RuleHash,
                    $"SHA-256 {result.Hash} does not match the {result.ExpectedSource} reference {result.Expected} ({result.Detail}).");
                break;
            default:
                string why = result?.Detail ?? hashError ?? "the file could not be hashed";
                if (_policy.RequireHashMatch)
                {
                    Violate(violations, RuleIds.PolicyHashMismatch, RuleHash,
                        $"The hash is not verified: {why}. Pin it in approvedModels (New-ModelPolicy -ApprovePath), or keep a manifest or sidecar beside it.");
                }
                else
                {
                    checks.Add($"Hash: not verified ({why}); the policy does not require it");
                }

                break;
        }
    }

    private void CheckPublisher(ModelSource source, bool approved, List<ModelPolicyViolation> violations, List<string> checks)
    {
        string who = source.Publisher ?? "unknown";
        if (_policy.IsBlocked(source.Publisher))
        {
            Violate(violations, RuleIds.PolicyPublisher, RulePublisher, $"The publisher '{source.Publisher}' is blocked by the policy.");
            return;
        }

        if (source.LookalikeOf is not null)
        {
            Violate(violations, RuleIds.PolicyPublisher, RulePublisher, $"'{source.Name}' imitates '{source.LookalikeOf}': a look-alike name is never trusted.");
            return;
        }

        if (_policy.MinimumTrust is not { } minimum)
        {
            checks.Add($"Publisher: '{who}' ({source.TrustLevel}); the policy sets no minimum trust");
            return;
        }

        if (source.TrustLevel >= minimum)
        {
            checks.Add($"Publisher: '{who}' is trusted {source.TrustLevel} ({source.TrustReason})");
        }
        else if (approved)
        {
            checks.Add($"Publisher: '{who}' is trusted {source.TrustLevel}, below {minimum}, but the policy approves these exact bytes");
        }
        else
        {
            Violate(violations, RuleIds.PolicyPublisher, RulePublisher,
                $"The publisher '{who}' is trusted {source.TrustLevel}; the policy asks for at least {minimum}. {source.TrustReason}");
        }
    }

    private void CheckFormat(ModelScanResult scan, List<ModelPolicyViolation> violations, List<string> checks)
    {
        if (_policy.AllowedFormats is null || ModelPolicy.CompanionFormats.Contains(scan.Format) || _policy.AllowedFormats.Contains(scan.Format))
        {
            checks.Add($"Format: {scan.Format} is allowed");
            return;
        }

        string allowed = string.Join(", ", _policy.AllowedFormats.OrderBy(f => f.ToString(), StringComparer.Ordinal));
        Violate(violations, RuleIds.PolicyFormat, RuleFormat,
            $"The file is {scan.Format}{(scan.Format.IsPickleFamily() ? " (a pickle, which runs code when loaded)" : string.Empty)}; the policy allows {allowed} (and JSON, YAML, text, templates and images beside them).");
    }

    private void CheckLicence(ModelSource source, bool approved, List<ModelPolicyViolation> violations, List<string> checks)
    {
        if (!_policy.RequireLicense)
        {
            checks.Add("Licence: not checked (allowedLicenses is empty)");
            return;
        }

        ModelFinding? unclear = source.Findings.FirstOrDefault(f => f.RuleId == RuleIds.SourceLicenseUnclear);
        if ((source.License is null || unclear is not null) && approved)
        {
            // The reviewer who approved these bytes settled the licence; a licence the model does declare is still checked below.
            checks.Add("Licence: none declared; the policy approves these exact bytes");
            return;
        }

        if (source.License is null || unclear is not null)
        {
            Violate(violations, RuleIds.PolicyLicence, RuleLicence, unclear?.Detail ?? "No source names a licence for this model.");
            return;
        }

        if (_policy.AllowedLicenses is not null && !_policy.AllowedLicenses.Contains(source.License))
        {
            Violate(violations, RuleIds.PolicyLicence, RuleLicence,
                $"The licence is '{source.License}'; the policy allows {string.Join(", ", _policy.AllowedLicenses.OrderBy(l => l, StringComparer.OrdinalIgnoreCase))}.");
            return;
        }

        checks.Add($"Licence: {source.License}");
    }

    private void CheckVerdict(ModelScanResult scan, bool piped, List<ModelPolicyViolation> violations, List<string> checks)
    {
        string from = piped ? "piped Test-ModelFile result" : "Test-ModelFile";
        if (scan.Verdict <= _policy.MaximumVerdict)
        {
            checks.Add($"Verdict: {scan.Verdict} ({from})");
            return;
        }

        // A README or other companion text the scanner has no reader for is not a model file that failed its scan.
        if (scan.Verdict == ScanVerdict.Inconclusive && ModelPolicy.CompanionFormats.Contains(scan.Format)
            && scan.Findings.Count > 0 && scan.Findings.All(f => f.RuleId == RuleIds.FormatNotAnalysed))
        {
            checks.Add($"Verdict: {scan.Format} beside the model, which the scanner does not analyse ({from})");
            return;
        }

        string findings = string.Join("; ", scan.Findings.Take(3).Select(f => $"{f.RuleId} {f.Title}"));
        Violate(violations, RuleIds.PolicyVerdict, RuleVerdict,
            $"The scan verdict is {scan.Verdict} ({from}); the policy accepts at worst {_policy.MaximumVerdict}."
            + (findings.Length > 0 ? $" Findings: {findings}{(scan.Findings.Count > 3 ? $" and {scan.Findings.Count - 3} more" : string.Empty)}." : string.Empty));
    }

    private void CheckSignature(string file, CacheLocation? location, ModelSignatureResult? piped, List<ModelPolicyViolation> violations, List<string> checks)
    {
        if (!_policy.RequireSignature)
        {
            checks.Add("Signature: not required");
            return;
        }

        ModelSignatureResult? result = piped;
        if (result is null)
        {
            string? signature = FindSignature(file, location);
            if (signature is null)
            {
                Violate(violations, RuleIds.PolicySignature, RuleSignature, $"The policy requires a signature, and no {SignatureFileName} is beside the file or in the folders above it in its model folder.");
                return;
            }

            if (!_signatures.TryGetValue(signature, out result))
            {
                string folder = Path.GetDirectoryName(signature)!;
                result = ModelSignatureVerifier.Verify(folder, signature, _trust ?? SignatureTrust.ForKeyless(), Array.Empty<string>(), ignoreUnsignedFiles: false, _cancel);
                _signatures[signature] = result;
            }
        }

        bool accepted = result.Status == ModelSignatureStatus.Valid || (result.Status == ModelSignatureStatus.Unverified && _policy.AllowKeylessSignature);
        if (accepted)
        {
            checks.Add($"Signature: {result.Status}, signed by {result.Signer} ({result.SignaturePath})");
            return;
        }

        string relative = Path.GetRelativePath(result.Path, file).Replace('\\', '/');
        ModelSignatureFile? mine = result.Files?.FirstOrDefault(f => f.Name == relative);
        string own = mine is null || mine.Status == ModelSignatureFileStatus.Match ? string.Empty : $" This file is {mine.Status}.";
        Violate(violations, RuleIds.PolicySignature, RuleSignature,
            result.Status == ModelSignatureStatus.Unverified
                ? $"The signature is keyless and its transparency log was not checked ({result.Signer}); the policy does not allow keyless signatures.{own}"
                : $"The signature {result.SignaturePath} is {result.Status}: {result.Reason}.{own}");
    }

    /// <summary>model.sig beside the file or in a folder above it, up to the model's root (a snapshot) or three levels.</summary>
    private static string? FindSignature(string file, CacheLocation? location)
    {
        string? folder = Path.GetDirectoryName(file);
        string? stop = location?.RepoPath is { } repoPath
            ? file.Substring(0, Math.Max(0, file.Length - repoPath.Length)).TrimEnd('/', '\\')
            : null;
        for (int level = 0; folder is not null && level < 4; level++)
        {
            string candidate = Path.Combine(folder, SignatureFileName);
            if (File.Exists(candidate))
            {
                return candidate;
            }

            if (stop is not null && string.Equals(folder.TrimEnd('/', '\\'), stop, StringComparison.Ordinal))
            {
                break;
            }

            folder = Path.GetDirectoryName(folder);
        }

        return null;
    }

    private void CheckModelCard(ModelSource source, bool approved, List<ModelPolicyViolation> violations, List<string> checks)
    {
        if (!_policy.RequireModelCard)
        {
            checks.Add("ModelCard: not required");
            return;
        }

        if (approved)
        {
            checks.Add("ModelCard: the policy approves these exact bytes (the review stands in for the card)");
            return;
        }

        // The checklist asks for training details and intended use; other gaps (limitations…) are Get-ModelSource's to report.
        ModelFinding[] gaps = source.Findings.Where(f => f.RuleId == RuleIds.SourceCardMissing
            || (f.RuleId == RuleIds.SourceCardIncomplete && (f.Detail.Contains("training", StringComparison.Ordinal) || f.Detail.Contains("intended use", StringComparison.Ordinal)))).ToArray();
        if (gaps.Length == 0)
        {
            checks.Add("ModelCard: present, with training details and intended use (or the source has no card to read)");
            return;
        }

        Violate(violations, RuleIds.PolicyModelCard, RuleModelCard, string.Join(" ", gaps.Select(g => g.Detail)));
    }

    private void CheckCommunity(ModelSource source, List<ModelPolicyViolation> violations, List<string> checks)
    {
        if (!_policy.CheckCommunity)
        {
            checks.Add("Community: not checked");
            return;
        }

        ModelFinding[] flags = source.Findings.Where(f => f.RuleId is RuleIds.SourceCommunityRedFlag or RuleIds.SourceHubScanIssue).ToArray();
        if (flags.Length > 0)
        {
            Violate(violations, RuleIds.PolicyCommunity, RuleCommunity, string.Join(" ", flags.Select(g => g.Detail)));
        }
        else
        {
            checks.Add(source.Remote is null ? "Community: not checked (needs -Online)" : "Community: no red flags online");
        }
    }
}
