using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using ModelSecurity.Analysis;
using ModelSecurity.Formats;
using ModelSecurity.Provenance;

namespace ModelSecurity.Governance;

/// <summary>One model an organisation has approved: its name, the revision it is pinned to, and its files' SHA-256.</summary>
internal sealed record ApprovedModel(string Name, string? Revision, IReadOnlyDictionary<string, string> Files);

/// <summary>
/// An organisation's model policy, read from a JSON file (comments and trailing commas allowed).
/// Every key is checked: a misspelt key is an error, not a rule silently left out. The schema is
/// documented in about_ModelSecurity (MODEL POLICY FILES) and shipped as ModelPolicy.schema.json.
/// </summary>
internal sealed class ModelPolicy
{
    /// <summary>The file formats that are data, not code, and allowed by every policy whatever allowedFormats says.</summary>
    public static readonly IReadOnlyList<ModelFormat> CompanionFormats = new[] { ModelFormat.Json, ModelFormat.Yaml, ModelFormat.Text, ModelFormat.JinjaTemplate, ModelFormat.Image };

    private const int MaxEntries = 100_000;

    private static readonly string[] TopLevelKeys =
    {
        "$schema", "$comment", "version", "name", "approvedModels", "requireApproved", "publishers", "blockedPublishers",
        "minimumTrust", "allowedFormats", "allowedLicenses", "maximumVerdict", "requireHashMatch", "requireSignature",
        "signature", "pickle", "requireModelCard", "checkCommunity",
    };

    private ModelPolicy(string? path)
    {
        PolicyPath = path;
    }

    /// <summary>The file the policy came from; null for the standard download checklist.</summary>
    public string? PolicyPath { get; }

    /// <summary>A name for reports.</summary>
    public string Name { get; private set; } = "standard download checklist";

    public IReadOnlyList<ApprovedModel> ApprovedModels { get; private set; } = Array.Empty<ApprovedModel>();

    /// <summary>When true, a model that no approvedModels entry names (or whose hash none lists) is a violation.</summary>
    public bool RequireApproved { get; private set; }

    /// <summary>The publisher registry with the policy's publishers laid over the built-in one.</summary>
    public PublisherRegistry Registry { get; private set; } = PublisherRegistry.Default;

    /// <summary>Publisher namespaces (Hugging Face or Ollama) whose models are refused outright.</summary>
    public IReadOnlyCollection<string> BlockedPublishers { get; private set; } = Array.Empty<string>();

    /// <summary>The least trust a publisher needs; null to not check trust.</summary>
    public TrustLevel? MinimumTrust { get; private set; } = TrustLevel.Medium;

    /// <summary>The formats allowed besides <see cref="CompanionFormats"/>; null to allow every format.</summary>
    public IReadOnlyCollection<ModelFormat>? AllowedFormats { get; private set; } = new[] { ModelFormat.SafeTensors, ModelFormat.Gguf };

    /// <summary>Licence ids allowed (compared without case); null to only require that there is a clear licence; empty to not check licences.</summary>
    public IReadOnlyCollection<string>? AllowedLicenses { get; private set; }

    /// <summary>Whether a clear licence is required at all.</summary>
    public bool RequireLicense { get; private set; } = true;

    /// <summary>The worst scan verdict accepted (in the order Clean, Inconclusive, Suspicious, Malicious).</summary>
    public ScanVerdict MaximumVerdict { get; private set; } = ScanVerdict.Clean;

    /// <summary>Whether every file's hash must match a reference (the approved list, a manifest, the cache layout).</summary>
    public bool RequireHashMatch { get; private set; } = true;

    /// <summary>Whether a model folder must carry a valid model.sig.</summary>
    public bool RequireSignature { get; private set; }

    /// <summary>The public key (PEM) signatures are checked with; absolute.</summary>
    public string? SignaturePublicKeyPath { get; private set; }

    /// <summary>The root certificate(s) (PEM) signing certificates must chain to; absolute.</summary>
    public string? SignatureCertificateRootPath { get; private set; }

