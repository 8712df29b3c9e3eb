namespace ModelSecurity.Provenance;

/// <summary>
/// How far the publisher a model came from is trusted, from the publisher registry or a policy file.
/// Ordered so that comparisons read naturally (<c>TrustLevel -ge 'Medium'</c>). Trust informs; it
/// never turns a scanner finding into a pass.
/// </summary>
public enum TrustLevel
{
    /// <summary>Where the model came from is not known (no cache layout, no name, only unauthenticated claims).</summary>
    Unknown,

    /// <summary>An individual or organisation not in the registry, or a name that imitates another.</summary>
    Low,

    /// <summary>A well-known republisher (quantiser) or an organisation the registry rates below official publishers.</summary>
    Medium,

    /// <summary>An official publisher of its own models, in its exact namespace.</summary>
    High,
}
