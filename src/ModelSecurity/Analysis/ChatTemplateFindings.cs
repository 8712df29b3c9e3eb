using System;
using ModelSecurity.Analysis.ChatTemplates;

namespace ModelSecurity.Analysis;

/// <summary>
/// Reports what <see cref="ChatTemplateAnalyzer"/> finds in a chat template, wherever the template
/// was found: GGUF metadata, a tokenizer_config.json, a .jinja file.
/// </summary>
internal static class ChatTemplateFindings
{
    /// <summary>
    /// Analyses <paramref name="template"/> found at <paramref name="location"/>. When the model
    /// declares a family whose official template is known and this one is not it, says so.
    /// Returns the template's SHA-256.
    /// </summary>
    public static string Report(ReadContext context, string template, string location, string? declaredFamily)
    {
        ChatTemplateReport report = ChatTemplateAnalyzer.Analyse(template);
        foreach (ChatTemplateIssue issue in report.Issues)
        {
            context.Report(issue.RuleId, issue.Detail, $"{location}, line {issue.Line}:{issue.Column}");
        }

        if (declaredFamily is not null && report.KnownFamily is null && report.Parsed)
        {
            string? family = Match(declaredFamily);
            if (family is not null)
            {
                context.Report(
                    RuleIds.TemplateNotOfficial,
                    $"The model declares the family '{declaredFamily}', whose official chat template ModelSecurity knows, but this template (SHA-256 {report.Sha256}) is not that one.",
                    location);
            }
        }

        return report.Sha256;
    }

    private static string? Match(string declared)
    {
        foreach (string family in KnownChatTemplates.Families)
        {
            if (string.Equals(family, declared, StringComparison.OrdinalIgnoreCase))
            {
                return family;
            }
        }

        return null;
    }
}
