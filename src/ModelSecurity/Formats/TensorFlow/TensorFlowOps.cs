using System;
using System.Collections.Generic;

namespace ModelSecurity.Formats.TensorFlow;

/// <summary>What running an op can do to the machine, as far as the graph decides it.</summary>
internal enum OpRisk
{
    None,

    /// <summary>Reads, writes, lists or streams files, or sends tensors to another process or host.</summary>
    FileOrNetwork,

    /// <summary>Calls into Python or runs commands.</summary>
    Code,
}

/// <summary>
/// TensorFlow ops graded by what they reach outside the graph (tensorflow/core/ops; modelscan's
/// SavedModelTensorflowOpScan, ModelAudit's SUSPICIOUS_OPS). Arithmetic, variables and control flow
/// are not listed: they stay inside the process.
/// </summary>
internal static class TensorFlowOps
{
    private static readonly HashSet<string> Code = new(StringComparer.Ordinal)
    {
        // tf.py_function, tf.numpy_function and tf.compat.v1.py_func create these.
        "PyFunc", "PyFuncStateless", "EagerPyFunc",

        // Not TensorFlow ops: names peers list, registered only by a native op library that means them.
        "PyCall", "ShellExecute",
    };

    private static readonly HashSet<string> FileOrNetwork = new(StringComparer.Ordinal)
    {
        "ReadFile", "WriteFile", "MatchingFiles", "ImmutableConst",
        "Save", "SaveSlices", "SaveV2", "Restore", "RestoreSlice", "RestoreV2", "MergeV2Checkpoints", "LoadAndRemapMatrix",
        "WholeFileReader", "WholeFileReaderV2", "TextLineReader", "TextLineReaderV2", "TFRecordReader", "TFRecordReaderV2",
        "FixedLengthRecordReader", "FixedLengthRecordReaderV2", "LMDBReader",
        "TFRecordDataset", "TFRecordDatasetV2", "FixedLengthRecordDataset", "FixedLengthRecordDatasetV2", "TextLineDataset",
        "CSVDataset", "CSVDatasetV2", "ExperimentalCSVDataset", "SqlDataset", "ExperimentalSqlDataset", "LMDBDataset",
        "ExperimentalLMDBDataset", "SaveDataset", "SaveDatasetV2", "LoadDataset", "SnapshotDataset", "SnapshotDatasetV2",
        "SnapshotChunkDataset", "DistributedSave", "DataServiceDataset", "DataServiceDatasetV2", "DataServiceDatasetV3",
        "DataServiceDatasetV4", "RegisterDataset", "RegisterDatasetV2",
        "CreateSummaryFileWriter", "CreateSummaryDbWriter",
        "DebugIdentity", "DebugIdentityV2", "DebugIdentityV3", "DebugNanCount", "DebugNumericSummary", "DebugNumericSummaryV2",
        "InitializeTableFromTextFile", "InitializeTableFromTextFileV2",
    };

    /// <summary>The checkpoint ops of the save and restore functions every SavedModel and TF1 Saver graph has.</summary>
    private static readonly HashSet<string> Checkpoint = new(StringComparer.Ordinal)
    {
        "Save", "SaveSlices", "SaveV2", "Restore", "RestoreSlice", "RestoreV2", "MergeV2Checkpoints",
    };

    /// <summary>Ops that read a table's vocabulary file: the SavedModel assets pattern, reported only with a fixed escaping path.</summary>
    private static readonly HashSet<string> AssetReaders = new(StringComparer.Ordinal)
    {
        "InitializeTableFromTextFile", "InitializeTableFromTextFileV2",
    };

    public static OpRisk Risk(string op)
    {
        if (Code.Contains(op))
        {
            return OpRisk.Code;
        }

        return FileOrNetwork.Contains(op) ? OpRisk.FileOrNetwork : OpRisk.None;
    }

    public static bool IsCheckpointOp(string op) => Checkpoint.Contains(op);

    public static bool IsAssetReader(string op) => AssetReaders.Contains(op);

    /// <summary>
    /// True for the standard checkpoint functions: TF2's traced save and restore functions, and the
    /// "save/" scope (or "save_1/"...) tf.compat.v1.train.Saver builds.
    /// </summary>
    public static bool IsSaverScope(string function, string node)
    {
        if (function.StartsWith("__inference__traced_save", StringComparison.Ordinal)
            || function.StartsWith("__inference__traced_restore", StringComparison.Ordinal))
        {
            return true;
        }

        if (function.Length != 0)
        {
            return false;
        }

        int slash = node.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0)
        {
            return false;
        }

        string scope = node.Substring(0, slash);
        if (scope == "save")
        {
            return true;
        }

        return scope.StartsWith("save_", StringComparison.Ordinal) && scope.Length > 5 && IsDigits(scope.AsSpan(5));
    }

    private static bool IsDigits(ReadOnlySpan<char> text)
    {
        foreach (char c in text)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return true;
    }
}
