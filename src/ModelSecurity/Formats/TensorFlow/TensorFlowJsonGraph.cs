using System;
using System.Collections.Generic;
using System.Text;
using System.Text.Json;
using ModelSecurity.Analysis;

namespace ModelSecurity.Formats.TensorFlow;

/// <summary>
/// A SavedModel or GraphDef written as JSON (protobuf's JSON mapping, as <c>MessageToJson</c> writes
/// it: camelCase or original field names, bytes in base64). TensorFlow does not load this form, but
/// tools convert it back to a graph, so its ops are graded like the binary graph's.
/// </summary>
internal static class TensorFlowJsonGraph
{
    private const int MaxDepth = 64;
    private const int MaxStrings = 8;
    private const int MaxStringChars = 1024;

    public static void Analyze(ReadContext context, JsonElement root)
    {
        var graph = new TensorFlowGraph(context);
        Walk(graph, root, 0);
        graph.Finish();
        if (context.Member is null)
        {
            context.Scan.Metadata["NodeCount"] = graph.NodeCount;
            context.Scan.Metadata["FunctionCount"] = graph.FunctionCount;
            context.Scan.Metadata["CheckpointOps"] = graph.CheckpointOps;
        }
    }

    private static void Walk(TensorFlowGraph graph, JsonElement element, int depth)
    {
        if (depth > MaxDepth)
        {
            return;
        }

        if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement item in element.EnumerateArray())
            {
                Walk(graph, item, depth + 1);
            }

            return;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        bool hadNodes = false;
        foreach (JsonProperty property in element.EnumerateObject())
        {
            if (property.Name is "node" or "nodeDef" or "node_def" && property.Value.ValueKind == JsonValueKind.Array)
            {
                hadNodes = true;
                foreach (JsonElement node in property.Value.EnumerateArray())
                {
                    AddNode(graph, node);
                }
            }
        }

        if (hadNodes)
        {
            graph.EndScope(FunctionName(element));
        }

        foreach (JsonProperty property in element.EnumerateObject())
        {
            if (property.Name is not ("node" or "nodeDef" or "node_def"))
            {
                Walk(graph, property.Value, depth + 1);
            }
        }
    }

    private static string FunctionName(JsonElement element) =>
        element.TryGetProperty("signature", out JsonElement signature)
        && signature.ValueKind == JsonValueKind.Object
        && signature.TryGetProperty("name", out JsonElement name)
        && name.ValueKind == JsonValueKind.String
            ? name.GetString()!
            : string.Empty;

    private static void AddNode(TensorFlowGraph graph, JsonElement node)
    {
        if (node.ValueKind != JsonValueKind.Object || !node.TryGetProperty("op", out JsonElement opElement) || opElement.ValueKind != JsonValueKind.String)
        {
            return;
        }

        string op = opElement.GetString()!;
        string name = node.TryGetProperty("name", out JsonElement n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : string.Empty;
        var inputs = new List<string>();
        if (node.TryGetProperty("input", out JsonElement input) && input.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement item in input.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.String && inputs.Count < 64)
                {
                    inputs.Add(item.GetString()!);
                }
            }
        }

        var strings = new List<string>();
        List<string>? constStrings = null;
        if (node.TryGetProperty("attr", out JsonElement attrs) && attrs.ValueKind == JsonValueKind.Object)
        {
            foreach (JsonProperty attr in attrs.EnumerateObject())
            {
                if (attr.Name.StartsWith('_') || attr.Value.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                JsonElement value = attr.Value;
                if (value.TryGetProperty("s", out JsonElement s))
                {
                    AddBytes(s, strings);
                }

                if (value.TryGetProperty("list", out JsonElement list) && list.ValueKind == JsonValueKind.Object && list.TryGetProperty("s", out JsonElement ls) && ls.ValueKind == JsonValueKind.Array)
                {
                    foreach (JsonElement item in ls.EnumerateArray())
                    {
                        AddBytes(item, strings);
                    }
                }

                if (value.TryGetProperty("tensor", out JsonElement tensor) && tensor.ValueKind == JsonValueKind.Object && IsStringTensor(tensor))
                {
                    constStrings = new List<string>();
                    foreach (string key in new[] { "stringVal", "string_val" })
                    {
                        if (tensor.TryGetProperty(key, out JsonElement values) && values.ValueKind == JsonValueKind.Array)
                        {
                            foreach (JsonElement item in values.EnumerateArray())
                            {
                                AddBytes(item, constStrings);
                            }
                        }
                    }
                }
            }
        }

        if (op == "Const" && constStrings is { Count: > 0 })
        {
            graph.AddConst(name, constStrings);
        }

        graph.AddNode(new TensorFlowNode(name, op, inputs, strings));
    }

    private static bool IsStringTensor(JsonElement tensor) =>
        tensor.TryGetProperty("dtype", out JsonElement dtype)
        && ((dtype.ValueKind == JsonValueKind.String && dtype.GetString() == "DT_STRING")
            || (dtype.ValueKind == JsonValueKind.Number && dtype.TryGetInt32(out int code) && code == 7));

    /// <summary>Protobuf's JSON mapping writes bytes as base64; text that is not base64 is taken as it is.</summary>
    private static void AddBytes(JsonElement element, List<string> into)
    {
        if (element.ValueKind != JsonValueKind.String || into.Count >= MaxStrings)
        {
            return;
        }

        string text = element.GetString()!;
        if (text.Length > MaxStringChars * 2)
        {
            text = text.Substring(0, MaxStringChars * 2 / 4 * 4);
        }

        byte[] buffer = new byte[text.Length];
        string value = Convert.TryFromBase64String(text, buffer, out int written) ? Encoding.UTF8.GetString(buffer, 0, written) : text;
        into.Add(value.Length > MaxStringChars ? value.Substring(0, MaxStringChars) : value);
    }
}
