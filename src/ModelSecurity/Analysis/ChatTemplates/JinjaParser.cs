using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace ModelSecurity.Analysis.ChatTemplates;

/// <summary>A node of the template AST, with its 1-based position.</summary>
internal abstract class JinjaNode
{
    protected JinjaNode(int line, int column)
    {
        Line = line;
        Column = column;
    }

    public int Line { get; }

    public int Column { get; }
}

/// <summary>An expression. <see cref="Depth"/> bounds recursion over the tree.</summary>
internal abstract class JinjaExpr : JinjaNode
{
    protected JinjaExpr(int line, int column, params JinjaExpr?[] children)
        : base(line, column)
    {
        int depth = 0;
        foreach (JinjaExpr? child in children)
        {
            if (child is not null && child.Depth > depth)
            {
                depth = child.Depth;
            }
        }

        Depth = depth + 1;
        if (Depth > JinjaParser.MaxDepth)
        {
            throw new JinjaSyntaxException($"expression nested deeper than {JinjaParser.MaxDepth}", line, column);
        }
    }

    public int Depth { get; }

    /// <summary>Direct sub-expressions.</summary>
    public abstract IEnumerable<JinjaExpr> Children { get; }
}

/// <summary>A literal: string, long, double, bool or null (none).</summary>
internal sealed class ConstExpr : JinjaExpr
{
    public ConstExpr(object? value, bool hadEscape, int line, int column)
        : base(line, column)
    {
        Value = value;
        HadEscape = hadEscape;
    }

    public object? Value { get; }

    public bool HadEscape { get; }

    public override IEnumerable<JinjaExpr> Children => Array.Empty<JinjaExpr>();
}

/// <summary>A variable reference.</summary>
internal sealed class NameExpr : JinjaExpr
{
    public NameExpr(string name, int line, int column)
        : base(line, column) => Name = name;

    public string Name { get; }

    public override IEnumerable<JinjaExpr> Children => Array.Empty<JinjaExpr>();
}

/// <summary>A list or tuple literal.</summary>
internal sealed class ListExpr : JinjaExpr
{
    public ListExpr(IReadOnlyList<JinjaExpr> items, bool isTuple, int line, int column)
        : base(line, column, items.ToArray())
    {
        Items = items;
        IsTuple = isTuple;
    }

    public IReadOnlyList<JinjaExpr> Items { get; }

    public bool IsTuple { get; }

    public override IEnumerable<JinjaExpr> Children => Items;
}

/// <summary>A dict literal.</summary>
internal sealed class DictExpr : JinjaExpr
{
    public DictExpr(IReadOnlyList<(JinjaExpr Key, JinjaExpr Value)> pairs, int line, int column)
        : base(line, column, pairs.SelectMany(p => new[] { p.Key, p.Value }).ToArray()) => Pairs = pairs;

    public IReadOnlyList<(JinjaExpr Key, JinjaExpr Value)> Pairs { get; }

    public override IEnumerable<JinjaExpr> Children => Pairs.SelectMany(p => new[] { p.Key, p.Value });
}

/// <summary><c>obj.name</c>.</summary>
internal sealed class GetAttrExpr : JinjaExpr
{
    public GetAttrExpr(JinjaExpr target, string name, int line, int column)
        : base(line, column, target)
    {
        Target = target;
        Name = name;
    }

    public JinjaExpr Target { get; }

    public string Name { get; }

    public override IEnumerable<JinjaExpr> Children => new[] { Target };
}

/// <summary><c>obj[index]</c> (index may be a <see cref="SliceExpr"/>).</summary>
internal sealed class GetItemExpr : JinjaExpr
{
    public GetItemExpr(JinjaExpr target, JinjaExpr index, int line, int column)
        : base(line, column, target, index)
    {
        Target = target;
        Index = index;
    }

    public JinjaExpr Target { get; }

    public JinjaExpr Index { get; }

    public override IEnumerable<JinjaExpr> Children => new[] { Target, Index };
}

/// <summary><c>start:stop:step</c> inside a subscript.</summary>
internal sealed class SliceExpr : JinjaExpr
{
    public SliceExpr(JinjaExpr? start, JinjaExpr? stop, JinjaExpr? step, int line, int column)
        : base(line, column, start, stop, step)
    {
        Start = start;
        Stop = stop;
        Step = step;
    }

    public JinjaExpr? Start { get; }

    public JinjaExpr? Stop { get; }

    public JinjaExpr? Step { get; }

    public override IEnumerable<JinjaExpr> Children => new[] { Start, Stop, Step }.OfType<JinjaExpr>();
}

/// <summary>Arguments of a call, filter or test.</summary>
internal sealed class JinjaArguments
{
    public static readonly JinjaArguments None = new(Array.Empty<JinjaExpr>(), Array.Empty<(string, JinjaExpr)>(), null, null);

    public JinjaArguments(IReadOnlyList<JinjaExpr> positional, IReadOnlyList<(string Name, JinjaExpr Value)> named, JinjaExpr? star, JinjaExpr? doubleStar)
    {
        Positional = positional;
        Named = named;
        Star = star;
        DoubleStar = doubleStar;
    }

    public IReadOnlyList<JinjaExpr> Positional { get; }

    public IReadOnlyList<(string Name, JinjaExpr Value)> Named { get; }

