using System;
using System.Collections.Generic;

namespace ModelSecurity.Sandbox;

/// <summary>
/// What the sandboxed program reads on its standard input: lines written in steps, each step optionally
/// waiting (bounded) until the program's standard output shows what it waits for. Standard input is
/// closed after the last step, so a program that reads to the end always sees one.
/// </summary>
internal sealed class StandardInputScript
{
    /// <summary>How long one step waits for its answer before the next step is written anyway.</summary>
    public static readonly TimeSpan StepWait = TimeSpan.FromSeconds(30);

    public StandardInputScript(IReadOnlyList<StandardInputStep> steps) => Steps = steps;

    public IReadOnlyList<StandardInputStep> Steps { get; }

    /// <summary>Every line at once, then end of input.</summary>
    public static StandardInputScript FromLines(IReadOnlyList<string> lines) => new(new[] { new StandardInputStep(lines, null) });
}

/// <summary>Lines to write (each followed by a newline), then, when WaitUntil is set, a wait until it is true of the standard output captured so far.</summary>
internal sealed record StandardInputStep(IReadOnlyList<string> Lines, Func<string, bool>? WaitUntil);
