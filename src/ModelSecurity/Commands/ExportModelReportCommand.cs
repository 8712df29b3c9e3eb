using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using ModelSecurity.Reporting;

namespace ModelSecurity.Commands;

/// <summary>
/// <para type="synopsis">Writes the results of ModelSecurity cmdlets to a JSON, SARIF, JUnit, CycloneDX or HTML report.</para>
/// </summary>
[Cmdlet(VerbsData.Export, "ModelReport", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class ExportModelReportCommand : ModelSecurityCmdlet
{
    private readonly List<ReportItem> _items = new();

    /// <summary>Results of Test-ModelFile, Confirm-ModelHash, Get-ModelSource, Get-ModelInventory and the other cmdlets, live or deserialised.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [AllowNull]
    public PSObject? InputObject { get; set; }

    /// <summary>The report file to write.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>The report format; by default taken from the file extension (.sarif, .html, .xml, .cdx.json, .json).</summary>
    [Parameter]
    public ReportFormat? Format { get; set; }

    /// <summary>Do not overwrite an existing file.</summary>
    [Parameter]
    public SwitchParameter NoClobber { get; set; }

    /// <summary>Write the report file's FileInfo to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>The format a file name implies, or null.</summary>
    internal static ReportFormat? FormatFromExtension(string path)
    {
        string name = System.IO.Path.GetFileName(path).ToLowerInvariant();
        if (name.EndsWith(".sarif", StringComparison.Ordinal) || name.EndsWith(".sarif.json", StringComparison.Ordinal))
        {
            return ReportFormat.Sarif;
        }

        if (name.EndsWith(".cdx.json", StringComparison.Ordinal) || name.EndsWith(".bom.json", StringComparison.Ordinal))
        {
            return ReportFormat.CycloneDx;
        }

        return System.IO.Path.GetExtension(name) switch
        {
            ".json" => ReportFormat.Json,
            ".html" or ".htm" => ReportFormat.Html,
            ".xml" => ReportFormat.JUnit,
            _ => null,
        };
    }

    /// <inheritdoc />
    protected override void BeginProcessing()
    {
        if (Format is null && FormatFromExtension(Path) is null)
        {
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentException($"Cannot tell the report format from '{Path}'. Give -Format Json, Sarif, JUnit, CycloneDx or Html, or use the extension .json, .sarif, .xml, .cdx.json or .html."),
                ErrorIds.ReportFormatUnknown,
                ErrorCategory.InvalidArgument,
                Path));
        }
    }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        object? input = InputObject;
        if (input is null)
        {
            return;
        }

        ReportItem? item = ReportItem.From(input, out string? reason);
        if (item is null)
        {
            WriteInputError(
                new ArgumentException($"Export-ModelReport cannot report this object: {reason}."),
                ErrorIds.ReportInputUnsupported,
                ErrorCategory.InvalidType,
                input,
                "Pipe the results of Test-ModelFile, Confirm-ModelHash, Get-ModelSource, Get-ModelInventory or the other ModelSecurity cmdlets.");
            return;
        }

        _items.Add(item);
    }

    /// <inheritdoc />
    protected override void EndProcessing()
    {
        ReportFormat format = Format ?? FormatFromExtension(Path)!.Value;
        string path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        if (NoClobber && File.Exists(path))
        {
            WriteInputError(new IOException($"The file '{path}' already exists and -NoClobber was given."), ErrorIds.ReportNotWritten, ErrorCategory.ResourceExists, path);
            return;
        }

        if (!ShouldProcess(path, $"Write a {format} report of {_items.Count} result(s)"))
        {
            return;
        }

        var set = new ReportSet(_items, DateTimeOffset.Now);
        string folder = System.IO.Path.GetDirectoryName(path) ?? ".";
        string temporary = System.IO.Path.Combine(folder, "." + System.IO.Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                switch (format)
                {
                    case ReportFormat.Sarif:
                        SarifReport.Write(set, stream);
                        break;
                    case ReportFormat.JUnit:
                        JUnitReport.Write(set, stream);
                        break;
                    case ReportFormat.CycloneDx:
                        CycloneDxReport.Write(set, stream);
                        break;
                    case ReportFormat.Html:
                        HtmlReport.Write(set, stream);
                        break;
                    default:
                        JsonReport.Write(set, stream);
                        break;
                }
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            WriteInputError(new IOException($"The report '{path}' could not be written: {e.Message}", e), ErrorIds.ReportNotWritten, ErrorCategory.WriteError, path);
            return;
        }

        if (PassThru)
        {
            WriteObject(new FileInfo(path));
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left behind: a hidden temporary file in the report folder.
        }
    }
}
