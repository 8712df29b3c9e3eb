using System;
using System.Collections.Generic;

namespace ModelSecurity.Formats.Onnx;

/// <summary>
/// The operators every ONNX runtime implements, by domain (onnx/onnx <c>docs/Operators.md</c> and
/// <c>docs/Operators-ml.md</c>, opsets up to 23, including operators since deprecated or removed,
/// which old models still use). A node outside these needs code the model does not carry: a custom
/// operator library registered by the host, which is native code run at load.
/// </summary>
internal static class OnnxOperators
{
    /// <summary>ONNX Runtime's own contrib domains: operators that ship inside the runtime, not loaded from elsewhere.</summary>
    public static readonly IReadOnlySet<string> RuntimeContribDomains = new HashSet<string>(StringComparer.Ordinal)
    {
        "com.microsoft", "com.microsoft.nchwc", "com.microsoft.internal.nhwc", "com.microsoft.experimental",
    };

    /// <summary>Operators that call back into Python in the runtimes that have them (ORT training, onnxruntime-extensions).</summary>
    public static readonly IReadOnlySet<string> PythonCallbacks = new HashSet<string>(StringComparer.Ordinal)
    {
        "PythonOp", "PythonOpGrad", "PyOp", "PyFunc",
    };

    private static readonly HashSet<string> Default = new(StringComparer.Ordinal)
    {
        "Abs", "Acos", "Acosh", "Add", "AffineGrid", "And", "ArgMax", "ArgMin", "Asin", "Asinh", "Atan", "Atanh",
        "Attention", "AveragePool", "BatchNormalization", "Bernoulli", "BitShift", "BitwiseAnd", "BitwiseNot",
        "BitwiseOr", "BitwiseXor", "BlackmanWindow", "Cast", "CastLike", "Ceil", "Celu", "CenterCropPad", "Clip",
        "Col2Im", "Compress", "Concat", "ConcatFromSequence", "Constant", "ConstantOfShape", "Conv", "ConvInteger",
        "ConvTranspose", "Cos", "Cosh", "CumSum", "DFT", "DeformConv", "DepthToSpace", "DequantizeLinear", "Det",
        "Div", "Dropout", "DynamicQuantizeLinear", "Einsum", "Elu", "Equal", "Erf", "Exp", "Expand", "EyeLike",
        "Flatten", "Floor", "GRU", "Gather", "GatherElements", "GatherND", "Gelu", "Gemm", "GlobalAveragePool",
        "GlobalLpPool", "GlobalMaxPool", "Greater", "GreaterOrEqual", "GridSample", "GroupNormalization",
        "HammingWindow", "HannWindow", "HardSigmoid", "HardSwish", "Hardmax", "Identity", "If", "ImageDecoder",
        "InstanceNormalization", "IsInf", "IsNaN", "LRN", "LSTM", "LayerNormalization", "LeakyRelu", "Less",
        "LessOrEqual", "Log", "LogSoftmax", "Loop", "LpNormalization", "LpPool", "MatMul", "MatMulInteger", "Max",
        "MaxPool", "MaxRoiPool", "MaxUnpool", "Mean", "MeanVarianceNormalization", "MelWeightMatrix", "Min", "Mish",
        "Mod", "Mul", "Multinomial", "Neg", "NegativeLogLikelihoodLoss", "NonMaxSuppression", "NonZero", "Not",
        "OneHot", "Optional", "OptionalGetElement", "OptionalHasElement", "Or", "PRelu", "Pad", "Pow", "QLinearConv",
        "QLinearMatMul", "QuantizeLinear", "RMSNormalization", "RNN", "RandomNormal", "RandomNormalLike",
        "RandomUniform", "RandomUniformLike", "Range", "Reciprocal", "ReduceL1", "ReduceL2", "ReduceLogSum",
        "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare",
        "RegexFullMatch", "Relu", "Reshape", "Resize", "ReverseSequence", "RoiAlign", "RotaryEmbedding", "Round",
        "STFT", "Scan", "Scatter", "ScatterElements", "ScatterND", "Selu", "SequenceAt", "SequenceConstruct",
        "SequenceEmpty", "SequenceErase", "SequenceInsert", "SequenceLength", "SequenceMap", "Shape", "Shrink",
        "Sigmoid", "Sign", "Sin", "Sinh", "Size", "Slice", "Softmax", "SoftmaxCrossEntropyLoss", "Softplus",
        "Softsign", "SpaceToDepth", "Split", "SplitToSequence", "Sqrt", "Squeeze", "StringConcat",
        "StringNormalizer", "StringSplit", "Sub", "Sum", "Swish", "Tan", "Tanh", "TensorScatter", "TfIdfVectorizer",
        "ThresholdedRelu", "Tile", "TopK", "Transpose", "Trilu", "Unique", "Unsqueeze", "Upsample", "Where", "Xor",

        // Experimental operators of the first opsets, removed in opset 10 but still in old model zoos.
        "ATen", "Affine", "ConstantFill", "Crop", "DynamicSlice", "GRUUnit", "GivenTensorFill", "ImageScaler",
        "ParametricSoftplus", "Scale", "ScaledTanh",
    };

    private static readonly HashSet<string> Ml = new(StringComparer.Ordinal)
    {
        "ArrayFeatureExtractor", "Binarizer", "CastMap", "CategoryMapper", "DictVectorizer", "FeatureVectorizer",
        "Imputer", "LabelEncoder", "LinearClassifier", "LinearRegressor", "Normalizer", "OneHotEncoder",
        "SVMClassifier", "SVMRegressor", "Scaler", "TreeEnsemble", "TreeEnsembleClassifier",
        "TreeEnsembleRegressor", "ZipMap",
    };

    private static readonly HashSet<string> Training = new(StringComparer.Ordinal)
    {
        "Adagrad", "Adam", "Gradient", "Momentum",
    };

    /// <summary>The standard operators of a standard domain, or null when the domain is not a standard one.</summary>
    public static IReadOnlySet<string>? Standard(string domain) => domain switch
    {
        "" or "ai.onnx" => Default,
        "ai.onnx.ml" => Ml,
        "ai.onnx.training" or "ai.onnx.preview.training" => Training,
        _ => null,
    };

    /// <summary>Shows "" as the default domain's name.</summary>
    public static string DomainName(string domain) => domain.Length == 0 ? "ai.onnx" : domain;
}
