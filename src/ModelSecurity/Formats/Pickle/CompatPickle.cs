using System;
using System.Collections.Generic;

namespace ModelSecurity.Formats.Pickle;

/// <summary>
/// The Python 2 to 3 renames CPython's unpickler applies to GLOBAL and STACK_GLOBAL names when the
/// pickle's protocol is below 3 (<c>fix_imports</c>, on by default; PyTorch applies them too). A
/// scanner that skips them misses <c>cPickle.loads</c> (= <c>pickle.loads</c>), <c>urllib2.urlopen</c>
/// (= <c>urllib.request.urlopen</c>) or <c>commands.getoutput</c> (= <c>subprocess.getoutput</c>).
/// </summary>
internal static class CompatPickle
{
    private static readonly Dictionary<string, string> ImportMapping = new(StringComparer.Ordinal)
    {
        ["__builtin__"] = "builtins",
        ["copy_reg"] = "copyreg",
        ["Queue"] = "queue",
        ["SocketServer"] = "socketserver",
        ["ConfigParser"] = "configparser",
        ["repr"] = "reprlib",
        ["tkFileDialog"] = "tkinter.filedialog",
        ["tkSimpleDialog"] = "tkinter.simpledialog",
        ["tkColorChooser"] = "tkinter.colorchooser",
        ["tkCommonDialog"] = "tkinter.commondialog",
        ["Dialog"] = "tkinter.dialog",
        ["Tkdnd"] = "tkinter.dnd",
        ["tkFont"] = "tkinter.font",
        ["tkMessageBox"] = "tkinter.messagebox",
        ["ScrolledText"] = "tkinter.scrolledtext",
        ["Tkconstants"] = "tkinter.constants",
        ["Tix"] = "tkinter.tix",
        ["ttk"] = "tkinter.ttk",
        ["Tkinter"] = "tkinter",
        ["markupbase"] = "_markupbase",
        ["_winreg"] = "winreg",
        ["thread"] = "_thread",
        ["dummy_thread"] = "_dummy_thread",
        ["dbhash"] = "dbm.bsd",
        ["dumbdbm"] = "dbm.dumb",
        ["dbm"] = "dbm.ndbm",
        ["gdbm"] = "dbm.gnu",
        ["xmlrpclib"] = "xmlrpc.client",
        ["SimpleXMLRPCServer"] = "xmlrpc.server",
        ["httplib"] = "http.client",
        ["htmlentitydefs"] = "html.entities",
        ["HTMLParser"] = "html.parser",
        ["Cookie"] = "http.cookies",
        ["cookielib"] = "http.cookiejar",
        ["BaseHTTPServer"] = "http.server",
        ["test.test_support"] = "test.support",
        ["commands"] = "subprocess",
        ["urlparse"] = "urllib.parse",
        ["robotparser"] = "urllib.robotparser",
        ["urllib2"] = "urllib.request",
        ["anydbm"] = "dbm",
        ["_abcoll"] = "collections.abc",

        // One-way mappings (Python 2 only names).
        ["cPickle"] = "pickle",
        ["_elementtree"] = "xml.etree.ElementTree",
        ["FileDialog"] = "tkinter.filedialog",
        ["SimpleDialog"] = "tkinter.simpledialog",
        ["DocXMLRPCServer"] = "xmlrpc.server",
        ["SimpleHTTPServer"] = "http.server",
        ["CGIHTTPServer"] = "http.server",
        ["UserDict"] = "collections",
        ["UserList"] = "collections",
        ["UserString"] = "collections",
        ["whichdb"] = "dbm",
        ["StringIO"] = "io",
        ["cStringIO"] = "io",
    };

    private static readonly Dictionary<(string, string), (string, string)> NameMapping = BuildNameMapping();

    /// <summary>Applies the renames the unpickler applies for protocols 0-2.</summary>
    public static (string Module, string Name) Map(string module, string name)
    {
        if (NameMapping.TryGetValue((module, name), out (string, string) mapped))
        {
            return mapped;
        }

        return ImportMapping.TryGetValue(module, out string? renamed) ? (renamed, name) : (module, name);
    }