    public JinjaExpr? Star { get; }

    public JinjaExpr? DoubleStar { get; }

    public JinjaExpr[] All() =>
        Positional.Concat(Named.Select(n => n.Value)).Concat(new[] { Star, DoubleStar }.OfType<JinjaExpr>()).ToArray();
}

/// <summary><c>f(args)</c>.</summary>
internal sealed class CallExpr : JinjaExpr
{
    public CallExpr(JinjaExpr function, JinjaArguments arguments, int line, int column)
        : base(line, column, arguments.All().Append(function).ToArray())
    {
        Function = function;
        Arguments = arguments;
    }

    public JinjaExpr Function { get; }

    public JinjaArguments Arguments { get; }

    public override IEnumerable<JinjaExpr> Children => Arguments.All().Prepend(Function);
}

/// <summary><c>value|name(args)</c>; <see cref="Value"/> is null in a <c>{% filter %}</c> block head.</summary>
internal sealed class FilterExpr : JinjaExpr
{
    public FilterExpr(JinjaExpr? value, string name, JinjaArguments arguments, int line, int column)
        : base(line, column, arguments.All().Append(value).ToArray())
    {
        Value = value;
        Name = name;
        Arguments = arguments;
    }

    public JinjaExpr? Value { get; }

    public string Name { get; }

    public JinjaArguments Arguments { get; }

    public override IEnumerable<JinjaExpr> Children => Value is null ? Arguments.All() : Arguments.All().Prepend(Value);
}

/// <summary><c>value is [not] name(args)</c>.</summary>
internal sealed class TestExpr : JinjaExpr
{
    public TestExpr(JinjaExpr value, string name, JinjaArguments arguments, bool negated, int line, int column)
        : base(line, column, arguments.All().Append(value).ToArray())
    {
        Value = value;
        Name = name;
        Arguments = arguments;
        Negated = negated;
    }

    public JinjaExpr Value { get; }

    public string Name { get; }

    public JinjaArguments Arguments { get; }

    public bool Negated { get; }

    public override IEnumerable<JinjaExpr> Children => Arguments.All().Prepend(Value);
}

/// <summary>Binary operator: <c>+ - * / // % ** ~ and or</c>.</summary>
internal sealed class BinaryExpr : JinjaExpr
{
    public BinaryExpr(string op, JinjaExpr left, JinjaExpr right, int line, int column)
        : base(line, column, left, right)
    {
        Operator = op;
        Left = left;
        Right = right;
    }

    public string Operator { get; }

    public JinjaExpr Left { get; }

    public JinjaExpr Right { get; }

    public override IEnumerable<JinjaExpr> Children => new[] { Left, Right };
}

/// <summary>Unary <c>not</c>, <c>-</c>, <c>+</c>.</summary>
internal sealed class UnaryExpr : JinjaExpr
{
    public UnaryExpr(string op, JinjaExpr operand, int line, int column)
        : base(line, column, operand)
    {
        Operator = op;
        Operand = operand;
    }

    public string Operator { get; }

    public JinjaExpr Operand { get; }

    public override IEnumerable<JinjaExpr> Children => new[] { Operand };
}

/// <summary>A comparison <c>left op right</c> (<c>== != &lt; &gt; &lt;= &gt;= in notin</c>); chains nest.</summary>
internal sealed class CompareExpr : JinjaExpr
{
    public CompareExpr(string op, JinjaExpr left, JinjaExpr right, int line, int column)
        : base(line, column, left, right)
    {
        Operator = op;
        Left = left;
        Right = right;
    }

    public string Operator { get; }

    public JinjaExpr Left { get; }

    public JinjaExpr Right { get; }

    public override IEnumerable<JinjaExpr> Children => new[] { Left, Right };
}

/// <summary><c>then if test else otherwise</c>.</summary>
internal sealed class CondExpr : JinjaExpr
{
    public CondExpr(JinjaExpr test, JinjaExpr then, JinjaExpr? otherwise, int line, int column)
        : base(line, column, test, then, otherwise)
    {
        Test = test;
        Then = then;
        Otherwise = otherwise;
    }

    public JinjaExpr Test { get; }

    public JinjaExpr Then { get; }

    public JinjaExpr? Otherwise { get; }

    public override IEnumerable<JinjaExpr> Children => Otherwise is null ? new[] { Test, Then } : new[] { Test, Then, Otherwise };
}

/// <summary>A statement of the template body.</summary>
internal abstract class JinjaStatement : JinjaNode
{
    protected JinjaStatement(int line, int column)
        : base(line, column)
    {
    }
}

/// <summary>Literal template text.</summary>
internal sealed class TextStatement : JinjaStatement
{
    public TextStatement(string text, int line, int column)
        : base(line, column) => Text = text;

    public string Text { get; }
}

/// <summary><c>{{ expr }}</c>.</summary>
internal sealed class OutputStatement : JinjaStatement
{
    public OutputStatement(JinjaExpr value, int line, int column)
        : base(line, column) => Value = value;

    public JinjaExpr Value { get; }
}

