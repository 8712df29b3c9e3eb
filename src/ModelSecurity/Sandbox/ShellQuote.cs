using System.Collections.Generic;
using System.Text;

namespace ModelSecurity.Sandbox;

/// <summary>Renders an argument vector as one line a POSIX shell would split back into the same vector.</summary>
internal static class ShellQuote
{
    public static string Join(IEnumerable<string> arguments)
    {
        var line = new StringBuilder();
        foreach (string argument in arguments)
        {
            if (line.Length > 0)
            {
                line.Append(' ');
            }

            line.Append(Quote(argument));
        }

        return line.ToString();
    }

    public static string Quote(string argument)
    {
        if (argument.Length > 0 && IsPlain(argument))
        {
            return argument;
        }

        return "'" + argument.Replace("'", "'\\''", System.StringComparison.Ordinal) + "'";
    }

    private static bool IsPlain(string argument)
    {
        foreach (char c in argument)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/' or '=' or ':' or ',' or '+' or '@' or '%'))
            {
                return false;
            }
        }

        return true;
    }
}
