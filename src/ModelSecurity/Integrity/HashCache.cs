using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace ModelSecurity.Integrity;

/// <summary>
/// Digests of files already hashed, kept in <c>hash-cache.json</c> under the user's cache folder so
/// that re-checking an unchanged model costs one <c>stat</c>. An entry is used only when the file's
/// <see cref="FileStamp"/> (resolved path, size, mtime, change time, file id) is exactly the one
/// recorded. The file is written atomically (temporary file, then rename); a damaged or foreign file
/// is ignored and replaced, never trusted.
/// </summary>
internal sealed class HashCache
{
    /// <summary>Overrides the cache folder (tests, shared build machines).</summary>
    public const string DirectoryVariable = "MODELSECURITY_CACHE_DIR";

    public const string FileName = "hash-cache.json";
    private const string Format = "modelsecurity-hash-cache/1";
    private const int MaxEntries = 200_000;
    private const long MaxFileBytes = 256L * 1024 * 1024;

    private static readonly Dictionary<string, HashCache> Instances = new(StringComparer.Ordinal);
    private static readonly object InstancesLock = new();

    private readonly object _lock = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private (long Length, long Ticks) _loadedFrom = (-1, -1);
    private bool _dirty;

    private HashCache(string folder)
    {
        Folder = folder;
        FilePath = Path.Combine(folder, FileName);
    }

    public string Folder { get; }

    public string FilePath { get; }

    /// <summary>The cache of this user (or of <c>MODELSECURITY_CACHE_DIR</c>), shared by every call in this process.</summary>
    public static HashCache Open(string? folder = null)
    {
        folder = Path.GetFullPath(folder ?? DefaultFolder());
        lock (InstancesLock)
        {
            if (!Instances.TryGetValue(folder, out HashCache? cache))
            {
                cache = new HashCache(folder);
                Instances[folder] = cache;
            }

            cache.Refresh();
            return cache;
        }
    }

    /// <summary>
    /// A cache of its own on <paramref name="folder"/>, not shared with <see cref="Open"/>: what another
    /// process that uses the same file has (tests of concurrent writers).
    /// </summary>
    internal static HashCache OpenUnshared(string folder)
    {
        var cache = new HashCache(Path.GetFullPath(folder));
        cache.Refresh();
        return cache;
    }

    /// <summary>Where the cache lives on this OS.</summary>
    public static string DefaultFolder()
    {
        string? overridden = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (!string.IsNullOrWhiteSpace(overridden))
        {
            return overridden;
        }

        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (OperatingSystem.IsWindows())
        {
            string local = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
            return Path.Combine(string.IsNullOrEmpty(local) ? Path.Combine(home, "AppData", "Local") : local, "ModelSecurity");
        }

        if (OperatingSystem.IsMacOS())
        {
            return Path.Combine(home, "Library", "Caches", "ModelSecurity");
        }

        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        return Path.Combine(string.IsNullOrWhiteSpace(xdg) ? Path.Combine(home, ".cache") : xdg, "ModelSecurity");
    }

