using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.Json;
using ModelSecurity.Analysis;
using ModelSecurity.Formats.Protobuf;

namespace ModelSecurity.Formats.TensorFlow;

/// <summary>
/// The side files of a SavedModel folder: <c>fingerprint.pb</c> (hashes, no code),
/// <c>keras_metadata.pb</c> (the Keras JSON config of every layer, which Keras turns back into
/// objects — handed to <see cref="KerasConfigAnalysis"/>) and <c>variables/variables.index</c> (a
/// LevelDB-style table naming the checkpoint's tensors; no code).
/// </summary>
internal sealed class TensorFlowMetadataReader : IModelReader
{
    private const int MaxJsonBytes = 32 * 1024 * 1024;
    private const int MaxListed = 32;

    public void Read(ReadContext context)
    {
        string kind = context.Match.Metadata.FirstOrDefault(p => p.Key == "TensorFlowFile").Value as string ?? string.Empty;
        CheckBelongsToSavedModel(context, kind);
        try
        {
            switch (kind)
            {
                case "Fingerprint":
                    ReadFingerprint(context);
                    break;
                case "KerasMetadata":
                    ReadKerasMetadata(context);
                    break;
                default:
                    CheckpointIndex.Read(context);
                    break;
            }
        }
        catch (ProtobufFormatException e)
        {
            context.Report(RuleIds.TensorFlowMalformed, $"The {kind} protobuf is malformed: {e.Reason} (byte {e.Offset:N0}); TensorFlow would refuse it, and what follows was not checked.", $"byte {e.Offset}");
        }
    }

    /// <summary>
    /// fingerprint.pb, keras_metadata.pb and variables/variables.index are parts of a SavedModel: no
    /// loader reads one alone. On disk without saved_model.pb beside them, the model they belong to was
    /// not scanned, so the part cannot vouch for it.
    /// </summary>
    private static void CheckBelongsToSavedModel(ReadContext context, string kind)
    {
        if (context.Member is not null || context.Scan.FilePath is null)
        {
            return;
        }

        string? folder = System.IO.Path.GetDirectoryName(context.Scan.FilePath);
        if (folder is not null && kind != "Fingerprint" && kind != "KerasMetadata"
            && string.Equals(System.IO.Path.GetFileName(folder), "variables", StringComparison.Ordinal))
        {
            folder = System.IO.Path.GetDirectoryName(folder);
        }

        if (folder is null || System.IO.File.Exists(System.IO.Path.Combine(folder, "saved_model.pb")) || System.IO.File.Exists(System.IO.Path.Combine(folder, "saved_model.pbtxt")))
        {
            return;
        }

        context.Report(
            RuleIds.SavedModelIncomplete,
            $"This is part of a TensorFlow SavedModel ({kind}), but no saved_model.pb is where TensorFlow would look for it. The graph that decides what the model runs was not scanned with it; scan the whole SavedModel folder.");
    }

    /// <summary>FingerprintDef: 1 saved_model_checksum, 2 graph_def_program_hash, 3 signature_def_hash, 4 saved_object_graph_hash, 5 checkpoint_hash.</summary>
    private static void ReadFingerprint(ReadContext context)
    {
        var r = new ProtobufReader(context.Source, 0, context.Source.Length);
        string[] names = { "SavedModelChecksum", "GraphDefProgramHash", "SignatureDefHash", "SavedObjectGraphHash", "CheckpointHash" };
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        bool version = false;
        r.ReadFields((f, w) =>
        {
            version |= f == 6;
            if (f is >= 1 and <= 5 && w == ProtobufWire.Varint)
            {
                values[names[f - 1]] = r.ReadVarint().ToString("x16", CultureInfo.InvariantCulture);
                return true;
            }

            return false;
        });
        if (!version)
        {
            // TensorFlow writes the VersionDef (6) last: without it the file was cut short or hand-made.
            context.Report(RuleIds.TensorFlowMalformed, "The fingerprint has no version field, which TensorFlow writes last: the file looks cut short.");
        }

        if (context.Member is null)
        {
            foreach (string name in names.Where(values.ContainsKey))
            {
                context.Scan.Metadata[name] = values[name];
            }
        }
    }

    /// <summary>SavedMetadata: 1 nodes (SavedObject: 3 node_path, 4 identifier, 5 metadata JSON).</summary>
    private static void ReadKerasMetadata(ReadContext context)
    {
        var r = new ProtobufReader(context.Source, 0, context.Source.Length);
        var identifiers = new SortedSet<string>(StringComparer.Ordinal);
        long objects = 0;
        string? modelClass = null;
        r.ReadFields((f, w) =>
        {
            if (f != 1 || w != ProtobufWire.LengthDelimited)
            {
                return false;
            }

            objects++;
            return r.ReadMessage(() =>
            {
                string path = string.Empty;
                string identifier = string.Empty;
                string? json = null;
                r.ReadFields((of, ow) =>
                {
                    if (ow != ProtobufWire.LengthDelimited)
                    {
                        return false;
                    }

                    switch (of)
                    {
                        case 3:
                            path = r.ReadString(512);
                            return true;
                        case 4:
                            identifier = r.ReadString(128);
                            return true;
                        case 5:
                            byte[] bytes = r.ReadBytes(MaxJsonBytes, out long length);
                            if (length > MaxJsonBytes)
                            {
                                context.Report(RuleIds.FormatNotAnalysed, $"A Keras config of {length:N0} bytes is more than the {MaxJsonBytes:N0} this version reads, so it was not checked.", $"node \"{path}\"");
                                return true;
                            }

                            json = Encoding.UTF8.GetString(bytes);
                            return true;
                        default:
                            return false;
                    }
                });

                if (identifiers.Count < MaxListed && identifier.Length > 0)
                {
                    identifiers.Add(identifier);
                }

                if (json is not null)
                {
                    string location = $"node \"{path}\" ({identifier})";
                    modelClass ??= path == "root" ? ClassName(json) : null;
                    KerasConfigAnalysis.Analyze(context, json, location);
                }
            });
        });

        if (context.Member is null)
        {
            context.Scan.Metadata["KerasObjectCount"] = objects;
            context.Scan.Metadata["KerasIdentifiers"] = identifiers.ToArray();
            if (modelClass is not null)
            {
                context.Scan.Metadata["KerasModelClass"] = modelClass;
            }
        }
    }

    private static string? ClassName(string json)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256 });
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("class_name", out JsonElement name)
                && name.ValueKind == JsonValueKind.String
                ? name.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
