namespace ModelSecurity.Reporting;

/// <summary>The formats <c>Export-ModelReport</c> writes.</summary>
public enum ReportFormat
{
    /// <summary>The module's own JSON: a summary and every result per file.</summary>
    Json,

    /// <summary>SARIF 2.1.0, for code-scanning UIs (GitHub, Azure DevOps, VS Code SARIF viewer).</summary>
    Sarif,

    /// <summary>JUnit XML, for CI test tabs.</summary>
    JUnit,

    /// <summary>CycloneDX 1.6 ML-BOM (JSON).</summary>
    CycloneDx,

    /// <summary>A single self-contained HTML page.</summary>
    Html,
}
