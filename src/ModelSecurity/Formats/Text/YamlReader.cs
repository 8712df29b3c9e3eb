using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using ModelSecurity.Analysis;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace ModelSecurity.Formats.Text;

/// <summary>
/// YAML documents (model configs, NeMo and Hydra configs, model cards' front matter). Read as a
/// stream of parser events, so anchors and aliases are never expanded. YAML is data unless a loader
/// makes code of it: Python object tags (<c>!!python/object/apply:os.system</c>, run by PyYAML's
/// unsafe loaders) are Malicious, chat templates are analysed, Hydra <c>_target_</c> references
/// (imported and called by instantiate) are graded by <see cref="HydraTargetAnalysis"/>.
/// </summary>
internal sealed class YamlReader : IModelReader
{
    /// <summary>Largest document parsed.</summary>
    public const int MaxBytes = 16 * 1024 * 1024;

    /// <summary>Parser events examined before giving up (bounds time on hostile documents).</summary>
    public const int MaxEvents = 2_000_000;

    /// <summary>Hydra targets and arguments collected (each is judged; the count bounds memory).</summary>
    public const int MaxHydraReferences = 100_000;

    public void Read(ReadContext context)
    {
        if (context.Source.Length > MaxBytes)
        {
            context.Report(RuleIds.FormatNotAnalysed, $"The YAML document is {context.Source.Length:N0} bytes, more than the {MaxBytes:N0} this version parses, so its content was not checked.");
            return;
        }

        string text = Encoding.UTF8.GetString(context.Source.ReadBlock(0, (int)context.Source.Length));
        var templates = new List<(string Location, string Text)>();
        var pythonTags = new List<string>();
        var hydra = new List<HydraReference>();
        try
        {
            var parser = new Parser(new StringReader(text));
            var path = new Stack<Frame>();
            int events = 0;
            while (parser.MoveNext())
            {
                if ((events & 0xFFF) == 0)
                {
                    context.Checkpoint();
                }

                if (++events > MaxEvents)
                {
                    context.Report(RuleIds.DocumentMalformed, $"The YAML document has more than {MaxEvents:N0} parser events; the rest was not checked.");
                    return;
                }

                ParsingEvent current = parser.Current!;
                if (current is NodeEvent { Tag.IsEmpty: false } node && node.Tag.Value.StartsWith("tag:yaml.org,2002:python/", StringComparison.Ordinal))
                {
                    pythonTags.Add($"!!{node.Tag.Value.Substring("tag:yaml.org,2002:".Length)} (line {node.Start.Line})");
                }

                Frame? frame = path.Count == 0 ? null : path.Peek();
                string? key = frame is { IsMapping: true, ExpectingKey: false } ? frame.Key : null;
                switch (current)
                {
                    case MappingStart:
                        Advance(frame);
                        path.Push(new Frame(isMapping: true));
                        break;
                    case SequenceStart:
                        Advance(frame);
                        path.Push(new Frame(isMapping: false));
                        break;
                    case MappingEnd:
                    case SequenceEnd:
                        path.TryPop(out _);
                        break;
                    case Scalar scalar:
                        if (frame is { IsMapping: true, ExpectingKey: true })
                        {
                            frame.Key = scalar.Value;
                        }
                        else if (key == "_target_" && hydra.Count < MaxHydraReferences)
                        {
                            hydra.Add(new HydraReference(scalar.Value, $"line {scalar.Start.Line}, _target_", IsArgument: false));
                        }
                        else if (InArguments(path) && hydra.Count < MaxHydraReferences)
                        {
                            hydra.Add(new HydraReference(scalar.Value, $"line {scalar.Start.Line}, _args_", IsArgument: true));
                        }
                        else if (key == "chat_template" && templates.Count < 64)
                        {
                            templates.Add(($"line {scalar.Start.Line}, chat_template", scalar.Value));
                        }

                        Advance(frame);
                        break;
                    case AnchorAlias:
                        Advance(frame);
                        break;
                }
            }
        }
        catch (Exception e) when (e is YamlException or InvalidOperationException or ArgumentException)
        {
            // YamlDotNet reports some malformed documents with InvalidOperationException, and tags that
            // are not valid URIs (found by fuzzing) with ArgumentException.
            context.Report(RuleIds.DocumentMalformed, $"The YAML document cannot be parsed: {e.Message}");
            return;
        }

        if (pythonTags.Count > 0)
        {
            context.Report(
                RuleIds.YamlPythonTag,
                $"The document carries Python object tags, which PyYAML's unsafe loaders turn into imports and calls: {string.Join(", ", pythonTags.GetRange(0, Math.Min(8, pythonTags.Count)))}{(pythonTags.Count > 8 ? ", ..." : string.Empty)}.");
        }

        foreach ((string location, string template) in templates)
        {
            ChatTemplateFindings.Report(context, template, location, declaredFamily: null);
        }

        HydraTargetAnalysis.Report(context, hydra);
    }

    // True inside the value of an _args_ key (a list of positional arguments for the target). The
    // innermost mapping still awaits the value of its key; an outer one has moved past the container
    // value that began under its key.
    private static bool InArguments(Stack<Frame> path)
    {
        bool innermost = true;
        foreach (Frame frame in path)
        {
            if (frame is { IsMapping: true, Key: "_args_" } && frame.ExpectingKey != innermost)
            {
                return true;
            }

            innermost = false;
        }

        return false;
    }

    private static void Advance(Frame? frame)
    {
        if (frame is { IsMapping: true })
        {
            frame.ExpectingKey = !frame.ExpectingKey;
        }
    }

    private sealed class Frame
    {
        public Frame(bool isMapping)
        {
            IsMapping = isMapping;
        }

        public bool IsMapping { get; }

        public bool ExpectingKey { get; set; } = true;

        public string? Key { get; set; }
    }
}
