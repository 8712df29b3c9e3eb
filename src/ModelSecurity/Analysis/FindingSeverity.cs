namespace ModelSecurity.Analysis;

/// <summary>How serious one finding is, from informational to critical.</summary>
public enum FindingSeverity
{
    /// <summary>A fact worth knowing; no action needed.</summary>
    Info = 0,

    /// <summary>Unusual but unlikely to be harmful.</summary>
    Low = 1,

    /// <summary>Needs a look before the file is trusted.</summary>
    Medium = 2,

    /// <summary>Likely harmful or deceptive.</summary>
    High = 3,

    /// <summary>Runs code or disguises an executable.</summary>
    Critical = 4,
}
