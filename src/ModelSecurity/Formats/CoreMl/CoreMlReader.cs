using System;
using System.Collections.Generic;
using System.Linq;
using ModelSecurity.Analysis;
using ModelSecurity.Formats.Protobuf;

namespace ModelSecurity.Formats.CoreMl;

/// <summary>
/// Core ML <c>.mlmodel</c> files (apple/coremltools <c>mlmodel/format/Model.proto</c>): the
/// specification version, the model type, the description's metadata, and whether the model (or a
/// pipeline member, or a neural-network layer) is custom — implemented by a class the app supplies.
/// Layers are walked for their custom parameters only; weights are skipped unread.
/// </summary>
internal sealed class CoreMlReader : IModelReader
{
    private const int MaxListed = 32;

    private static readonly Dictionary<int, string> ModelTypes = new()
    {
        [200] = "pipelineClassifier", [201] = "pipelineRegressor", [202] = "pipeline",
        [300] = "glmRegressor", [301] = "supportVectorRegressor", [302] = "treeEnsembleRegressor",
        [303] = "neuralNetworkRegressor", [304] = "bayesianProbitRegressor",
        [400] = "glmClassifier", [401] = "supportVectorClassifier", [402] = "treeEnsembleClassifier",
        [403] = "neuralNetworkClassifier", [404] = "kNearestNeighborsClassifier",
        [500] = "neuralNetwork", [501] = "itemSimilarityRecommender", [502] = "mlProgram",
        [555] = "customModel", [556] = "linkedModel", [560] = "classConfidenceThresholding",
        [600] = "oneHotEncoder", [601] = "imputer", [602] = "featureVectorizer", [603] = "dictVectorizer",
        [604] = "scaler", [606] = "categoricalMapping", [607] = "normalizer", [609] = "arrayFeatureExtractor",
        [610] = "nonMaximumSuppression",
        [2000] = "identity", [2001] = "textClassifier", [2002] = "wordTagger", [2003] = "visionFeaturePrint",
        [2004] = "soundAnalysisPreprocessing", [2005] = "gazetteer", [2006] = "wordEmbedding",
        [2007] = "audioFeaturePrint", [3000] = "serializedModel",
    };

    public void Read(ReadContext context)
    {
        var state = new State();
        var r = new ProtobufReader(context.Source, 0, context.Source.Length);
        bool complete = true;
        try
        {
            ReadModel(r, state, top: true);
        }
        catch (ProtobufFormatException e)
        {
            complete = false;
            context.Report(RuleIds.TensorFlowMalformed, $"The Core ML protobuf is malformed: {e.Reason} (byte {e.Offset:N0}); Core ML would refuse it, and what follows was not checked.", $"byte {e.Offset}");
        }

        if (complete && state.ModelType is null)
        {
            context.Report(RuleIds.TensorFlowMalformed, "The Core ML specification has no model (no model type field): Core ML refuses it. A file cut short looks like this.");
        }

        if (state.Custom.Count > 0)
        {
            context.Report(
                RuleIds.CustomOperatorNeedsHostCode,
                $"The model needs code the app supplies: {string.Join("; ", state.Custom)}{(state.CustomTotal > MaxListed ? $"; and {state.CustomTotal - MaxListed} more" : string.Empty)}.");
        }

        if (context.Member is null)
        {
            var m = context.Scan.Metadata;
            if (state.SpecificationVersion is not null)
            {
                m["CoreMLSpecificationVersion"] = (long)state.SpecificationVersion.Value;
            }

            if (state.ModelType is not null)
            {
                m["ModelType"] = state.ModelType;
            }

            foreach (KeyValuePair<string, string> item in state.Description)
            {
                m[item.Key] = item.Value;
            }

            if (state.UserDefined.Count > 0)
            {
                m["UserDefinedMetadataKeys"] = state.UserDefined.ToArray();
            }
        }
    }

