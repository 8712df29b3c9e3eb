using System.Collections.Generic;
using System.Text;

namespace ModelSecurity.Sandbox;

/// <summary>Picks the backend for a request; never falls back to running without isolation.</summary>
internal static class SandboxBackends
{
    public static ISandboxBackend Create(SandboxBackendKind kind) => kind switch
    {
        SandboxBackendKind.Bubblewrap => new BubblewrapBackend(),
        SandboxBackendKind.Docker => new OciBackend(SandboxBackendKind.Docker),
        SandboxBackendKind.Podman => new OciBackend(SandboxBackendKind.Podman),
        _ => throw new System.ArgumentOutOfRangeException(nameof(kind), kind, "Auto is not a backend."),
    };

    /// <summary>
    /// The requested backend when it works here; for Auto the first that works of Bubblewrap, then Podman and
    /// Docker (these two only when an image was given). Throws with every reason when none does.
    /// </summary>
    public static ISandboxBackend Select(SandboxBackendKind requested, string? image)
    {
        if (requested != SandboxBackendKind.Auto)
        {
            ISandboxBackend backend = Create(requested);
            string? problem = backend.Probe();
            if (problem is not null)
            {
                throw new SandboxUnavailableException($"The {requested} backend cannot run here: {problem} Nothing was run.");
            }

            return backend;
        }

        var reasons = new List<string>();
        foreach (SandboxBackendKind kind in new[] { SandboxBackendKind.Bubblewrap, SandboxBackendKind.Podman, SandboxBackendKind.Docker })
        {
            if (kind != SandboxBackendKind.Bubblewrap && string.IsNullOrEmpty(image))
            {
                reasons.Add($"{kind}: needs -Image.");
                continue;
            }

            ISandboxBackend backend = Create(kind);
            string? problem = backend.Probe();
            if (problem is null)
            {
                return backend;
            }

            reasons.Add($"{kind}: {problem}");
        }

        var message = new StringBuilder("No sandbox backend can run here, so nothing was run (Invoke-ModelSandbox never runs a program without isolation). ");
        message.Append("On Linux install bubblewrap (apt-get install bubblewrap); elsewhere install Docker or Podman and pass -Image. Details: ");
        message.Append(string.Join(" ", reasons));
        throw new SandboxUnavailableException(message.ToString());
    }
}