/// <summary><c>if</c>/<c>elif</c>/<c>else</c>.</summary>
internal sealed class IfStatement : JinjaStatement
{
    public IfStatement(IReadOnlyList<(JinjaExpr Test, IReadOnlyList<JinjaStatement> Body)> branches, IReadOnlyList<JinjaStatement>? otherwise, int line, int column)
        : base(line, column)
    {
        Branches = branches;
        Otherwise = otherwise;
    }

    public IReadOnlyList<(JinjaExpr Test, IReadOnlyList<JinjaStatement> Body)> Branches { get; }

    public IReadOnlyList<JinjaStatement>? Otherwise { get; }
}

/// <summary><c>for target in iterable [if filter] [recursive]</c> with optional <c>else</c>.</summary>
internal sealed class ForStatement : JinjaStatement
{
    public ForStatement(JinjaExpr target, JinjaExpr iterable, JinjaExpr? filter, IReadOnlyList<JinjaStatement> body, IReadOnlyList<JinjaStatement>? otherwise, int line, int column)
        : base(line, column)
    {
        Target = target;
        Iterable = iterable;
        Filter = filter;
        Body = body;
        Otherwise = otherwise;
    }

    public JinjaExpr Target { get; }

    public JinjaExpr Iterable { get; }

    public JinjaExpr? Filter { get; }

    public IReadOnlyList<JinjaStatement> Body { get; }

    public IReadOnlyList<JinjaStatement>? Otherwise { get; }
}

/// <summary><c>set target = value</c>, or a block set (<see cref="Body"/> non-null, optional filter).</summary>
internal sealed class SetStatement : JinjaStatement
{
    public SetStatement(JinjaExpr target, JinjaExpr? value, IReadOnlyList<JinjaStatement>? body, JinjaExpr? filter, int line, int column)
        : base(line, column)
    {
        Target = target;
        Value = value;
        Body = body;
        Filter = filter;
    }

    public JinjaExpr Target { get; }

    public JinjaExpr? Value { get; }

    public IReadOnlyList<JinjaStatement>? Body { get; }

    public JinjaExpr? Filter { get; }
}

/// <summary>Any other statement with expressions and nested bodies: macro, call, filter, generation, with, do.</summary>
internal sealed class BlockStatement : JinjaStatement
{
    public BlockStatement(string keyword, IReadOnlyList<JinjaExpr> expressions, IReadOnlyList<string> boundNames, IReadOnlyList<JinjaStatement> body, int line, int column)
        : base(line, column)
    {
        Keyword = keyword;
        Expressions = expressions;
        BoundNames = boundNames;
        Body = body;
    }

    public string Keyword { get; }

    public IReadOnlyList<JinjaExpr> Expressions { get; }

    /// <summary>Names the statement binds (macro name and parameters, with-targets).</summary>
    public IReadOnlyList<string> BoundNames { get; }

    public IReadOnlyList<JinjaStatement> Body { get; }
}

/// <summary>
/// Recursive-descent parser for the Jinja2 subset chat templates use (Jinja's own precedence:
/// conditional, or, and, not, compare, + -, ~, * / // %, **, unary, postfix, filters and tests).
/// Bounded: statement and expression nesting at most <see cref="MaxDepth"/>.
/// </summary>
internal sealed class JinjaParser
{
    /// <summary>Deepest AST nesting accepted.</summary>
    public const int MaxDepth = 200;

    private static readonly HashSet<string> CompareOperators = new(StringComparer.Ordinal) { "==", "!=", "<", ">", "<=", ">=" };

    private static readonly string[] EndFilter = { "endfilter" };
    private static readonly string[] EndGeneration = { "endgeneration" };
    private static readonly string[] EndWith = { "endwith" };
    private static readonly string[] ElifElseEndif = { "elif", "else", "endif" };
    private static readonly string[] EndIf = { "endif" };
    private static readonly string[] ElseEndFor = { "else", "endfor" };
    private static readonly string[] EndFor = { "endfor" };
    private static readonly string[] EndSet = { "endset" };
    private static readonly string[] EndMacro = { "endmacro" };
    private static readonly string[] EndCall = { "endcall" };

    private readonly List<JinjaToken> _tokens;
    private int _pos;
    private int _depth;

    private JinjaParser(List<JinjaToken> tokens) => _tokens = tokens;

    /// <summary>Parses a template into its top-level statements.</summary>
    /// <exception cref="JinjaSyntaxException">Not valid Jinja, or over a bound.</exception>
    public static IReadOnlyList<JinjaStatement> Parse(string source) => Parse(JinjaLexer.Tokenize(source));

    /// <summary>Parses already lexed tokens.</summary>
    /// <exception cref="JinjaSyntaxException">Not valid Jinja, or over a bound.</exception>
    public static IReadOnlyList<JinjaStatement> Parse(List<JinjaToken> tokens)
    {
        var parser = new JinjaParser(tokens);
        (List<JinjaStatement> body, string? end) = parser.ParseBody(Array.Empty<string>());
        if (end is not null)
        {
            throw parser.Error($"unexpected '{end}'");
        }

        return body;
    }

    private JinjaToken Current => _tokens[_pos];

    private JinjaToken Peek(int n = 1) => _tokens[Math.Min(_pos + n, _tokens.Count - 1)];

