using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using ModelSecurity.Analysis;
using Xunit;

namespace ModelSecurity.Tests;

public class RuleCatalogueTests
{
    private static readonly Regex IdPattern = new(@"^MS-[A-Z]+-\d{3}$", RegexOptions.CultureInvariant);

    private static Dictionary<string, string> RuleIdConstants() => typeof(RuleIds)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string))
        .ToDictionary(f => f.Name, f => (string)f.GetRawConstantValue()!, StringComparer.Ordinal);

    [Fact]
    public void EveryRuleIdConstant_IsInTheCatalogue()
    {
        var catalogue = new HashSet<string>(RuleCatalogue.All.Select(r => r.Id), StringComparer.Ordinal);

        string[] missing = RuleIdConstants().Where(c => !catalogue.Contains(c.Value)).Select(c => $"{c.Key} = {c.Value}").ToArray();

        Assert.NotEmpty(RuleIdConstants());
        Assert.True(missing.Length == 0, "Not in Data/rules.json: " + string.Join(", ", missing));
    }

    [Fact]
    public void EveryCatalogueRule_IsUsedByARuleIdConstant()
    {
        var constants = new HashSet<string>(RuleIdConstants().Values, StringComparer.Ordinal);

        string[] unused = RuleCatalogue.All.Select(r => r.Id).Where(id => !constants.Contains(id)).ToArray();

        Assert.True(unused.Length == 0, "No RuleIds constant for: " + string.Join(", ", unused));
    }

    [Fact]
    public void RuleIdConstants_AreUnique()
    {
        string[] duplicates = RuleIdConstants().GroupBy(c => c.Value).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();

        Assert.True(duplicates.Length == 0, "Shared by several constants: " + string.Join(", ", duplicates));
    }

    [Fact]
    public void CatalogueIds_AreWellFormedAndUnique()
    {
        IReadOnlyList<RuleDefinition> rules = RuleCatalogue.All;

        Assert.NotEmpty(rules);
        Assert.All(rules, r => Assert.Matches(IdPattern, r.Id));
        Assert.Equal(rules.Count, rules.Select(r => r.Id).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void CatalogueRules_HaveTitlesAndDescriptions()
    {
        Assert.All(RuleCatalogue.All, r =>
        {
            Assert.False(string.IsNullOrWhiteSpace(r.Title), $"{r.Id} has no title");
            Assert.False(string.IsNullOrWhiteSpace(r.Description), $"{r.Id} has no description");
            Assert.DoesNotContain('\n', r.Title);
        });
    }

    [Fact]
    public void References_AreNonEmptyStrings()
    {
        Assert.All(RuleCatalogue.All.SelectMany(r => r.References), reference => Assert.False(string.IsNullOrWhiteSpace(reference)));
    }

    [Fact]
    public void Get_UnknownId_Throws()
    {
        Assert.Throws<KeyNotFoundException>(() => RuleCatalogue.Get("MS-XXX-999"));
    }

    [Fact]
    public void Finding_CarriesTheRuleDefinition()
    {
        RuleDefinition rule = RuleCatalogue.Get(RuleIds.ExecutableDisguised);

        ModelFinding finding = RuleCatalogue.Finding(RuleIds.ExecutableDisguised, "detail", "offset 0");

        Assert.Equal(rule.Id, finding.RuleId);
        Assert.Equal(rule.Severity, finding.Severity);
        Assert.Equal(rule.Title, finding.Title);
        Assert.Equal(rule.Verdict, finding.Verdict);
        Assert.Equal("offset 0", finding.Location);
        Assert.Equal(ScanVerdict.Malicious, finding.Verdict);
    }
}
