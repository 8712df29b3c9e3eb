using System;
using System.Collections.Generic;
using System.Globalization;
using ModelSecurity.Analysis;

namespace ModelSecurity.Formats.Gguf;

/// <summary>
/// GGUF models: the key/value area and tensor infos are checked the way ggml's reader checks them
/// (plus the scanner's own limits), each issue reported with its byte offset; provenance keys go into
/// the metadata. Tensor data is never read.
/// </summary>
internal sealed class GgufReader : IModelReader
{
    public void Read(ReadContext context)
    {
        GgufFile file = GgufFile.Parse(context.Source, context.CancellationToken);
        foreach (GgufIssue issue in file.Issues)
        {
            context.Report(issue.RuleId, issue.Message, string.Create(CultureInfo.InvariantCulture, $"byte {issue.Offset}"));
        }

        // Runtimes render these as Jinja when they format a prompt (CVE-2024-34359): analysed, never rendered.
        string? architecture = file.Get("general.architecture") as string;
        foreach ((string key, string text) in file.ChatTemplates)
        {
            ChatTemplateFindings.Report(context, text, $"metadata {key}", architecture);
        }

        if (context.Member is null)
        {
            AddMetadata(context.Scan, file);
        }
    }

    private static void AddMetadata(ScanContext scan, GgufFile file)
    {
        var metadata = scan.Metadata;
        void Set(string name, object? value)
        {
            if (value is not null && !(value is string s && s.Length == 0) && !metadata.Contains(name))
            {
                metadata[name] = value;
            }
        }

        if (file.Version != 0)
        {
            Set("GgufVersion", file.Version);
            Set("ByteOrder", file.BigEndian ? "BigEndian" : "LittleEndian");
        }

        string? architecture = file.Get("general.architecture") as string;
        Set("Architecture", architecture);
        Set("ModelName", file.Get("general.name"));
        Set("Basename", file.Get("general.basename"));
        Set("Finetune", file.Get("general.finetune"));
        Set("SizeLabel", file.Get("general.size_label"));
        Set("Organization", file.Get("general.organization"));
        Set("Author", file.Get("general.author"));
        Set("QuantizedBy", file.Get("general.quantized_by"));
        Set("SourceUrl", file.Get("general.source.url") ?? file.Get("general.url"));
        Set("RepositoryUrl", file.Get("general.repo_url") ?? file.Get("general.source.repo_url") ?? file.Get("general.source.huggingface.repository"));
        var bases = new List<string>();
        for (int i = 0; i < 64; i++)
        {
            string prefix = string.Create(CultureInfo.InvariantCulture, $"general.base_model.{i}.");
            if ((file.Get(prefix + "name") ?? file.Get(prefix + "repo_url")) is string name)
            {
                bases.Add(name);
            }
            else if (i > 0)
            {
                break;
            }
        }

        if (bases.Count > 0)
        {
            Set("BaseModels", bases.ToArray());
        }

        Set("License", file.Get("general.license"));
        if (file.Tensors.Count > 0)
        {
            Set("ParameterCount", file.ParameterCount);
        }

        if (ToLong(file.Get("general.file_type")) is long fileType)
        {
            Set("FileType", GgmlTypes.FileTypeName(fileType) ?? fileType.ToString(CultureInfo.InvariantCulture));
        }

        if (architecture is not null && ToLong(file.Get(architecture + ".context_length")) is long context)
        {
            Set("ContextLength", context);
        }

        if (file.DeclaredTensorCount >= 0)
        {
            Set("TensorCount", file.DeclaredTensorCount);
        }

        if (file.DeclaredKeyCount >= 0)
        {
            Set("KeyCount", file.DeclaredKeyCount);
        }

        Set("ChatTemplateSha256", file.ChatTemplateSha256);
    }

    private static long? ToLong(object? value) => value switch
    {
        byte v => v,
        sbyte v => v,
        ushort v => v,
        short v => v,
        uint v => v,
        int v => v,
        long v => v,
        ulong v when v <= long.MaxValue => (long)v,
        _ => null,
    };
}
