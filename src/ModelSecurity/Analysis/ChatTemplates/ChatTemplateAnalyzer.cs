using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace ModelSecurity.Analysis.ChatTemplates;

/// <summary>One problem found in a chat template, at a 1-based line and column.</summary>
internal sealed class ChatTemplateIssue
{
    public ChatTemplateIssue(string ruleId, string detail, int line, int column)
    {
        RuleId = ruleId;
        Detail = detail;
        Line = line;
        Column = column;
    }

    public string RuleId { get; }

    public string Detail { get; }

    public int Line { get; }

    public int Column { get; }

    public override string ToString() => $"{RuleId} {Line}:{Column} {Detail}";
}

/// <summary>What <see cref="ChatTemplateAnalyzer.Analyse"/> found in one template.</summary>
internal sealed class ChatTemplateReport
{
    public ChatTemplateReport(string sha256, bool parsed, string? knownFamily, IReadOnlyList<ChatTemplateIssue> issues)
    {
        Sha256 = sha256;
        Parsed = parsed;
        KnownFamily = knownFamily;
        Issues = issues;
    }

    /// <summary>Lowercase hex SHA-256 of the template's UTF-8 bytes.</summary>
    public string Sha256 { get; }

    /// <summary>Whether the whole template parsed.</summary>
    public bool Parsed { get; }

    /// <summary>The family whose official template has this hash, or null.</summary>
    public string? KnownFamily { get; }

    public IReadOnlyList<ChatTemplateIssue> Issues { get; }
}

/// <summary>
/// Static analysis of a Jinja chat template: it is lexed and parsed, never rendered. Finds sandbox
/// escapes (MS-TPL-001, with constant folding of obfuscated names), branches on message content that
/// inject text (MS-TPL-002), suspicious literal output (MS-TPL-003) and unparsable templates (MS-TPL-005).
/// </summary>
internal static class ChatTemplateAnalyzer
{
    /// <summary>Longest template analysed, in characters; the rest is reported unparsable.</summary>
    public const int MaxTemplateChars = 1 << 20;

    private const int MaxIssues = 200;
    private const int MaxFoldedLength = 4096;

    // Attribute names that only reach interpreter internals.
    private static readonly HashSet<string> InternalAttributes = new(StringComparer.Ordinal)
    {
        "mro", "func_globals", "func_code", "f_globals", "f_locals", "f_builtins", "f_back", "f_code", "gi_frame", "gi_code",
        "cr_frame", "cr_code", "ag_frame", "tb_frame", "tb_next", "co_code", "_module", "_TemplateReference__context",
        "_Undefined__name", "__import__",
    };

    // Names that are dangerous when a template builds them from pieces (or reaches them through internals).
    private static readonly HashSet<string> DangerousNames = new(StringComparer.Ordinal)
    {
        "os", "popen", "system", "eval", "exec", "subprocess", "sys", "modules", "builtins", "import", "getattr", "globals",
        "compile", "open", "spawn", "execfile", "posix", "nt", "check_output", "call", "run", "Popen", "import_module",
    };

    // Jinja / Flask globals whose attributes lead to Python internals; official templates never touch them.
    private static readonly HashSet<string> SensitiveGlobals = new(StringComparer.Ordinal)
    {
        "cycler", "joiner", "namespace", "lipsum", "self", "config", "request", "url_for", "get_flashed_messages", "range", "dict",
        "session",
    };

    // Tests that only check a value's type or presence, not its text.
    private static readonly HashSet<string> TypeTests = new(StringComparer.Ordinal)
    {
        "string", "defined", "undefined", "none", "mapping", "iterable", "sequence", "number", "integer", "float", "boolean",
        "true", "false", "callable", "sameas", "list", "dict",
    };

    private static readonly HashSet<string> TextInspectingMethods = new(StringComparer.Ordinal)
    {
        "startswith", "endswith", "find", "rfind", "index", "rindex", "count", "__contains__", "match", "search", "fullmatch", "contains",
    };

    private static readonly HashSet<string> TextPreservingFunctions = new(StringComparer.Ordinal)
    {
        "lower", "upper", "trim", "strip", "lstrip", "rstrip", "title", "capitalize", "casefold", "string", "replace", "striptags",
        "e", "escape", "safe", "forceescape", "wordwrap", "truncate", "center", "indent", "format", "split", "join", "list",
    };

