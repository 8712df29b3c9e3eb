using System;
using System.Collections.Generic;
using System.Text.Json;
using ModelSecurity.Analysis;

namespace ModelSecurity.Formats.Text;

/// <summary>
/// JSON documents (configs, manifests, tokenizer files). JSON runs nothing by itself, so a
/// well-formed document is data, except where programs turn it into code: chat templates (rendered
/// as Jinja) are analysed, Keras configs, skops schemas and Hydra <c>_target_</c> references
/// (imported and called) are graded by their analyses, and TensorFlow graphs written as JSON have
/// their ops graded like binary graphs; an <c>auto_map</c> (remote code) needs a reader this version
/// does not have yet, so such documents stay Inconclusive.
/// </summary>
internal sealed class JsonReader : IModelReader
{
    /// <summary>Largest document parsed (tokenizer.json files reach tens of megabytes).</summary>
    public const int MaxBytes = 64 * 1024 * 1024;

    public void Read(ReadContext context)
    {
        if (context.Source.Length > MaxBytes)
        {
            context.Report(RuleIds.FormatNotAnalysed, $"The JSON document is {context.Source.Length:N0} bytes, more than the {MaxBytes:N0} this version parses, so its content was not checked.");
            return;
        }

        byte[] json = context.Source.ReadBlock(0, (int)context.Source.Length);
        var found = new SortedSet<string>(StringComparer.Ordinal);
        bool hasTemplate;
        bool keras;
        bool skops;
        bool hydra = false;
        bool tensorFlowGraph = false;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256, CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            bool hasClassName = false;
            hasTemplate = false;
            bool hasModule = false;
            bool hasKerasVersion = false;
            skops = false;
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    continue;
                }

                if (reader.ValueTextEquals("chat_template"))
                {
                    hasTemplate = true;
                }
                else if (reader.ValueTextEquals("auto_map"))
                {
                    found.Add("an auto_map (code loaded with trust_remote_code)");
                }
                else if (reader.ValueTextEquals("_target_"))
                {
                    hydra = true;
                }
                else if (reader.ValueTextEquals("__loader__"))
                {
                    skops = true;
                }
                else if (reader.ValueTextEquals("keras_version") || reader.ValueTextEquals("backend"))
                {
                    hasKerasVersion = true;
                }
                else if (reader.ValueTextEquals("savedModelSchemaVersion") || reader.ValueTextEquals("metaGraphs")
                    || reader.ValueTextEquals("meta_graphs") || reader.ValueTextEquals("graphDef") || reader.ValueTextEquals("graph_def"))
                {
                    tensorFlowGraph = true;
                }
                else if (reader.ValueTextEquals("class_name"))
                {
                    hasClassName = true;
                }
                else if (reader.ValueTextEquals("module") || reader.ValueTextEquals("registered_name"))
                {
                    hasModule = true;
                }
            }

            keras = hasClassName && (hasModule || hasKerasVersion);
        }
        catch (JsonException e)
        {
            context.Report(RuleIds.DocumentMalformed, $"The JSON document cannot be parsed: {e.Message}");
            return;
        }

        if (hasTemplate)
        {
            AnalyseTemplates(context, json);
        }

        if (skops)
        {
            SkopsSchemaAnalysis.Analyze(context, json, string.Empty);
        }
        else if (keras)
        {
            KerasConfigAnalysis.Analyze(context, System.Text.Encoding.UTF8.GetString(json), string.Empty);
        }

        if (hydra)
        {
            AnalyseHydra(context, json);
        }

        if (tensorFlowGraph)
        {
            using JsonDocument document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256, CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            TensorFlow.TensorFlowJsonGraph.Analyze(context, document.RootElement);
        }

        if (found.Count > 0)
        {
            context.Report(
                RuleIds.FormatNotAnalysed,
                $"The JSON document holds {string.Join("; ", found)}. This version does not analyse those yet, so the document is not known to be safe.");
        }
    }

    /// <summary>Analyses every chat_template in the document: a string, or a list of {name, template}.</summary>
    private static void AnalyseTemplates(ReadContext context, byte[] json)
    {
        using JsonDocument document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256, CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var templates = new List<(string Location, string Text)>();
        Collect(document.RootElement, "$", templates, 0);
        foreach ((string location, string text) in templates)
        {
            string sha256 = ChatTemplateFindings.Report(context, text, location, declaredFamily: null);
            if (context.Member is null && !context.Scan.Metadata.Contains("ChatTemplateSha256"))
            {
                context.Scan.Metadata["ChatTemplateSha256"] = sha256;
            }
        }
    }

    /// <summary>Grades every _target_ in the document and the dotted names passed in _args_.</summary>
    private static void AnalyseHydra(ReadContext context, byte[] json)
    {
        using JsonDocument document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256, CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var references = new List<HydraReference>();
        try
        {
            CollectHydra(document.RootElement, "$", references, 0, inArguments: false);
        }
        catch (InvalidOperationException e)
        {
            // JsonDocument checks a string's UTF-8 only when it is read.
            context.Report(RuleIds.DocumentMalformed, $"The JSON document holds text that is not valid UTF-8: {e.Message}");
            return;
        }

        HydraTargetAnalysis.Report(context, references);
    }

    private static void CollectHydra(JsonElement element, string path, List<HydraReference> references, int depth, bool inArguments)
    {
        if (depth > 128 || references.Count >= YamlReader.MaxHydraReferences)
        {
            return;
        }

        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (JsonProperty property in element.EnumerateObject())
            {
                string here = $"{path}.{property.Name}";
                if (property.Name == "_target_" && property.Value.ValueKind == JsonValueKind.String)
                {
                    references.Add(new HydraReference(property.Value.GetString()!, here, IsArgument: false));
                    continue;
                }

                CollectHydra(property.Value, here, references, depth + 1, inArguments || property.Name == "_args_");
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            int index = 0;
            foreach (JsonElement item in element.EnumerateArray())
            {
                CollectHydra(item, $"{path}[{index++}]", references, depth + 1, inArguments);
            }
        }
        else if (inArguments && element.ValueKind == JsonValueKind.String)
        {
            references.Add(new HydraReference(element.GetString()!, path, IsArgument: true));
        }
    }

    private static void Collect(JsonElement element, string path, List<(string, string)> templates, int depth)
    {
        if (depth > 64 || templates.Count >= 64)
        {
            return;
        }

        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (JsonProperty property in element.EnumerateObject())
            {
                string here = $"{path}.{property.Name}";
                if (property.Name == "chat_template")
                {
                    if (property.Value.ValueKind == JsonValueKind.String)
                    {
                        templates.Add((here, property.Value.GetString()!));
                        continue;
                    }

                    if (property.Value.ValueKind == JsonValueKind.Array)
                    {
                        int index = 0;
                        foreach (JsonElement item in property.Value.EnumerateArray())
                        {
                            if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("template", out JsonElement text) && text.ValueKind == JsonValueKind.String)
                            {
                                string name = item.TryGetProperty("name", out JsonElement n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : index.ToString(System.Globalization.CultureInfo.InvariantCulture);
                                templates.Add(($"{here}[{name}]", text.GetString()!));
                            }

                            index++;
                        }

                        continue;
                    }
                }

                Collect(property.Value, here, templates, depth + 1);
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            int index = 0;
            foreach (JsonElement item in element.EnumerateArray())
            {
                Collect(item, $"{path}[{index++}]", templates, depth + 1);
            }
        }
    }
}
