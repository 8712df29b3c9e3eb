using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;

namespace ModelSecurity.Analysis;

/// <summary>
/// Walks a Keras model config (Keras 3 <c>config.json</c>, legacy HDF5 <c>model_config</c> and
/// <c>training_config</c>, <c>keras_metadata.pb</c>'s JSON) for what deserialisation turns into code:
/// Lambda layers and <c>__lambda__</c> objects (marshalled bytecode), <c>module</c> /
/// <c>class_name</c> / <c>registered_name</c> references that import something outside Keras'
/// own packages (CVE-2025-1550), Keras APIs that are not model parts (get_file, load_model,
/// enable_unsafe_deserialization: CVE-2025-8747, CVE-2025-9906), TorchModuleWrapper (torch.load of a
/// pickle, CVE-2025-49655) and lookup layers whose vocabulary is a file path. Bounded in size, depth
/// and nodes; a config that cannot be read is Inconclusive.
/// </summary>
internal static class KerasConfigAnalysis
{
    /// <summary>Largest config analysed, in characters.</summary>
    public const int MaxChars = 64 * 1024 * 1024;

    /// <summary>Deepest nesting walked (Keras nests models in models, but not hundreds deep).</summary>
    public const int MaxDepth = 200;

    /// <summary>JSON values walked before giving up.</summary>
    public const int MaxNodes = 4_000_000;

    // Keras' own packages: _retrieve_class_or_fn imports only these without registered custom objects.
    private static readonly string[] KerasPackages =
    {
        "keras", "keras_hub", "keras_cv", "keras_nlp", "keras_rs", "tf_keras", "tensorflow.keras", "tensorflow.python.keras",
    };

    // Keras APIs that do something other than build a model (saving_lib's NON_MODELING_APIS and kin).
    private static readonly HashSet<string> NonModelingNames = new(StringComparer.Ordinal)
    {
        "get_file", "load_model", "load_weights", "save_model", "save_weights", "enable_unsafe_deserialization",
        "load_img", "save_img", "text_dataset_from_directory", "image_dataset_from_directory",
        "audio_dataset_from_directory", "load_data", "set_backend", "export_saved_model",
    };

    private static readonly string[] NonModelingModules =
    {
        "keras.config", "keras.src.config", "keras.saving", "keras.src.saving", "keras.utils.file_utils", "keras.src.utils.file_utils",
        "keras.datasets", "keras.src.datasets", "keras.src.legacy.saving", "keras.models.load_model", "tf_keras.saving", "tensorflow.keras.saving",
    };

    private static readonly HashSet<string> LookupLayers = new(StringComparer.Ordinal)
    {
        "StringLookup", "IntegerLookup", "TextVectorization", "Hashing", "CategoryEncoding",
    };

    /// <summary>Analyses <paramref name="json"/>, reporting findings at <paramref name="location"/> (a member or attribute name).</summary>
    public static void Analyze(ReadContext context, string json, string location)
    {
        if (json is null || json.Length == 0)
        {
            return;
        }

        if (json.Length > MaxChars)
        {
            context.Report(RuleIds.KerasConfigUnreadable, $"The Keras config is {json.Length:N0} characters, more than the {MaxChars:N0} analysed, so its layers were not checked.", string.IsNullOrEmpty(location) ? null : location);
            return;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = MaxDepth + 8, AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            context.Report(RuleIds.KerasConfigUnreadable, $"The Keras config is not valid JSON (or nests deeper than {MaxDepth}): {e.Message}", string.IsNullOrEmpty(location) ? null : location);
            return;
        }

        using (document)
        {
            try
            {
                var walker = new Walker(context, location);
                walker.Visit(document.RootElement, "$", 0);
                walker.Finish(document.RootElement);
            }
            catch (InvalidOperationException e)
            {
                // JsonDocument checks a string's UTF-8 only when it is read.
                context.Report(RuleIds.KerasConfigUnreadable, $"The config holds text that is not valid UTF-8: {e.Message}", string.IsNullOrEmpty(location) ? null : location);
            }
        }
    }

    /// <summary>True when <paramref name="module"/> is one of Keras' own packages or a submodule.</summary>
    public static bool IsKerasModule(string module) => KerasPackages.Any(p => PythonReferences.InPackage(module, p));

    private sealed class Walker
    {
        private readonly ReadContext _context;
        private readonly string _location;
        private readonly CappedFindings _findings;
        private readonly HashSet<string> _reportedPaths = new(StringComparer.Ordinal);
        private int _nodes;
        private bool _stopped;
        private int _layers;
        private int _lambdas;

        public Walker(ReadContext context, string location)
        {
            _context = context;
            _location = location;
            _findings = new CappedFindings(context);
        }

