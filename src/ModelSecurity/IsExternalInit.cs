namespace System.Runtime.CompilerServices;

/// <summary>Lets netstandard2.0 code use C# <c>init</c> accessors (the type ships only with .NET 5+).</summary>
internal static class IsExternalInit
{
}
