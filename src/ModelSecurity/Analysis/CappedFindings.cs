using System;
using System.Collections.Generic;

namespace ModelSecurity.Analysis;

/// <summary>
/// Reports findings of a config walk (Keras, skops, Hydra) at most <see cref="PerRule"/> of each rule one
/// by one; the rest are counted, and <see cref="Flush"/> reports one summing-up finding per rule, so a
/// hostile config with a million bad references cannot flood the result.
/// </summary>
internal sealed class CappedFindings
{
    /// <summary>Findings of one rule reported individually before the rest are summed up.</summary>
    public const int PerRule = 16;

    private readonly ReadContext _context;
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);

    public CappedFindings(ReadContext context) => _context = context;

    public void Report(string rule, string detail, string? location, IEnumerable<string>? references = null)
    {
        int count = _counts.TryGetValue(rule, out int n) ? n + 1 : 1;
        _counts[rule] = count;
        if (count <= PerRule)
        {
            _context.Report(rule, detail, location, references);
        }
    }

    /// <summary>One finding per rule past the cap: "N more <paramref name="what"/> were not listed one by one."</summary>
    public void Flush(string what, string? location = null)
    {
        foreach ((string rule, int count) in _counts)
        {
            if (count > PerRule)
            {
                _context.Report(rule, $"{count - PerRule:N0} more {what} were not listed one by one.", location);
            }
        }
    }
}
