namespace ModelSecurity.Analysis;

/// <summary>Analyses a Keras JSON model config (layers, Lambda code, module references).</summary>
internal static class KerasConfigAnalysis
{
    /// <summary>Reports what the Keras config <paramref name="json"/> found at <paramref name="location"/> would make Keras import or run.</summary>
    public static void Analyze(ReadContext context, string json, string location)
    {
        // Replaced at merge by the Keras branch.
    }
}
