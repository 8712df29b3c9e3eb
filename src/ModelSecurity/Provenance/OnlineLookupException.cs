using System;

namespace ModelSecurity.Provenance;

/// <summary>An online lookup that could not be done; <see cref="ErrorId"/> is the stable id the cmdlet reports.</summary>
public sealed class OnlineLookupException : Exception
{
    /// <summary>The registry could not be reached (offline, DNS, refused, timed out).</summary>
    public const string Unreachable = Commands.ErrorIds.OnlineUnavailable;

    /// <summary>The registry says the repository, model or tag does not exist.</summary>
    public const string NotFound = Commands.ErrorIds.OnlineNotFound;

    /// <summary>The registry refused access (gated, private, or authentication needed).</summary>
    public const string AccessDenied = Commands.ErrorIds.OnlineAccessDenied;

    /// <summary>The registry answered with something that is not what its API returns.</summary>
    public const string InvalidResponse = Commands.ErrorIds.OnlineInvalidResponse;

    /// <summary>Creates the exception.</summary>
    public OnlineLookupException(string errorId, string message, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
    }

    /// <summary>Creates the exception with a generic id.</summary>
    public OnlineLookupException()
        : this(InvalidResponse, "The online lookup failed.")
    {
    }

    /// <summary>Creates the exception with a generic id.</summary>
    public OnlineLookupException(string message)
        : this(InvalidResponse, message)
    {
    }

    /// <summary>Creates the exception with a generic id.</summary>
    public OnlineLookupException(string message, Exception inner)
        : this(InvalidResponse, message, inner)
    {
    }

    /// <summary>Stable error id (OnlineUnavailable, OnlineNotFound, OnlineAccessDenied, OnlineInvalidResponse).</summary>
    public string ErrorId { get; }
}
