namespace ModelSecurity;

/// <summary>
/// A module object that names one file (a scan result, and later inventory, hash and source
/// results). File-taking cmdlets accept these from the pipeline and use <see cref="Path"/> literally.
/// </summary>
public interface IModelFileReference
{
    /// <summary>Full file-system path of the file.</summary>
    string Path { get; }
}