    private static void ReadModel(ProtobufReader r, State state, bool top)
    {
        r.ReadFields((f, w) =>
        {
            if (top && f == 1 && w == ProtobufWire.Varint)
            {
                state.SpecificationVersion = r.ReadVarint();
                return true;
            }

            if (w != ProtobufWire.LengthDelimited)
            {
                return false;
            }

            if (top && f == 2)
            {
                return r.ReadMessage(() => ReadDescription(r, state));
            }

            if (!ModelTypes.TryGetValue(f, out string? type))
            {
                return false;
            }

            if (top)
            {
                state.ModelType = type;
            }

            switch (f)
            {
                case 555:
                    return r.ReadMessage(() => state.AddCustom($"customModel class \"{ClassName(r)}\""));
                case 200 or 201 or 202:
                    return r.ReadMessage(() => ReadPipeline(r, state, f));
                case 303 or 403 or 500:
                    return r.ReadMessage(() => ReadNeuralNetwork(r, state));
                default:
                    return false;
            }
        });
    }

    /// <summary>Pipeline: 1 models. PipelineClassifier/Regressor: 1 pipeline.</summary>
    private static void ReadPipeline(ProtobufReader r, State state, int type) =>
        r.ReadFields((f, w) => f == 1 && w == ProtobufWire.LengthDelimited && r.ReadMessage(() =>
        {
            if (type == 202)
            {
                ReadModel(r, state, top: false);
            }
            else
            {
                ReadPipeline(r, state, 202);
            }
        }));

    /// <summary>NeuralNetwork*: 1 layers (NeuralNetworkLayer: 1 name, 500 custom: CustomLayerParams 10 className).</summary>
    private static void ReadNeuralNetwork(ProtobufReader r, State state) =>
        r.ReadFields((f, w) => f == 1 && w == ProtobufWire.LengthDelimited && r.ReadMessage(() =>
        {
            string name = string.Empty;
            r.ReadFields((lf, lw) =>
            {
                if (lf == 1 && lw == ProtobufWire.LengthDelimited)
                {
                    name = r.ReadString(256);
                    return true;
                }

                if (lf == 500 && lw == ProtobufWire.LengthDelimited)
                {
                    return r.ReadMessage(() => state.AddCustom($"custom layer \"{name}\" of class \"{ClassName(r)}\""));
                }

                return false;
            });
        }));

    /// <summary>CustomModel and CustomLayerParams both name their class in field 10.</summary>
    private static string ClassName(ProtobufReader r)
    {
        string name = string.Empty;
        r.ReadFields((f, w) =>
        {
            if (f == 10 && w == ProtobufWire.LengthDelimited)
            {
                name = r.ReadString(256);
                return true;
            }

            return false;
        });
        return name;
    }

    /// <summary>ModelDescription: 100 metadata (1 shortDescription, 2 versionString, 3 author, 4 license, 100 userDefined map).</summary>
    private static void ReadDescription(ProtobufReader r, State state) =>
        r.ReadFields((f, w) => f == 100 && w == ProtobufWire.LengthDelimited && r.ReadMessage(() => r.ReadFields((mf, mw) =>
        {
            if (mw != ProtobufWire.LengthDelimited)
            {
                return false;
            }

            string? key = mf switch { 1 => "ShortDescription", 2 => "VersionString", 3 => "Author", 4 => "License", _ => null };
            if (key is not null)
            {
                state.Description[key] = r.ReadString(512);
                return true;
            }

            if (mf == 100 && state.UserDefined.Count < MaxListed)
            {
                return r.ReadMessage(() => r.ReadFields((ef, ew) =>
                {
                    if (ef == 1 && ew == ProtobufWire.LengthDelimited)
                    {
                        state.UserDefined.Add(r.ReadString(128));
                        return true;
                    }

                    return false;
                }));
            }

            return false;
        })));

    private sealed class State
    {
        public ulong? SpecificationVersion { get; set; }

        public string? ModelType { get; set; }

        public Dictionary<string, string> Description { get; } = new(StringComparer.Ordinal);

        public List<string> UserDefined { get; } = new();

        public List<string> Custom { get; } = new();

        public int CustomTotal { get; private set; }

        public void AddCustom(string what)
        {
            if (++CustomTotal <= MaxListed)
            {
                Custom.Add(what);
            }
        }
    }
}
