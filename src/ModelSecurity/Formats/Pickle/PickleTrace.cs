using System.Collections.Generic;

namespace ModelSecurity.Formats.Pickle;

/// <summary>One import the unpickler would perform (GLOBAL, STACK_GLOBAL, INST, or an EXT lookup).</summary>
internal sealed class PickleImport
{
    public PickleImport(string module, string name, string? writtenAs, long offset, string opcode)
    {
        Module = module;
        Name = name;
        WrittenAs = writtenAs;
        Offset = offset;
        Opcode = opcode;
    }

    /// <summary>Module after the Python 2 renames.</summary>
    public string Module { get; }

    /// <summary>Attribute name (dotted names are walked attribute by attribute).</summary>
    public string Name { get; }

    /// <summary>"module.name" as written in the pickle when a Python 2 rename changed it, else null.</summary>
    public string? WrittenAs { get; }

    public long Offset { get; }

    public string Opcode { get; }

    public string QualifiedName => $"{Module}.{Name}";
}

/// <summary>What kind of thing the machine noticed.</summary>
internal enum PickleEventKind
{
    /// <summary>STACK_GLOBAL whose module or name is not a constant string.</summary>
    DynamicGlobal,

    /// <summary>EXT1/2/4: a callable fetched from the copyreg registry by number.</summary>
    Extension,

    /// <summary>A call whose callable is not an imported global (the result of another call, a memo trick...).</summary>
    ComputedCall,

    /// <summary>BUILD on an imported object (sets attributes on a function, class or module).</summary>
    BuildOnGlobal,

    /// <summary>APPEND/SETITEM/ADDITEMS on an imported object.</summary>
    MutateGlobal,

    /// <summary>APPEND/SETITEM/ADDITEMS on an object built by a call (invokes its methods).</summary>
    ContainerOpOnObject,

    /// <summary>An opcode runs past the end of its FRAME, or a FRAME starts inside another: C and Python unpicklers disagree.</summary>
    FrameDivergence,

    /// <summary>PROTO after the first opcode.</summary>
    ProtoMidStream,

    /// <summary>The pickle breaks here; what came before still ran.</summary>
    Malformed,

    /// <summary>The bytes end before STOP.</summary>
    Truncated,

    /// <summary>A resource limit stopped the analysis.</summary>
    LimitReached,

    /// <summary>A persistent id (PERSID/BINPERSID); plain pickle.load refuses them, PyTorch resolves storages.</summary>
    PersistentId,

    /// <summary>Out-of-band buffer opcodes (protocol 5).</summary>
    OutOfBandBuffer,

    /// <summary>Bytes after the last pickle that are not a pickle.</summary>
    TrailingBytes,

    /// <summary>Another pickle after the first one in the same stream.</summary>
    AdditionalPickle,

    /// <summary>A byte string in the data that is itself a pickle.</summary>
    EmbeddedPickle,

    /// <summary>A string in the data that holds Python source or a shell command.</summary>
    CodeText,
}

/// <summary>Something the machine noticed at an offset.</summary>
internal sealed class PickleEvent
{
    public PickleEvent(PickleEventKind kind, long offset, string detail, PickleValue? value = null)
    {
        Kind = kind;
        Offset = offset;
        Detail = detail;
        Value = value;
    }

    public PickleEventKind Kind { get; }

    public long Offset { get; }

    public string Detail { get; }

    /// <summary>The value concerned (the callee, the target object, the embedded bytes...).</summary>
    public PickleValue? Value { get; }

    /// <summary>For <see cref="PickleEventKind.EmbeddedPickle"/>: payload offset and length in the file.</summary>
    public long DataOffset { get; init; } = -1;

    public long DataLength { get; init; }

    /// <summary>For <see cref="PickleEventKind.EmbeddedPickle"/>: "raw", "base64" or "hex".</summary>
    public string Encoding { get; init; } = "raw";
}

/// <summary>Everything a static run over a pickle stream saw.</summary>
internal sealed class PickleTrace
{
    public List<PickleImport> Imports { get; } = new();

    /// <summary>Every call made, as the Object value it produced (callee and arguments inside).</summary>
    public List<PickleValue> Calls { get; } = new();

    public List<PickleEvent> Events { get; } = new();

    /// <summary>Pickles started in the stream (complete or not).</summary>
    public int Pickles { get; set; }

    /// <summary>Highest PROTO seen (0 when none).</summary>
    public int Protocol { get; set; }

    /// <summary>True when every pickle started reached STOP.</summary>
    public bool Complete { get; set; } = true;

    /// <summary>Offset just past the last byte the machine consumed.</summary>
    public long EndOffset { get; set; }

    /// <summary>Opcodes executed.</summary>
    public long Operations { get; set; }
}
