using System.Collections.Generic;
using System.Collections.Specialized;
using ModelSecurity.Analysis;

namespace ModelSecurity.Provenance;

/// <summary>What <c>Get-ModelSource</c> reports for one file or name: who made it, and how far to trust them.</summary>
public sealed class ModelSource
{
    internal ModelSource(SourceFacts facts)
    {
        Path = facts.Path;
        Name = facts.Name;
        Ecosystem = facts.Ecosystem;
        Publisher = facts.Publisher;
        Repository = facts.Repository;
        Revision = facts.Revision;
        Tag = facts.Tag;
        License = facts.License;
        BaseModel = facts.BaseModels.ToArray();
        TrustLevel = facts.TrustLevel;
        TrustReason = facts.TrustReason;
        LookalikeOf = facts.LookalikeOf;
        Evidence = facts.Evidence.ToArray();
        Findings = facts.SortedFindings();
        Remote = facts.Remote;
    }

    /// <summary>Full path of the file; null for a -Name query.</summary>
    public string? Path { get; }

    /// <summary>The model's name as people write it: <c>org/repo</c>, <c>model:tag</c>, or the file name.</summary>
    public string? Name { get; }

    /// <summary>Where the model came from, by the layout it sits in (or the form of the name).</summary>
    public ModelEcosystem Ecosystem { get; }

    /// <summary>Organisation or user that published it (Hugging Face namespace, Ollama namespace, LM Studio publisher folder).</summary>
    public string? Publisher { get; }

    /// <summary>Repository or model name without the publisher.</summary>
    public string? Repository { get; }

    /// <summary>Commit (Hugging Face), manifest digest (Ollama) or other revision.</summary>
    public string? Revision { get; }

    /// <summary>Ollama tag, or the Hugging Face refs that point at the revision.</summary>
    public string? Tag { get; }

    /// <summary>Licence id as declared (model card, GGUF metadata, Ollama licence layer).</summary>
    public string? License { get; }

    /// <summary>Models this one was derived from, as declared.</summary>
    public IReadOnlyList<string> BaseModel { get; }

    /// <summary>Trust in the publisher, from the registry or policy.</summary>
    public TrustLevel TrustLevel { get; }

    /// <summary>Why the trust level is what it is.</summary>
    public string TrustReason { get; }

    /// <summary>The popular name this one imitates, or null.</summary>
    public string? LookalikeOf { get; }

    /// <summary>Where each fact came from, as "Fact: source".</summary>
    public IReadOnlyList<string> Evidence { get; }

    /// <summary>Conflicts, model-card gaps, remote code, look-alike names and online red flags, most severe first.</summary>
    public IReadOnlyList<ModelFinding> Findings { get; }

    /// <summary>What Hugging Face or the Ollama registry said with -Online (null without it).</summary>
    public OrderedDictionary? Remote { get; }

    /// <inheritdoc />
    public override string ToString() => $"{TrustLevel} {Name ?? Path}";
}
