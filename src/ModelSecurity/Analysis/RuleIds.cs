namespace ModelSecurity.Analysis;

/// <summary>
/// The rule ids the code reports, in one place. Each must have an entry in <c>Data/rules.json</c>
/// (a unit test checks both directions).
/// </summary>
internal static class RuleIds
{
    /// <summary>The file could not be opened or read.</summary>
    public const string FileUnreadable = "MS-GEN-001";

    /// <summary>The file is empty.</summary>
    public const string FileEmpty = "MS-GEN-002";

    /// <summary>A reader failed on the file in a way it did not foresee (a bug in ModelSecurity).</summary>
    public const string AnalysisFailed = "MS-GEN-003";

    /// <summary>The content matches no known format.</summary>
    public const string FormatUnknown = "MS-FMT-001";

    /// <summary>The format is known but this version has no reader for it.</summary>
    public const string FormatNotAnalysed = "MS-FMT-002";

    /// <summary>The extension names a different format than the content is.</summary>
    public const string ExtensionMismatch = "MS-FMT-003";

    /// <summary>Content that can carry code hides behind a data-only format's extension.</summary>
    public const string CodeCapableDisguised = "MS-FMT-004";

    /// <summary>An executable or script is named as a model file.</summary>
    public const string ExecutableDisguised = "MS-FMT-005";

    /// <summary>An executable or script was found among the scanned files.</summary>
    public const string ExecutableFile = "MS-FMT-006";
}
