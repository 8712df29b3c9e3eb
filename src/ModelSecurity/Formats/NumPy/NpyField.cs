using System;
using System.Collections.Generic;

namespace ModelSecurity.Formats.NumPy;

/// <summary>
/// One field of a structured NumPy dtype, from a <c>.npy</c> header's list-of-tuples
/// <c>descr</c>: <c>(name, format)</c> or <c>(name, format, shape)</c>, where the name may be a
/// <c>(title, name)</c> pair and the format a type string, a nested field list or a
/// <c>(format, shape)</c> subarray.
/// </summary>
internal sealed class NpyField
{
    public NpyField(
        string name,
        string? title,
        string? descr,
        IReadOnlyList<NpyField>? fields,
        IReadOnlyList<long> shape,
        long itemSize,
        bool hasObject)
    {
        Name = name;
        Title = title;
        Descr = descr;
        Fields = fields;
        Shape = shape;
        ItemSize = itemSize;
        HasObject = hasObject;

        // numpy's descr_to_dtype drops a field named '' whose dtype is a plain void or any subarray
        // (its type is void too): the bytes it covers are alignment padding.
        IsPadding = name.Length == 0 && title is null && (shape.Count > 0 || (fields is null && descr is not null && NpyHeader.IsVoidDescr(descr)));
    }

    /// <summary>The field name; empty for padding.</summary>
    public string Name { get; }

    /// <summary>The title when the name was written as a <c>(title, name)</c> pair.</summary>
    public string? Title { get; }

    /// <summary>The type string (<c>'&lt;f4'</c>, <c>'|O'</c>...), or null when the field is itself structured.</summary>
    public string? Descr { get; }

    /// <summary>The nested fields of a structured field, or null.</summary>
    public IReadOnlyList<NpyField>? Fields { get; }

    /// <summary>The subarray shape (each element of the field is an array of this shape); empty for a scalar field.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>Bytes the field takes in each element, subarray included; -1 when unknown.</summary>
    public long ItemSize { get; }

    /// <summary>True when the field, or any field nested in it, holds Python objects.</summary>
    public bool HasObject { get; }

    /// <summary>True for a padding field (numpy ignores it but counts its bytes in the element size).</summary>
    public bool IsPadding { get; }

    public override string ToString()
    {
        string format = Descr ?? (Fields is null ? "?" : $"[{Fields.Count} fields]");
        string shape = Shape.Count == 0 ? string.Empty : $", ({string.Join(", ", Shape)}{(Shape.Count == 1 ? "," : string.Empty)})";
        return $"('{Name}', {format}{shape})";
    }

    internal static IReadOnlyList<long> NoShape { get; } = Array.Empty<long>();
}