    /// <summary>Parses statements until End or one of <paramref name="endKeywords"/>; returns which ended it (consumed up to the keyword).</summary>
    private (List<JinjaStatement> Body, string? End) ParseBody(string[] endKeywords)
    {
        Enter();
        var body = new List<JinjaStatement>();
        while (true)
        {
            JinjaToken token = Current;
            switch (token.Kind)
            {
                case JinjaTokenKind.End:
                    if (endKeywords.Length > 0)
                    {
                        throw Error($"missing '{string.Join("' or '", endKeywords)}'");
                    }

                    Leave();
                    return (body, null);

                case JinjaTokenKind.Text:
                    body.Add(new TextStatement(token.Value, token.Line, token.Column));
                    _pos++;
                    break;

                case JinjaTokenKind.VariableBegin:
                    _pos++;
                    JinjaExpr value = ParseTuple(withCondExpr: true);
                    Expect(JinjaTokenKind.VariableEnd, "}}");
                    body.Add(new OutputStatement(value, token.Line, token.Column));
                    break;

                case JinjaTokenKind.BlockBegin:
                    JinjaToken keyword = Peek();
                    if (keyword.Kind != JinjaTokenKind.Name)
                    {
                        _pos++;
                        throw Error("expected a statement name");
                    }

                    if (endKeywords.Contains(keyword.Value))
                    {
                        _pos += 2;
                        Leave();
                        return (body, keyword.Value);
                    }

                    _pos += 2;
                    body.Add(ParseStatement(keyword));
                    break;

                default:
                    throw Error($"unexpected {token.Kind}");
            }
        }
    }

    private JinjaStatement ParseStatement(JinjaToken keyword)
    {
        switch (keyword.Value)
        {
            case "if": return ParseIf(keyword);
            case "for": return ParseFor(keyword);
            case "set": return ParseSet(keyword);
            case "macro": return ParseMacro(keyword);
            case "call": return ParseCallBlock(keyword);
            case "filter":
                {
                    JinjaExpr filter = ParseFilterChain(null);
                    EndTag();
                    List<JinjaStatement> body = ParseBody(EndFilter).Body;
                    EndTag();
                    return new BlockStatement("filter", new[] { filter }, Array.Empty<string>(), body, keyword.Line, keyword.Column);
                }

            case "generation":
                {
                    EndTag();
                    List<JinjaStatement> body = ParseBody(EndGeneration).Body;
                    EndTag();
                    return new BlockStatement("generation", Array.Empty<JinjaExpr>(), Array.Empty<string>(), body, keyword.Line, keyword.Column);
                }

            case "with":
                {
                    var expressions = new List<JinjaExpr>();
                    var names = new List<string>();
                    while (Current.Kind != JinjaTokenKind.BlockEnd)
                    {
                        if (names.Count > 0)
                        {
                            ExpectOperator(",");
                        }

                        names.Add(ExpectName().Value);
                        ExpectOperator("=");
                        expressions.Add(ParseExpression(withCondExpr: true));
                    }

                    EndTag();
                    List<JinjaStatement> body = ParseBody(EndWith).Body;
                    EndTag();
                    return new BlockStatement("with", expressions, names, body, keyword.Line, keyword.Column);
                }

            case "do":
                {
                    JinjaExpr expression = ParseTuple(withCondExpr: true);
                    EndTag();
                    return new BlockStatement("do", new[] { expression }, Array.Empty<string>(), Array.Empty<JinjaStatement>(), keyword.Line, keyword.Column);
                }

            case "break":
            case "continue":
                EndTag();
                return new BlockStatement(keyword.Value, Array.Empty<JinjaExpr>(), Array.Empty<string>(), Array.Empty<JinjaStatement>(), keyword.Line, keyword.Column);

            default:
                _pos--;
                throw Error($"unknown or misplaced tag '{keyword.Value}'");
        }
    }

    private IfStatement ParseIf(JinjaToken keyword)
    {
        var branches = new List<(JinjaExpr, IReadOnlyList<JinjaStatement>)>();
        List<JinjaStatement>? otherwise = null;
        JinjaExpr test = ParseTuple(withCondExpr: false);
        EndTag();
        while (true)
        {
            (List<JinjaStatement> body, string? end) = ParseBody(ElifElseEndif);
            branches.Add((test, body));
            if (end == "elif")
            {
                test = ParseTuple(withCondExpr: false);
                EndTag();
                continue;
            }

            EndTag();
            if (end == "else")
            {
                otherwise = ParseBody(EndIf).Body;
                EndTag();
            }

            return new IfStatement(branches, otherwise, keyword.Line, keyword.Column);
        }
    }

    private ForStatement ParseFor(JinjaToken keyword)
    {
        JinjaExpr target = ParseAssignTarget();
        ExpectKeyword("in");
        JinjaExpr iterable = ParseTuple(withCondExpr: false, stopAtIf: true);
        JinjaExpr? filter = null;
        if (Current.Is(JinjaTokenKind.Name, "if"))
        {
            _pos++;
            filter = ParseExpression(withCondExpr: false);
        }

        if (Current.Is(JinjaTokenKind.Name, "recursive"))
        {
            _pos++;
        }

        EndTag();
        (List<JinjaStatement> body, string? end) = ParseBody(ElseEndFor);
        EndTag();
        List<JinjaStatement>? otherwise = null;
        if (end == "else")
        {
            otherwise = ParseBody(EndFor).Body;
            EndTag();
        }

        return new ForStatement(target, iterable, filter, body, otherwise, keyword.Line, keyword.Column);
    }