    private static readonly Regex UrlPattern = new(
        @"\b(?:https?|ftp|file)://|\bwww\.[a-z0-9-]+\.[a-z]{2,}|javascript:|data:text/html",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    private static readonly Regex MarkupPattern = new(@"<!--|<script\b|<iframe\b|<img\s[^>]*src\s*=", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    private static readonly Regex BlobPattern = new(@"[A-Za-z0-9+/]{40,}={0,2}", RegexOptions.CultureInvariant);

    private static readonly Regex InstructionPattern = new(
        @"\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+)?(?:the\s+|your\s+)?(?:previous|prior|above|earlier|preceding|original|system)\s+(?:instructions?|messages?|prompts?|rules|context|guidelines)"
        + @"|\b(?:do\s+not|don'?t|never)\s+(?:tell|inform|alert|notify|warn|let)\s+(?:the\s+)?user"
        + @"|\b(?:do\s+not|don'?t|never)\s+(?:mention|reveal|disclose|acknowledge|admit|discuss)\s+(?:this|these|that|it|the\s+(?:hidden|system|above|following)|your\s+(?:instructions|system))"
        + @"|\bhidden\s+instructions?\b|\bsecret\s+instructions?\b"
        + @"|\byou\s+must\s+always\b"
        + @"|\balways\s+(?:include|insert|add|append|recommend|mention|promote|respond\s+with|link\s+to|output|redirect)\b"
        + @"|\bwithout\s+(?:telling|informing|notifying|alerting)\s+the\s+user\b"
        + @"|\bsecretly\b|\bcovertly\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    private static readonly Regex SpecialTokenPattern = new(@"<[^<>\n]{1,60}>|\[/?[A-Za-z_]{1,30}\]", RegexOptions.CultureInvariant);

    private static readonly Regex StructuralMarkerPattern = new(
        @"^\s*(?:<[^<>\s]{1,40}>|\[/?[A-Za-z_]{1,30}\]|/[a-z_]{1,20})\s*$", RegexOptions.CultureInvariant);

    private static readonly Regex WordPattern = new(@"[A-Za-z]{2,}", RegexOptions.CultureInvariant);

    /// <summary>Analyses a template's text (never renders it). Bounded in size, depth and tokens; never throws on hostile input.</summary>
    public static ChatTemplateReport Analyse(string template)
    {
        ArgumentNullException.ThrowIfNull(template);
        string sha256 = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(template))).ToLowerInvariant();
        var issues = new IssueList();
        string text = template;
        bool cut = false;
        if (text.Length > MaxTemplateChars)
        {
            text = text[..MaxTemplateChars];
            cut = true;
        }

        CheckInvisibleCharacters(text, issues);
        bool parsed = false;
        List<JinjaToken>? tokens = null;
        try
        {
            tokens = JinjaLexer.Tokenize(text);
            IReadOnlyList<JinjaStatement> body = JinjaParser.Parse(tokens);
            new Walker(issues).Run(body);
            parsed = !cut;
        }
        catch (JinjaSyntaxException e)
        {
            issues.Add(RuleIds.TemplateUnparsable, $"not valid Jinja at {e.Line}:{e.Column}: {e.Message}", e.Line, e.Column);
            ScanTokens(tokens, text, issues);
        }

        if (cut)
        {
            (int line, int column) = PositionOf(text, text.Length);
            issues.Add(RuleIds.TemplateUnparsable, $"template is {template.Length} characters; not analysed past {MaxTemplateChars}", line, column);
        }

        var ordered = issues.Items.OrderBy(i => i.Line).ThenBy(i => i.Column).ThenBy(i => i.RuleId, StringComparer.Ordinal).ToList();
        return new ChatTemplateReport(sha256, parsed, KnownChatTemplates.FamilyOf(sha256), ordered);
    }

    /// <summary>Fallback for templates that do not parse: dunder names and strings anywhere in their tags.</summary>
    private static void ScanTokens(List<JinjaToken>? tokens, string text, IssueList issues)
    {
        if (tokens is not null)
        {
            foreach (JinjaToken token in tokens)
            {
                if (token.Kind is JinjaTokenKind.Name or JinjaTokenKind.String && IsInternalName(token.Value))
                {
                    issues.Add(RuleIds.TemplateSandboxEscape, $"reference to '{Clip(token.Value)}' in a template that does not parse", token.Line, token.Column);
                }
                else if (token.Kind == JinjaTokenKind.Text || token.Kind == JinjaTokenKind.String)
                {
                    CheckLiteral(token.Value, token.Line, token.Column, issues);
                }
            }

            return;
        }

        // Not even lexable: look for dunder spellings in the raw text.
        Match m = Regex.Match(text, @"__(?:class|mro|subclasses|globals|builtins|import|init|base|bases|dict|getattribute)__", RegexOptions.CultureInvariant);
        if (m.Success)
        {
            (int line, int column) = PositionOf(text, m.Index);
            issues.Add(RuleIds.TemplateSandboxEscape, $"reference to '{m.Value}' in a template that does not lex", line, column);
        }
    }

    private static void CheckInvisibleCharacters(string text, IssueList issues)
    {
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c is (>= '\u200B' and <= '\u200F') or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069') || (c == '\uFEFF' && i > 0))
            {
                (int line, int column) = PositionOf(text, i);
                issues.Add(RuleIds.TemplateSuspiciousOutput, $"invisible or bidirectional control character U+{(int)c:X4}", line, column);
                return;
            }
        }
    }

