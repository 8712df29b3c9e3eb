using System.IO;
using ModelSecurity.Analysis;
using ModelSecurity.Formats;
using ModelSecurity.Governance;
using ModelSecurity.Provenance;
using Xunit;

namespace ModelSecurity.Tests;

public class ModelPolicyTests
{
    private const string Sha = "a4e5e156ddec27e286f75328784d7106b60a4eb1d246e950a001a3f944fbda99";

    [Fact]
    public void EmptyObject_IsTheStandardChecklistWithItsName()
    {
        ModelPolicy policy = ModelPolicy.Parse("{ }", "/p/team.json");

        Assert.Equal("team.json", policy.Name);
        Assert.Equal(TrustLevel.Medium, policy.MinimumTrust);
        Assert.Equal(new[] { ModelFormat.Gguf, ModelFormat.SafeTensors }, Sorted(policy.AllowedFormats!));
        Assert.Equal(ScanVerdict.Clean, policy.MaximumVerdict);
        Assert.True(policy.RequireHashMatch);
        Assert.True(policy.RequireLicense);
        Assert.Null(policy.AllowedLicenses);
        Assert.False(policy.RequireApproved);
        Assert.False(policy.RequireSignature);
    }

    [Fact]
    public void CommentsTrailingCommasAndEveryKey_AreRead()
    {
        string json = """
            // reviewed 2026-11-30
            {
              "version": 1, "name": "Contoso",
              "approvedModels": [ { "name": "Qwen/Qwen3-0.6B", "revision": "abc1234", "files": { "sub\\model.gguf": "A4E5E156DDEC27E286F75328784D7106B60A4EB1D246E950A001A3F944FBDA99", }, }, ],
              "blockedPublishers": [ "evil-org" ], "minimumTrust": null, "allowedFormats": [ "*" ],
              "allowedLicenses": [ "apache-2.0", "MIT" ], "maximumVerdict": "Suspicious", "requireHashMatch": false,
              "requireSignature": true, "signature": { "publicKeyPath": "keys/k.pem", "allowKeyless": true },
              "requireModelCard": false, "checkCommunity": false, "pickle": { "allowGlobals": [ "my.Net" ] },
            }
            """;

        ModelPolicy policy = ModelPolicy.Parse(json, "/etc/models/policy.json");

        ApprovedModel model = Assert.Single(policy.ApprovedModels);
        Assert.Equal("abc1234", model.Revision);
        Assert.Equal(Sha, model.Files["sub/model.gguf"]);
        Assert.True(policy.RequireApproved);
        Assert.True(policy.IsBlocked("Evil-Org"));
        Assert.Null(policy.MinimumTrust);
        Assert.Null(policy.AllowedFormats);
        Assert.Contains("mit", policy.AllowedLicenses!);
        Assert.Equal(ScanVerdict.Suspicious, policy.MaximumVerdict);
        Assert.Equal(Path.GetFullPath("/etc/models/keys/k.pem"), policy.SignaturePublicKeyPath);
        Assert.True(policy.AllowKeylessSignature);
        Assert.Equal(new[] { "my.Net" }, policy.AllowGlobals);
        Assert.False(policy.RequireModelCard);
        Assert.False(policy.CheckCommunity);
    }

    [Theory]
    [InlineData("[ 1 ]", "must hold a JSON object")]
    [InlineData("{ \"version\": 2 }", "'version' must be 1")]
    [InlineData("{ \"alowedFormats\": [] }", "'alowedFormats' is not a policy key")]
    [InlineData("{ \"AllowedFormats\": [] }", "keys are case-sensitive: write 'allowedFormats'")]
    [InlineData("{ \"allowedFormats\": [ \"Pikle\" ] }", "names 'Pikle', which is not a format")]
    [InlineData("{ \"allowedFormats\": [ \"3\" ] }", "names '3', which is not a format")]
    [InlineData("{ \"minimumTrust\": \"Ultra\" }", "'minimumTrust' must be High, Medium, Low or Unknown")]
    [InlineData("{ \"maximumVerdict\": \"Fine\" }", "'maximumVerdict' must be Clean")]
    [InlineData("{ \"requireHashMatch\": \"yes\" }", "'requireHashMatch' must be true or false")]
    [InlineData("{ \"blockedPublishers\": [ 1 ] }", "'blockedPublishers' holds a Number")]
    [InlineData("{ \"approvedModels\": {} }", "'approvedModels' must be an array")]
    [InlineData("{ \"approvedModels\": [ { \"revision\": \"x\" } ] }", "'approvedModels[0]' has no name")]
    [InlineData("{ \"approvedModels\": [ { \"name\": \"a/b\", \"sha\": \"x\" } ] }", "'approvedModels[0].sha' is not a key of an approved model")]
    [InlineData("{ \"approvedModels\": [ { \"name\": \"a/b\", \"files\": { \"m.gguf\": \"abc\" } } ] }", "'approvedModels[0].files.m.gguf' must be a SHA-256")]
    [InlineData("{ \"requireSignature\": true }", "there is no signature object")]
    [InlineData("{ \"requireSignature\": true, \"signature\": {} }", "nothing could satisfy requireSignature")]
    [InlineData("{ \"signature\": { \"publicKeyPath\": \"a\", \"certificateRootPath\": \"b\" } }", "names both publicKeyPath and certificateRootPath")]
    [InlineData("{ \"signature\": { \"key\": \"a\" } }", "'signature.key' is not a signature key")]
    [InlineData("{ \"pickle\": { \"allowGlobals\": [ \"Net\" ] } }", "'pickle.allowGlobals'")]
    [InlineData("{ \"publishers\": [ { \"name\": \"x\" } ] }", "has no trust")]
    [InlineData("{ \"name\": ", "is not valid JSON")]
    public void InvalidPolicies_NameTheFileAndTheKey(string json, string expected)
    {
        InvalidDataException e = Assert.Throws<InvalidDataException>(() => ModelPolicy.Parse(json, "/p/bad.json"));

        Assert.Contains("/p/bad.json", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Template_WithApprovals_ParsesToTheSameApprovals()
    {
        var approval = new Approval("Qwen/Qwen3-0.6B", "3c7f1d1e5ab2f7c0a9e1d2b3c4d5e6f708192a3b");
        approval.Files["model \"q8\".gguf"] = Sha;
        approval.Licenses.Add("apache-2.0");

        ModelPolicy policy = ModelPolicy.Parse(PolicyTemplate.Write("Team <models>", new[] { approval }), "/p/t.json");

        Assert.Equal("Team <models>", policy.Name);
        ApprovedModel model = Assert.Single(policy.ApprovedModels);
        Assert.Equal(Sha, model.Files["model \"q8\".gguf"]);
        Assert.Contains("apache-2.0", policy.AllowedLicenses!);
        Assert.True(policy.RequireApproved);
    }

    private static ModelFormat[] Sorted(System.Collections.Generic.IEnumerable<ModelFormat> formats)
    {
        var list = new System.Collections.Generic.List<ModelFormat>(formats);
        list.Sort();
        return list.ToArray();
    }
}
