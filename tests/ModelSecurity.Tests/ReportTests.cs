using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Json.Schema;
using ModelSecurity.Analysis;
using ModelSecurity.Reporting;
using Xunit;

namespace ModelSecurity.Tests;

public class ReportTests
{
    private const string HostileName = "/models/<script>alert(1)</script>\u0001evil.pkl";

    private static readonly Lazy<JsonSchema> SarifSchema = new(() =>
    {
        // The schema is draft-04; its only draft-04-specific keyword is the root "id".
        JsonObject schema = JsonNode.Parse(File.ReadAllText(SchemaPath("sarif-2.1.0-rtm.5.json")))!.AsObject();
        schema["$id"] = schema["id"]!.GetValue<string>();
        schema.Remove("id");
        schema["$schema"] = "http://json-schema.org/draft-07/schema#";
        return JsonSchema.FromText(schema.ToJsonString());
    });

    private static readonly Lazy<JsonSchema> CycloneDxSchema = new(() =>
    {
        var registry = SchemaRegistry.Global;
        registry.Register(new Uri("http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json"), JsonSchema.FromFile(SchemaPath("spdx.schema.json")));
        registry.Register(new Uri("http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json"), JsonSchema.FromFile(SchemaPath("jsf-0.82.schema.json")));
        return JsonSchema.FromFile(SchemaPath("bom-1.6.schema.json"));
    });

    [Fact]
    public void SarifValidatesAgainstTheSchemaAndCarriesCatalogueMetadata()
    {
        ReportSet set = Sample();
        JsonDocument sarif = Parse(Write(set, SarifReport.Write));
        AssertValid(SarifSchema.Value, sarif);

        JsonElement run = sarif.RootElement.GetProperty("runs")[0];
        JsonElement[] rules = run.GetProperty("tool").GetProperty("driver").GetProperty("rules").EnumerateArray().ToArray();
        JsonElement pickleRule = rules.Single(r => r.GetProperty("id").GetString() == RuleIds.PickleCodeExecution);
        Assert.Equal(RuleCatalogue.Get(RuleIds.PickleCodeExecution).Description, pickleRule.GetProperty("fullDescription").GetProperty("text").GetString());
        Assert.Equal("error", pickleRule.GetProperty("defaultConfiguration").GetProperty("level").GetString());
        Assert.True(pickleRule.GetProperty("properties").TryGetProperty("security-severity", out _));

        JsonElement[] results = run.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(set.Items.Sum(i => i.Findings.Count), results.Length);
        Assert.Contains(results, r => r.GetProperty("ruleId").GetString() == RuleIds.HashMismatch);
        Assert.All(results, r => Assert.Equal(r.GetProperty("ruleId").GetString(), rules[r.GetProperty("ruleIndex").GetInt32()].GetProperty("id").GetString()));
        Assert.All(results, r => Assert.StartsWith("file:///", r.GetProperty("locations")[0].GetProperty("physicalLocation").GetProperty("artifactLocation").GetProperty("uri").GetString(), StringComparison.Ordinal));
    }

    [Fact]
    public void CycloneDxValidatesAgainstTheSchemaWithModelComponents()
    {
        ReportSet set = Sample();
        JsonDocument bom = Parse(Write(set, CycloneDxReport.Write));
        AssertValid(CycloneDxSchema.Value, bom);

        JsonElement[] components = bom.RootElement.GetProperty("components").EnumerateArray().ToArray();
        Assert.Equal(set.Models.Count, components.Length);
        Assert.All(components, c => Assert.Equal("machine-learning-model", c.GetProperty("type").GetString()));
        JsonElement qwen = components.Single(c => c.GetProperty("name").GetString() == "Qwen/Qwen3-8B");
        Assert.Equal("Apache-2.0", qwen.GetProperty("licenses")[0].GetProperty("license").GetProperty("id").GetString());
        Assert.Equal("Qwen", qwen.GetProperty("supplier").GetProperty("name").GetString());
        Assert.Equal("SHA-256", qwen.GetProperty("hashes")[0].GetProperty("alg").GetString());
        Assert.Equal($"pkg:huggingface/Qwen/Qwen3-8B@{Commit}", qwen.GetProperty("purl").GetString());
        Assert.Equal("Qwen/Qwen3-8B-Base", qwen.GetProperty("pedigree").GetProperty("ancestors")[0].GetProperty("name").GetString());
        Assert.Contains(bom.RootElement.GetProperty("vulnerabilities").EnumerateArray(), v => v.GetProperty("id").GetString() == RuleIds.PickleCodeExecution);
    }

