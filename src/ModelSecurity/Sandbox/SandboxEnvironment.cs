using System;
using System.Collections.Generic;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace ModelSecurity.Sandbox;

/// <summary>
/// The environment inside the sandbox: never the caller's. A minimal PATH/LANG/HOME, decoy credentials
/// generated per run, and what -Environment passes explicitly.
/// </summary>
internal static class SandboxEnvironment
{
    private const string Alphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private const string UpperAlphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private const string Base64Like = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    // Names that hold credentials by convention: a value under such a name is never passed without confirmation.
    private static readonly Regex SecretName = new(
        @"^(HF_TOKEN|HUGGING_FACE_HUB_TOKEN|GITHUB_TOKEN|GH_TOKEN|OPENAI_API_KEY|AWS_.*|AZURE_.*|GOOGLE_APPLICATION_CREDENTIALS|.*_TOKEN|.*_KEY|.*_SECRET|.*SECRET.*|.*PASSWORD.*|.*PASSWD.*|.*CREDENTIALS?)$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant,
        TimeSpan.FromSeconds(1));

    private static readonly Regex ValidName = new("^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary>True when a variable of this name conventionally holds a credential.</summary>
    public static bool IsSecretName(string name) => SecretName.IsMatch(name);

    /// <summary>True when the name can be set in a POSIX environment.</summary>
    public static bool IsValidName(string name) => ValidName.IsMatch(name);

    /// <summary>Fresh decoy values for the credentials a model is most likely to look for, in realistic shapes.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> CreateDecoys() => new[]
    {
        new KeyValuePair<string, string>("HF_TOKEN", "hf_" + Random(Alphanumeric, 34)),
        new KeyValuePair<string, string>("AWS_ACCESS_KEY_ID", "AKIA" + Random(UpperAlphanumeric, 16)),
        new KeyValuePair<string, string>("AWS_SECRET_ACCESS_KEY", Random(Base64Like, 40)),
        new KeyValuePair<string, string>("GITHUB_TOKEN", "ghp_" + Random(Alphanumeric, 36)),
        new KeyValuePair<string, string>("OPENAI_API_KEY", "sk-proj-" + Random(Alphanumeric, 48)),
    };

    /// <summary>
    /// The variables set inside, in order: the fixed base, the decoys, then the caller's own (which replace
    /// a decoy of the same name). Nothing is taken from the caller's environment.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Build(
        IReadOnlyList<KeyValuePair<string, string>> decoys,
        IReadOnlyList<KeyValuePair<string, string>> explicitVariables)
    {
        var variables = new List<KeyValuePair<string, string>>
        {
            new("PATH", SandboxDefaults.Path),
            new("LANG", "C.UTF-8"),
            new("HOME", SandboxDefaults.Home),
            new("TMPDIR", "/tmp"),
        };

        var given = new HashSet<string>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, string> pair in explicitVariables)
        {
            given.Add(pair.Key);
        }

        variables.RemoveAll(v => given.Contains(v.Key));
        foreach (KeyValuePair<string, string> decoy in decoys)
        {
            if (!given.Contains(decoy.Key))
            {
                variables.Add(decoy);
            }
        }

        variables.AddRange(explicitVariables);
        return variables;
    }

    private static string Random(string alphabet, int length)
    {
        var characters = new char[length];
        for (int i = 0; i < length; i++)
        {
            characters[i] = alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)];
        }

        return new string(characters);
    }
}