    private SetStatement ParseSet(JinjaToken keyword)
    {
        JinjaExpr target = ParseAssignTarget();
        if (Current.Is(JinjaTokenKind.Operator, "="))
        {
            _pos++;
            JinjaExpr value = ParseTuple(withCondExpr: true);
            EndTag();
            return new SetStatement(target, value, null, null, keyword.Line, keyword.Column);
        }

        JinjaExpr? filter = null;
        if (Current.Is(JinjaTokenKind.Operator, "|"))
        {
            _pos++;
            filter = ParseFilterChain(null);
        }

        EndTag();
        List<JinjaStatement> body = ParseBody(EndSet).Body;
        EndTag();
        return new SetStatement(target, null, body, filter, keyword.Line, keyword.Column);
    }

    private BlockStatement ParseMacro(JinjaToken keyword)
    {
        string name = ExpectName().Value;
        (List<string> names, List<JinjaExpr> defaults) = ParseSignature();
        EndTag();
        List<JinjaStatement> body = ParseBody(EndMacro).Body;
        EndTag();
        names.Insert(0, name);
        return new BlockStatement("macro", defaults, names, body, keyword.Line, keyword.Column);
    }

    private BlockStatement ParseCallBlock(JinjaToken keyword)
    {
        var names = new List<string>();
        var expressions = new List<JinjaExpr>();
        if (Current.Is(JinjaTokenKind.Operator, "("))
        {
            (names, expressions) = ParseSignature();
        }

        JinjaExpr call = ParseExpression(withCondExpr: true);
        expressions.Add(call);
        EndTag();
        List<JinjaStatement> body = ParseBody(EndCall).Body;
        EndTag();
        return new BlockStatement("call", expressions, names, body, keyword.Line, keyword.Column);
    }

    private (List<string> Names, List<JinjaExpr> Defaults) ParseSignature()
    {
        var names = new List<string>();
        var defaults = new List<JinjaExpr>();
        ExpectOperator("(");
        while (!Current.Is(JinjaTokenKind.Operator, ")"))
        {
            if (names.Count > 0)
            {
                ExpectOperator(",");
                if (Current.Is(JinjaTokenKind.Operator, ")"))
                {
                    break;
                }
            }

            names.Add(ExpectName().Value);
            if (Current.Is(JinjaTokenKind.Operator, "="))
            {
                _pos++;
                defaults.Add(ParseExpression(withCondExpr: true));
            }
        }

        _pos++;
        return (names, defaults);
    }

    /// <summary>A for/set target: name, <c>ns.attr</c>, or a tuple of names.</summary>
    private JinjaExpr ParseAssignTarget()
    {
        var items = new List<JinjaExpr>();
        bool parenthesised = Current.Is(JinjaTokenKind.Operator, "(");
        if (parenthesised)
        {
            _pos++;
        }

        while (true)
        {
            JinjaToken name = ExpectName();
            JinjaExpr target = new NameExpr(name.Value, name.Line, name.Column);
            if (Current.Is(JinjaTokenKind.Operator, ".") && Peek().Kind == JinjaTokenKind.Name)
            {
                _pos++;
                JinjaToken attribute = ExpectName();
                target = new GetAttrExpr(target, attribute.Value, attribute.Line, attribute.Column);
            }

            items.Add(target);
            if (!Current.Is(JinjaTokenKind.Operator, ","))
            {
                break;
            }

            _pos++;
            if (parenthesised && Current.Is(JinjaTokenKind.Operator, ")"))
            {
                break;
            }
        }

        if (parenthesised)
        {
            ExpectOperator(")");
        }

        return items.Count == 1 && !parenthesised ? items[0] : new ListExpr(items, isTuple: true, items[0].Line, items[0].Column);
    }

    /// <summary>An expression, or a bare tuple <c>a, b</c>.</summary>
    private JinjaExpr ParseTuple(bool withCondExpr, bool stopAtIf = false)
    {
        JinjaToken start = Current;
        var items = new List<JinjaExpr>();
        bool sawComma = false;
        while (true)
        {
            if (items.Count > 0)
            {
                if (!Current.Is(JinjaTokenKind.Operator, ","))
                {
                    break;
                }

                _pos++;
                sawComma = true;
            }

            if (IsTupleEnd(stopAtIf))
            {
                break;
            }

            items.Add(ParseExpression(withCondExpr));
        }

        if (items.Count == 0)
        {
            throw Error("expected an expression");
        }

        return items.Count == 1 && !sawComma ? items[0] : new ListExpr(items, isTuple: true, start.Line, start.Column);
    }

    private bool IsTupleEnd(bool stopAtIf)
    {
        JinjaToken t = Current;
        return t.Kind is JinjaTokenKind.VariableEnd or JinjaTokenKind.BlockEnd or JinjaTokenKind.End
            || t.Is(JinjaTokenKind.Operator, ")") || t.Is(JinjaTokenKind.Operator, "]") || t.Is(JinjaTokenKind.Operator, "=")
            || (stopAtIf && (t.Is(JinjaTokenKind.Name, "if") || t.Is(JinjaTokenKind.Name, "recursive")));
    }

