using System;
using System.Collections.Generic;
using System.Linq;
using ModelSecurity.Formats;
using Xunit;

namespace ModelSecurity.Tests;

public class FormatDetectionTests
{
    public static TheoryData<string> FixtureNames()
    {
        var data = new TheoryData<string>();
        foreach (Fixture fixture in Fixtures.All)
        {
            data.Add(fixture.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(FixtureNames))]
    public void Fixture_IsDetectedAsItsFormat(string name)
    {
        Fixture fixture = Fixtures.Get(name);

        FormatMatch match = Sniff.Detect(fixture.Bytes);

        Assert.True(
            match.Format == fixture.Format,
            $"{name}: expected {fixture.Format}, detected {match.Format} ({match.Description}).");
    }

    [Fact]
    public void EveryModelFormat_HasAFixture()
    {
        var covered = new HashSet<ModelFormat>(Fixtures.All.Select(f => f.Format));

        ModelFormat[] missing = Enum.GetValues<ModelFormat>().Where(f => !covered.Contains(f)).ToArray();

        Assert.True(missing.Length == 0, "No fixture for: " + string.Join(", ", missing));
    }

    [Fact]
    public void Gguf_BigEndian_IsReportedAsSuch()
    {
        FormatMatch match = Sniff.Detect(Fixtures.Get("gguf-v3-be").Bytes);

        Assert.Contains(match.Metadata, item => item.Key == "ByteOrder" && Equals(item.Value, "BigEndian"));
        Assert.Contains(match.Metadata, item => item.Key == "GgufVersion" && Equals(item.Value, 3u));
    }

    [Fact]
    public void PrefixedZip_ReportsThePrefixLength()
    {
        FormatMatch match = Sniff.Detect(Fixtures.Get("zip-prefixed").Bytes);

        Assert.Contains(match.Metadata, item => item.Key == "ZipPrefixBytes" && Equals(item.Value, 64L));
    }

    [Fact]
    public void Hdf5_AfterUserBlock_ReportsTheSuperblockOffset()
    {
        FormatMatch match = Sniff.Detect(Fixtures.Get("hdf5-user-block").Bytes);

        Assert.Contains(match.Metadata, item => item.Key == "Hdf5SuperblockOffset" && Equals(item.Value, 512L));
    }

    [Fact]
    public void JavaClassFile_IsNotMachO()
    {
        byte[] javaClass = Fixtures.Concat(new byte[] { 0xCA, 0xFE, 0xBA, 0xBE, 0x00, 0x00, 0x00, 0x34, 0x00, 0x1D }, new byte[32]);

        Assert.NotEqual(ModelFormat.MachO, Sniff.Detect(javaClass).Format);
    }

    [Fact]
    public void EnglishTextOpeningWithCopyright_IsTextNotPickle()
    {
        byte[] notice = Fixtures.Ascii(
            "(c) 2024 Example Corp.\nAll rights reserved.\nLicensed under the Apache License, Version 2.0.\nSee LICENSE for details.\n");

        Assert.Equal(ModelFormat.Text, Sniff.Detect(notice).Format);
    }

    [Theory]
    [InlineData("(c) 2024 were time one from.\nbut then by if Apache only by.\nthat.\n")]
    [InlineData("her would.\nall it of only some.\n")]
    [InlineData("Portions than first The is Based some for.\nabout.\n")]
    [InlineData("into.\nas.\nmore.\n")]
    [InlineData("la la la.\n")]
    public void TextThatSpellsPickleOpcodes_IsNotPickle(string text)
    {
        // Each of these walks to a '.' (STOP) through valid opcodes; CPython fails on the first few.
        Assert.Equal(ModelFormat.Text, Sniff.Detect(Fixtures.Ascii(text)).Format);
    }

    [Theory]
    [InlineData("(dp0\nS'weights'\np1\n(lp2\nF1.5\naF-2.0\nas.")]
    [InlineData("(lp0\nI1\naI2\na(I3\nI4\ntp1\na.")]
    [InlineData("ccopy_reg\n_reconstructor\np0\n(c__main__\nModel\np1\nc__builtin__\nobject\np2\nNtp3\nRp4\n.")]
    [InlineData("]q\x00(K\x01K\x02e.")]
    [InlineData("cbuiltins\nexec\n(Vprint(1)\ntR")]
    public void ProtocolZeroAndOnePickles_AreStillPickles(string pickle)
    {
        Assert.Equal(ModelFormat.Pickle, Sniff.Detect(Fixtures.Utf8(pickle)).Format);
    }

    [Theory]
    [InlineData("x^2 + y^2 = z^2 is the equation of a cone.\n")]
    [InlineData("x^n grows faster than any polynomial of lower degree.\n")]
    [InlineData("x^be.")]
    [InlineData("x^2had\n")]
    [InlineData("x^3this.")]
    [InlineData("x^by at can or\n")]
    [InlineData("x^")]
    public void TextStartingWithXCaret_IsNotZlib(string text)
    {
        // "x^" is 78 5E, a valid zlib header by its checksum; the rest must still decompress.
        ModelFormat format = Sniff.Detect(Fixtures.Ascii(text)).Format;

        Assert.NotEqual(ModelFormat.Zlib, format);
        Assert.Equal(ModelFormat.Text, format);
    }

    [Fact]
    public void Json_IsNotYaml()
    {
        byte[] json = Fixtures.Ascii("{\n  \"name\": \"model\",\n  \"version\": 2\n}\n");

        Assert.Equal(ModelFormat.Json, Sniff.Detect(json).Format);
    }

    [Fact]
    public void JsonWithColonsOnEveryLine_IsNotYaml()
    {
        byte[] json = Fixtures.Ascii("{\"a\": 1,\n\"b\": 2,\n\"c\": {\"d\": 3}}\n");

        Assert.Equal(ModelFormat.Json, Sniff.Detect(json).Format);
    }

    [Fact]
    public void MarkdownModelCardWithFrontMatter_IsText()
    {
        byte[] card = Fixtures.Ascii(
            "---\nlicense: apache-2.0\nlanguage:\n- en\ntags:\n- text-generation\n---\n\n" +
            "# Example-7B\n\n" +
            "Example-7B is a decoder-only language model trained on public web data.\n" +
            "It is intended for research on reasoning and summarisation.\n\n" +
            "## Limitations\n\n" +
            "The model can produce factually incorrect output and should not be used for medical advice.\n");

        Assert.Equal(ModelFormat.Text, Sniff.Detect(card).Format);
    }

    [Theory]
    [InlineData(128)]
    [InlineData(384)]
    [InlineData(640)]
    [InlineData(1408)]
    public void SafeTensorsWhoseHeaderLengthStartsLikePROTO_IsSafeTensors(int headerLength)
    {
        // The length's first byte is 0x80 (PROTO) and its second 0-5: a pickle's opening, but no opcode follows.
        string json = "{\"t\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}".PadRight(headerLength);
        byte[] file = Fixtures.Concat(BitConverter.GetBytes((long)headerLength), Fixtures.Ascii(json), new byte[4]);

        Assert.Equal(0x80, file[0]);
        Assert.Equal(ModelFormat.SafeTensors, Sniff.Detect(file).Format);
    }

    [Fact]
    public void ThreeLetters_AreText()
    {
        Assert.Equal(ModelFormat.Text, Sniff.Detect(Fixtures.Ascii("abc")).Format);
    }

    [Fact]
    public void DosExecutableWithoutPeSignature_IsStillPE()
    {
        FormatMatch match = Sniff.Detect(Fixtures.Concat(Fixtures.Ascii("MZ"), new byte[62]));

        Assert.Equal(ModelFormat.PE, match.Format);
        Assert.Equal("DOS MZ executable", match.Description);
    }
}
