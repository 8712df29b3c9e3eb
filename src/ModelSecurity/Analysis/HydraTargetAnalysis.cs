using System;
using System.Collections.Generic;
using System.Linq;

namespace ModelSecurity.Analysis;

/// <summary>A Hydra <c>_target_</c> (or a string passed in <c>_args_</c>) found in a config, with where it was.</summary>
internal sealed record HydraReference(string Value, string Location, bool IsArgument);

/// <summary>
/// Grades Hydra <c>_target_</c> references (NeMo <c>model_config.yaml</c> and other Hydra configs):
/// <c>hydra.utils.instantiate</c> imports each target and calls it with the config's arguments when
/// the model is restored (CVE-2025-23304). Targets in the packages NeMo and PyTorch configs are built
/// from are model parts; targets on the denylist, Hydra's own resolvers and dotted names passed in
/// <c>_args_</c> that are on the denylist are Malicious; any other target is Suspicious.
/// </summary>
internal static class HydraTargetAnalysis
{
    /// <summary>Findings of one rule reported individually before the rest are summed up.</summary>
    // Packages NeMo's own configs instantiate from (models, modules, optimisers, schedulers, data loaders, trainers).
    private static readonly string[] ModelPackages =
    {
        "nemo", "torch.nn", "torch.optim", "torch.utils.data", "torch.distributions", "torchaudio", "torchvision.transforms",
        "torchvision.models", "torchmetrics", "pytorch_lightning", "lightning", "lightning.pytorch", "megatron.core",
        "transformers", "apex.optimizers", "apex.normalization", "omegaconf.DictConfig", "omegaconf.ListConfig",
    };

    // Names inside allowed packages that load or run something other than model code.
    private static readonly string[] NonModelNames =
    {
        "load", "load_state_dict_from_url", "hub", "jit.load", "restore_from", "from_pretrained", "download",
    };

    /// <summary>Reports each reference at its location.</summary>
    public static void Report(ReadContext context, IEnumerable<HydraReference> references)
    {
        var findings = new CappedFindings(context);
        int targets = 0;
        foreach (HydraReference reference in references)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            if (!reference.IsArgument)
            {
                targets++;
            }

            (string rule, string detail)? finding = Judge(reference);
            if (finding is not { } f)
            {
                continue;
            }

            findings.Report(f.rule, f.detail, reference.Location);
        }

        findings.Flush("reference(s) of this kind");

        if (targets > 0 && !context.Scan.Metadata.Contains("HydraTargetCount"))
        {
            context.Scan.Metadata["HydraTargetCount"] = targets;
        }
    }

    /// <summary>The rule and detail for one reference, or null when it is a model part.</summary>
    public static (string Rule, string Detail)? Judge(HydraReference reference)
    {
        string value = reference.Value.Trim();
        if (reference.IsArgument)
        {
            // Only a dotted name can be a callable here; plain strings are data.
            if (!LooksLikeDottedName(value))
            {
                return null;
            }

            (string m, string n) = PythonReferences.Split(value);
            return PythonReferences.Danger(m, n, out _) is { } argWhy
                ? (RuleIds.HydraDangerousTarget, $"An _args_ value names {PythonReferences.Clip(value)}: {argWhy}; instantiate passes it to the target, which can call it (CVE-2025-23304).")
                : null;
        }

        if (!LooksLikeDottedName(value))
        {
            return (RuleIds.HydraUnknownTarget, $"The _target_ '{PythonReferences.Clip(value)}' is not a dotted Python name; instantiate would still try to import it.");
        }

        (string module, string name) = PythonReferences.Split(value);
        if (PythonReferences.Danger(module, name, out _) is { } why)
        {
            return (RuleIds.HydraDangerousTarget, $"The _target_ {PythonReferences.Clip(value)} is called by hydra.utils.instantiate when the model is restored: {why} (CVE-2025-23304).");
        }

        if (PythonReferences.InPackage(value, "hydra") || PythonReferences.InPackage(value, "omegaconf.OmegaConf"))
        {
            return (RuleIds.HydraDangerousTarget, $"The _target_ {PythonReferences.Clip(value)} is one of Hydra's or OmegaConf's own resolvers, which import or instantiate whatever name their arguments give (CVE-2025-23304).");
        }

        if (ModelPackages.Any(p => PythonReferences.InPackage(value, p)))
        {
            if (NonModelNames.Any(n => value.EndsWith("." + n, StringComparison.Ordinal) || value.Contains("." + n + ".", StringComparison.Ordinal)))
            {
                return (RuleIds.HydraUnknownTarget, $"The _target_ {PythonReferences.Clip(value)} loads or downloads something else when it is called, rather than building a model part.");
            }

            return null;
        }

        return (RuleIds.HydraUnknownTarget, $"The _target_ {PythonReferences.Clip(value)} is outside the packages model configs build from; instantiate imports {PythonReferences.Root(value)} and calls it.");
    }

    private static bool LooksLikeDottedName(string text) =>
        text.Length > 0 && text.Length < 512 && text.Contains('.', StringComparison.Ordinal)
        && text.All(ch => ch == '.' || ch == '_' || char.IsLetterOrDigit(ch))
        && !char.IsDigit(text[0]) && text[0] != '.' && text[^1] != '.';
}