        public void Visit(JsonElement element, string path, int depth)
        {
            if (_stopped)
            {
                return;
            }

            if (++_nodes > MaxNodes || depth > MaxDepth)
            {
                _stopped = true;
                _context.Report(
                    RuleIds.KerasConfigUnreadable,
                    _nodes > MaxNodes ? $"The Keras config has more than {MaxNodes:N0} values; the rest was not checked." : $"The Keras config nests deeper than {MaxDepth}; the rest was not checked.",
                    At(path));
                return;
            }

            _context.CancellationToken.ThrowIfCancellationRequested();
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    if (element.TryGetProperty("class_name", out JsonElement cls) && cls.ValueKind == JsonValueKind.String)
                    {
                        Inspect(element, cls.GetString()!, path);
                    }

                    foreach (JsonProperty property in element.EnumerateObject())
                    {
                        if (property.Name == "layers" && property.Value.ValueKind == JsonValueKind.Array)
                        {
                            _layers += property.Value.EnumerateArray().Count(l => l.ValueKind == JsonValueKind.Object);
                        }

                        Visit(property.Value, $"{path}.{property.Name}", depth + 1);
                    }

                    break;
                case JsonValueKind.Array:
                    int index = 0;
                    foreach (JsonElement item in element.EnumerateArray())
                    {
                        Visit(item, $"{path}[{index++}]", depth + 1);
                    }

                    break;
                case JsonValueKind.String:
                    string text = element.GetString()!;
                    if (text.EndsWith("enable_unsafe_deserialization", StringComparison.Ordinal) && !_reportedPaths.Contains(Parent(path)) && _reportedPaths.Add(path))
                    {
                        Report(RuleIds.KerasNonModelingApi, $"The config names {PythonReferences.Clip(text)}, which turns safe_mode off so that later Lambda layers run their bytecode (CVE-2025-9906).", path);
                    }

                    break;
            }
        }

        public void Finish(JsonElement root)
        {
            _findings.Flush("finding(s) of this kind in the config", string.IsNullOrEmpty(_location) ? null : _location);

            var metadata = _context.Scan.Metadata;
            if (root.ValueKind == JsonValueKind.Object)
            {
                if (root.TryGetProperty("class_name", out JsonElement cls) && cls.ValueKind == JsonValueKind.String && !metadata.Contains("KerasClassName"))
                {
                    metadata["KerasClassName"] = PythonReferences.Clip(cls.GetString()!);
                }

                if (root.TryGetProperty("keras_version", out JsonElement version) && version.ValueKind == JsonValueKind.String && !metadata.Contains("KerasVersion"))
                {
                    metadata["KerasVersion"] = PythonReferences.Clip(version.GetString()!, 40);
                }
            }

            if (_layers > 0 && !metadata.Contains("KerasLayerCount"))
            {
                metadata["KerasLayerCount"] = _layers;
            }

            if (_lambdas > 0 && !metadata.Contains("KerasLambdaLayerCount"))
            {
                metadata["KerasLambdaLayerCount"] = _lambdas;
            }
        }

        private void Inspect(JsonElement obj, string className, string path)
        {
            JsonElement config = obj.TryGetProperty("config", out JsonElement c) ? c : default;
            string? module = StringProperty(obj, "module");
            string? registered = StringProperty(obj, "registered_name");
            string layer = LayerName(config, className);

            if (className == "__lambda__")
            {
                if (_reportedPaths.Add(path))
                {
                    Report(RuleIds.KerasCode, $"A __lambda__ object{Within(path)} holds marshalled Python bytecode; Keras runs it through marshal.loads when the model is loaded with safe_mode off (CVE-2024-3660).", path);
                }

                return;
            }

            if (className is "Lambda" || registered is not null && registered.EndsWith(">Lambda", StringComparison.Ordinal))
            {
                _lambdas++;
                InspectLambda(config, layer, path);
            }
            else if (className == "TFOpLambda")
            {
                InspectTfOpLambda(config, layer, path);
            }

            if (className == "TorchModuleWrapper" || registered is not null && registered.EndsWith("TorchModuleWrapper", StringComparison.Ordinal))
            {
                Report(RuleIds.KerasTorchModule, $"{layer} is a TorchModuleWrapper: its from_config hands the saved module bytes to torch.load with weights_only=False, which unpickles them (CVE-2025-49655).", path);
            }

            if (LookupLayers.Contains(className) && config.ValueKind == JsonValueKind.Object)
            {
                foreach (string key in new[] { "vocabulary", "vocabulary_path", "stop_words" })
                {
                    if (config.TryGetProperty(key, out JsonElement vocabulary) && vocabulary.ValueKind == JsonValueKind.String && vocabulary.GetString()!.Length > 0)
                    {
                        Report(RuleIds.KerasExternalFile, $"{layer} ({className}) reads its {key} from the path '{PythonReferences.Clip(vocabulary.GetString()!)}' when the model is built: a file outside the model is read (or a URL fetched through tf.io.gfile).", $"{path}.config.{key}");
                    }
                }
            }

            // The name a reference resolves: serialised functions carry it in config ("builtins"/"function"/"relu").
            string name = className == "function" && config.ValueKind == JsonValueKind.String ? config.GetString()! : className;
            if (module is not null && module.Length > 0)
            {
                CheckReference(module, name, registered, layer, path);
            }
            else
            {
                CheckUnqualified(name, layer, path);
                if (registered is not null && registered.Contains('>', StringComparison.Ordinal))
                {
                    CheckRegistered(registered, layer, path);
                }
            }

            // Legacy Lambda and custom objects name their function's module next to it.
            if (config.ValueKind == JsonValueKind.Object && StringProperty(config, "fn_module") is { Length: > 0 } fnModule)
            {
                CheckReference(fnModule, StringProperty(config, "fn_name") ?? StringProperty(config, "function") ?? string.Empty, null, layer, $"{path}.config.fn_module");
            }
        }