    private static Dictionary<(string, string), (string, string)> BuildNameMapping()
    {
        var map = new Dictionary<(string, string), (string, string)>
        {
            [("__builtin__", "xrange")] = ("builtins", "range"),
            [("__builtin__", "reduce")] = ("functools", "reduce"),
            [("__builtin__", "intern")] = ("sys", "intern"),
            [("__builtin__", "unichr")] = ("builtins", "chr"),
            [("__builtin__", "unicode")] = ("builtins", "str"),
            [("__builtin__", "long")] = ("builtins", "int"),
            [("__builtin__", "basestring")] = ("builtins", "str"),
            [("itertools", "izip")] = ("builtins", "zip"),
            [("itertools", "imap")] = ("builtins", "map"),
            [("itertools", "ifilter")] = ("builtins", "filter"),
            [("itertools", "ifilterfalse")] = ("itertools", "filterfalse"),
            [("itertools", "izip_longest")] = ("itertools", "zip_longest"),
            [("UserDict", "IterableUserDict")] = ("collections", "UserDict"),
            [("UserDict", "UserDict")] = ("collections", "UserDict"),
            [("UserList", "UserList")] = ("collections", "UserList"),
            [("UserString", "UserString")] = ("collections", "UserString"),
            [("whichdb", "whichdb")] = ("dbm", "whichdb"),
            [("_socket", "fromfd")] = ("socket", "fromfd"),
            [("socket", "_socketobject")] = ("socket", "SocketType"),
            [("_multiprocessing", "Connection")] = ("multiprocessing.connection", "Connection"),
            [("multiprocessing.process", "Process")] = ("multiprocessing.context", "Process"),
            [("multiprocessing.forking", "Popen")] = ("multiprocessing.popen_fork", "Popen"),
            [("urllib", "ContentTooShortError")] = ("urllib.error", "ContentTooShortError"),
            [("urllib", "getproxies")] = ("urllib.request", "getproxies"),
            [("urllib", "pathname2url")] = ("urllib.request", "pathname2url"),
            [("urllib", "quote_plus")] = ("urllib.parse", "quote_plus"),
            [("urllib", "quote")] = ("urllib.parse", "quote"),
            [("urllib", "unquote_plus")] = ("urllib.parse", "unquote_plus"),
            [("urllib", "unquote")] = ("urllib.parse", "unquote"),
            [("urllib", "url2pathname")] = ("urllib.request", "url2pathname"),
            [("urllib", "urlcleanup")] = ("urllib.request", "urlcleanup"),
            [("urllib", "urlencode")] = ("urllib.parse", "urlencode"),
            [("urllib", "urlopen")] = ("urllib.request", "urlopen"),
            [("urllib", "urlretrieve")] = ("urllib.request", "urlretrieve"),
            [("urllib2", "HTTPError")] = ("urllib.error", "HTTPError"),
            [("urllib2", "URLError")] = ("urllib.error", "URLError"),
            [("exceptions", "StandardError")] = ("builtins", "Exception"),
        };

        const string Python2Exceptions =
            "ArithmeticError AssertionError AttributeError BaseException BufferError BytesWarning DeprecationWarning "
            + "EOFError EnvironmentError Exception FloatingPointError FutureWarning GeneratorExit IOError ImportError "
            + "ImportWarning IndentationError IndexError KeyError KeyboardInterrupt LookupError MemoryError NameError "
            + "NotImplementedError OSError OverflowError PendingDeprecationWarning ReferenceError RuntimeError "
            + "RuntimeWarning StopIteration SyntaxError SyntaxWarning SystemError SystemExit TabError TypeError "
            + "UnboundLocalError UnicodeDecodeError UnicodeEncodeError UnicodeError UnicodeTranslateError "
            + "UnicodeWarning UserWarning ValueError Warning ZeroDivisionError WindowsError";
        foreach (string name in Python2Exceptions.Split(' '))
        {
            map[("exceptions", name)] = ("builtins", name);
        }

        foreach (string name in new[] { "AuthenticationError", "BufferTooShort", "ProcessError", "TimeoutError" })
        {
            map[("multiprocessing", name)] = ("multiprocessing.context", name);
        }

        return map;
    }
}
