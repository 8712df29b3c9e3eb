using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using ModelSecurity.Provenance;

namespace ModelSecurity.Integrity;

/// <summary>One result on its way: either ready, or waiting for its file's digests.</summary>
internal sealed class PendingCheck
{
    private readonly Task<FileDigests>? _digests;
    private readonly ModelHashResult? _ready;

    public PendingCheck(string path, HashReference? reference, ModelHashAlgorithm algorithm, string why, Task<FileDigests> digests)
    {
        Path = path;
        Reference = reference;
        Algorithm = algorithm;
        Why = why;
        _digests = digests;
    }

    public PendingCheck(ModelHashResult ready)
    {
        Path = ready.Path;
        Algorithm = ready.Algorithm;
        Why = ready.Detail;
        _ready = ready;
    }

    public string Path { get; }

    public HashReference? Reference { get; }

    public ModelHashAlgorithm Algorithm { get; }

    public string Why { get; }

    public bool IsCompleted => _ready is not null || _digests!.IsCompleted;

    /// <summary>Waits at most <paramref name="timeout"/>; cancellation surfaces as <see cref="OperationCanceledException"/>.</summary>
    public bool Wait(TimeSpan timeout, System.Threading.CancellationToken cancellation)
    {
        if (IsCompleted)
        {
            return true;
        }

        try
        {
            return _digests!.Wait((int)timeout.TotalMilliseconds, cancellation);
        }
        catch (AggregateException)
        {
            // Faulted: the fault is read by Complete.
            return true;
        }
    }

    /// <summary>The result; an unreadable file gives null and <paramref name="error"/>.</summary>
    public ModelHashResult? Complete(out Exception? error)
    {
        error = null;
        if (_ready is not null)
        {
            return _ready;
        }

        if (_digests!.IsCanceled)
        {
            throw new OperationCanceledException();
        }

        if (_digests.IsFaulted)
        {
            Exception cause = _digests.Exception!.GetBaseException();
            if (cause is FileNotFoundException or DirectoryNotFoundException)
            {
                // A snapshot link whose blob is gone, or a file deleted since it was listed.
                return new ModelHashResult(Path, Reference?.Algorithm ?? Algorithm, null, Reference?.Value, Reference?.Source ?? HashReferenceSource.None,
                    ModelHashStatus.Missing, 0, false, "the file does not exist: " + cause.Message);
            }

            error = cause;
            return null;
        }

        FileDigests digests = _digests.Result;
        ModelHashAlgorithm algorithm = Reference?.Algorithm ?? Algorithm;
        string? hash = digests.Get(algorithm);
        if (Reference is null)
        {
            return new ModelHashResult(Path, algorithm, hash, null, HashReferenceSource.None, ModelHashStatus.NoReference, digests.Length, digests.FromCache, Why);
        }

        bool match = string.Equals(hash, Reference.Value, StringComparison.Ordinal);
        string detail = match ? Reference.Detail : $"{Reference.Detail}; the file's {algorithm} differs: these are not the referenced bytes";
        return new ModelHashResult(Path, algorithm, hash, Reference.Value, Reference.Source, match ? ModelHashStatus.Match : ModelHashStatus.Mismatch,
            digests.Length, digests.FromCache, detail);
    }
}

/// <summary>
/// Turns files into checks: finds each file's reference, asks the scheduler for the digests that
/// reference needs, expands Ollama manifests into their layers (a named layer that is absent is
/// Missing), and for -ManifestPath alone, walks the manifest's folder for Missing and Unlisted files.
/// A path is checked once per run, however it was reached.
/// </summary>
internal sealed class HashVerifier
{
    private readonly ReferenceResolver _resolver;
    private readonly HashScheduler _scheduler;
    private readonly ModelHashAlgorithm _algorithm;
    private readonly bool _useCache;
    private readonly HashSet<string> _planned = new(RuntimeInformation.IsOSPlatform(OSPlatform.Linux) ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase);

    public HashVerifier(ReferenceResolver resolver, HashScheduler scheduler, ModelHashAlgorithm algorithm, bool useCache)
    {
        _resolver = resolver;
        _scheduler = scheduler;
        _algorithm = algorithm;
        _useCache = useCache;
    }

    /// <summary>Problems with Ollama manifests, for the caller to report (target, message).</summary>
    public List<(string Target, string Message)> ManifestProblems { get; } = new();

    /// <summary>The checks for one input file (an Ollama manifest gives one per layer it names).</summary>
    public IEnumerable<PendingCheck> Check(string file, CacheLocation? location = null)
    {
        location ??= ModelInventory.SafeIdentify(file);
        if (location is { Ecosystem: ModelEcosystem.Ollama, Kind: CacheItemKind.Manifest })
        {
            foreach (PendingCheck layer in CheckOllamaManifest(file, location))
            {
                yield return layer;
            }

            yield break;
        }

        if (_planned.Add(file))
        {
            yield return Plan(file, location);
        }
    }

