using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ModelSecurity.Integrity;

/// <summary>One file a checksum list names.</summary>
internal sealed record ChecksumEntry(string RelativePath, ModelHashAlgorithm Algorithm, string Value, long? Length);

/// <summary>
/// A list of files and their hashes, relative to the list's folder: this module's JSON manifest
/// (<c>modelsecurity-manifest/1</c>, written by <c>New-ModelManifest</c>), a GNU <c>sha256sum</c> /
/// <c>sha512sum</c> list (<c>&lt;hex&gt;  name</c>, <c>&lt;hex&gt; *name</c>, <c>SHA256SUMS</c>) or a BSD-style
/// list (<c>SHA256 (name) = &lt;hex&gt;</c>). Names that leave the folder (absolute, <c>..</c>) are refused.
/// </summary>
internal sealed class ChecksumList
{
    public const string ManifestFormat = "modelsecurity-manifest/1";
    public const string DefaultFileName = "modelsecurity-manifest.json";
    private const long MaxBytes = 64L * 1024 * 1024;
    private const int MaxEntries = 1_000_000;

    private static readonly Regex GnuLine = new(@"^\\?(?<hex>[0-9a-fA-F]{64}|[0-9a-fA-F]{128}) (?<mode>[ *])(?<name>.+)$", RegexOptions.CultureInvariant);
    private static readonly Regex BsdLine = new(@"^\\?(?<alg>SHA256|SHA512) \((?<name>.+)\) = (?<hex>[0-9a-fA-F]+)$", RegexOptions.CultureInvariant);

    private readonly Dictionary<string, ChecksumEntry> _entries;

    private ChecksumList(string path, string kind, Dictionary<string, ChecksumEntry> entries, List<string> problems)
    {
        FilePath = path;
        Folder = Path.GetDirectoryName(path) ?? ".";
        Kind = kind;
        _entries = entries;
        Problems = problems;
    }

    public string FilePath { get; }

    /// <summary>The folder names are relative to.</summary>
    public string Folder { get; }

    /// <summary>"JSON manifest" or "checksum list", for messages.</summary>
    public string Kind { get; }

    public IReadOnlyCollection<ChecksumEntry> Entries => _entries.Values;

    /// <summary>Lines or entries that were refused (bad hex, names leaving the folder).</summary>
    public IReadOnlyList<string> Problems { get; }

