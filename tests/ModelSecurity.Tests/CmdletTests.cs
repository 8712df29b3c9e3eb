using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using ModelSecurity.Analysis;
using ModelSecurity.Commands;
using ModelSecurity.Formats;
using Xunit;

namespace ModelSecurity.Tests;

/// <summary>Test-ModelFile in an in-process runspace, over files in a fresh temporary folder.</summary>
public sealed class CmdletTests : IDisposable
{
    private readonly string _folder;

    public CmdletTests()
    {
        _folder = Path.Combine(Path.GetTempPath(), "ModelSecurity.Tests." + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Path_ExpandsWildcards()
    {
        string a = Write("a.gguf", "gguf-v3-le");
        string b = Write("b.gguf", "gguf-v3-le");
        Write("c.json", "json");
        using PowerShell shell = CreateShell();

        Collection<PSObject> output = shell.AddCommand("Test-ModelFile").AddParameter("Path", Path.Combine(_folder, "*.gguf")).Invoke();

        Assert.False(shell.HadErrors);
        ModelScanResult[] results = Results(output);
        Assert.Equal(new[] { a, b }, results.Select(r => r.Path).Order(StringComparer.Ordinal));
        Assert.All(results, r => Assert.Equal(ModelFormat.Gguf, r.Format));
    }

    [Fact]
    public void LiteralPath_TakesBracketsLiterally()
    {
        string file = Write("x[1].gguf", "gguf-v3-le");
        using PowerShell shell = CreateShell();

        Collection<PSObject> output = shell.AddCommand("Test-ModelFile").AddParameter("LiteralPath", file).Invoke();

        Assert.False(shell.HadErrors, string.Join("; ", shell.Streams.Error));
        ModelScanResult result = Assert.Single(Results(output));
        Assert.Equal(file, result.Path);
        Assert.Equal(ModelFormat.Gguf, result.Format);
    }

    [Fact]
    public void GetChildItem_BindsLiteralPathByPSPath()
    {
        string file = Write("x[1].gguf", "gguf-v3-le");
        using PowerShell shell = CreateShell();

        Collection<PSObject> output = shell
            .AddCommand("Get-ChildItem").AddParameter("LiteralPath", _folder)
            .AddCommand("Test-ModelFile")
            .Invoke();

        Assert.False(shell.HadErrors, string.Join("; ", shell.Streams.Error));
        Assert.Equal(file, Assert.Single(Results(output)).Path);
    }

    [Fact]
    public void MissingPath_WritesPathNotFound_AndTheNextInputIsStillScanned()
    {
        string missing = Path.Combine(_folder, "missing.gguf");
        string present = Write("present.gguf", "gguf-v3-le");
        using PowerShell shell = CreateShell();

        Collection<PSObject> output = shell.AddCommand("Test-ModelFile").AddParameter("Path", new[] { missing, present }).Invoke();

        ErrorRecord error = Assert.Single(shell.Streams.Error);
        Assert.StartsWith("PathNotFound,", error.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Equal(missing, error.TargetObject);
        Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
        Assert.Equal(present, Assert.Single(Results(output)).Path);
    }

    [Fact]
    public void MissingLiteralPath_FromThePipeline_WritesPathNotFound_AndGoesOn()
    {
        string missing = Path.Combine(_folder, "gone[1].gguf");
        string present = Write("present.gguf", "gguf-v3-le");
        using PowerShell shell = CreateShell();
        var input = new[] { new PSObject(), new PSObject() };
        input[0].Properties.Add(new PSNoteProperty("PSPath", missing));
        input[1].Properties.Add(new PSNoteProperty("PSPath", present));

        Collection<PSObject> output = shell.AddCommand("Test-ModelFile").Invoke(input);

        ErrorRecord error = Assert.Single(shell.Streams.Error);
        Assert.StartsWith("PathNotFound,", error.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Equal(present, Assert.Single(Results(output)).Path);
    }

    [Fact]
    public void Quiet_ReturnsOneFalse_WhenAnyFileIsNotClean()
    {
        Write("a.gguf", "gguf-v3-le");
        Write("b.tflite", "tflite");
        using PowerShell shell = CreateShell();

        Collection<PSObject> output = shell.AddCommand("Test-ModelFile").AddParameter("Path", _folder).AddParameter("Quiet").Invoke();

        PSObject single = Assert.Single(output);
        Assert.False(Assert.IsType<bool>(single.BaseObject));
    }

    [Fact]
    public void Quiet_ReturnsOneTrue_WhenEveryFileIsClean()
    {
        Write("a.gguf", "gguf-v3-le");
        Write("b.safetensors", "safetensors");
        using PowerShell shell = CreateShell();

        Collection<PSObject> output = shell.AddCommand("Test-ModelFile").AddParameter("Path", _folder).AddParameter("Quiet").Invoke();

        Assert.True(Assert.IsType<bool>(Assert.Single(output).BaseObject));
    }

    [Fact]
    public void Quiet_WithNoFileScanned_IsFalse()
    {
        using PowerShell shell = CreateShell();

        Collection<PSObject> output = shell.AddCommand("Test-ModelFile")
            .AddParameter("Path", Path.Combine(_folder, "missing.gguf")).AddParameter("Quiet").Invoke();

        Assert.False(Assert.IsType<bool>(Assert.Single(output).BaseObject));
        Assert.Single(shell.Streams.Error);
    }

    [Fact]
    public void Directory_IsExpandedRecursively_AndEachFileReportedOnce()
    {
        string top = Write("top.gguf", "gguf-v3-le");
        string nested = Write(Path.Combine("sub", "deeper", "nested.json"), "json");
        string sibling = Write(Path.Combine("sub", "model.safetensors"), "safetensors");
        using PowerShell shell = CreateShell();

        Collection<PSObject> output = shell.AddCommand("Test-ModelFile")
            .AddParameter("Path", new[] { _folder, nested, Path.Combine(_folder, "sub") })
            .Invoke();

        Assert.False(shell.HadErrors, string.Join("; ", shell.Streams.Error));
        string[] paths = Results(output).Select(r => r.Path).ToArray();
        Assert.Equal(new[] { top, nested, sibling }.Order(StringComparer.Ordinal), paths.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Results_CarryVerdictAndFindings()
    {
        string disguised = Write("model.gguf", "elf");
        using PowerShell shell = CreateShell();

        Collection<PSObject> output = shell.AddCommand("Test-ModelFile").AddParameter("LiteralPath", disguised).Invoke();

        ModelScanResult result = Assert.Single(Results(output));
        Assert.Equal(ScanVerdict.Malicious, result.Verdict);
        Assert.Equal(RuleIds.ExecutableDisguised, result.Findings[0].RuleId);
        Assert.Equal(new FileInfo(disguised).Length, result.Length);
    }

    private static PowerShell CreateShell()
    {
        InitialSessionState state = InitialSessionState.CreateDefault2();
        state.Commands.Add(new SessionStateCmdletEntry("Test-ModelFile", typeof(TestModelFileCommand), null));
        return PowerShell.Create(state);
    }

    private static ModelScanResult[] Results(IEnumerable<PSObject> output) =>
        output.Select(o => Assert.IsType<ModelScanResult>(o.BaseObject)).ToArray();

    private string Write(string relativePath, string fixture)
    {
        string path = Path.Combine(_folder, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, Fixtures.Get(fixture).Bytes);
        return path;
    }
}
