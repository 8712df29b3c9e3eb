using System;

namespace ModelSecurity.Tests;

/// <summary>
/// How long a test lets hostile input run before calling it a hang. Guards catch hangs and
/// quadratic blow-ups (hours), not slowness: speed is measured by the benchmarks under bench/, and a
/// loaded CI machine must not fail a correct reader.
/// </summary>
internal static class HangGuard
{
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);
}