    [Fact]
    public void CycloneDxWritesNonSpdxModelLicencesByName()
    {
        var set = new ReportSet(new[] { Item(Source("/m/llama.gguf", "meta-llama/Llama-3.1-8B", "llama3.1")) }, DateTimeOffset.UnixEpoch);
        JsonDocument bom = Parse(Write(set, CycloneDxReport.Write));
        AssertValid(CycloneDxSchema.Value, bom);
        Assert.Equal("llama3.1", bom.RootElement.GetProperty("components")[0].GetProperty("licenses")[0].GetProperty("license").GetProperty("name").GetString());
    }

    [Fact]
    public void JUnitCountsFailuresErrorsAndSkipsPerCmdlet()
    {
        ReportSet set = Sample();
        XDocument junit = XDocument.Parse(Encoding.UTF8.GetString(Write(set, JUnitReport.Write)));
        XElement root = junit.Root!;
        Assert.Equal(set.Items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), root.Attribute("tests")!.Value);
        Assert.Equal(set.Count(ReportOutcome.Failed), int.Parse(root.Attribute("failures")!.Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(set.Count(ReportOutcome.Error), int.Parse(root.Attribute("errors")!.Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(set.Count(ReportOutcome.Skipped), int.Parse(root.Attribute("skipped")!.Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains(root.Elements("testsuite"), s => s.Attribute("name")!.Value == "Test-ModelFile");
        Assert.Contains(root.Elements("testsuite"), s => s.Attribute("name")!.Value == "Confirm-ModelHash");
        XElement malicious = root.Descendants("testcase").First(t => t.Attribute("name")!.Value.Contains("evil.pkl", StringComparison.Ordinal));
        Assert.Equal("Malicious", malicious.Element("failure")!.Attribute("type")!.Value);
        Assert.Contains("\uFFFD", malicious.Attribute("name")!.Value, StringComparison.Ordinal);
    }

    [Fact]
    public void HtmlEncodesEverythingFromTheFilesAndForbidsScripts()
    {
        string html = Encoding.UTF8.GetString(Write(Sample(), HtmlReport.Write));
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html, StringComparison.Ordinal);
        Assert.Contains("Content-Security-Policy", html, StringComparison.Ordinal);
        Assert.Contains("default-src &#39;none&#39;", WebEncodeQuotes(html), StringComparison.Ordinal);
        Assert.Contains("os.system", html, StringComparison.Ordinal);
    }

    [Fact]
    public void JsonGroupsResultsByFileWithASummary()
    {
        ReportSet set = Sample();
        JsonDocument json = Parse(Write(set, JsonReport.Write));
        Assert.Equal(JsonReport.FormatId, json.RootElement.GetProperty("format").GetString());
        Assert.Equal(set.Models.Count, json.RootElement.GetProperty("summary").GetProperty("files").GetInt32());
        JsonElement qwen = json.RootElement.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("path").GetString() == "/models/qwen/model.safetensors");
        Assert.Equal(3, qwen.GetProperty("results").GetArrayLength());
        Assert.Equal("Failed", qwen.GetProperty("outcome").GetString());
    }

    [Theory]
    [InlineData(3)] // the depth the module's Types.ps1xml asks for: findings arrive as objects
    [InlineData(1)] // the default depth: findings arrive as their text
    public void ResultsThatCameBackFromAJobReportTheSame(int depth)
    {
        ModelScanResult live = Scan.Bytes("evil.pkl", PickleBuilder.GlobalCall("os", "system"));
        object back = PSSerializer.Deserialize(PSSerializer.Serialize(live, depth));
        ReportItem item = ReportItem.From(back, out _)!;
        Assert.Equal(ReportKind.Scan, item.Kind);
        Assert.Equal("Malicious", item.Status);
        Assert.Equal(ReportOutcome.Failed, item.Outcome);
        Assert.Equal(live.Findings.Select(f => f.RuleId), item.Findings.Select(f => f.RuleId));
        Assert.Equal(live.Findings.Select(f => f.Severity), item.Findings.Select(f => f.Severity));
        Assert.Equal(live.Findings.Select(f => f.Detail), item.Findings.Select(f => f.Detail));
        Assert.Equal(live.Findings.Select(f => f.Location), item.Findings.Select(f => f.Location));
    }

    [Fact]
    public void ObjectsThatAreNotResultsAreRefusedWithAReason()
    {
        Assert.Null(ReportItem.From(new PSObject(42), out string? reason));
        Assert.Contains("Path", reason, StringComparison.Ordinal);
        var other = new PSObject();
        other.Properties.Add(new PSNoteProperty("Path", "/x"));
        Assert.Null(ReportItem.From(other, out reason));
        Assert.Contains("not a result", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void XmlSafeReplacesOnlyWhatXmlCannotCarry()
    {
        Assert.Equal("a\uFFFDb\tc\U0001F600", ReportSet.XmlSafe("a\u0001b\tc\U0001F600"));
        Assert.Equal("x\uFFFD", ReportSet.XmlSafe("x\uD800"));
        Assert.Equal("plain", ReportSet.XmlSafe("plain"));
    }

    [Fact]
    public void FormatFollowsTheExtension()
    {
        Assert.Equal(ReportFormat.Sarif, Commands.ExportModelReportCommand.FormatFromExtension("out/scan.sarif"));
        Assert.Equal(ReportFormat.CycloneDx, Commands.ExportModelReportCommand.FormatFromExtension("bom.cdx.json"));
        Assert.Equal(ReportFormat.Json, Commands.ExportModelReportCommand.FormatFromExtension("r.json"));
        Assert.Equal(ReportFormat.JUnit, Commands.ExportModelReportCommand.FormatFromExtension("r.xml"));
        Assert.Equal(ReportFormat.Html, Commands.ExportModelReportCommand.FormatFromExtension("r.HTML"));
        Assert.Null(Commands.ExportModelReportCommand.FormatFromExtension("r.txt"));
    }

    private const string Commit = "0123456789abcdef0123456789abcdef01234567";

    /// <summary>A malicious pickle, a clean SafeTensors file with a tampered hash and a trusted source, an unreadable file, and a file with no reference.</summary>
    private static ReportSet Sample()
    {
        var items = new List<ReportItem>
        {
            Item(Rename(Scan.Bytes("evil.pkl", PickleBuilder.GlobalCall("os", "system")), HostileName)),
            Item(Rename(Scan.Bytes("model.safetensors", SafeTensorsBuilder.File("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4)), "/models/qwen/model.safetensors")),
            Item(Hash("/models/qwen/model.safetensors", "Mismatch")),
            Item(Source("/models/qwen/model.safetensors", "Qwen/Qwen3-8B", "apache-2.0")),
            Item(Rename(Scan.Bytes("cut.gguf", Encoding.ASCII.GetBytes("GGUF\u0003\0\0\0")), "/models/cut.gguf")),
            Item(Hash("/models/cut.gguf", "NoReference")),
        };
        return new ReportSet(items, new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));
    }

    private static PSObject Rename(ModelScanResult result, string path)
    {
        var copy = new PSObject();
        foreach (PSPropertyInfo property in PSObject.AsPSObject(result).Properties)
        {
            copy.Properties.Add(new PSNoteProperty(property.Name, property.Name == "Path" ? path : property.Value));
        }

        return copy;
    }

    private static PSObject Hash(string path, string status)
    {
        var hash = new PSObject();
        hash.Properties.Add(new PSNoteProperty("Path", path));
        hash.Properties.Add(new PSNoteProperty("Algorithm", "SHA256"));
        hash.Properties.Add(new PSNoteProperty("Hash", new string('a', 64)));
        hash.Properties.Add(new PSNoteProperty("Expected", status == "NoReference" ? null : new string('b', 64)));
        hash.Properties.Add(new PSNoteProperty("ExpectedSource", status == "NoReference" ? null : "HuggingFaceCache"));
        hash.Properties.Add(new PSNoteProperty("Status", status));
        hash.Properties.Add(new PSNoteProperty("Length", 4L));
        hash.Properties.Add(new PSNoteProperty("FromCache", false));
        return hash;
    }

    private static PSObject Source(string path, string name, string license)
    {
        var source = new PSObject();
        source.Properties.Add(new PSNoteProperty("Path", path));
        source.Properties.Add(new PSNoteProperty("Name", name));
        source.Properties.Add(new PSNoteProperty("Ecosystem", "HuggingFace"));
        source.Properties.Add(new PSNoteProperty("Publisher", name.Split('/')[0]));
        source.Properties.Add(new PSNoteProperty("Repository", name.Split('/')[1]));
        source.Properties.Add(new PSNoteProperty("Revision", Commit));
        source.Properties.Add(new PSNoteProperty("License", license));
        source.Properties.Add(new PSNoteProperty("BaseModel", name + "-Base"));
        source.Properties.Add(new PSNoteProperty("TrustLevel", "High"));
        source.Properties.Add(new PSNoteProperty("LookalikeOf", null));
        return source;
    }

    private static ReportItem Item(object value) => ReportItem.From(value, out string? reason) ?? throw new InvalidOperationException(reason);

    private static byte[] Write(ReportSet set, Action<ReportSet, Stream> writer)
    {
        using var buffer = new MemoryStream();
        writer(set, buffer);
        return buffer.ToArray();
    }

    private static JsonDocument Parse(byte[] bytes) => JsonDocument.Parse(bytes);

    private static void AssertValid(JsonSchema schema, JsonDocument document)
    {
        EvaluationResults results = schema.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
        string errors = string.Join("\n", (results.Details ?? Array.Empty<EvaluationResults>())
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Key} {e.Value}"))
            .Take(20));
        Assert.True(results.IsValid, errors);
    }

    private static string SchemaPath(string name) => Path.Combine(AppContext.BaseDirectory, "Schemas", name);

    private static string WebEncodeQuotes(string html) => html.Replace("'", "&#39;", StringComparison.Ordinal);
}