    /// <summary>MS-TPL-003 checks of one piece of literal output text.</summary>
    private static void CheckLiteral(string value, int line, int column, IssueList issues)
    {
        if (value.Length < 4)
        {
            return;
        }

        Match m = UrlPattern.Match(value);
        if (m.Success)
        {
            issues.Add(RuleIds.TemplateSuspiciousOutput, $"literal output contains a URL: '{Excerpt(value, m.Index)}'", line, column);
        }

        m = MarkupPattern.Match(value);
        if (m.Success)
        {
            issues.Add(RuleIds.TemplateSuspiciousOutput, $"literal output contains hidden markup '{m.Value}': '{Excerpt(value, m.Index)}'", line, column);
        }

        m = InstructionPattern.Match(value);
        if (m.Success)
        {
            issues.Add(RuleIds.TemplateSuspiciousOutput, $"literal output contains an instruction-like phrase '{m.Value}'", line, column);
        }

        foreach (Match blob in BlobPattern.Matches(value).Cast<Match>())
        {
            string b = blob.Value;
            if (b.Distinct().Count() >= 10 && b.Any(c => char.IsAsciiDigit(c) || c == '+' || c == '/'))
            {
                issues.Add(RuleIds.TemplateSuspiciousOutput, $"literal output contains a {b.Length}-character base64/hex blob '{Clip(b)}'", line, column);
                break;
            }
        }
    }

    /// <summary>Whether <paramref name="text"/> is prose (three words or more once special tokens are removed) or a URL.</summary>
    private static bool IsInjectedText(string text)
    {
        if (UrlPattern.IsMatch(text))
        {
            return true;
        }

        string stripped = SpecialTokenPattern.Replace(text, " ");
        return WordPattern.Matches(stripped).Count >= 3;
    }

    private static bool IsInternalName(string name) => IsDunder(name) || InternalAttributes.Contains(name);

