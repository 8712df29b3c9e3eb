using System;
using System.Linq;
using System.Text;
using ModelSecurity.Analysis;
using ModelSecurity.Formats;
using Xunit;

namespace ModelSecurity.Tests;

public class YamlReaderTests
{
    private static ModelScanResult ScanYaml(string yaml, string name = "config.yaml") => Scan.Bytes(name, Encoding.UTF8.GetBytes(yaml));

    [Fact]
    public void PlainDataYaml_IsClean()
    {
        ModelScanResult result = ScanYaml("model_name: test-model\nparameters:\n  max_length: 1024\n  temperature: 0.7\ntags: [a, b]\n");

        Assert.Equal(ModelFormat.Yaml, result.Format);
        Assert.True(result.Verdict == ScanVerdict.Clean, string.Join("; ", result.Findings));
    }

    [Theory]
    [InlineData("!!python/object/apply:os.system ['id']\n")]
    [InlineData("model: !!python/object/apply:subprocess.Popen\n  - [sh, -c, id]\n")]
    [InlineData("loader: !!python/name:builtins.eval\n")]
    [InlineData("cls: !!python/object:__main__.Evil {}\n")]
    public void PythonObjectTags_AreMalicious(string yaml)
    {
        ModelScanResult result = ScanYaml(yaml);

        Assert.Equal(ScanVerdict.Malicious, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.YamlPythonTag && f.Detail.Contains("!!python/", StringComparison.Ordinal));
    }

    [Fact]
    public void ChatTemplateInYaml_IsAnalysed()
    {
        ModelScanResult evil = ScanYaml("chat_template:\n  \"{{ config.__class__.__init__.__globals__['os'].system('id') }}\"\nmodel_name: x\n");
        ModelScanResult benign = ScanYaml("chat_template: '{% for message in messages %}{{ message[''role''] }}: {{ message[''content''] }}{% endfor %}'\nmodel_name: x\n");

        Assert.Equal(ScanVerdict.Malicious, evil.Verdict);
        Assert.Contains(evil.Findings, f => f.RuleId == RuleIds.TemplateSandboxEscape && f.Location!.StartsWith("line 2, chat_template", StringComparison.Ordinal));
        Assert.True(benign.Verdict == ScanVerdict.Clean, string.Join("; ", benign.Findings));
    }

    [Theory]
    [InlineData("model:\n  _target_: os.system\n  _args_: [id]\n")]
    [InlineData("model:\n  _target_: subprocess.Popen\n")]
    [InlineData("model:\n  _target_: builtins.eval\n")]
    [InlineData("model:\n  _target_: hydra.utils.get_method\n  path: os.system\n")]
    [InlineData("model:\n  _target_: nemo.collections.asr.models.EncDecCTCModel\n  _args_:\n    - os.system\n")]
    public void DangerousHydraTargets_AreMalicious(string yaml)
    {
        ModelScanResult result = ScanYaml(yaml, "model_config.yaml");

        Assert.Equal(ScanVerdict.Malicious, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.HydraDangerousTarget && f.Location!.StartsWith("line ", StringComparison.Ordinal));
    }

    [Fact]
    public void NeMoHydraTargets_AreClean()
    {
        ModelScanResult result = ScanYaml(
            "model:\n  _target_: nemo.collections.asr.models.EncDecCTCModel\n  optim:\n    _target_: torch.optim.AdamW\n    lr: 0.001\n  encoder:\n    _target_: nemo.collections.asr.modules.ConformerEncoder\n    _args_: [80]\n",
            "model_config.yaml");

        Assert.True(result.Verdict == ScanVerdict.Clean, string.Join("; ", result.Findings));
        Assert.Equal(3, result.Metadata["HydraTargetCount"]);
    }

    [Fact]
    public void UnknownHydraTarget_IsSuspicious()
    {
        ModelScanResult result = ScanYaml("model:\n  _target_: my_company.models.Net\n", "model_config.yaml");

        Assert.Equal(ScanVerdict.Suspicious, result.Verdict);
        Assert.Contains(result.Findings, f => f.RuleId == RuleIds.HydraUnknownTarget && f.Detail.Contains("my_company", StringComparison.Ordinal));
    }

    [Fact]
    public void AliasBomb_IsNotExpanded()
    {
        // "Billion laughs": each level refers to the previous one nine times; events are read, never expanded.
        var yaml = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (char c = 'b'; c <= 'j'; c++)
        {
            char p = (char)(c - 1);
            yaml.Append(c).Append(": &").Append(c).Append(" [").Append(string.Join(",", Enumerable.Repeat("*" + p, 9))).Append("]\n");
        }

        ModelScanResult result = ScanYaml(yaml.ToString());

        Assert.True(result.Verdict == ScanVerdict.Clean, string.Join("; ", result.Findings));
    }
}