    private JinjaExpr ParseExpression(bool withCondExpr)
    {
        Enter();
        JinjaExpr result = withCondExpr ? ParseCondExpr() : ParseOr();
        Leave();
        return result;
    }

    private JinjaExpr ParseCondExpr()
    {
        JinjaExpr expr = ParseOr();
        while (Current.Is(JinjaTokenKind.Name, "if"))
        {
            JinjaToken at = Current;
            _pos++;
            JinjaExpr test = ParseOr();
            JinjaExpr? otherwise = null;
            if (Current.Is(JinjaTokenKind.Name, "else"))
            {
                _pos++;
                Enter();
                otherwise = ParseCondExpr();
                Leave();
            }

            expr = new CondExpr(test, expr, otherwise, at.Line, at.Column);
        }

        return expr;
    }

    private JinjaExpr ParseOr()
    {
        JinjaExpr left = ParseAnd();
        while (Current.Is(JinjaTokenKind.Name, "or"))
        {
            JinjaToken at = Current;
            _pos++;
            left = new BinaryExpr("or", left, ParseAnd(), at.Line, at.Column);
        }

        return left;
    }

    private JinjaExpr ParseAnd()
    {
        JinjaExpr left = ParseNot();
        while (Current.Is(JinjaTokenKind.Name, "and"))
        {
            JinjaToken at = Current;
            _pos++;
            left = new BinaryExpr("and", left, ParseNot(), at.Line, at.Column);
        }

        return left;
    }

    private JinjaExpr ParseNot()
    {
        if (Current.Is(JinjaTokenKind.Name, "not"))
        {
            JinjaToken at = Current;
            _pos++;
            Enter();
            JinjaExpr operand = ParseNot();
            Leave();
            return new UnaryExpr("not", operand, at.Line, at.Column);
        }

        return ParseCompare();
    }

    private JinjaExpr ParseCompare()
    {
        JinjaExpr left = ParseMath1();
        while (true)
        {
            JinjaToken at = Current;
            string? op = null;
            if (at.Kind == JinjaTokenKind.Operator && CompareOperators.Contains(at.Value))
            {
                op = at.Value;
                _pos++;
            }
            else if (at.Is(JinjaTokenKind.Name, "in"))
            {
                op = "in";
                _pos++;
            }
            else if (at.Is(JinjaTokenKind.Name, "not") && Peek().Is(JinjaTokenKind.Name, "in"))
            {
                op = "notin";
                _pos += 2;
            }

            if (op is null)
            {
                return left;
            }

            left = new CompareExpr(op, left, ParseMath1(), at.Line, at.Column);
        }
    }

    private JinjaExpr ParseMath1()
    {
        JinjaExpr left = ParseConcat();
        while (Current.Kind == JinjaTokenKind.Operator && Current.Value is "+" or "-")
        {
            JinjaToken at = Current;
            _pos++;
            left = new BinaryExpr(at.Value, left, ParseConcat(), at.Line, at.Column);
        }

        return left;
    }

    private JinjaExpr ParseConcat()
    {
        JinjaExpr left = ParseMath2();
        while (Current.Is(JinjaTokenKind.Operator, "~"))
        {
            JinjaToken at = Current;
            _pos++;
            left = new BinaryExpr("~", left, ParseMath2(), at.Line, at.Column);
        }

        return left;
    }

    private JinjaExpr ParseMath2()
    {
        JinjaExpr left = ParsePow();
        while (Current.Kind == JinjaTokenKind.Operator && Current.Value is "*" or "/" or "//" or "%")
        {
            JinjaToken at = Current;
            _pos++;
            left = new BinaryExpr(at.Value, left, ParsePow(), at.Line, at.Column);
        }

        return left;
    }

    private JinjaExpr ParsePow()
    {
        JinjaExpr left = ParseUnary();
        while (Current.Is(JinjaTokenKind.Operator, "**"))
        {
            JinjaToken at = Current;
            _pos++;
            left = new BinaryExpr("**", left, ParseUnary(), at.Line, at.Column);
        }

        return left;
    }

    private JinjaExpr ParseUnary(bool withFilter = true)
    {
        JinjaToken at = Current;
        JinjaExpr node;
        if (at.Kind == JinjaTokenKind.Operator && at.Value is "-" or "+")
        {
            _pos++;
            Enter();
            node = new UnaryExpr(at.Value, ParseUnary(withFilter: false), at.Line, at.Column);
            Leave();
        }
        else
        {
            node = ParsePrimary();
        }

        node = ParsePostfix(node);
        return withFilter ? ParseFilterTests(node) : node;
    }

