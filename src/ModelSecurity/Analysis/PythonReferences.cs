using System;
using System.Collections.Generic;

namespace ModelSecurity.Analysis;

/// <summary>
/// Judges a Python module/name reference that a config format imports by name (Keras
/// <c>module</c>/<c>class_name</c>, Hydra <c>_target_</c>, skops <c>__module__</c>/<c>__class__</c>):
/// the pickle denylist decides what runs code, commands or native code, reaches files, network or
/// processes, resolves other names or deserialises, and a short list of module roots whose every
/// name is a way out of the model.
/// </summary>
internal static class PythonReferences
{
    // Modules with no name a model config has a reason to import (the brief's "known-dangerous modules").
    private static readonly HashSet<string> DangerousRoots = new(StringComparer.Ordinal)
    {
        "os", "posix", "nt", "subprocess", "shutil", "importlib", "runpy", "sys", "socket", "webbrowser",
        "pickle", "_pickle", "cPickle", "marshal", "ctypes", "pty", "code", "codeop", "pdb", "commands",
        "multiprocessing", "dill", "cloudpickle", "joblib", "pydoc", "imp", "signal", "_io", "io",
        "urllib", "urllib2", "http", "httplib", "ftplib", "telnetlib", "smtplib", "requests", "asyncio", "threading",
        "_thread", "thread", "tempfile", "glob", "pathlib", "fileinput", "zipimport", "timeit", "cProfile", "profile",
        "bdb", "trace", "types", "inspect", "gc", "copyreg", "copy_reg", "_posixsubprocess",
        "msvcrt", "winreg", "_winapi", "mmap",
    };

    /// <summary>
    /// The reason a reference to <paramref name="module"/>.<paramref name="name"/> is dangerous, or null
    /// when it is not known to be. <paramref name="name"/> may be empty (a module reference).
    /// </summary>
    public static string? Danger(string module, string name, out IReadOnlyList<string> references)
    {
        references = Array.Empty<string>();
        module = module.Trim();
        name = name.Trim();
        if (module.Length == 0)
        {
            return null;
        }

        if (name.Length > 0)
        {
            PickleDecision decision = PicklePolicy.Default.Decide(module, name);
            if (decision.Kind == PickleDecisionKind.Dunder)
            {
                return "it walks a dunder attribute that reaches interpreter internals";
            }

            if (decision.Kind == PickleDecisionKind.Denied && decision.Entry is { } entry)
            {
                references = entry.References;
                return $"{decision.MatchedAs ?? module + "." + name} is on the denylist ({Describe(entry.Category)})";
            }
        }

        string root = Root(module);
        if (DangerousRoots.Contains(root))
        {
            return $"the module {root} is for processes, files, network or loading code, not for building a model";
        }

        return null;
    }

    /// <summary>The first dotted segment of a module path.</summary>
    public static string Root(string module)
    {
        int dot = module.IndexOf('.');
        return dot < 0 ? module : module.Substring(0, dot);
    }

    /// <summary>Splits "a.b.c" into module "a.b" and name "c" (module only when there is no dot).</summary>
    public static (string Module, string Name) Split(string dotted)
    {
        int dot = dotted.LastIndexOf('.');
        return dot <= 0 ? (dotted, string.Empty) : (dotted.Substring(0, dot), dotted.Substring(dot + 1));
    }

    /// <summary>True when <paramref name="module"/> is <paramref name="package"/> or one of its submodules.</summary>
    public static bool InPackage(string module, string package) =>
        module == package || module.StartsWith(package + ".", StringComparison.Ordinal);

    /// <summary>Shortens a value for a finding's detail.</summary>
    public static string Clip(string text, int max = 120) =>
        text.Length <= max ? text : string.Concat(text.AsSpan(0, max), "...");

    private static string Describe(string category) => category switch
    {
        "CodeExecution" => "runs Python code",
        "CommandExecution" => "runs commands",
        "NativeCode" => "loads native code",
        "FileSystem" => "reads or writes files",
        "Network" => "opens network connections",
        "ProcessControl" => "controls processes",
        "UniversalResolver" => "imports any name it is given",
        "NestedDeserialisation" => "deserialises further data, such as a pickle",
        _ => category,
    };
}
