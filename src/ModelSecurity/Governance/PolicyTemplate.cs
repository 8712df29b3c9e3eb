using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace ModelSecurity.Governance;

/// <summary>A model New-ModelPolicy approves: its name and revision, its files' SHA-256, the licences it declares.</summary>
internal sealed class Approval
{
    public Approval(string name, string? revision)
    {
        Name = name;
        Revision = revision;
    }

    public string Name { get; }

    public string? Revision { get; }

    public SortedDictionary<string, string> Files { get; } = new(StringComparer.Ordinal);

    public SortedSet<string> Licenses { get; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>The commented policy New-ModelPolicy writes: every key, its default, and what it does.</summary>
internal static class PolicyTemplate
{
    private static readonly JsonSerializerOptions Escaping = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Write(string name, IReadOnlyList<Approval> approvals)
    {
        var s = new StringBuilder();
        void Line(string text = "") => s.Append(text).Append('\n');
        string licences = approvals.SelectMany(a => a.Licenses).Distinct(StringComparer.OrdinalIgnoreCase).Any()
            ? string.Join(", ", approvals.SelectMany(a => a.Licenses).Distinct(StringComparer.OrdinalIgnoreCase).OrderBy(l => l, StringComparer.OrdinalIgnoreCase).Select(Quote))
            : Quote("*");

        Line("// ModelSecurity model policy. Test it with:  Test-ModelPolicy -PolicyPath <this file> <model files>");
        Line("// Every key is described in 'Get-Help about_ModelSecurity' (MODEL POLICY FILES) and in");
        Line("// ModelPolicy.schema.json beside the module. A key this version does not know is an error,");
        Line("// so a misspelt rule is never silently left out. Comments and trailing commas are allowed.");
        Line("{");
        Line("  \"version\": 1,");
        Line($"  \"name\": {Quote(name)},");
        Line();
        Line("  // Models reviewed and approved: \"org/repo\" (Hugging Face) or \"model:tag\" (Ollama), pinned");
        Line("  // to a revision (a commit, or an Ollama manifest digest) with every file's SHA-256, keyed by");
        Line("  // its path in the repository. A file is approved when its model, revision and hash match, or");
        Line("  // when its SHA-256 is one listed here. New-ModelPolicy -ApprovePath <files or folders> pins");
        Line("  // the models given; review them first (Test-ModelFile, Get-ModelSource).");
        if (approvals.Count == 0)
        {
            Line("  \"approvedModels\": [");
            Line("    // { \"name\": \"Qwen/Qwen3-0.6B\", \"revision\": \"<commit>\", \"files\": { \"model.safetensors\": \"<sha256>\" } }");
            Line("  ],");
        }
        else
        {
            Line("  \"approvedModels\": [");
            for (int i = 0; i < approvals.Count; i++)
            {
                Approval a = approvals[i];
                Line("    {");
                Line($"      \"name\": {Quote(a.Name)},");
                if (a.Revision is not null)
                {
                    Line($"      \"revision\": {Quote(a.Revision)},");
                }

                Line("      \"files\": {");
                int j = 0;
                foreach (KeyValuePair<string, string> file in a.Files)
                {
                    Line($"        {Quote(file.Key)}: {Quote(file.Value)}{(++j < a.Files.Count ? "," : string.Empty)}");
                }

                Line("      }");
                Line(i + 1 < approvals.Count ? "    }," : "    }");
            }

            Line("  ],");
        }

        Line();
        Line("  // true: a model that is not approved above is a violation (MS-POL-001). The default is true");
        Line("  // when approvedModels lists any model, false when it is empty.");
        Line($"  \"requireApproved\": {(approvals.Count > 0 ? "true" : "false")},");
        Line();
        Line("  // Publishers added to, or overriding, the built-in registry (trust: High, Medium, Low, Unknown;");
        Line("  // kind: organisation, quantiser, registry, individual; exact namespaces).");
        Line("  \"publishers\": [");
        Line("    // { \"name\": \"Contoso Research\", \"kind\": \"organisation\", \"trust\": \"High\", \"huggingFace\": [ \"contoso\" ], \"ollama\": [] }");
        Line("  ],");
        Line();
        Line("  // Hugging Face or Ollama namespaces whose models are refused outright (MS-POL-004).");
        Line("  \"blockedPublishers\": [],");
        Line();
        Line("  // The least trust a publisher needs (High, Medium, Low, Unknown; null: not checked). Files whose");
        Line("  // exact bytes are approved above pass this rule; blocked and look-alike names never do.");
        Line("  \"minimumTrust\": \"Medium\",");
        Line();
        Line("  // Formats (told from content) allowed for model files; [\"*\"] allows every format. JSON, YAML,");
        Line("  // text, templates and images beside a model are always allowed. Pickle-based formats run code");
        Line("  // when loaded: add PyTorchZip, Pickle... only for models you have reviewed.");
        Line("  \"allowedFormats\": [ \"SafeTensors\", \"Gguf\" ],");
        Line();
        Line("  // Licence ids allowed (SPDX ids or model licences such as llama3.1); [\"*\"]: any clear licence;");
        Line("  // []: licences are not checked.");
        Line($"  \"allowedLicenses\": [ {licences} ],");
        Line();
        Line("  // The worst scan verdict accepted, in the order Clean, Inconclusive, Suspicious, Malicious.");
        Line("  \"maximumVerdict\": \"Clean\",");
        Line();
        Line("  // true: every file's hash must be verified: approved above, or matching its cache layout, a");
        Line("  // manifest or a sidecar. A hash that contradicts its reference is always a violation.");
        Line("  \"requireHashMatch\": true,");
        Line();
        Line("  // true: each model folder needs a model.sig (OpenSSF Model Signing; New-ModelSignature) that");
        Line("  // verifies with the key or root below (paths relative to this file).");
        Line("  \"requireSignature\": false,");
        Line("  // \"signature\": { \"publicKeyPath\": \"keys/model-signing.pub.pem\", \"allowKeyless\": false },");
        Line();
        Line("  // true: a model card with training details and intended use is required (where the source");
        Line("  // has a card to read). Files whose exact bytes are approved above pass this rule.");
        Line("  \"requireModelCard\": true,");
        Line();
        Line("  // true: with -Online, community reports and the hub's own scan findings are violations.");
        Line("  \"checkCommunity\": true,");
        Line();
        Line("  // Pickle globals to accept besides the built-in allowlist, as \"module.name\" (also read by");
        Line("  // Test-ModelFile -PolicyPath).");
        Line("  \"pickle\": { \"allowGlobals\": [] }");
        Line("}");
        return s.ToString();
    }

    private static string Quote(string value) => JsonSerializer.Serialize(value, Escaping);
}