    private JinjaExpr ParsePrimary()
    {
        JinjaToken t = Current;
        switch (t.Kind)
        {
            case JinjaTokenKind.Name:
                _pos++;
                return t.Value switch
                {
                    "true" or "True" => new ConstExpr(true, false, t.Line, t.Column),
                    "false" or "False" => new ConstExpr(false, false, t.Line, t.Column),
                    "none" or "None" => new ConstExpr(null, false, t.Line, t.Column),
                    _ => new NameExpr(t.Value, t.Line, t.Column),
                };

            case JinjaTokenKind.String:
                {
                    _pos++;
                    string value = t.Value;
                    bool escaped = t.HadEscape;
                    while (Current.Kind == JinjaTokenKind.String)
                    {
                        value += Current.Value;
                        escaped |= Current.HadEscape;
                        _pos++;
                    }

                    return new ConstExpr(value, escaped, t.Line, t.Column);
                }

            case JinjaTokenKind.Integer:
                _pos++;
                return new ConstExpr(long.TryParse(t.Value, NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? n : (object)double.Parse(t.Value, CultureInfo.InvariantCulture), false, t.Line, t.Column);

            case JinjaTokenKind.Float:
                _pos++;
                return new ConstExpr(double.Parse(t.Value, CultureInfo.InvariantCulture), false, t.Line, t.Column);

            case JinjaTokenKind.Operator when t.Value == "(":
                {
                    _pos++;
                    Enter();
                    JinjaExpr inner;
                    if (Current.Is(JinjaTokenKind.Operator, ")"))
                    {
                        inner = new ListExpr(Array.Empty<JinjaExpr>(), isTuple: true, t.Line, t.Column);
                    }
                    else
                    {
                        inner = ParseTuple(withCondExpr: true);
                    }

                    ExpectOperator(")");
                    Leave();
                    return inner;
                }

            case JinjaTokenKind.Operator when t.Value == "[":
                {
                    _pos++;
                    Enter();
                    var items = new List<JinjaExpr>();
                    while (!Current.Is(JinjaTokenKind.Operator, "]"))
                    {
                        if (items.Count > 0)
                        {
                            ExpectOperator(",");
                            if (Current.Is(JinjaTokenKind.Operator, "]"))
                            {
                                break;
                            }
                        }

                        items.Add(ParseExpression(withCondExpr: true));
                    }

                    _pos++;
                    Leave();
                    return new ListExpr(items, isTuple: false, t.Line, t.Column);
                }

            case JinjaTokenKind.Operator when t.Value == "{":
                {
                    _pos++;
                    Enter();
                    var pairs = new List<(JinjaExpr, JinjaExpr)>();
                    while (!Current.Is(JinjaTokenKind.Operator, "}"))
                    {
                        if (pairs.Count > 0)
                        {
                            ExpectOperator(",");
                            if (Current.Is(JinjaTokenKind.Operator, "}"))
                            {
                                break;
                            }
                        }

                        JinjaExpr key = ParseExpression(withCondExpr: true);
                        ExpectOperator(":");
                        pairs.Add((key, ParseExpression(withCondExpr: true)));
                    }

                    _pos++;
                    Leave();
                    return new DictExpr(pairs, t.Line, t.Column);
                }

            default:
                throw Error(t.Kind == JinjaTokenKind.End ? "unexpected end of template" : $"unexpected '{t.Value}'");
        }
    }

    private JinjaExpr ParsePostfix(JinjaExpr node)
    {
        while (true)
        {
            JinjaToken t = Current;
            if (t.Is(JinjaTokenKind.Operator, "."))
            {
                _pos++;
                JinjaToken name = Current;
                if (name.Kind is not (JinjaTokenKind.Name or JinjaTokenKind.Integer))
                {
                    throw Error("expected an attribute name after '.'");
                }

                _pos++;
                node = new GetAttrExpr(node, name.Value, name.Line, name.Column);
            }
            else if (t.Is(JinjaTokenKind.Operator, "["))
            {
                _pos++;
                Enter();
                var indexes = new List<JinjaExpr>();
                while (!Current.Is(JinjaTokenKind.Operator, "]"))
                {
                    if (indexes.Count > 0)
                    {
                        ExpectOperator(",");
                    }

                    indexes.Add(ParseSubscribed());
                }

                _pos++;
                Leave();
                if (indexes.Count == 0)
                {
                    throw Error("empty subscript");
                }

                JinjaExpr index = indexes.Count == 1 ? indexes[0] : new ListExpr(indexes, isTuple: true, t.Line, t.Column);
                node = new GetItemExpr(node, index, t.Line, t.Column);
            }
            else if (t.Is(JinjaTokenKind.Operator, "("))
            {
                node = new CallExpr(node, ParseCallArguments(), t.Line, t.Column);
            }
            else
            {
                return node;
            }
        }
    }

    private JinjaExpr ParseSubscribed()
    {
        JinjaToken at = Current;
        var parts = new JinjaExpr?[3];
        int part = 0;
        bool isSlice = false;
        while (true)
        {
            if (Current.Is(JinjaTokenKind.Operator, ":"))
            {
                isSlice = true;
                if (++part > 2)
                {
                    throw Error("bad slice");
                }

                _pos++;
                continue;
            }

            if (Current.Is(JinjaTokenKind.Operator, "]") || Current.Is(JinjaTokenKind.Operator, ","))
            {
                break;
            }

            if (parts[part] is not null)
            {
                throw Error("expected ']'");
            }

            parts[part] = ParseExpression(withCondExpr: true);
        }

        if (!isSlice)
        {
            return parts[0] ?? throw Error("expected an index");
        }

        return new SliceExpr(parts[0], parts[1], parts[2], at.Line, at.Column);
    }

    private JinjaArguments ParseCallArguments()
    {
        ExpectOperator("(");
        Enter();
        var positional = new List<JinjaExpr>();
        var named = new List<(string, JinjaExpr)>();
        JinjaExpr? star = null;
        JinjaExpr? doubleStar = null;
        bool first = true;
        while (!Current.Is(JinjaTokenKind.Operator, ")"))
        {
            if (!first)
            {
                ExpectOperator(",");
                if (Current.Is(JinjaTokenKind.Operator, ")"))
                {
                    break;
                }
            }

            first = false;
            if (Current.Is(JinjaTokenKind.Operator, "*"))
            {
                _pos++;
                star = ParseExpression(withCondExpr: true);
            }
            else if (Current.Is(JinjaTokenKind.Operator, "**"))
            {
                _pos++;
                doubleStar = ParseExpression(withCondExpr: true);
            }
            else if (Current.Kind == JinjaTokenKind.Name && Peek().Is(JinjaTokenKind.Operator, "="))
            {
                string name = Current.Value;
                _pos += 2;
                named.Add((name, ParseExpression(withCondExpr: true)));
            }
            else
            {
                positional.Add(ParseExpression(withCondExpr: true));
            }
        }

        _pos++;
        Leave();
        return new JinjaArguments(positional, named, star, doubleStar);
    }

    private JinjaExpr ParseFilterTests(JinjaExpr node)
    {
        while (true)
        {
            JinjaToken t = Current;
            if (t.Is(JinjaTokenKind.Operator, "|"))
            {
                node = ParseFilterChain(node);
            }
            else if (t.Is(JinjaTokenKind.Name, "is"))
            {
                _pos++;
                bool negated = false;
                if (Current.Is(JinjaTokenKind.Name, "not"))
                {
                    negated = true;
                    _pos++;
                }

                string name = ParseDottedName();
                JinjaArguments arguments = JinjaArguments.None;
                if (Current.Is(JinjaTokenKind.Operator, "("))
                {
                    arguments = ParseCallArguments();
                }
                else if (StartsTestArgument())
                {
                    Enter();
                    JinjaExpr argument = ParsePostfix(ParsePrimary());
                    Leave();
                    arguments = new JinjaArguments(new[] { argument }, Array.Empty<(string, JinjaExpr)>(), null, null);
                }

                node = new TestExpr(node, name, arguments, negated, t.Line, t.Column);
            }
            else if (t.Is(JinjaTokenKind.Operator, "("))
            {
                node = new CallExpr(node, ParseCallArguments(), t.Line, t.Column);
            }
            else
            {
                return node;
            }
        }
    }

    private bool StartsTestArgument()
    {
        JinjaToken t = Current;
        return t.Kind switch
        {
            JinjaTokenKind.String or JinjaTokenKind.Integer or JinjaTokenKind.Float => true,
            JinjaTokenKind.Name => t.Value is not ("else" or "or" or "and" or "if" or "is" or "in" or "not" or "recursive"),
            JinjaTokenKind.Operator => t.Value is "[" or "{",
            _ => false,
        };
    }

    /// <summary>One or more <c>|name(args)</c> applied to <paramref name="node"/> (null: a filter-block head, which starts without '|').</summary>
    private JinjaExpr ParseFilterChain(JinjaExpr? node)
    {
        bool first = node is null;
        JinjaExpr? current = node;
        while (first || Current.Is(JinjaTokenKind.Operator, "|"))
        {
            JinjaToken at = Current;
            if (!first)
            {
                _pos++;
            }

            first = false;
            string name = ParseDottedName();
            JinjaArguments arguments = Current.Is(JinjaTokenKind.Operator, "(") ? ParseCallArguments() : JinjaArguments.None;
            current = new FilterExpr(current, name, arguments, at.Line, at.Column);
        }

        return current!;
    }

    private string ParseDottedName()
    {
        string name = ExpectName().Value;
        while (Current.Is(JinjaTokenKind.Operator, ".") && Peek().Kind == JinjaTokenKind.Name)
        {
            _pos++;
            name += "." + ExpectName().Value;
        }

        return name;
    }

    private void Enter()
    {
        if (++_depth > MaxDepth)
        {
            throw Error($"nested deeper than {MaxDepth}");
        }
    }

    private void Leave() => _depth--;

    private void EndTag() => Expect(JinjaTokenKind.BlockEnd, "%}");

    private void ExpectKeyword(string keyword)
    {
        if (!Current.Is(JinjaTokenKind.Name, keyword))
        {
            throw Error($"expected '{keyword}'");
        }

        _pos++;
    }

    private JinjaToken ExpectName()
    {
        JinjaToken t = Current;
        if (t.Kind != JinjaTokenKind.Name)
        {
            throw Error("expected a name");
        }

        _pos++;
        return t;
    }

    private void ExpectOperator(string op)
    {
        if (!Current.Is(JinjaTokenKind.Operator, op))
        {
            throw Error($"expected '{op}'");
        }

        _pos++;
    }

    private void Expect(JinjaTokenKind kind, string text)
    {
        if (Current.Kind != kind)
        {
            throw Error($"expected '{text}'");
        }

        _pos++;
    }

    private JinjaSyntaxException Error(string message)
    {
        JinjaToken t = Current;
        string found = t.Kind == JinjaTokenKind.End ? "end of template" : $"'{(t.Value.Length > 20 ? t.Value[..20] + "…" : t.Value)}'";
        return new JinjaSyntaxException($"{message} (found {found})", t.Line, t.Column);
    }
}
