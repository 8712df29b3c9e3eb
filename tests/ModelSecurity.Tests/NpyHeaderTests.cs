using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using ModelSecurity.Formats;
using ModelSecurity.Formats.NumPy;
using Xunit;

namespace ModelSecurity.Tests;

public class NpyHeaderTests
{
    private const string FloatHeader = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }";

    private static readonly Encoding Latin1 = Encoding.GetEncoding("ISO-8859-1");

    [Fact]
    public void Parse_FloatArray_ReadsEveryField()
    {
        NpyHeader header = Parse(Npy(FloatHeader, dataBytes: 48));

        Assert.Null(header.Error);
        Assert.Empty(header.Warnings);
        Assert.Equal(1, header.Major);
        Assert.Equal(0, header.Minor);
        Assert.Equal(118, header.HeaderLength);
        Assert.Equal(128, header.DataOffset);
        Assert.Equal("<f4", header.Descr);
        Assert.Null(header.Fields);
        Assert.Empty(header.SubarrayShape);
        Assert.False(header.FortranOrder);
        Assert.Equal(new long[] { 3, 4 }, header.Shape);
        Assert.False(header.HasObject);
        Assert.Equal(4, header.ItemSize);
        Assert.Equal(48, header.DataBytes);
    }

    [Theory]
    [InlineData("|O")]
    [InlineData("|O8")]
    [InlineData("O")]
    [InlineData("object")]
    [InlineData("|T")]
    public void Parse_ObjectDescr_SetsHasObject(string descr)
    {
        NpyHeader header = Parse(Npy($"{{'descr': '{descr}', 'fortran_order': False, 'shape': (4,), }}", dataBytes: 30));

        Assert.Null(header.Error);
        Assert.True(header.HasObject);
        Assert.Equal(descr, header.Descr);
        Assert.Equal(new long[] { 4 }, header.Shape);

        // The data of an object array is a pickle: its length says nothing.
        Assert.DoesNotContain(header.Warnings, w => w.Contains("follow", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_ScalarShape_DataIsOneItem()
    {
        NpyHeader header = Parse(Npy("{'descr': '<i8', 'fortran_order': False, 'shape': (), }", dataBytes: 8));

        Assert.Null(header.Error);
        Assert.Empty(header.Shape);
        Assert.Equal(8, header.DataBytes);
    }

    [Fact]
    public void Parse_ZeroDimension_DataIsEmpty()
    {
        NpyHeader header = Parse(Npy("{'descr': '<f8', 'fortran_order': True, 'shape': (5, 0, 7), }"));

        Assert.Null(header.Error);
        Assert.True(header.FortranOrder);
        Assert.Equal(0, header.DataBytes);
        Assert.Empty(header.Warnings);
    }

    [Fact]
    public void Parse_StructuredDescr_ReadsFieldsAndSumsItemSize()
    {
        const string descr = "[('a', '<i4'), ('', '|V4'), ('b', '<f8', (2, 3)), (('Title', 'c'), '|S5')]";
        NpyHeader header = Parse(Npy($"{{'descr': {descr}, 'fortran_order': False, 'shape': (2,), }}", dataBytes: 122));

        Assert.Null(header.Error);
        Assert.Null(header.Descr);
        Assert.NotNull(header.Fields);
        IReadOnlyList<NpyField> fields = header.Fields!;
        Assert.Equal("a||b|c", string.Join("|", fields.Select(f => f.Name)));
        Assert.Equal(1, fields.Count(f => f.IsPadding));
        Assert.True(fields[1].IsPadding);
        Assert.Equal(new long[] { 2, 3 }, fields[2].Shape);
        Assert.Equal(48, fields[2].ItemSize);
        Assert.Equal("Title", fields[3].Title);
        Assert.Equal("|S5", fields[3].Descr);
        Assert.Equal(4 + 4 + 48 + 5, header.ItemSize);
        Assert.Equal(122, header.DataBytes);
        Assert.False(header.HasObject);
        Assert.Empty(header.Warnings);
    }

    [Fact]
    public void Parse_NestedStructuredObject_SetsHasObject()
    {
        const string descr = "[('x', '<f4'), ('y', [('z', [('w', '|O')]), ('v', '<i2')], (3,))]";
        NpyHeader header = Parse(Npy($"{{'descr': {descr}, 'fortran_order': False, 'shape': (1,), }}"));

        Assert.Null(header.Error);
        Assert.True(header.HasObject);
        NpyField y = header.Fields![1];
        Assert.True(y.HasObject);
        Assert.Null(y.Descr);
        Assert.Equal(new long[] { 3 }, y.Shape);
        Assert.Equal((8 + 2) * 3, y.ItemSize);
        Assert.True(y.Fields![0].Fields![0].HasObject);
        Assert.False(header.Fields[0].HasObject);
    }

    [Fact]
    public void Parse_FieldNamesSpellingObject_DoNotSetHasObject()
    {
        NpyHeader header = Parse(Npy("{'descr': [('Object', '<f4'), ('Time', '<i8')], 'fortran_order': False, 'shape': (1,), }", dataBytes: 12));

        Assert.Null(header.Error);
        Assert.False(header.HasObject);
        Assert.Equal(12, header.ItemSize);
    }

    [Fact]
    public void Parse_SubarrayDescr_MultipliesItemSize()
    {
        NpyHeader header = Parse(Npy("{'descr': ('<f4', (2, 5)), 'fortran_order': False, 'shape': (3,), }", dataBytes: 120));

        Assert.Null(header.Error);
        Assert.Equal("<f4", header.Descr);
        Assert.Equal(new long[] { 2, 5 }, header.SubarrayShape);
        Assert.Equal(40, header.ItemSize);
        Assert.Equal(120, header.DataBytes);
    }

    [Theory]
    [InlineData("<f4", 4)]
    [InlineData("f4", 4)]
    [InlineData(">i8", 8)]
    [InlineData("i8", 8)]
    [InlineData("|u1", 1)]
    [InlineData("|b1", 1)]
    [InlineData("b", 1)]
    [InlineData("?", 1)]
    [InlineData("<f2", 2)]
    [InlineData("<f16", 16)]
    [InlineData("<U10", 40)]
    [InlineData("|S5", 5)]
    [InlineData("|S0", 0)]
    [InlineData("<c16", 16)]
    [InlineData("<c8", 8)]
    [InlineData("<M8[ns]", 8)]
    [InlineData("<m8[25s]", 8)]
    [InlineData("<M8", 8)]
    [InlineData("|V16", 16)]
    [InlineData("|O", 8)]
    [InlineData("|O8", 8)]
    [InlineData("d", 8)]
    [InlineData("<x4", -1)]
    [InlineData("<i3", -1)]
    [InlineData("<M8[lightyears]", -1)]
    [InlineData("<f8[ns]", -1)]
    [InlineData("i4,f8", -1)]
    [InlineData("float32", -1)]
    [InlineData("<", -1)]
    [InlineData("", -1)]
    [InlineData("<U99999999999999999999", -1)]
    public void ItemSizeOf_TypeString_GivesBytesPerElement(string descr, long expected)
    {
        Assert.Equal(expected, NpyHeader.ItemSizeOf(descr));
    }

    [Theory]
    [InlineData("|O", true)]
    [InlineData("O8", true)]
    [InlineData(">O4", true)]
    [InlineData("object", true)]
    [InlineData("(2,)O", true)]
    [InlineData("i4,O", true)]
    [InlineData("T", true)]
    [InlineData("<f4", false)]
    [InlineData("|S5", false)]
    [InlineData("<U10", false)]
    [InlineData("<M8[ns]", false)]
    [InlineData("|V16", false)]
    [InlineData("|b1", false)]
    public void IsObjectDescr_TypeString_SaysWhetherItHoldsObjects(string descr, bool expected)
    {
        Assert.Equal(expected, NpyHeader.IsObjectDescr(descr));
    }

    [Fact]
    public void Parse_CommaTypeStringWithObject_SetsHasObjectAndWarnsOfUnknownSize()
    {
        NpyHeader header = Parse(Npy("{'descr': 'i4,O', 'fortran_order': False, 'shape': (2,), }"));

        Assert.Null(header.Error);
        Assert.True(header.HasObject);
        Assert.Equal(-1, header.ItemSize);
        Assert.Null(header.DataBytes);
        Assert.Contains(header.Warnings, w => w.Contains("item size is unknown", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_FieldWrittenAsAString_IsUnpackedAsPythonWould()
    {
        // name, descr_str = 'aO' gives the field ('a', 'O'): an object field numpy would unpickle.
        NpyHeader header = Parse(Npy("{'descr': ['aO'], 'fortran_order': False, 'shape': (1,), }"));

        Assert.Null(header.Error);
        Assert.True(header.HasObject);
        Assert.Equal("a", header.Fields![0].Name);
        Assert.Equal("O", header.Fields[0].Descr);
    }

    [Fact]
    public void Parse_UnreadableDescrNamingObject_IsTakenAsObject()
    {
        NpyHeader header = Parse(Npy("{'descr': [('a', '|O', 'two')], 'fortran_order': False, 'shape': (1,), }"));

        Assert.NotNull(header.Error);
        Assert.True(header.HasObject);
    }

    [Fact]
    public void Parse_DuplicateFieldNames_Error()
    {
        NpyHeader header = Parse(Npy("{'descr': [('a', '<f4'), ('a', '<f4')], 'fortran_order': False, 'shape': (1,), }"));

        Assert.Contains("more than once", header.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Version2_ReadsA32BitHeaderLength()
    {
        NpyHeader header = Parse(Npy(FloatHeader, major: 2, dataBytes: 48));

        Assert.Null(header.Error);
        Assert.Equal(2, header.Major);
        Assert.Equal(128, header.DataOffset);
        Assert.Equal(116, header.HeaderLength);
        Assert.Equal("<f4", header.Descr);
    }

    [Fact]
    public void Parse_Version3_DecodesUtf8FieldNames()
    {
        NpyHeader header = Parse(Npy("{'descr': [('caf\u00e9', '<f4'), ('\u6e29\u5ea6', '<f8')], 'fortran_order': False, 'shape': (1,), }", major: 3, dataBytes: 12));

        Assert.Null(header.Error);
        Assert.Equal("caf\u00e9|\u6e29\u5ea6", string.Join("|", header.Fields!.Select(f => f.Name)));
    }

    [Fact]
    public void Parse_Version1_DecodesLatin1()
    {
        NpyHeader header = Parse(Npy("{'descr': [('caf\u00e9', '<f4')], 'fortran_order': False, 'shape': (1,), }", dataBytes: 4));

        Assert.Null(header.Error);
        Assert.Equal("caf\u00e9", header.Fields![0].Name);
    }

    [Fact]
    public void Parse_Version3WithInvalidUtf8_Error()
    {
        byte[] file = Npy("{'descr': [('cafX', '<f4')], 'fortran_order': False, 'shape': (1,), }", major: 3, dataBytes: 4);
        file[Array.IndexOf(file, (byte)'X')] = 0xFF;

        NpyHeader header = Parse(file);

        Assert.Contains("UTF-8", header.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Python2LongSuffix_IsAcceptedInVersion1WithAWarning()
    {
        NpyHeader header = Parse(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3L, 4L), }", dataBytes: 48));

        Assert.Null(header.Error);
        Assert.Equal(new long[] { 3, 4 }, header.Shape);
        Assert.Contains(header.Warnings, w => w.Contains("'L'", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_Python2LongSuffixInVersion3_Error()
    {
        NpyHeader header = Parse(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3L,), }", major: 3, dataBytes: 12));

        Assert.NotNull(header.Error);
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'X', 1, 0, 10, 0 })]
    [InlineData(new byte[] { (byte)'P', (byte)'K', 3, 4 })]
    public void Parse_BadMagic_Error(byte[] file)
    {
        NpyHeader header = Parse(file);

        Assert.Contains("\\x93NUMPY", header.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(6, "version")]
    [InlineData(9, "header length")]
    public void Parse_TruncatedPrefix_Error(int length, string expected)
    {
        byte[] file = Npy(FloatHeader).Take(length).ToArray();

        NpyHeader header = Parse(file);

        Assert.Contains(expected, header.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_HeaderLengthPastTheEnd_Error()
    {
        byte[] file = Npy(FloatHeader);
        file[8] = 0xFF;
        file[9] = 0x7F;

        NpyHeader header = Parse(file);

        Assert.Contains("past the end", header.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_HeaderOverOneMebibyte_ErrorWithoutReadingIt()
    {
        int length = NpyHeader.MaxHeaderBytes + 1;
        byte[] file = new byte[12 + length];
        Magic(2).CopyTo(file, 0);
        BitConverter.GetBytes(length).CopyTo(file, 8);
        using var source = new ModelFileSource(new MemoryStream(file));

        NpyHeader header = NpyHeader.Parse(source);

        Assert.Contains("more than the", header.Error, StringComparison.Ordinal);
        Assert.Equal(12, source.BytesRead);
    }

    [Theory]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), ", "unterminated dict")]
    [InlineData("{'descr': '<f4, 'fortran_order': False, 'shape': (3, 4), }", "expected")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4}", "expected ',' or ')'")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } x", "after the literal")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), 'x': 'abc", "unterminated string")]
    [InlineData("{'descr': \"<f4\n\", 'fortran_order': False, 'shape': (3, 4), }", "line break inside a string")]
    [InlineData("{'descr': '<f4', 'fortran_order': false, 'shape': (3, 4), }", "not a literal")]
    [InlineData("{'descr': '<f4', 'fortran_order': __import__('os'), 'shape': (3, 4), }", "not a literal")]
    [InlineData("{'descr': f'<f4', 'fortran_order': False, 'shape': (3, 4), }", "f-string")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (3.0, 4), }", "float")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (03, 4), }", "leading zeros")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 4), }", "64 bits")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }\n{}", "after the literal")]
    [InlineData("{'descr': '\\N{LESS-THAN SIGN}f4', 'fortran_order': False, 'shape': (3, 4), }", "\\N")]
    [InlineData("{'descr': '\\x3', 'fortran_order': False, 'shape': (3, 4), }", "truncated \\x")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': {3, 4}, }", "':'")]
    [InlineData("", "ends early")]
    public void Parse_MalformedLiteral_Error(string text, string expected)
    {
        NpyHeader header = Parse(Npy(text));

        Assert.StartsWith("the header is not a Python literal", header.Error, StringComparison.Ordinal);
        Assert.Contains(expected, header.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NulInHeader_Error()
    {
        NpyHeader header = Parse(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }\0"));

        Assert.Contains("NUL", header.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{'descr': '<f4', 'shape': (3, 4), }", "missing 'fortran_order'")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), 'extra': 1}", "unexpected 'extra'")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), b'descr': 1}", "unexpected b'descr'")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), ('a',): 1}", "unexpected ('a',)")]
    [InlineData("{}", "missing 'descr', 'fortran_order', 'shape'")]
    public void Parse_WrongKeys_Error(string text, string expected)
    {
        NpyHeader header = Parse(Npy(text));

        Assert.Contains("not exactly", header.Error, StringComparison.Ordinal);
        Assert.Contains(expected, header.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_WrongKeysWithObjectDescr_StillSetsHasObject()
    {
        NpyHeader header = Parse(Npy("{'descr': '|O', 'shape': (3,), }"));

        Assert.NotNull(header.Error);
        Assert.True(header.HasObject);
    }

    [Fact]
    public void Parse_DuplicateKey_LastValueWinsAndWarns()
    {
        NpyHeader header = Parse(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'descr': '|O'}"));

        Assert.Null(header.Error);
        Assert.Equal("|O", header.Descr);
        Assert.True(header.HasObject);
        Assert.Contains(header.Warnings, w => w.Contains("more than once", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("(3)")]
    [InlineData("[3, 4]")]
    [InlineData("3")]
    [InlineData("None")]
    [InlineData("('3',)")]
    [InlineData("((3,),)")]
    public void Parse_ShapeNotATupleOfInts_Error(string shape)
    {
        NpyHeader header = Parse(Npy($"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}"));

        Assert.StartsWith("shape ", header.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ShapeWithBool_CountsItAsAnInt()
    {
        NpyHeader header = Parse(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (True, 3), }", dataBytes: 12));

        Assert.Null(header.Error);
        Assert.Equal(new long[] { 1, 3 }, header.Shape);
        Assert.Contains(header.Warnings, w => w.Contains("True or False", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_NegativeDimension_Error()
    {
        NpyHeader header = Parse(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 4), }"));

        Assert.Contains("negative dimension", header.Error, StringComparison.Ordinal);
        Assert.Null(header.DataBytes);
    }

    [Fact]
    public void Parse_NegativeDimensionInObjectArray_OnlyWarns()
    {
        // numpy unpickles an object array without looking at its shape: the data must still be scanned.
        NpyHeader header = Parse(Npy("{'descr': '|O', 'fortran_order': False, 'shape': (-1,), }"));

        Assert.Null(header.Error);
        Assert.True(header.HasObject);
        Assert.Contains(header.Warnings, w => w.Contains("negative dimension", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("(9223372036854775807, 2)", "element count")]
    [InlineData("(4611686018427387904,)", "size in bytes")]
    [InlineData("(0x4000000000000000, 0)", "size in bytes")]
    public void Parse_SizeOverflow_Error(string shape, string expected)
    {
        NpyHeader header = Parse(Npy($"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}"));

        Assert.Contains(expected, header.Error, StringComparison.Ordinal);
        Assert.Null(header.DataBytes);
    }

    [Fact]
    public void Parse_TooManyDimensions_Error()
    {
        string shape = "(" + string.Join(", ", Enumerable.Repeat("1", 65)) + ")";
        NpyHeader header = Parse(Npy($"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}"));

        Assert.Contains("65 dimensions", header.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("None")]
    [InlineData("'False'")]
    public void Parse_FortranOrderNotABool_Error(string value)
    {
        NpyHeader header = Parse(Npy($"{{'descr': '<f4', 'fortran_order': {value}, 'shape': (3,), }}"));

        Assert.StartsWith("fortran_order", header.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("None")]
    [InlineData("3")]
    [InlineData("b'<f4'")]
    [InlineData("('<f4',)")]
    [InlineData("[('a',)]")]
    [InlineData("[(1, '<f4')]")]
    [InlineData("[('a', '<f4', (-2,))]")]
    [InlineData("[('a', '<f4', 2.5)]")]
    public void Parse_InvalidDescr_Error(string descr)
    {
        NpyHeader header = Parse(Npy($"{{'descr': {descr}, 'fortran_order': False, 'shape': (3,), }}"));

        Assert.NotNull(header.Error);
        Assert.False(header.HasObject);
    }

    [Fact]
    public void Parse_NestingDeeperThan32_Error()
    {
        string descr = string.Concat(Enumerable.Repeat("[('a', ", 40)) + "'<f4'" + string.Concat(Enumerable.Repeat(")]", 40));
        NpyHeader header = Parse(Npy($"{{'descr': {descr}, 'fortran_order': False, 'shape': (3,), }}"));

        Assert.Contains("nesting deeper than 32", header.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MoreValuesThanTheLimit_Error()
    {
        string shape = "(" + string.Join(",", Enumerable.Repeat("1", PythonLiteral.MaxValues)) + ")";
        NpyHeader header = Parse(Npy($"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}}}", major: 2));

        Assert.Contains("more than", header.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{'descr': '\\x3cf4', 'fortran_order': False, 'shape': (3, 4), }")]
    [InlineData("{'descr': '\\u003cf4', 'fortran_order': False, 'shape': (3, 4), }")]
    [InlineData("{'descr': '\\U0000003cf4', 'fortran_order': False, 'shape': (3, 4), }")]
    [InlineData("{'descr': '\\74f4', 'fortran_order': False, 'shape': (3, 4), }")]
    [InlineData("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (3, 4)}")]
    [InlineData("{u'descr': u'<f4', u'fortran_order': False, u'shape': (3, 4), }")]
    [InlineData("{'descr': r'<f4', 'fortran_order': False, 'shape': (3, 4), }")]
    [InlineData("{'descr': '<' \"f\" '4', 'fortran_order': False, 'shape': (3, 4), }")]
    [InlineData("{'descr': '''<f4''', 'fortran_order': False, 'shape': (3, 4), }")]
    [InlineData("{'de\\\nscr': '<f4', 'fortran_order': False, 'shape': (3, 4), }")]
    [InlineData("{'d\\145scr': '<f4', 'fortran_order': False, 'shape': (0x3, 0b100), }")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (+3, 4,), }")]
    [InlineData(" \t{\n  'descr': '<f4',  # a comment\n  'fortran_order': False,\n  'shape': ((3), 4),\n}\n\n")]
    public void Parse_EquivalentSpellings_GiveTheSameHeader(string text)
    {
        NpyHeader header = Parse(Npy(text, dataBytes: 48));

        Assert.Null(header.Error);
        Assert.Equal("<f4", header.Descr);
        Assert.Equal(new long[] { 3, 4 }, header.Shape);
        Assert.Equal(48, header.DataBytes);
    }

    [Fact]
    public void Parse_RawStringKeepsBackslashes()
    {
        NpyHeader header = Parse(Npy("{'descr': r'<f\\4', 'fortran_order': False, 'shape': (3,), }"));

        Assert.Equal("<f\\4", header.Descr);
        Assert.Equal(-1, header.ItemSize);
    }

    [Fact]
    public void Parse_HeaderLongerThanNumPysLimit_Warns()
    {
        string text = FloatHeader + new string(' ', 12_000);
        NpyHeader header = Parse(Npy(text, dataBytes: 48));

        Assert.Null(header.Error);
        Assert.Contains(header.Warnings, w => w.Contains("allow_pickle", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(64, null)]
    [InlineData(16, "aligned to 16 bytes")]
    [InlineData(1, "not aligned")]
    public void Parse_Alignment_WarnsWhenNotAsNumPyPads(int align, string? expected)
    {
        NpyHeader header = Parse(Npy(FloatHeader, align: align, dataBytes: 48));

        Assert.Null(header.Error);
        if (expected is null)
        {
            Assert.Empty(header.Warnings);
        }
        else
        {
            Assert.Contains(header.Warnings, w => w.Contains(expected, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Parse_HeaderWithoutFinalNewline_Warns()
    {
        byte[] text = Latin1.GetBytes(FloatHeader.PadRight(118));
        NpyHeader header = Parse(Concat(Magic(1), BitConverter.GetBytes((ushort)text.Length), text, new byte[48]));

        Assert.Null(header.Error);
        Assert.Contains(header.Warnings, w => w.Contains("newline", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(4, 0)]
    [InlineData(1, 1)]
    [InlineData(0, 0)]
    public void Parse_UnknownVersion_WarnsAndReadsTheNearestLayout(byte major, byte minor)
    {
        NpyHeader header = Parse(Npy(FloatHeader, major: major, minor: minor, dataBytes: 48));

        Assert.Null(header.Error);
        Assert.Equal(major, header.Major);
        Assert.Equal(minor, header.Minor);
        Assert.Equal("<f4", header.Descr);
        Assert.Contains(header.Warnings, w => w.Contains("not one numpy reads", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_DataAfterTheArray_Warns()
    {
        NpyHeader header = Parse(Npy(FloatHeader, dataBytes: 48 + 100));

        Assert.Null(header.Error);
        Assert.Contains(header.Warnings, w => w.Contains("100 bytes follow the array data", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_TruncatedData_Warns()
    {
        NpyHeader header = Parse(Npy(FloatHeader, dataBytes: 47));

        Assert.Null(header.Error);
        Assert.Contains(header.Warnings, w => w.Contains("truncated", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_ReadsOnlyTheHeader()
    {
        byte[] file = Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1000, 1000), }", dataBytes: 8_000_000);
        using var source = new ModelFileSource(new MemoryStream(file));

        NpyHeader header = NpyHeader.Parse(source);

        Assert.Null(header.Error);
        Assert.Equal(8_000_000, header.DataBytes);
        Assert.Equal(header.DataOffset, source.BytesRead);
    }

    [Fact]
    public void Parse_ThousandsOfOddFields_KeepsTheWarningsShort()
    {
        string descr = "[" + string.Join(", ", Enumerable.Range(0, 5000).Select(i => $"('f{i}', 'x{i}')")) + "]";
        NpyHeader header = Parse(Npy($"{{'descr': {descr}, 'fortran_order': False, 'shape': (1,), }}", major: 2));

        Assert.Null(header.Error);
        Assert.Equal(-1, header.ItemSize);
        Assert.Equal(21, header.Warnings.Count);
        Assert.EndsWith("more warnings not listed", header.Warnings[20], StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MutatedHeaders_NeverThrow()
    {
        string[] seeds =
        {
            FloatHeader,
            "{'descr': [('a', '<i4'), ('', '|V4'), ('b', [('c', '|O', (2,))]), (('t', 'd'), ('<f8', (3,)))], 'fortran_order': True, 'shape': (2L, 0x3), }",
            "{u'descr': '\\x3cU\\u0031\\U00000030', \"fortran_order\": False, 'shape': (), } # c",
        };
        const string Alphabet = "{}[](),:'\"\\#-+0123456789LxbuTFNrO\n \x00\x93\xff_.";
        var random = new Random(20240611);

        for (int i = 0; i < 20_000; i++)
        {
            char[] text = seeds[i % seeds.Length].ToCharArray();
            int edits = 1 + random.Next(4);
            for (int e = 0; e < edits; e++)
            {
                int at = random.Next(text.Length);
                char c = Alphabet[random.Next(Alphabet.Length)];
                text = random.Next(3) switch
                {
                    0 => text.Take(at).Append(c).Concat(text.Skip(at)).ToArray(),
                    1 => text.Take(at).Concat(text.Skip(at + 1)).ToArray(),
                    _ => text.Select((x, k) => k == at ? c : x).ToArray(),
                };
            }

            byte major = (byte)(1 + random.Next(3));
            byte[] file = Npy(new string(text), major: major, dataBytes: random.Next(64));
            if (random.Next(10) == 0)
            {
                file = file.Take(random.Next(file.Length)).ToArray();
            }

            if (random.Next(10) == 0 && file.Length > 12)
            {
                file[8 + random.Next(4)] = (byte)random.Next(256);
            }

            NpyHeader header = Parse(file);

            Assert.True(header.Error is not null || header.Shape.All(d => d >= 0) || header.HasObject);
        }
    }

    [SkippableFact]
    public void Parse_EveryNpyInTheCorpus_IsWellFormed()
    {
        Skip.If(Corpus.Directory is null, Corpus.NotFoundMessage);

        var problems = new List<string>();
        int count = 0;
        foreach (string path in Directory.EnumerateFiles(Corpus.Directory!, "*.np*", SearchOption.AllDirectories))
        {
            if (path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            {
                count++;
                Check(path, File.ReadAllBytes(path));
            }
            else if (path.EndsWith(".npz", StringComparison.OrdinalIgnoreCase))
            {
                // Members are read into memory as bytes; nothing in them is loaded or run.
                using ZipArchive archive = ZipFile.OpenRead(path);
                foreach (ZipArchiveEntry entry in archive.Entries.Where(e => e.FullName.EndsWith(".npy", StringComparison.Ordinal)))
                {
                    using var member = new MemoryStream();
                    using (Stream stream = entry.Open())
                    {
                        stream.CopyTo(member);
                    }

                    count++;
                    Check($"{path}!{entry.FullName}", member.ToArray());
                }
            }
        }

        Assert.True(count > 0, "the corpus holds no .npy arrays");
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));

        void Check(string name, byte[] bytes)
        {
            NpyHeader header = Parse(bytes);
            if (header.Error is not null || header.ItemSize < 0 || (!header.HasObject && header.DataBytes is null))
            {
                problems.Add($"{name}: {header.Error ?? "no item size"}");
            }
        }
    }

    private static NpyHeader Parse(byte[] file)
    {
        using var source = new ModelFileSource(new MemoryStream(file));
        return NpyHeader.Parse(source);
    }

    private static byte[] Magic(byte major, byte minor = 0) =>
        new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', major, minor };

    /// <summary>A .npy file as numpy writes it: the header padded with spaces and a newline to <paramref name="align"/>, then data.</summary>
    private static byte[] Npy(string header, byte major = 1, byte minor = 0, int align = 64, int dataBytes = 0)
    {
        byte[] text = (major >= 3 ? Encoding.UTF8 : Latin1).GetBytes(header);
        int lengthSize = major >= 2 ? 4 : 2;
        int unpadded = 8 + lengthSize + text.Length + 1;
        int padding = (align - (unpadded % align)) % align;
        int headerLength = text.Length + padding + 1;
        byte[] length = lengthSize == 2 ? BitConverter.GetBytes((ushort)headerLength) : BitConverter.GetBytes(headerLength);
        return Concat(Magic(major, minor), length, text, Latin1.GetBytes(new string(' ', padding) + "\n"), new byte[dataBytes]);
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}
