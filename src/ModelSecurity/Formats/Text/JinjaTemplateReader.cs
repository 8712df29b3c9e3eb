using System.Text;
using ModelSecurity.Analysis;

namespace ModelSecurity.Formats.Text;

/// <summary>
/// Jinja template files (<c>chat_template.jinja</c> and the like): the template is parsed and
/// analysed, never rendered.
/// </summary>
internal sealed class JinjaTemplateReader : IModelReader
{
    /// <summary>Largest template read; real chat templates are a few KiB.</summary>
    public const int MaxBytes = 1024 * 1024;

    public void Read(ReadContext context)
    {
        if (context.Source.Length > MaxBytes)
        {
            context.Report(RuleIds.TemplateUnparsable, $"The template is {context.Source.Length:N0} bytes, more than the {MaxBytes:N0} this version analyses.");
            return;
        }

        string template = Encoding.UTF8.GetString(context.Source.ReadBlock(0, (int)context.Source.Length));
        string sha256 = ChatTemplateFindings.Report(context, template, "template", declaredFamily: null);
        if (context.Member is null)
        {
            context.Scan.Metadata["ChatTemplateSha256"] = sha256;
        }
    }
}