    /// <summary>Whether a Sigstore keyless signature (transparency log not checked) satisfies requireSignature.</summary>
    public bool AllowKeylessSignature { get; private set; }

    /// <summary>Pickle globals to accept besides the built-in allowlist.</summary>
    public IReadOnlyList<string> AllowGlobals { get; private set; } = Array.Empty<string>();

    /// <summary>Whether a model card with training details and intended use is required (when the source has one to read).</summary>
    public bool RequireModelCard { get; private set; } = true;

    /// <summary>Whether community and hub red flags (seen with -Online) are violations.</summary>
    public bool CheckCommunity { get; private set; } = true;

    /// <summary>The standard download checklist used when no policy file is given.</summary>
    public static ModelPolicy Standard { get; } = new(null);

    /// <summary>Parses policy JSON; <paramref name="path"/> names the file in messages and anchors relative paths.</summary>
    public static ModelPolicy Parse(string json, string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The policy file '{path}' is not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"The policy file '{path}' must hold a JSON object.");
            }

            var policy = new ModelPolicy(path) { Name = System.IO.Path.GetFileName(path) };
            var where = new Where(path);
            foreach (JsonProperty property in root.EnumerateObject())
            {
                if (!TopLevelKeys.Contains(property.Name, StringComparer.Ordinal))
                {
                    string? near = TopLevelKeys.FirstOrDefault(k => k.Equals(property.Name, StringComparison.OrdinalIgnoreCase));
                    throw where.Error(property.Name, near is null
                        ? $"is not a policy key. The keys are: {string.Join(", ", TopLevelKeys.Where(k => k[0] != '$'))}."
                        : $"is not a policy key; keys are case-sensitive: write '{near}'.");
                }
            }

            if (root.TryGetProperty("version", out JsonElement version) && (version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out int v) || v != 1))
            {
                throw where.Error("version", "must be 1 (the only policy version there is).");
            }

            policy.Name = where.OptionalString(root, "name") ?? policy.Name;
            policy.ApprovedModels = ReadApproved(root, where);
            policy.RequireApproved = where.OptionalBool(root, "requireApproved") ?? policy.ApprovedModels.Count > 0;
            policy.Registry = PublisherRegistry.Default.WithPolicy(json, path);
            policy.BlockedPublishers = new HashSet<string>(where.StringArray(root, "blockedPublishers") ?? Array.Empty<string>(), StringComparer.OrdinalIgnoreCase);
            policy.MinimumTrust = ReadTrust(root, where, policy.MinimumTrust);
            policy.AllowedFormats = ReadFormats(root, where, policy.AllowedFormats);
            if (where.StringArray(root, "allowedLicenses") is { } licences)
            {
                policy.AllowedLicenses = licences.Length == 1 && licences[0] == "*" ? null : new HashSet<string>(licences, StringComparer.OrdinalIgnoreCase);
                policy.RequireLicense = licences.Length > 0;
            }

            policy.MaximumVerdict = ReadVerdict(root, where, policy.MaximumVerdict);
            policy.RequireHashMatch = where.OptionalBool(root, "requireHashMatch") ?? policy.RequireHashMatch;
            policy.RequireSignature = where.OptionalBool(root, "requireSignature") ?? false;
            policy.RequireModelCard = where.OptionalBool(root, "requireModelCard") ?? policy.RequireModelCard;
            policy.CheckCommunity = where.OptionalBool(root, "checkCommunity") ?? policy.CheckCommunity;
            ReadSignature(root, where, policy);
            policy.AllowGlobals = PicklePolicy.ReadAllowedGlobals(json, path);
            try
            {
                PicklePolicy.WithAllowed(policy.AllowGlobals);
            }
            catch (ArgumentException e)
            {
                throw where.Error("pickle.allowGlobals", e.Message);
            }

            return policy;
        }
    }

    /// <summary>Whether <paramref name="publisher"/> (a namespace) is on the blocked list.</summary>
    public bool IsBlocked(string? publisher) => publisher is not null && BlockedPublishers.Contains(publisher);

    private static IReadOnlyList<ApprovedModel> ReadApproved(JsonElement root, Where where)
    {
        if (!root.TryGetProperty("approvedModels", out JsonElement list))
        {
            return Array.Empty<ApprovedModel>();
        }

        if (list.ValueKind != JsonValueKind.Array)
        {
            throw where.Error("approvedModels", "must be an array of { \"name\", \"revision\", \"files\" } objects.");
        }

        var result = new List<ApprovedModel>();
        int index = 0;
        foreach (JsonElement entry in list.EnumerateArray())
        {
            string at = $"approvedModels[{index++}]";
            if (index > MaxEntries)
            {
                throw where.Error("approvedModels", $"lists more than {MaxEntries:N0} models.");
            }

            if (entry.ValueKind != JsonValueKind.Object)
            {
                throw where.Error(at, "must be an object with a name, and optionally a revision and files.");
            }

            foreach (JsonProperty property in entry.EnumerateObject())
            {
                if (property.Name is not ("name" or "revision" or "files" or "$comment"))
                {
                    throw where.Error($"{at}.{property.Name}", "is not a key of an approved model; use name, revision and files.");
                }
            }

            string name = where.OptionalString(entry, "name", at) ?? throw where.Error(at, "has no name ('org/repo' for Hugging Face, 'model:tag' for Ollama).");
            string? revision = where.OptionalString(entry, "revision", at);
            var files = new Dictionary<string, string>(StringComparer.Ordinal);
            if (entry.TryGetProperty("files", out JsonElement fileMap))
            {
                if (fileMap.ValueKind != JsonValueKind.Object)
                {
                    throw where.Error($"{at}.files", "must be an object mapping each file's path in the repository to its SHA-256.");
                }

                foreach (JsonProperty file in fileMap.EnumerateObject())
                {
                    string? hash = file.Value.ValueKind == JsonValueKind.String ? file.Value.GetString()?.Trim().ToLowerInvariant() : null;
                    if (hash is null || hash.Length != 64 || !hash.All(Uri.IsHexDigit))
                    {
                        throw where.Error($"{at}.files.{file.Name}", "must be a SHA-256 value (64 hex digits).");
                    }

                    files[file.Name.Replace('\\', '/')] = hash;
                }
            }

            result.Add(new ApprovedModel(name.Trim(), revision?.Trim(), files));
        }

        return result;
    }

    private static TrustLevel? ReadTrust(JsonElement root, Where where, TrustLevel? fallback)
    {
        if (!root.TryGetProperty("minimumTrust", out JsonElement value))
        {
            return fallback;
        }

        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        string? text = value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        if (text is null || int.TryParse(text, out _) || !Enum.TryParse(text, ignoreCase: true, out TrustLevel trust) || !Enum.IsDefined(typeof(TrustLevel), trust))
        {
            throw where.Error("minimumTrust", "must be High, Medium, Low or Unknown (or null to not check trust).");
        }

        return trust;
    }

    private static IReadOnlyCollection<ModelFormat>? ReadFormats(JsonElement root, Where where, IReadOnlyCollection<ModelFormat>? fallback)
    {
        if (where.StringArray(root, "allowedFormats") is not { } names)
        {
            return fallback;
        }

        if (names.Length == 1 && names[0] == "*")
        {
            return null;
        }

        var formats = new HashSet<ModelFormat>();
        foreach (string name in names)
        {
            if (int.TryParse(name, out _) || !Enum.TryParse(name, ignoreCase: true, out ModelFormat format) || !Enum.IsDefined(typeof(ModelFormat), format))
            {
                throw where.Error("allowedFormats", $"names '{name}', which is not a format. The formats are: {string.Join(", ", Enum.GetNames(typeof(ModelFormat)))}; or [\"*\"] for every format.");
            }

            formats.Add(format);
        }

        return formats;
    }

    private static ScanVerdict ReadVerdict(JsonElement root, Where where, ScanVerdict fallback)
    {
        if (where.OptionalString(root, "maximumVerdict") is not { } text)
        {
            return fallback;
        }

        if (int.TryParse(text, out _) || !Enum.TryParse(text, ignoreCase: true, out ScanVerdict verdict) || !Enum.IsDefined(typeof(ScanVerdict), verdict))
        {
            throw where.Error("maximumVerdict", "must be Clean, Inconclusive, Suspicious or Malicious.");
        }

        return verdict;
    }

    private static void ReadSignature(JsonElement root, Where where, ModelPolicy policy)
    {
        if (!root.TryGetProperty("signature", out JsonElement signature))
        {
            if (policy.RequireSignature)
            {
                throw where.Error("requireSignature", "is true, but there is no signature object naming the publicKeyPath or certificateRootPath to verify with.");
            }

            return;
        }

        if (signature.ValueKind != JsonValueKind.Object)
        {
            throw where.Error("signature", "must be an object: { \"publicKeyPath\" } or { \"certificateRootPath\" }, and optionally \"allowKeyless\".");
        }

        foreach (JsonProperty property in signature.EnumerateObject())
        {
            if (property.Name is not ("publicKeyPath" or "certificateRootPath" or "allowKeyless" or "$comment"))
            {
                throw where.Error("signature." + property.Name, "is not a signature key; use publicKeyPath, certificateRootPath or allowKeyless.");
            }
        }

        string folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(where.File)) ?? ".";
        string? key = where.OptionalString(signature, "publicKeyPath", "signature");
        string? roots = where.OptionalString(signature, "certificateRootPath", "signature");
        if (key is not null && roots is not null)
        {
            throw where.Error("signature", "names both publicKeyPath and certificateRootPath; a signature is checked with one of them.");
        }

        policy.SignaturePublicKeyPath = key is null ? null : System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, key));
        policy.SignatureCertificateRootPath = roots is null ? null : System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, roots));
        policy.AllowKeylessSignature = where.OptionalBool(signature, "allowKeyless", "signature") ?? false;
        if (policy.RequireSignature && key is null && roots is null && !policy.AllowKeylessSignature)
        {
            throw where.Error("signature", "names neither publicKeyPath nor certificateRootPath, and allowKeyless is not true: nothing could satisfy requireSignature.");
        }
    }

    /// <summary>Typed reads with messages that name the file and the key.</summary>
    private sealed class Where
    {
        public Where(string file) => File = file;

        public string File { get; }

        public InvalidDataException Error(string key, string problem) => new($"In the policy file '{File}', '{key}' {problem}");

        public string? OptionalString(JsonElement parent, string key, string? prefix = null)
        {
            if (!parent.TryGetProperty(key, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            return value.ValueKind == JsonValueKind.String
                ? value.GetString()
                : throw Error(Qualified(prefix, key), $"must be a string, not {value.ValueKind}.");
        }

        public bool? OptionalBool(JsonElement parent, string key, string? prefix = null)
        {
            if (!parent.TryGetProperty(key, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            return value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Error(Qualified(prefix, key), $"must be true or false, not {value.ValueKind}."),
            };
        }

        public string[]? StringArray(JsonElement parent, string key)
        {
            if (!parent.TryGetProperty(key, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.Array)
            {
                throw Error(key, "must be an array of strings.");
            }

            var result = new List<string>();
            foreach (JsonElement item in value.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(item.GetString()))
                {
                    throw Error(key, $"holds a {item.ValueKind} where a non-empty string is expected.");
                }

                if (result.Count >= MaxEntries)
                {
                    throw Error(key, $"holds more than {MaxEntries:N0} strings.");
                }

                result.Add(item.GetString()!.Trim());
            }

            return result.ToArray();
        }

        private static string Qualified(string? prefix, string key) => prefix is null ? key : prefix + "." + key;
    }
}
