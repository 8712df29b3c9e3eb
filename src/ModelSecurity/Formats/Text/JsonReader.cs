using System;
using System.Collections.Generic;
using System.Text.Json;
using ModelSecurity.Analysis;

namespace ModelSecurity.Formats.Text;

/// <summary>
/// JSON documents (configs, manifests, tokenizer files). JSON runs nothing by itself, so a
/// well-formed document is data, except where programs turn it into code: a chat template (rendered
/// as Jinja), an <c>auto_map</c> (remote code), Keras or Hydra object references (imported and
/// called), a TensorFlow graph written as JSON. Those need readers this version does not have yet,
/// so such documents stay Inconclusive.
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
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256, CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            bool hasClassName = false;
            bool hasModule = false;
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    continue;
                }

                if (reader.ValueTextEquals("chat_template"))
                {
                    found.Add("a chat template (a Jinja program that runtimes render)");
                }
                else if (reader.ValueTextEquals("auto_map"))
                {
                    found.Add("an auto_map (code loaded with trust_remote_code)");
                }
                else if (reader.ValueTextEquals("_target_"))
                {
                    found.Add("Hydra _target_ references (imported and called by instantiate)");
                }
                else if (reader.ValueTextEquals("savedModelSchemaVersion") || reader.ValueTextEquals("metaGraphs")
                    || reader.ValueTextEquals("meta_graphs") || reader.ValueTextEquals("graphDef") || reader.ValueTextEquals("graph_def"))
                {
                    found.Add("a TensorFlow graph (SavedModel or GraphDef in JSON form, whose ops can read and write files)");
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

            if (hasClassName && hasModule)
            {
                found.Add("Keras-style object references (class_name and module, imported when the model is built)");
            }
        }
        catch (JsonException e)
        {
            context.Report(RuleIds.DocumentMalformed, $"The JSON document cannot be parsed: {e.Message}");
            return;
        }

        if (found.Count > 0)
        {
            context.Report(
                RuleIds.FormatNotAnalysed,
                $"The JSON document holds {string.Join("; ", found)}. This version does not analyse those yet, so the document is not known to be safe.");
        }
    }
}