    /// <summary><c>__name__</c>: two underscores, word characters, two underscores.</summary>
    private static bool IsDunder(string name) =>
        name.Length >= 4 && name.StartsWith("__", StringComparison.Ordinal) && name.EndsWith("__", StringComparison.Ordinal)
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private static (int Line, int Column) PositionOf(string text, int index)
    {
        int line = 1;
        int lineStart = 0;
        for (int i = 0; i < index && i < text.Length; i++)
        {
            if (text[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }

        return (line, index - lineStart + 1);
    }

    private static string Clip(string s) => s.Length <= 60 ? s : s[..60] + "…";

    private static string Excerpt(string s, int at)
    {
        int start = Math.Max(0, at - 20);
        return Clip(s[start..].Replace("\n", "\\n", StringComparison.Ordinal));
    }

    /// <summary>Collects issues, one per rule and position and detail, at most <see cref="MaxIssues"/>.</summary>
    private sealed class IssueList
    {
        private readonly HashSet<string> _seen = new(StringComparer.Ordinal);

        public List<ChatTemplateIssue> Items { get; } = new();

        public void Add(string ruleId, string detail, int line, int column)
        {
            if (Items.Count < MaxIssues && _seen.Add($"{ruleId}|{line}|{column}|{detail}"))
            {
                Items.Add(new ChatTemplateIssue(ruleId, detail, line, column));
            }
        }
    }

    /// <summary>A folded constant: its value and whether it was built (concatenation, escapes, filters) rather than written plainly.</summary>
    private readonly record struct Folded(object? Value, bool Known, bool Built)
    {
        public static readonly Folded Unknown = new(null, false, false);

        public string? Text => Known ? Value as string : null;
    }

    /// <summary>What a variable holds, as far as the analysis tracks it.</summary>
    private enum Binding
    {
        Other,
        ContentText,
        ContentPart,
    }

    /// <summary>Walks the AST once, with a scope of constants and content-derived variables.</summary>
    private sealed class Walker
    {
        private readonly IssueList _issues;

        // Names already reported where they are used (subscript, |attr, getattr), not reported again as strings.
        private readonly HashSet<JinjaExpr> _reportedNames = new(ReferenceEqualityComparer.Instance);
        private readonly List<Dictionary<string, (Binding Kind, Folded Value)>> _scopes = new() { new(StringComparer.Ordinal) };

        public Walker(IssueList issues) => _issues = issues;

        public void Run(IReadOnlyList<JinjaStatement> body) => Statements(body);

        private void Statements(IReadOnlyList<JinjaStatement> body)
        {
            foreach (JinjaStatement statement in body)
            {
                Statement(statement);
            }
        }

        private void Statement(JinjaStatement statement)
        {
            switch (statement)
            {
                case TextStatement text:
                    CheckLiteral(text.Text, text.Line, text.Column, _issues);
                    break;

                case OutputStatement output:
                    Expression(output.Value);
                    CheckConditionalOutput(output.Value);
                    break;

                case IfStatement branches:
                    {
                        bool gated = false;
                        foreach ((JinjaExpr test, IReadOnlyList<JinjaStatement> body) in branches.Branches)
                        {
                            Expression(test);
                            JinjaExpr? inspection = gated ? null : FindContentInspection(test);
                            gated |= inspection is not null;
                            if (gated)
                            {
                                ReportInjection(inspection ?? test, body);
                            }

                            // Jinja's if does not open a scope: a set inside a branch is visible after it.
                            Statements(body);
                        }

                        if (branches.Otherwise is not null)
                        {
                            if (gated)
                            {
                                ReportInjection(branches.Branches[0].Test, branches.Otherwise);
                            }

                            Statements(branches.Otherwise);
                        }

                        break;
                    }

                case ForStatement loop:
                    {
                        Expression(loop.Iterable);
                        Binding kind = IsContent(loop.Iterable) == Binding.ContentText ? Binding.ContentPart : Binding.Other;
                        Scoped(() =>
                        {
                            foreach (string name in TargetNames(loop.Target))
                            {
                                Bind(name, kind, Folded.Unknown);
                            }

                            if (loop.Filter is not null)
                            {
                                Expression(loop.Filter);
                            }

                            Statements(loop.Body);
                        });
                        if (loop.Otherwise is not null)
                        {
                            Scoped(() => Statements(loop.Otherwise));
                        }

                        break;
                    }

                case SetStatement set:
                    {
                        if (set.Target is GetAttrExpr attribute)
                        {
                            Expression(attribute.Target);
                            _ = CheckAttributeName(attribute.Name, attribute.Target, false, attribute.Line, attribute.Column);
                        }

                        if (set.Value is not null)
                        {
                            Expression(set.Value);
                            if (set.Target is NameExpr name)
                            {
                                Bind(name.Name, IsContent(set.Value), Fold(set.Value));
                            }
                            else
                            {
                                foreach (string n in TargetNames(set.Target))
                                {
                                    Bind(n, Binding.Other, Folded.Unknown);
                                }
                            }
                        }
                        else
                        {
                            if (set.Filter is not null)
                            {
                                Expression(set.Filter);
                            }

                            Scoped(() => Statements(set.Body!));
                            foreach (string n in TargetNames(set.Target))
                            {
                                Bind(n, Binding.Other, Folded.Unknown);
                            }
                        }

                        break;
                    }

                case BlockStatement block:
                    foreach (JinjaExpr e in block.Expressions)
                    {
                        Expression(e);
                    }

                    if (block.Keyword == "macro")
                    {
                        Bind(block.BoundNames[0], Binding.Other, Folded.Unknown);
                    }

                    Scoped(() =>
                    {
                        foreach (string name in block.Keyword == "macro" ? block.BoundNames.Skip(1) : block.BoundNames)
                        {
                            Bind(name, Binding.Other, Folded.Unknown);
                        }

                        Statements(block.Body);
                    });
                    break;
            }
        }

        private void Scoped(Action action)
        {
            _scopes.Add(new Dictionary<string, (Binding, Folded)>(StringComparer.Ordinal));
            try
            {
                action();
            }
            finally
            {
                _scopes.RemoveAt(_scopes.Count - 1);
            }
        }

        private void Bind(string name, Binding kind, Folded value) => _scopes[^1][name] = (kind, value);

        private (Binding Kind, Folded Value)? Lookup(string name)
        {
            for (int i = _scopes.Count - 1; i >= 0; i--)
            {
                if (_scopes[i].TryGetValue(name, out (Binding, Folded) found))
                {
                    return found;
                }
            }

            return null;
        }

        private static IEnumerable<string> TargetNames(JinjaExpr target) => target switch
        {
            NameExpr n => new[] { n.Name },
            ListExpr l => l.Items.SelectMany(TargetNames),
            _ => Array.Empty<string>(),
        };

        // ---------------------------------------------------------------- MS-TPL-001

        /// <summary>Checks every sub-expression for sandbox escapes.</summary>
        private void Expression(JinjaExpr root)
        {
            var stack = new Stack<JinjaExpr>();
            stack.Push(root);
            while (stack.Count > 0)
            {
                JinjaExpr e = stack.Pop();
                CheckNode(e);
                foreach (JinjaExpr child in e.Children)
                {
                    stack.Push(child);
                }
            }
        }

        private void CheckNode(JinjaExpr e)
        {
            switch (e)
            {
                case NameExpr name when IsInternalName(name.Name) && Lookup(name.Name) is null:
                    Escape($"reference to interpreter internal '{name.Name}'", e);
                    break;

                case GetAttrExpr attribute:
                    _ = CheckAttributeName(attribute.Name, attribute.Target, false, e.Line, e.Column);
                    break;

                case GetItemExpr item:
                    {
                        Folded key = Fold(item.Index);
                        if (key.Text is string k && CheckAttributeName(k, item.Target, key.Built, e.Line, e.Column))
                        {
                            _reportedNames.Add(item.Index);
                        }
                        else if (IsSensitiveGlobal(item.Target) is string global)
                        {
                            Escape($"subscript of the Jinja global '{global}'", e);
                        }

                        break;
                    }

                case FilterExpr { Name: "attr" } filter:
                    CheckDynamicAttribute("|attr", Argument(filter.Arguments, 0), filter.Value, e);
                    break;

                case CallExpr call when call.Function is NameExpr { Name: "getattr" or "setattr" or "hasattr" or "delattr" } function:
                    CheckDynamicAttribute(function.Name + "()", Argument(call.Arguments, 1), Argument(call.Arguments, 0), e);
                    break;

                case CallExpr call when call.Function is NameExpr { Name: "eval" or "exec" or "__import__" or "compile" or "open" } function && Lookup(function.Name) is null:
                    Escape($"call of Python builtin '{function.Name}'", e);
                    break;

                case ConstExpr:
                    if (e is ConstExpr { Value: string s } literal && !_reportedNames.Contains(e) && (literal.HadEscape ? IsInternalName(s) || DangerousNames.Contains(s) : IsDunder(s)))
                    {
                        Escape(literal.HadEscape ? $"escaped string spells '{Clip(s)}'" : $"string '{Clip(s)}' names an interpreter internal", e);
                    }

                    if (e is ConstExpr { Value: string output })
                    {
                        CheckLiteral(output, e.Line, e.Column, _issues);
                    }

                    break;

                case BinaryExpr or FilterExpr or CallExpr:
                    {
                        Folded built = Fold(e);
                        if (built.Built && built.Text is string name && (IsInternalName(name) || DangerousNames.Contains(name)))
                        {
                            Escape($"expression builds the name '{Clip(name)}'", e);
                        }

                        break;
                    }
            }
        }

        /// <summary>Reports access to attribute or key <paramref name="name"/> of <paramref name="target"/> when it escapes; true if reported.</summary>
        private bool CheckAttributeName(string name, JinjaExpr target, bool built, int line, int column)
        {
            string? detail = null;
            if (IsInternalName(name))
            {
                detail = $"access to interpreter internal '{Clip(name)}'";
            }
            else if (built && DangerousNames.Contains(name))
            {
                detail = $"access to '{name}' through a built name";
            }
            else if (IsSensitiveGlobal(target) is string global)
            {
                detail = $"attribute '{Clip(name)}' of the Jinja global '{global}'";
            }

            if (detail is not null)
            {
                _issues.Add(RuleIds.TemplateSandboxEscape, detail, line, column);
            }

            return detail is not null;
        }

        private void CheckDynamicAttribute(string how, JinjaExpr? nameArgument, JinjaExpr? target, JinjaExpr at)
        {
            Folded name = nameArgument is null ? Folded.Unknown : Fold(nameArgument);
            if (name.Text is not string n)
            {
                Escape($"{how} with a name computed at render time", at);
            }
            else if (IsInternalName(n) || DangerousNames.Contains(n))
            {
                Escape($"{how} reaches '{Clip(n)}'", at);
                _reportedNames.Add(nameArgument!);
            }
            else if (target is not null && IsSensitiveGlobal(target) is string global)
            {
                Escape($"{how} on the Jinja global '{global}'", at);
            }
        }

        private static JinjaExpr? Argument(JinjaArguments arguments, int index) =>
            index < arguments.Positional.Count ? arguments.Positional[index] : null;

        private string? IsSensitiveGlobal(JinjaExpr target) =>
            target is NameExpr n && SensitiveGlobals.Contains(n.Name) && Lookup(n.Name) is null ? n.Name : null;

        private void Escape(string detail, JinjaExpr at) => _issues.Add(RuleIds.TemplateSandboxEscape, detail, at.Line, at.Column);

        // ---------------------------------------------------------------- constant folding

        private Folded Fold(JinjaExpr e)
        {
            switch (e)
            {
                case ConstExpr c:
                    return new Folded(c.Value, true, c.HadEscape);

                case NameExpr n:
                    return Lookup(n.Name) is { } bound && bound.Value.Known ? bound.Value : Folded.Unknown;

                case ListExpr l:
                    {
                        var items = new List<object?>();
                        bool built = false;
                        foreach (JinjaExpr item in l.Items)
                        {
                            Folded f = Fold(item);
                            if (!f.Known)
                            {
                                return Folded.Unknown;
                            }

                            built |= f.Built;
                            items.Add(f.Value);
                        }

                        return new Folded(items, true, built);
                    }

                case BinaryExpr b:
                    return FoldBinary(b);

                case FilterExpr f when f.Value is not null:
                    return FoldFunction(f.Name, Fold(f.Value), f.Arguments);

                case CallExpr { Function: GetAttrExpr method } call:
                    return FoldFunction(method.Name, Fold(method.Target), call.Arguments);

                case CallExpr { Function: NameExpr { Name: "chr" } } call when call.Arguments.Positional.Count == 1:
                    return Fold(call.Arguments.Positional[0]).Value is long code && code is >= 0 and <= 0x10FFFF and not (>= 0xD800 and <= 0xDFFF)
                        ? new Folded(char.ConvertFromUtf32((int)code), true, true)
                        : Folded.Unknown;

                case GetItemExpr item:
                    {
                        Folded target = Fold(item.Target);
                        if (!target.Known)
                        {
                            return Folded.Unknown;
                        }

                        if (item.Index is SliceExpr slice)
                        {
                            return FoldSlice(target, slice);
                        }

                        Folded index = Fold(item.Index);
                        if (index.Value is long i && i > -MaxFoldedLength && i < MaxFoldedLength)
                        {
                            if (target.Value is string s && i >= -s.Length && i < s.Length)
                            {
                                return new Folded(s[(int)(i < 0 ? s.Length + i : i)].ToString(), true, true);
                            }

                            if (target.Value is List<object?> list && i >= -list.Count && i < list.Count)
                            {
                                return new Folded(list[(int)(i < 0 ? list.Count + i : i)], true, true);
                            }
                        }

                        return Folded.Unknown;
                    }

                default:
                    return Folded.Unknown;
            }
        }

        private Folded FoldSlice(Folded target, SliceExpr slice)
        {
            long? step = slice.Step is null ? 1 : Fold(slice.Step).Value as long?;
            if (slice.Start is not null || slice.Stop is not null || step is not (1 or -1))
            {
                return Folded.Unknown;
            }

            return target.Value switch
            {
                string s => new Folded(step == -1 ? new string(s.Reverse().ToArray()) : s, true, true),
                List<object?> l => new Folded(step == -1 ? Enumerable.Reverse(l).ToList() : l, true, true),
                _ => Folded.Unknown,
            };
        }

        private Folded FoldBinary(BinaryExpr b)
        {
            Folded left = Fold(b.Left);
            Folded right = Fold(b.Right);
            if (!left.Known || !right.Known)
            {
                return Folded.Unknown;
            }

            object? result = (b.Operator, left.Value, right.Value) switch
            {
                ("~", var l, var r) => ToText(l) + ToText(r),
                ("+", string l, string r) => l + r,
                ("+", long l, long r) => l + r,
                ("+", List<object?> l, List<object?> r) => l.Concat(r).ToList(),
                ("-", long l, long r) => l - r,
                ("*", string s, long n) => Repeat(s, n),
                ("*", long n, string s) => Repeat(s, n),
                ("*", long l, long r) => l * r,
                ("%", string format, var args) => Printf(format, args),
                _ => null,
            };
            return result is null || TooLarge(result) ? Folded.Unknown : new Folded(result, true, true);
        }

        /// <summary>Folded values stay small: repeated doubling (<c>set a = a ~ a</c>) must not grow without bound.</summary>
        private static bool TooLarge(object? value) =>
            value is string { Length: > MaxFoldedLength } || value is List<object?> { Count: > MaxFoldedLength };

        private Folded FoldFunction(string name, Folded value, JinjaArguments arguments)
        {
            if (!value.Known)
            {
                return Folded.Unknown;
            }

            var args = new List<object?>();
            foreach (JinjaExpr a in arguments.Positional)
            {
                Folded f = Fold(a);
                if (!f.Known)
                {
                    return Folded.Unknown;
                }

                args.Add(f.Value);
            }

            object? result = (name, value.Value) switch
            {
                ("join", List<object?> items) => string.Join(args.Count > 0 ? ToText(args[0]) : string.Empty, items.Select(ToText)),
                ("join", string sep) when args.Count == 1 && args[0] is List<object?> items => string.Join(sep, items.Select(ToText)),
                ("format", string format) => arguments.Named.Count > 0 ? null : PythonFormat(format, args),
                ("lower", string s) => s.ToLowerInvariant(),
                ("upper", string s) => s.ToUpperInvariant(),
                ("reverse", string s) => new string(s.Reverse().ToArray()),
                ("reverse", List<object?> l) => Enumerable.Reverse(l).ToList(),
                ("replace", string s) when args.Count >= 2 && args[0] is string from && from.Length > 0 && args[1] is string to => s.Replace(from, to, StringComparison.Ordinal),
                ("trim" or "strip", string s) => s.Trim(),
                ("string", var v) => ToText(v),
                ("list", string s) => s.Select(c => (object?)c.ToString()).ToList(),
                ("first", List<object?> l) when l.Count > 0 => l[0],
                ("last", List<object?> l) when l.Count > 0 => l[^1],
                ("first", string s) when s.Length > 0 => s[..1],
                ("last", string s) when s.Length > 0 => s[^1..],
                ("capitalize", string s) when s.Length > 0 => char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant(),
                _ => null,
            };
            if (result is null || TooLarge(result))
            {
                return Folded.Unknown;
            }

            // Case changes and trimming of a plain literal are not obfuscation: 'SYSTEM'|lower is still written plainly.
            bool built = value.Built || !(value.Value is string input && result is string output
                && string.Equals(input.Trim(), output, StringComparison.OrdinalIgnoreCase));
            return new Folded(result, true, built);
        }

        private static string? Repeat(string s, long n) =>
            n <= 0 ? string.Empty : n > MaxFoldedLength || s.Length * n > MaxFoldedLength ? null : string.Concat(Enumerable.Repeat(s, (int)n));

        /// <summary>Python <c>%</c> formatting for %s %c %d %r %%.</summary>
        private static string? Printf(string format, object? args)
        {
            List<object?> values = args is List<object?> l ? l : new List<object?> { args };
            var sb = new StringBuilder();
            int next = 0;
            for (int i = 0; i < format.Length; i++)
            {
                if (format[i] != '%')
                {
                    sb.Append(format[i]);
                    continue;
                }

                if (++i >= format.Length)
                {
                    return null;
                }

                char spec = format[i];
                if (spec == '%')
                {
                    sb.Append('%');
                    continue;
                }

                if (next >= values.Count)
                {
                    return null;
                }

                object? v = values[next++];
                switch (spec)
                {
                    case 's' or 'r':
                        sb.Append(ToText(v));
                        break;
                    case 'c' when v is long code && code is >= 0 and <= 0x10FFFF and not (>= 0xD800 and <= 0xDFFF):
                        sb.Append(char.ConvertFromUtf32((int)code));
                        break;
                    case 'c' when v is string c && c.Length == 1:
                        sb.Append(c);
                        break;
                    case 'd' or 'i' when v is long n:
                        sb.Append(n.ToString(CultureInfo.InvariantCulture));
                        break;
                    default:
                        return null;
                }
            }

            return sb.ToString();
        }

        /// <summary>Python <c>str.format</c> with <c>{}</c>, <c>{0}</c>; Jinja's <c>|format</c> is <c>%</c>-style.</summary>
        private static string? PythonFormat(string format, List<object?> args)
        {
            if (format.Contains('%', StringComparison.Ordinal))
            {
                return Printf(format, args);
            }

            var sb = new StringBuilder();
            int auto = 0;
            for (int i = 0; i < format.Length; i++)
            {
                char c = format[i];
                if (c == '{' && i + 1 < format.Length && format[i + 1] == '{')
                {
                    sb.Append('{');
                    i++;
                }
                else if (c == '}' && i + 1 < format.Length && format[i + 1] == '}')
                {
                    sb.Append('}');
                    i++;
                }
                else if (c == '{')
                {
                    int close = format.IndexOf('}', i);
                    if (close < 0)
                    {
                        return null;
                    }

                    string field = format[(i + 1)..close];
                    int index = field.Length == 0 ? auto++ : int.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : -1;
                    if (index < 0 || index >= args.Count)
                    {
                        return null;
                    }

                    sb.Append(ToText(args[index]));
                    i = close;
                }
                else
                {
                    sb.Append(c);
                }
            }

            return sb.ToString();
        }

        private static string ToText(object? v) => v switch
        {
            null => "None",
            string s => s,
            bool b => b ? "True" : "False",
            long n => n.ToString(CultureInfo.InvariantCulture),
            double d => d.ToString(CultureInfo.InvariantCulture),
            List<object?> l => "[" + string.Join(", ", l.Select(x => x is string s ? "'" + s + "'" : ToText(x))) + "]",
            _ => string.Empty,
        };

        // ---------------------------------------------------------------- MS-TPL-002

        /// <summary>What <paramref name="e"/> evaluates to: message text, a part of a message's content list, or other.</summary>
        private Binding IsContent(JinjaExpr e)
        {
            for (int guard = 0; guard < JinjaParser.MaxDepth; guard++)
            {
                switch (e)
                {
                    case GetAttrExpr { Name: "content" or "reasoning_content" }:
                        return Binding.ContentText;
                    case GetItemExpr { Index: ConstExpr { Value: "content" or "reasoning_content" } }:
                        return Binding.ContentText;
                    case GetAttrExpr { Name: "text" } a when IsContent(a.Target) == Binding.ContentPart:
                        return Binding.ContentText;
                    case GetItemExpr { Index: ConstExpr { Value: "text" } } i when IsContent(i.Target) == Binding.ContentPart:
                        return Binding.ContentText;
                    case NameExpr n:
                        {
                            (Binding Kind, Folded Value)? bound = Lookup(n.Name);
                            return bound?.Kind ?? (n.Name == "content" ? Binding.ContentText : Binding.Other);
                        }

                    case FilterExpr f when f.Value is not null && TextPreservingFunctions.Contains(f.Name):
                        e = f.Value;
                        continue;
                    case CallExpr { Function: GetAttrExpr m } when TextPreservingFunctions.Contains(m.Name):
                        e = m.Target;
                        continue;
                    case GetItemExpr { Index: SliceExpr } s:
                        e = s.Target;
                        continue;
                    default:
                        return Binding.Other;
                }
            }

            return Binding.Other;
        }

        /// <summary>The sub-expression of a condition that inspects message text, or null.</summary>
        private JinjaExpr? FindContentInspection(JinjaExpr test)
        {
            var stack = new Stack<JinjaExpr>();
            stack.Push(test);
            while (stack.Count > 0)
            {
                JinjaExpr e = stack.Pop();
                switch (e)
                {
                    case CompareExpr { Operator: "in" or "notin" } c when (IsContent(c.Right) == Binding.ContentText && !IsStructuralMarker(c.Left))
                                                                        || IsContent(c.Left) == Binding.ContentText:
                        return e;
                    case CompareExpr { Operator: "==" or "!=" } c when (IsContent(c.Left) == Binding.ContentText && IsNonEmptyText(c.Right))
                                                                      || (IsContent(c.Right) == Binding.ContentText && IsNonEmptyText(c.Left)):
                        return e;
                    case CallExpr { Function: GetAttrExpr m } call when TextInspectingMethods.Contains(m.Name) && IsContent(m.Target) == Binding.ContentText
                                                                      && !(call.Arguments.Positional.Count > 0 && call.Arguments.Positional.All(IsStructuralMarker)):
                        return e;
                    case TestExpr t when !TypeTests.Contains(t.Name) && IsContent(t.Value) == Binding.ContentText:
                        return e;
                    case FilterExpr f when f.Value is not null && f.Name.Contains("regex", StringComparison.Ordinal) && IsContent(f.Value) == Binding.ContentText:
                        return e;
                    case CallExpr { Function: NameExpr fn } call when (fn.Name.Contains("regex", StringComparison.Ordinal) || fn.Name is "match" or "search")
                                                                    && call.Arguments.All().Any(a => IsContent(a) == Binding.ContentText):
                        return e;
                    case BinaryExpr { Operator: "and" or "or" } b:
                        stack.Push(b.Left);
                        stack.Push(b.Right);
                        break;
                    case UnaryExpr { Operator: "not" } u:
                        stack.Push(u.Operand);
                        break;
                    case CondExpr cond:
                        stack.Push(cond.Test);
                        break;
                }
            }

            return null;
        }

        /// <summary>
        /// A literal that is a special token or mode switch (<c>&lt;|tool_call|&gt;</c>, <c>&lt;/think&gt;</c>, <c>[INST]</c>,
        /// <c>/no_think</c>): official templates look for these in message text to restructure it, which is not a trigger.
        /// </summary>
        private static bool IsStructuralMarker(JinjaExpr e) =>
            e is ConstExpr { Value: string s } && StructuralMarkerPattern.IsMatch(s);

        private static bool IsNonEmptyText(JinjaExpr e) => e is ConstExpr { Value: string s } && s.Trim().Length > 0;

        private void ReportInjection(JinjaExpr trigger, IReadOnlyList<JinjaStatement> body)
        {
            string? injected = FindInjectedText(body, 0);
            if (injected is not null)
            {
                _issues.Add(
                    RuleIds.TemplateTriggeredInjection,
                    $"branch on message content emits literal text: '{Clip(injected.Trim().Replace("\n", "\\n", StringComparison.Ordinal))}'",
                    trigger.Line,
                    trigger.Column);
            }
        }

        private void CheckConditionalOutput(JinjaExpr output)
        {
            var stack = new Stack<JinjaExpr>();
            stack.Push(output);
            while (stack.Count > 0)
            {
                JinjaExpr e = stack.Pop();
                if (e is CondExpr cond && FindContentInspection(cond.Test) is JinjaExpr trigger)
                {
                    string? injected = OutputLiteral(cond.Then) ?? (cond.Otherwise is null ? null : OutputLiteral(cond.Otherwise));
                    if (injected is not null)
                    {
                        _issues.Add(RuleIds.TemplateTriggeredInjection, $"conditional on message content emits literal text: '{Clip(injected.Trim())}'", trigger.Line, trigger.Column);
                    }
                }

                foreach (JinjaExpr child in e.Children)
                {
                    stack.Push(child);
                }
            }
        }

        /// <summary>Literal prose emitted by <paramref name="body"/> (text, or string literals printed), or null.</summary>
        private static string? FindInjectedText(IReadOnlyList<JinjaStatement> body, int depth)
        {
            if (depth > JinjaParser.MaxDepth)
            {
                return null;
            }

            foreach (JinjaStatement statement in body)
            {
                string? found = statement switch
                {
                    TextStatement t when IsInjectedText(t.Text) => t.Text,
                    OutputStatement o => OutputLiteral(o.Value),
                    IfStatement i => i.Branches.Select(b => FindInjectedText(b.Body, depth + 1)).FirstOrDefault(s => s is not null)
                                     ?? (i.Otherwise is null ? null : FindInjectedText(i.Otherwise, depth + 1)),
                    ForStatement f => FindInjectedText(f.Body, depth + 1),
                    SetStatement { Value: JinjaExpr v } => OutputLiteral(v),
                    SetStatement { Body: { } b } => FindInjectedText(b, depth + 1),
                    BlockStatement b when b.Keyword is not "macro" => FindInjectedText(b.Body, depth + 1),
                    _ => null,
                };
                if (found is not null)
                {
                    return found;
                }
            }

            return null;
        }

        /// <summary>Prose among the string literals an output expression prints (filter and call arguments excluded).</summary>
        private static string? OutputLiteral(JinjaExpr e)
        {
            var stack = new Stack<JinjaExpr>();
            stack.Push(e);
            while (stack.Count > 0)
            {
                JinjaExpr current = stack.Pop();
                switch (current)
                {
                    case ConstExpr { Value: string s } when IsInjectedText(s):
                        return s;
                    case BinaryExpr b:
                        stack.Push(b.Left);
                        stack.Push(b.Right);
                        break;
                    case CondExpr c:
                        stack.Push(c.Then);
                        if (c.Otherwise is not null)
                        {
                            stack.Push(c.Otherwise);
                        }

                        break;
                    case FilterExpr { Value: not null } f:
                        stack.Push(f.Value);
                        break;
                    case ListExpr l:
                        foreach (JinjaExpr item in l.Items)
                        {
                            stack.Push(item);
                        }

                        break;
                }
            }

            return null;
        }
    }
}