    /// <summary>
    /// Every file a checksum list names (Missing when absent), then every other file in its folder
    /// (Unlisted; not hashed), bookkeeping included as New-ModelManifest includes it. The list file
    /// itself and its sidecar signature or checksum are left out.
    /// </summary>
    public IEnumerable<PendingCheck> CheckList(ChecksumList list, System.Threading.CancellationToken cancellation)
    {
        var listed = new HashSet<string>(_planned.Comparer);
        foreach (ChecksumEntry entry in list.Entries.OrderBy(e => e.RelativePath, StringComparer.Ordinal))
        {
            string path = Path.Combine(list.Folder, entry.RelativePath.Replace('/', Path.DirectorySeparatorChar));
            listed.Add(path);
            var reference = new HashReference(entry.Algorithm, entry.Value, HashReferenceSource.Manifest, $"listed as '{entry.RelativePath}' in {list.Kind} '{list.FilePath}'");
            if (!_planned.Add(path))
            {
                continue;
            }

            if (!File.Exists(path))
            {
                yield return new PendingCheck(new ModelHashResult(path, entry.Algorithm, null, entry.Value, HashReferenceSource.Manifest, ModelHashStatus.Missing, 0, false,
                    $"{reference.Detail}, but the file does not exist"));
                continue;
            }

            yield return new PendingCheck(path, reference, entry.Algorithm, reference.Detail, _scheduler.Hash(path, entry.Algorithm.ToKinds(), _useCache));
        }

        ModelHashAlgorithm algorithm = list.Entries.FirstOrDefault()?.Algorithm ?? _algorithm;
        foreach (string file in ModelInventory.Files(list.Folder, null, cancellation, everyFile: true))
        {
            if (listed.Contains(file) || file.StartsWith(list.FilePath, StringComparison.Ordinal) || !_planned.Add(file))
            {
                continue;
            }

            long length = 0;
            try
            {
                length = new FileInfo(file).Length;
            }
            catch (IOException)
            {
                length = 0;
            }

            yield return new PendingCheck(new ModelHashResult(file, algorithm, null, null, HashReferenceSource.Manifest, ModelHashStatus.Unlisted, length, false,
                $"in the folder of {list.Kind} '{list.FilePath}', which does not list it"));
        }
    }

    private PendingCheck Plan(string file, CacheLocation? location)
    {
        HashReference? reference = _resolver.Resolve(file, location, out string why);
        ModelHashAlgorithm algorithm = reference?.Algorithm ?? _algorithm;
        return new PendingCheck(file, reference, algorithm, why, _scheduler.Hash(file, algorithm.ToKinds(), _useCache));
    }

    private IEnumerable<PendingCheck> CheckOllamaManifest(string file, CacheLocation location)
    {
        string[] relative = Path.GetRelativePath(Path.Combine(location.CacheRoot, "manifests"), file).Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        if (relative.Length != 4 || !_planned.Add(file))
        {
            yield break;
        }

        OllamaManifest manifest = OllamaStore.Parse(file, relative[0], relative[1], relative[2], relative[3]);
        if (manifest.Error is not null)
        {
            ManifestProblems.Add((file, $"The Ollama manifest of {manifest.DisplayName} is damaged: {manifest.Error}."));
        }

        foreach (OllamaLayer layer in manifest.Blobs)
        {
            string blob = Path.Combine(location.CacheRoot, "blobs", layer.Digest.Replace(':', '-'));
            if (!_planned.Add(blob))
            {
                continue;
            }

            string hex = layer.Digest.Substring("sha256:".Length);
            string detail = $"Ollama manifest of {manifest.DisplayName} names this {(layer.MediaType.Length > 0 ? layer.MediaType : "layer")}";
            if (!File.Exists(blob))
            {
                yield return new PendingCheck(new ModelHashResult(blob, ModelHashAlgorithm.SHA256, null, hex, HashReferenceSource.OllamaManifest, ModelHashStatus.Missing, 0, false,
                    detail + ", but the blob does not exist: the model cannot be loaded as published"));
                continue;
            }

            var reference = new HashReference(ModelHashAlgorithm.SHA256, hex, HashReferenceSource.OllamaManifest, detail);
            yield return new PendingCheck(blob, reference, ModelHashAlgorithm.SHA256, detail, _scheduler.Hash(blob, DigestKinds.Sha256, _useCache));
        }
    }
}
