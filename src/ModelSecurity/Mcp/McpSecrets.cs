using System;
using System.Linq;
using System.Text.RegularExpressions;

namespace ModelSecurity.Mcp;

/// <summary>
/// Tells credentials written in plain text from references (<c>${env:X}</c>, <c>${input:x}</c>, <c>$X</c>,
/// <c>%X%</c>) and placeholders, and redacts them. Nothing here ever returns a whole secret value.
/// </summary>
internal static class McpSecrets
{
    // Names under which clients pass credentials to servers.
    private static readonly Regex SecretName = new(
        @"(TOKEN|SECRET|PASSWORD|PASSWD|PWD|API[_-]?KEY|APIKEY|ACCESS[_-]?KEY|PRIVATE[_-]?KEY|CREDENTIAL|AUTH|(^|[_-])PAT$|(^|[_-])KEY$|COOKIE|SESSION)",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    // Shapes of well-known tokens, whatever they are named.
    private static readonly Regex TokenShape = new(
        @"^(ghp_|gho_|ghu_|ghs_|ghr_|github_pat_|glpat-|sk-|sk_live_|sk_test_|rk_live_|xox[abprs]-|AKIA|ASIA|AIza|hf_|npm_|pypi-|dop_v1_|SG\.|eyJ)[A-Za-z0-9_\-\.=]{8,}",
        RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    private static readonly Regex Reference = new(
        @"^\s*(\$\{[^}]+\}|\$[A-Za-z_][A-Za-z0-9_]*|%[A-Za-z_][A-Za-z0-9_]*%)\s*$",
        RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    private static readonly Regex Placeholder = new(
        @"(<[^>]*>|\byour|^x+$|^\*+$|^\.+$|changeme|placeholder|example|replace[_-]?me|^todo$|^none$|^null$|^true$|^false$)",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary>The redacted form of a value: its first four characters and an ellipsis (only the ellipsis when short).</summary>
    public static string Redact(string value) => value.Length >= 12 ? string.Concat(value.AsSpan(0, 4), "…") : "…";

    /// <summary>True when <paramref name="value"/> is a reference to a variable or a prompt rather than a value.</summary>
    public static bool IsReference(string value) => Reference.IsMatch(value);

    /// <summary>True when a header or variable named <paramref name="name"/> carries a credential by its name.</summary>
    public static bool IsSecretName(string name) => SecretName.IsMatch(name);

    /// <summary>True when the value itself has the shape of a known token kind.</summary>
    public static bool LooksLikeToken(string value)
    {
        string v = value.Trim();
        if (v.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || v.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase) || v.StartsWith("token ", StringComparison.OrdinalIgnoreCase))
        {
            v = v.Substring(v.IndexOf(' ', StringComparison.Ordinal) + 1).Trim();
            return v.Length >= 8 && !IsReference(v) && !Placeholder.IsMatch(v) && !ContainsReference(v);
        }

        return TokenShape.IsMatch(v);
    }

    /// <summary>
    /// Why <paramref name="value"/>, passed under <paramref name="name"/> (null when it has none), is a
    /// plain-text credential; null when it is not one (empty, a reference, a placeholder, or not secret).
    /// </summary>
    public static string? Classify(string? name, string value)
    {
        string v = value.Trim();
        if (v.Length < 6 || IsReference(v) || ContainsReference(v))
        {
            return null;
        }

        if (LooksLikeToken(v))
        {
            return "has the shape of an access token";
        }

        if (Placeholder.IsMatch(v))
        {
            return null;
        }

        if (name is not null && IsSecretName(name) && v.Length >= 8 && !v.Contains(' ', StringComparison.Ordinal) && !LooksLikePathOrUrl(v))
        {
            return $"is the value of '{name}', a name that carries a credential";
        }

        return null;
    }

    /// <summary>A URL with a password in its user info or a credential in its query; the redacted URL, or null.</summary>
    public static string? RedactUrl(string url, out string? reason)
    {
        reason = null;
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri))
        {
            return null;
        }

        string result = url;
        if (uri.UserInfo.Contains(':', StringComparison.Ordinal) && uri.UserInfo.Length > uri.UserInfo.IndexOf(':', StringComparison.Ordinal) + 1)
        {
            string password = uri.UserInfo.Substring(uri.UserInfo.IndexOf(':', StringComparison.Ordinal) + 1);
            if (!IsReference(Uri.UnescapeDataString(password)))
            {
                result = result.Replace(uri.UserInfo, string.Concat(uri.UserInfo.AsSpan(0, uri.UserInfo.IndexOf(':', StringComparison.Ordinal) + 1), Redact(password)), StringComparison.Ordinal);
                reason = "the URL carries a password";
            }
        }

        if (uri.Query.Length > 1)
        {
            foreach (string pair in uri.Query.Substring(1).Split('&'))
            {
                int eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    continue;
                }

                string key = Uri.UnescapeDataString(pair.Substring(0, eq));
                string value = Uri.UnescapeDataString(pair.Substring(eq + 1));
                if (Classify(key, value) is not null)
                {
                    result = result.Replace(pair, string.Concat(pair.AsSpan(0, eq + 1), Redact(value)), StringComparison.Ordinal);
                    reason ??= $"the URL's query parameter '{key}' carries a credential";
                }
            }
        }

        return reason is null ? null : result;
    }

    private static bool ContainsReference(string v) => v.Contains("${", StringComparison.Ordinal);

    private static bool LooksLikePathOrUrl(string v) =>
        v.Contains("://", StringComparison.Ordinal) || v.StartsWith('/') || v.StartsWith("~/", StringComparison.Ordinal) || v.StartsWith("./", StringComparison.Ordinal)
        || (v.Length > 2 && v[1] == ':' && (v[2] == '\\' || v[2] == '/')) || v.Count(c => c == '/') >= 2;
}