        private void InspectLambda(JsonElement config, string layer, string path)
        {
            if (config.ValueKind != JsonValueKind.Object)
            {
                Report(RuleIds.KerasCode, $"{layer} is a Lambda layer, a layer whose purpose is to run a Python function saved with the model; its function could not be identified.", path);
                return;
            }

            string? functionType = StringProperty(config, "function_type");
            JsonElement function = config.TryGetProperty("function", out JsonElement f) ? f : default;
            string functionPath = $"{path}.config.function";
            switch (function.ValueKind)
            {
                case JsonValueKind.Array:
                    // tf.keras 2: [base64 marshal, defaults, closure] with function_type "lambda".
                    _reportedPaths.Add(functionPath);
                    Report(RuleIds.KerasCode, $"{layer} is a Lambda layer carrying marshalled Python bytecode (function_type '{functionType ?? "lambda"}'); legacy HDF5 loading ignores safe_mode for it (CVE-2024-3660, CVE-2025-9905).", functionPath);
                    return;
                case JsonValueKind.Object:
                    string? inner = StringProperty(function, "class_name");
                    if (inner == "__lambda__")
                    {
                        _reportedPaths.Add(functionPath);
                        Report(RuleIds.KerasCode, $"{layer} is a Lambda layer whose function is a __lambda__ object with marshalled Python bytecode, run when the model is loaded with safe_mode off (CVE-2024-3660, CVE-2025-9906).", functionPath);
                    }
                    else if (inner != "function")
                    {
                        Report(RuleIds.KerasCode, $"{layer} is a Lambda layer whose function is a '{PythonReferences.Clip(inner ?? "?")}' object rather than a named function: the layer exists to run Python code saved with the model.", functionPath);
                    }

                    // A named function ({"module": ..., "class_name": "function", "config": "name"}) is judged as a reference when it is visited.
                    return;
                case JsonValueKind.String:
                    string text = function.GetString()!;
                    if (functionType == "function" && IsDottedIdentifier(text))
                    {
                        string? fnModule = StringProperty(config, "module");
                        if (fnModule is { Length: > 0 })
                        {
                            CheckReference(fnModule, text, null, layer, functionPath);
                        }
                        else
                        {
                            Report(RuleIds.KerasCustomObject, $"{layer} is a Lambda layer calling the function '{PythonReferences.Clip(text)}', which the loading program must supply.", functionPath);
                        }

                        return;
                    }

                    Report(RuleIds.KerasCode, $"{layer} is a Lambda layer whose function is saved as code ('{PythonReferences.Clip(text, 80)}').", functionPath);
                    return;
                default:
                    Report(RuleIds.KerasCode, $"{layer} is a Lambda layer, a layer whose purpose is to run a Python function saved with the model; its function could not be identified.", path);
                    return;
            }
        }

        private void InspectTfOpLambda(JsonElement config, string layer, string path)
        {
            string? function = config.ValueKind == JsonValueKind.Object ? StringProperty(config, "function") : null;
            if (function is null)
            {
                return;
            }

            // TFOpLambda replays a TensorFlow API call by name; file, Python-callback and library ops are not model maths.
            bool dangerous = function.StartsWith("io.", StringComparison.Ordinal) || function.Contains("gfile", StringComparison.Ordinal)
                || function.Contains("py_func", StringComparison.Ordinal) || function.Contains("py_function", StringComparison.Ordinal)
                || function.Contains("numpy_function", StringComparison.Ordinal) || function.Contains("load_library", StringComparison.Ordinal)
                || function.Contains("load_op_library", StringComparison.Ordinal) || function.Contains("read_file", StringComparison.Ordinal)
                || function.Contains("write_file", StringComparison.Ordinal) || function.StartsWith("saved_model.", StringComparison.Ordinal);
            if (dangerous)
            {
                Report(RuleIds.KerasDangerousReference, $"{layer} is a TFOpLambda replaying tf.{PythonReferences.Clip(function)}, a TensorFlow call that reads or writes files, runs Python or loads native code.", $"{path}.config.function");
            }
        }

