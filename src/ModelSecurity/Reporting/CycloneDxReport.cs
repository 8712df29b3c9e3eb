using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using ModelSecurity.Analysis;

namespace ModelSecurity.Reporting;

/// <summary>
/// CycloneDX 1.6 ML-BOM: each file as a <c>machine-learning-model</c> component with its hashes,
/// licence, supplier, provenance (repository, revision, base model as pedigree, package URL) and the
/// module's verdicts as properties; findings as vulnerabilities affecting the component.
/// </summary>
internal static class CycloneDxReport
{
    // Hugging Face licence ids (lower case) → SPDX ids. Model licences that are not SPDX (llama3, gemma,
    // openrail, …) are written as named licences.
    private static readonly Dictionary<string, string> Spdx = new(StringComparer.OrdinalIgnoreCase)
    {
        ["apache-2.0"] = "Apache-2.0", ["mit"] = "MIT", ["bsd-2-clause"] = "BSD-2-Clause", ["bsd-3-clause"] = "BSD-3-Clause",
        ["cc0-1.0"] = "CC0-1.0", ["cc-by-4.0"] = "CC-BY-4.0", ["cc-by-sa-4.0"] = "CC-BY-SA-4.0", ["cc-by-nc-4.0"] = "CC-BY-NC-4.0",
        ["cc-by-nc-sa-4.0"] = "CC-BY-NC-SA-4.0", ["cc-by-nd-4.0"] = "CC-BY-ND-4.0", ["cc-by-nc-nd-4.0"] = "CC-BY-NC-ND-4.0",
        ["cc-by-3.0"] = "CC-BY-3.0", ["cc-by-sa-3.0"] = "CC-BY-SA-3.0", ["cc-by-nc-sa-3.0"] = "CC-BY-NC-SA-3.0",
        ["gpl-2.0"] = "GPL-2.0-only", ["gpl-3.0"] = "GPL-3.0-only", ["lgpl-2.1"] = "LGPL-2.1-only", ["lgpl-3.0"] = "LGPL-3.0-only",
        ["agpl-3.0"] = "AGPL-3.0-only", ["mpl-2.0"] = "MPL-2.0", ["unlicense"] = "Unlicense", ["artistic-2.0"] = "Artistic-2.0",
        ["bsl-1.0"] = "BSL-1.0", ["epl-2.0"] = "EPL-2.0", ["isc"] = "ISC", ["wtfpl"] = "WTFPL", ["zlib"] = "Zlib", ["odc-by"] = "ODC-By-1.0",
        ["odbl"] = "ODbL-1.0", ["pddl"] = "PDDL-1.0", ["afl-3.0"] = "AFL-3.0", ["ecl-2.0"] = "ECL-2.0", ["osl-3.0"] = "OSL-3.0",
    };

    private static readonly string[] PropertyFacts = { "Format", "Length", "Ecosystem", "Tag", "TrustLevel", "TrustReason", "LookalikeOf", "ExpectedSource", "ContentAddress" };

