namespace ModelSecurity.Analysis;

/// <summary>
/// The overall judgement on one file. Ordered from best to worst, so the worst verdict of a set
/// of findings is their maximum.
/// </summary>
public enum ScanVerdict
{
    /// <summary>Every part of the file was read by a reader and nothing of concern was found.</summary>
    Clean = 0,

    /// <summary>The file could not be fully analysed (unreadable, malformed, or no reader yet). Never safe.</summary>
    Inconclusive = 1,

    /// <summary>Something in the file needs a human decision before it is loaded.</summary>
    Suspicious = 2,

    /// <summary>The file would run code, or pretends to be something it is not, when loaded.</summary>
    Malicious = 3,
}
