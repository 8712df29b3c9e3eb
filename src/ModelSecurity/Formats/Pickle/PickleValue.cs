using System.Collections.Generic;

namespace ModelSecurity.Formats.Pickle;

/// <summary>What a symbolic pickle value stands for.</summary>
internal enum PickleValueKind
{
    /// <summary>A value the machine cannot know statically (for example the result of a call).</summary>
    Unknown = 0,
    None,
    Bool,
    Int,
    Float,
    Str,
    Bytes,
    Tuple,
    List,
    Dict,
    Set,
    FrozenSet,

    /// <summary>An object fetched by GLOBAL, STACK_GLOBAL or INST: a module attribute (class, function...).</summary>
    Global,

    /// <summary>The result of calling something (REDUCE, NEWOBJ, NEWOBJ_EX, OBJ, INST).</summary>
    Object,

    /// <summary>The result of a persistent-id load (PyTorch storages).</summary>
    Persistent,

    /// <summary>An object fetched from the copyreg extension registry by code (EXT1/2/4).</summary>
    Extension,

    /// <summary>An out-of-band buffer (NEXT_BUFFER).</summary>
    Buffer,
}

/// <summary>
/// One value on the symbolic stack or in the memo. Nothing is ever executed: a call produces an
/// <see cref="PickleValueKind.Object"/> that remembers what was called with what.
/// </summary>
internal sealed class PickleValue
{
    public static readonly PickleValue NoneValue = new(PickleValueKind.None, -1);
    public static readonly PickleValue True = new(PickleValueKind.Bool, -1) { Int = 1 };
    public static readonly PickleValue False = new(PickleValueKind.Bool, -1) { Int = 0 };

    public PickleValue(PickleValueKind kind, long offset)
    {
        Kind = kind;
        Offset = offset;
    }

    public PickleValueKind Kind { get; }

    /// <summary>Byte offset of the opcode that made the value (-1 for shared constants).</summary>
    public long Offset { get; }

    /// <summary>Int and Bool value (when <see cref="IsBigInt"/> is false).</summary>
    public long Int { get; set; }

    /// <summary>An integer too large for 64 bits; <see cref="Int"/> is then meaningless.</summary>
    public bool IsBigInt { get; set; }

    /// <summary>Str text (possibly cut at <see cref="PickleMachine.MaxTextLength"/> characters).</summary>
    public string? Text { get; set; }

    /// <summary>Str and Bytes: file offset and length of the raw payload bytes (-1 when not raw, such as STRING lines).</summary>
    public long DataOffset { get; set; } = -1;

    /// <summary>Str and Bytes: payload length in bytes.</summary>
    public long Length { get; set; }

    /// <summary>Tuple, List, Set, FrozenSet items; Dict as key, value, key, value...</summary>
    public List<PickleValue>? Items { get; set; }

    /// <summary>Global: module after name mapping.</summary>
    public string? Module { get; set; }

    /// <summary>Global: attribute name (may be dotted).</summary>
    public string? Name { get; set; }

    /// <summary>Object: what was called.</summary>
    public PickleValue? Callee { get; set; }

    /// <summary>Object: the arguments (a tuple, or the OBJ/INST items as a tuple).</summary>
    public PickleValue? Arguments { get; set; }

    /// <summary>The state given by BUILD, if any.</summary>
    public PickleValue? State { get; set; }

    /// <summary>Extension: the copyreg code.</summary>
    public long Code { get; set; }

    /// <summary>The qualified name of a Global ("module.name").</summary>
    public string QualifiedName => $"{Module}.{Name}";

    /// <summary>The class or function an Object was made by, when it was a Global.</summary>
    public PickleValue? Constructor => Kind == PickleValueKind.Object && Callee is { Kind: PickleValueKind.Global } ? Callee : null;

    /// <summary>Looks up a string key in a Dict value.</summary>
    public PickleValue? Get(string key)
    {
        if (Kind != PickleValueKind.Dict || Items is null)
        {
            return null;
        }

        for (int i = 0; i + 1 < Items.Count; i += 2)
        {
            if (Items[i] is { Kind: PickleValueKind.Str } k && k.Text == key)
            {
                return Items[i + 1];
            }
        }

        return null;
    }

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        PickleValueKind.Global => QualifiedName,
        PickleValueKind.Str => $"'{Text}'",
        PickleValueKind.Int or PickleValueKind.Bool => IsBigInt ? "<big int>" : Int.ToString(System.Globalization.CultureInfo.InvariantCulture),
        PickleValueKind.Object => $"{Callee}(...)",
        _ => Kind.ToString(),
    };
}