    /// <summary>The digests recorded for exactly this stamp, when they include every kind asked for.</summary>
    public FileDigests? TryGet(FileStamp stamp, DigestKinds kinds)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(stamp.Path, out Entry? entry) || !entry.Matches(stamp))
            {
                return null;
            }

            var digests = new FileDigests(entry.Length) { Sha256 = entry.Sha256, Sha512 = entry.Sha512, GitBlobSha1 = entry.GitBlobSha1, FromCache = true };
            return digests.Has(kinds) ? digests : null;
        }
    }

    /// <summary>Records digests computed for a stamp taken before the file was read.</summary>
    public void Put(FileStamp stamp, FileDigests digests)
    {
        lock (_lock)
        {
            var entry = new Entry(stamp.Length, stamp.LastWriteTicks, stamp.ChangeTicks, stamp.FileId, DateTime.UtcNow.Ticks);
            if (_entries.TryGetValue(stamp.Path, out Entry? old) && old.Matches(stamp))
            {
                // Same file: keep the digests of other kinds computed earlier.
                entry.Sha256 = old.Sha256;
                entry.Sha512 = old.Sha512;
                entry.GitBlobSha1 = old.GitBlobSha1;
            }

            entry.Sha256 = digests.Sha256 ?? entry.Sha256;
            entry.Sha512 = digests.Sha512 ?? entry.Sha512;
            entry.GitBlobSha1 = digests.GitBlobSha1 ?? entry.GitBlobSha1;
            _entries[stamp.Path] = entry;
            _dirty = true;
        }
    }

    /// <summary>Writes the cache if anything was added; failures cost only the cache, never the results.</summary>
    public void Save()
    {
        lock (_lock)
        {
            if (!_dirty)
            {
                return;
            }

            // Another process may have written since we read: keep its entries, ours win.
            foreach (KeyValuePair<string, Entry> pair in ReadFile())
            {
                if (!_entries.ContainsKey(pair.Key))
                {
                    _entries[pair.Key] = pair.Value;
                }
            }

            if (_entries.Count > MaxEntries)
            {
                foreach (string key in _entries.OrderBy(e => e.Value.Seen).Take(_entries.Count - MaxEntries).Select(e => e.Key).ToList())
                {
                    _entries.Remove(key);
                }
            }

            string temporary = FilePath + "." + Guid.NewGuid().ToString("N") + ".tmp";
            try
            {
                Directory.CreateDirectory(Folder);
                using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                using (var writer = new Utf8JsonWriter(stream))
                {
                    writer.WriteStartObject();
                    writer.WriteString("format", Format);
                    writer.WriteStartObject("entries");
                    foreach (KeyValuePair<string, Entry> pair in _entries)
                    {
                        writer.WriteStartObject(pair.Key);
                        pair.Value.Write(writer);
                        writer.WriteEndObject();
                    }

                    writer.WriteEndObject();
                    writer.WriteEndObject();
                }

                File.Move(temporary, FilePath, overwrite: true);
                var info = new FileInfo(FilePath);
                _loadedFrom = (info.Length, info.LastWriteTimeUtc.Ticks);
                _dirty = false;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                TryDelete(temporary);
            }
        }
    }

    /// <summary>Forgets every entry in memory (tests).</summary>
    internal void Clear()
    {
        lock (_lock)
        {
            _entries.Clear();
            _loadedFrom = (-1, -1);
        }
    }

    /// <summary>Reloads the file when another call or process has rewritten it.</summary>
    private void Refresh()
    {
        lock (_lock)
        {
            var info = new FileInfo(FilePath);
            (long, long) current = info.Exists ? (info.Length, info.LastWriteTimeUtc.Ticks) : (-1, -1);
            if (current == _loadedFrom)
            {
                return;
            }

            foreach (KeyValuePair<string, Entry> pair in ReadFile())
            {
                _entries[pair.Key] = pair.Value;
            }

            _loadedFrom = current;
        }
    }

    private Dictionary<string, Entry> ReadFile()
    {
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        try
        {
            var info = new FileInfo(FilePath);
            if (!info.Exists || info.Length > MaxFileBytes)
            {
                return entries;
            }

            using var stream = new FileStream(FilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using JsonDocument document = JsonDocument.Parse(stream, new JsonDocumentOptions { MaxDepth = 8 });
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("format", out JsonElement format) || format.ValueKind != JsonValueKind.String || format.GetString() != Format
                || !root.TryGetProperty("entries", out JsonElement list) || list.ValueKind != JsonValueKind.Object)
            {
                return entries;
            }

            foreach (JsonProperty property in list.EnumerateObject().Take(MaxEntries))
            {
                if (Entry.Read(property.Value) is Entry entry)
                {
                    entries[property.Name] = entry;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            // A damaged cache is an empty cache: everything is hashed again and the file rewritten.
            entries.Clear();
        }

        return entries;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left behind: a stray temporary file in the cache folder harms nothing.
        }
    }

    private sealed class Entry
    {
        public Entry(long length, long lastWrite, long change, string? fileId, long seen)
        {
            Length = length;
            LastWrite = lastWrite;
            Change = change;
            FileId = fileId;
            Seen = seen;
        }

        public long Length { get; }

        public long LastWrite { get; }

        public long Change { get; }

        public string? FileId { get; }

        public long Seen { get; }

        public string? Sha256 { get; set; }

        public string? Sha512 { get; set; }

        public string? GitBlobSha1 { get; set; }

        public bool Matches(FileStamp stamp) =>
            stamp.Length == Length && stamp.LastWriteTicks == LastWrite && stamp.ChangeTicks == Change && string.Equals(stamp.FileId, FileId, StringComparison.Ordinal);

        public static Entry? Read(JsonElement element)
        {
            if (element.ValueKind != JsonValueKind.Object
                || !Int64(element, "length", out long length) || !Int64(element, "mtime", out long mtime)
                || !Int64(element, "ctime", out long ctime) || !Int64(element, "seen", out long seen))
            {
                return null;
            }

            var entry = new Entry(length, mtime, ctime, Text(element, "id"), seen)
            {
                Sha256 = Hex(element, "sha256", 64),
                Sha512 = Hex(element, "sha512", 128),
                GitBlobSha1 = Hex(element, "gitsha1", 40),
            };
            return entry.Sha256 is null && entry.Sha512 is null && entry.GitBlobSha1 is null ? null : entry;
        }

        public void Write(Utf8JsonWriter writer)
        {
            writer.WriteNumber("length", Length);
            writer.WriteNumber("mtime", LastWrite);
            writer.WriteNumber("ctime", Change);
            writer.WriteNumber("seen", Seen);
            if (FileId is not null)
            {
                writer.WriteString("id", FileId);
            }

            WriteIf(writer, "sha256", Sha256);
            WriteIf(writer, "sha512", Sha512);
            WriteIf(writer, "gitsha1", GitBlobSha1);
        }

        private static void WriteIf(Utf8JsonWriter writer, string name, string? value)
        {
            if (value is not null)
            {
                writer.WriteString(name, value);
            }
        }

        private static bool Int64(JsonElement element, string name, out long value)
        {
            value = 0;
            return element.TryGetProperty(name, out JsonElement e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out value);
        }

        private static string? Text(JsonElement element, string name) =>
            element.TryGetProperty(name, out JsonElement e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;

        private static string? Hex(JsonElement element, string name, int length)
        {
            string? text = Text(element, name);
            return text is not null && text.Length == length && text.All(Uri.IsHexDigit) ? text.ToLowerInvariant() : null;
        }
    }
}
