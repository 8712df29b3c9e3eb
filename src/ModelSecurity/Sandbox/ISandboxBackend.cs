namespace ModelSecurity.Sandbox;

/// <summary>One isolation technology: says whether it works here, and turns a request into a command line.</summary>
internal interface ISandboxBackend
{
    SandboxBackendKind Kind { get; }

    /// <summary>Null when the backend can run programs on this machine; otherwise why not and what to install.</summary>
    string? Probe();

    /// <summary>The command line that runs the request in isolation, and what it enforces.</summary>
    SandboxLaunch Prepare(SandboxRequest request);
}