        private void CheckReference(string module, string name, string? registered, string layer, string path)
        {
            string? why = PythonReferences.Danger(module, name, out IReadOnlyList<string> refs);
            if (why is null && name.Contains('.', StringComparison.Ordinal))
            {
                (string m, string n) = PythonReferences.Split(name);
                why = PythonReferences.Danger(m, n, out refs);
            }

            string reference = name.Length > 0 ? $"{module}.{name}" : module;
            if (why is not null)
            {
                Report(RuleIds.KerasDangerousReference, $"{layer} references {PythonReferences.Clip(reference)}: {why}. Keras before 3.9 imports whatever module a config names, even in safe_mode (CVE-2025-1550).", path, refs);
                return;
            }

            if (IsKerasModule(module))
            {
                CheckNonModeling(module, name, layer, path);
                if (registered is not null && registered.Contains('>', StringComparison.Ordinal))
                {
                    CheckRegistered(registered, layer, path);
                }

                return;
            }

            if (module == "builtins")
            {
                // Keras 3 writes plain and registered functions as {"module": "builtins", "class_name": "function", "config": name}.
                return;
            }

            Report(RuleIds.KerasCustomObject, $"{layer} references {PythonReferences.Clip(reference)}, outside Keras' own packages: loading imports that module's code, or needs the loading program to supply the object.", path);
        }

        private void CheckUnqualified(string name, string layer, string path)
        {
            if (NonModelingNames.Contains(name))
            {
                Report(RuleIds.KerasNonModelingApi, $"{layer} names {name}, a Keras API that downloads, loads or saves files or changes how models are loaded, not a model part (CVE-2025-8747).", path);
                return;
            }

            if (name.Contains('.', StringComparison.Ordinal))
            {
                (string m, string n) = PythonReferences.Split(name);
                if (PythonReferences.Danger(m, n, out IReadOnlyList<string> refs) is { } why)
                {
                    Report(RuleIds.KerasDangerousReference, $"{layer} names {PythonReferences.Clip(name)}: {why}.", path, refs);
                }
            }
        }

        private void CheckNonModeling(string module, string name, string layer, string path)
        {
            bool nonModeling = NonModelingNames.Contains(name) || NonModelingModules.Any(m => PythonReferences.InPackage(module, m));
            if (!nonModeling)
            {
                return;
            }

            string cve = name == "enable_unsafe_deserialization" || module.Contains("config", StringComparison.Ordinal) ? "CVE-2025-9906" : "CVE-2025-8747";
            _reportedPaths.Add(path);
            Report(RuleIds.KerasNonModelingApi, $"{layer} references {PythonReferences.Clip(module + "." + name)}, a Keras API that downloads, loads or saves files or changes how models are loaded, not a model part ({cve}).", path);
        }

        private void CheckRegistered(string registered, string layer, string path)
        {
            string package = registered.Substring(0, registered.IndexOf('>', StringComparison.Ordinal));
            if (IsKerasModule(package))
            {
                return;
            }

            Report(RuleIds.KerasCustomObject, $"{layer} is the registered custom object '{PythonReferences.Clip(registered)}': its code is not in the file, and the loading program must supply it.", path);
        }

        private string At(string path) => string.IsNullOrEmpty(_location) ? path : $"{_location}, {path}";

        private void Report(string rule, string detail, string path, IEnumerable<string>? references = null)
        {
            _findings.Report(rule, detail, At(path), references);
        }

        private static string Parent(string path)
        {
            int cut = Math.Max(path.LastIndexOf('.'), path.LastIndexOf('['));
            return cut <= 0 ? path : path.Substring(0, cut);
        }

        private static string Within(string path) => path.Contains(".layers[", StringComparison.Ordinal) ? " in a layer" : string.Empty;

        private static string LayerName(JsonElement config, string className)
        {
            string? name = config.ValueKind == JsonValueKind.Object ? StringProperty(config, "name") : null;
            return name is null ? $"A {PythonReferences.Clip(className, 60)} object" : $"Layer '{PythonReferences.Clip(name, 60)}'";
        }

        private static string? StringProperty(JsonElement obj, string name) =>
            obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

        private static bool IsDottedIdentifier(string text) =>
            text.Length > 0 && text.Length < 256 && text.All(ch => ch == '.' || ch == '_' || char.IsLetterOrDigit(ch))
            && !char.IsDigit(text[0]) && !text.Contains("..", StringComparison.Ordinal);
    }
}