    public static void Write(ReportSet set, Stream output)
    {
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("$schema", "http://cyclonedx.org/schema/bom-1.6.schema.json");
        json.WriteString("bomFormat", "CycloneDX");
        json.WriteString("specVersion", "1.6");
        json.WriteString("serialNumber", "urn:uuid:" + Guid.NewGuid().ToString("D"));
        json.WriteNumber("version", 1);
        json.WriteStartObject("metadata");
        json.WriteString("timestamp", set.Generated.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
        json.WriteStartObject("tools");
        json.WriteStartArray("components");
        json.WriteStartObject();
        json.WriteString("type", "application");
        json.WriteString("name", ReportSet.ToolName);
        json.WriteString("version", ReportSet.ToolVersion);
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndObject();

        var refs = new List<string>();
        json.WriteStartArray("components");
        for (int i = 0; i < set.Models.Count; i++)
        {
            string bomRef = $"model-{i + 1}";
            refs.Add(bomRef);
            WriteComponent(json, set.Models[i], bomRef);
        }

        json.WriteEndArray();

        json.WriteStartArray("vulnerabilities");
        for (int i = 0; i < set.Models.Count; i++)
        {
            foreach (ReportFinding finding in set.Models[i].Findings.Where(f => f.Severity > FindingSeverity.Info))
            {
                json.WriteStartObject();
                json.WriteString("bom-ref", $"{refs[i]}-finding-{Guid.NewGuid():N}");
                json.WriteString("id", finding.RuleId);
                json.WriteStartObject("source");
                json.WriteString("name", ReportSet.ToolName);
                json.WriteEndObject();
                json.WriteStartArray("ratings");
                json.WriteStartObject();
                json.WriteString("severity", finding.Severity == FindingSeverity.Info ? "info" : finding.Severity.ToString().ToLowerInvariant());
                json.WriteString("method", "other");
                json.WriteEndObject();
                json.WriteEndArray();
                json.WriteString("description", finding.Title);
                json.WriteString("detail", finding.Location is null ? finding.Detail : $"{finding.Detail} (at {finding.Location})");
                if (finding.References.Count > 0)
                {
                    json.WriteStartArray("references");
                    foreach (string reference in finding.References)
                    {
                        json.WriteStartObject();
                        json.WriteString("id", reference);
                        json.WriteStartObject("source");
                        json.WriteString("name", reference.StartsWith("CVE-", StringComparison.Ordinal) ? "NVD" : reference.StartsWith("GHSA-", StringComparison.Ordinal) ? "GitHub" : "reference");
                        json.WriteEndObject();
                        json.WriteEndObject();
                    }

                    json.WriteEndArray();
                }

                json.WriteStartArray("affects");
                json.WriteStartObject();
                json.WriteString("ref", refs[i]);
                json.WriteEndObject();
                json.WriteEndArray();
                json.WriteEndObject();
            }
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteComponent(Utf8JsonWriter json, ReportModel model, string bomRef)
    {
        string name = model.Fact("Name", ReportKind.Source, ReportKind.Inventory) ?? Path.GetFileName(model.Path);
        string? publisher = model.Fact("Publisher", ReportKind.Source);
        string? revision = model.Fact("Revision", ReportKind.Source, ReportKind.Inventory);
        string? ecosystem = model.Fact("Ecosystem", ReportKind.Source, ReportKind.Inventory);
        string? repository = model.Fact("Repository", ReportKind.Source);
        json.WriteStartObject();
        json.WriteString("type", "machine-learning-model");
        json.WriteString("bom-ref", bomRef);
        if (publisher is not null)
        {
            json.WriteStartObject("supplier");
            json.WriteString("name", publisher);
            json.WriteEndObject();
            json.WriteString("publisher", publisher);
        }

        json.WriteString("name", name);
        if (revision is not null)
        {
            json.WriteString("version", revision);
        }

        if (model.Of(ReportKind.Hash) is { } hash && hash.Facts["Hash"] is string hex && hash.Facts["Algorithm"] is string algorithm
            && (algorithm.Equals("SHA256", StringComparison.OrdinalIgnoreCase) && hex.Length == 64 || algorithm.Equals("SHA512", StringComparison.OrdinalIgnoreCase) && hex.Length == 128))
        {
            json.WriteStartArray("hashes");
            json.WriteStartObject();
            json.WriteString("alg", algorithm.Length == 6 && algorithm.EndsWith("256", StringComparison.Ordinal) ? "SHA-256" : "SHA-512");
            json.WriteString("content", hex.ToLowerInvariant());
            json.WriteEndObject();
            json.WriteEndArray();
        }

        if (model.Fact("License", ReportKind.Source) is string license)
        {
            json.WriteStartArray("licenses");
            json.WriteStartObject();
            json.WriteStartObject("license");
            if (Spdx.TryGetValue(license.Trim(), out string? id))
            {
                json.WriteString("id", id);
            }
            else
            {
                json.WriteString("name", license);
            }

            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndArray();
        }

        if (ecosystem == "HuggingFace" && publisher is not null && repository is not null)
        {
            json.WriteString("purl", $"pkg:huggingface/{Uri.EscapeDataString(publisher)}/{Uri.EscapeDataString(repository)}" + (revision is null ? "" : "@" + Uri.EscapeDataString(revision)));
            json.WriteStartArray("externalReferences");
            json.WriteStartObject();
            json.WriteString("type", "distribution");
            json.WriteString("url", $"https://huggingface.co/{Uri.EscapeDataString(publisher)}/{Uri.EscapeDataString(repository)}");
            json.WriteEndObject();
            json.WriteEndArray();
        }

        if (model.Fact("BaseModel", ReportKind.Source) is string baseModel)
        {
            json.WriteStartObject("pedigree");
            json.WriteStartArray("ancestors");
            foreach (string ancestor in baseModel.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                json.WriteStartObject();
                json.WriteString("type", "machine-learning-model");
                json.WriteString("name", ancestor);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteStartArray("properties");
        Property(json, "modelsecurity:path", model.Path);
        Property(json, "modelsecurity:outcome", model.Outcome.ToString());
        foreach (ReportItem item in model.Results)
        {
            Property(json, $"modelsecurity:{item.Kind.ToString().ToLowerInvariant()}:status", item.Status);
        }

        foreach (string fact in PropertyFacts)
        {
            if (model.Fact(fact) is string value)
            {
                Property(json, "modelsecurity:" + char.ToLowerInvariant(fact[0]) + fact.Substring(1), value);
            }
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void Property(Utf8JsonWriter json, string name, string value)
    {
        json.WriteStartObject();
        json.WriteString("name", name);
        json.WriteString("value", value);
        json.WriteEndObject();
    }
}