    /// <summary>Reads a list; <see cref="InvalidDataException"/> when it is neither format or too large.</summary>
    public static ChecksumList Load(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"The manifest '{path}' does not exist.", path);
        }

        if (info.Length > MaxBytes)
        {
            throw new InvalidDataException($"The manifest '{path}' is {info.Length:N0} bytes; manifests larger than {MaxBytes:N0} bytes are refused.");
        }

        byte[] bytes = File.ReadAllBytes(path);
        int start = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
        string text = new UTF8Encoding(false, false).GetString(bytes, start, bytes.Length - start);
        var entries = new Dictionary<string, ChecksumEntry>(StringComparer.Ordinal);
        var problems = new List<string>();
        if (text.TrimStart().StartsWith('{'))
        {
            ReadJson(path, text, entries, problems);
            return new ChecksumList(Path.GetFullPath(path), "JSON manifest", entries, problems);
        }

        int lineNumber = 0;
        foreach (string raw in text.Split('\n'))
        {
            lineNumber++;
            string line = raw.TrimEnd('\r');
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            Match gnu = GnuLine.Match(line);
            Match bsd = gnu.Success ? Match.Empty : BsdLine.Match(line);
            if (!gnu.Success && !bsd.Success)
            {
                problems.Add($"line {lineNumber}: not '<hex>  <name>' or 'SHA256 (<name>) = <hex>'");
                continue;
            }

            Match m = gnu.Success ? gnu : bsd;
            string hex = m.Groups["hex"].Value.ToLowerInvariant();
            ModelHashAlgorithm algorithm = hex.Length == 128 ? ModelHashAlgorithm.SHA512 : ModelHashAlgorithm.SHA256;
            if (bsd.Success && hex.Length != (bsd.Groups["alg"].Value == "SHA512" ? 128 : 64))
            {
                problems.Add($"line {lineNumber}: the hash does not have the length of {bsd.Groups["alg"].Value}");
                continue;
            }

            // GNU tools escape names holding a backslash or newline and mark the line with a leading backslash.
            string name = m.Groups["name"].Value;
            if (line.StartsWith('\\'))
            {
                name = name.Replace("\\n", "\n", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);
            }

            Add(entries, problems, $"line {lineNumber}", name, algorithm, hex, null);
        }

        if (entries.Count == 0 && problems.Count > 0)
        {
            throw new InvalidDataException($"The manifest '{path}' is neither a {ManifestFormat} JSON file nor a sha256sum list ({problems[0]}).");
        }

        return new ChecksumList(Path.GetFullPath(path), "checksum list", entries, problems);
    }

    /// <summary>The entry for <paramref name="filePath"/>, when it lies inside this list's folder and is listed.</summary>
    public ChecksumEntry? Find(string filePath)
    {
        string relative = Path.GetRelativePath(Folder, Path.GetFullPath(filePath));
        if (relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative))
        {
            return null;
        }

        return _entries.TryGetValue(relative.Replace('\\', '/'), out ChecksumEntry? entry) ? entry : null;
    }

    /// <summary>Writes this module's manifest for <paramref name="files"/> (relative path, size, digest), sorted by path.</summary>
    public static void Write(string path, ModelHashAlgorithm algorithm, IEnumerable<(string RelativePath, long Length, string Digest)> files, DateTimeOffset created)
    {
        string key = algorithm == ModelHashAlgorithm.SHA512 ? "sha512" : "sha256";
        string temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            {
                writer.WriteStartObject();
                writer.WriteString("format", ManifestFormat);
                writer.WriteString("algorithm", algorithm.ToString());
                writer.WriteString("created", created.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
                writer.WriteStartArray("files");
                foreach ((string relative, long length, string digest) in files.OrderBy(f => f.RelativePath, StringComparer.Ordinal))
                {
                    writer.WriteStartObject();
                    writer.WriteString("path", relative);
                    writer.WriteNumber("size", length);
                    writer.WriteString(key, digest);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }

    private static void ReadJson(string path, string text, Dictionary<string, ChecksumEntry> entries, List<string> problems)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 16 });
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("format", out JsonElement format)
                || format.ValueKind != JsonValueKind.String || format.GetString() != ManifestFormat)
            {
                throw new InvalidDataException($"The manifest '{path}' is JSON but not a {ManifestFormat} manifest (its \"format\" must be \"{ManifestFormat}\").");
            }

            if (!root.TryGetProperty("files", out JsonElement files) || files.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException($"The manifest '{path}' has no \"files\" array.");
            }

            int index = 0;
            foreach (JsonElement file in files.EnumerateArray())
            {
                index++;
                if (file.ValueKind != JsonValueKind.Object || !file.TryGetProperty("path", out JsonElement name) || name.ValueKind != JsonValueKind.String)
                {
                    problems.Add($"files[{index - 1}]: no \"path\"");
                    continue;
                }

                long? size = file.TryGetProperty("size", out JsonElement s) && s.TryGetInt64(out long n) && n >= 0 ? n : null;
                string? sha256 = file.TryGetProperty("sha256", out JsonElement a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
                string? sha512 = file.TryGetProperty("sha512", out JsonElement b) && b.ValueKind == JsonValueKind.String ? b.GetString() : null;
                (ModelHashAlgorithm algorithm, string? hex) = sha512 is not null ? (ModelHashAlgorithm.SHA512, sha512) : (ModelHashAlgorithm.SHA256, sha256);
                if (hex is null || hex.Length != algorithm.HexLength() || !hex.All(Uri.IsHexDigit))
                {
                    problems.Add($"files[{index - 1}] '{name.GetString()}': no valid \"sha256\" or \"sha512\"");
                    continue;
                }

                Add(entries, problems, $"files[{index - 1}]", name.GetString()!, algorithm, hex.ToLowerInvariant(), size);
            }
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The manifest '{path}' is not valid JSON ({e.Message}).", e);
        }
    }

    private static void Add(Dictionary<string, ChecksumEntry> entries, List<string> problems, string where, string name, ModelHashAlgorithm algorithm, string hex, long? size)
    {
        string normalised = name.Replace('\\', '/');
        while (normalised.StartsWith("./", StringComparison.Ordinal))
        {
            normalised = normalised.Substring(2);
        }

        string[] segments = normalised.Split('/');
        if (normalised.Length == 0 || normalised.StartsWith('/') || Path.IsPathRooted(name) || segments.Any(s => s is ".." or "." or "") || name.Contains('\0', StringComparison.Ordinal))
        {
            problems.Add($"{where}: the name '{name}' leaves the manifest's folder or is not a plain relative path; refused");
            return;
        }

        if (entries.Count >= MaxEntries)
        {
            problems.Add($"{where}: more than {MaxEntries:N0} entries; the rest are ignored");
            return;
        }

        if (!entries.TryAdd(normalised, new ChecksumEntry(normalised, algorithm, hex, size)))
        {
            problems.Add($"{where}: '{normalised}' is listed twice; the first entry is used");
        }
    }
}
