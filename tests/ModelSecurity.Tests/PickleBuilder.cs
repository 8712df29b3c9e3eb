using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace ModelSecurity.Tests;

/// <summary>
/// Writes pickle opcodes byte by byte, the way the bypass recipes in scanners.md §3 spell them
/// (P4 S(os) S(system) SG S(id) T1 R .). Built, never loaded.
/// </summary>
internal sealed class PickleBuilder
{
    private readonly List<byte> _bytes = new();

    public static PickleBuilder Create() => new();

    /// <summary>The recipe "P{protocol} S(module) S(name) SG S(argument) T1 R ." in one call.</summary>
    public static byte[] CallWithString(string module, string name, string argument = "id", int protocol = 4) =>
        Create().Proto(protocol).Str(module).Str(name).StackGlobal().Str(argument).Tuple1().Reduce().Stop().ToArray();

    /// <summary>The same call written with GLOBAL ("c module\nname\n"), as protocols 0-2 do.</summary>
    public static byte[] GlobalCall(string module, string name, string argument = "id", int protocol = 2)
    {
        PickleBuilder builder = Create();
        if (protocol >= 2)
        {
            builder.Proto(protocol);
        }

        return builder.Global(module, name).BinUnicode(argument).Tuple1().Reduce().Stop().ToArray();
    }

    public PickleBuilder Proto(int protocol) => Op(0x80).Byte((byte)protocol);

    public PickleBuilder Frame(long length) => Op(0x95).U64(length);

    public PickleBuilder Stop() => Op((byte)'.');

    public PickleBuilder Mark() => Op((byte)'(');

    public PickleBuilder Pop() => Op((byte)'0');

    public PickleBuilder PopMark() => Op((byte)'1');

    public PickleBuilder Dup() => Op((byte)'2');

    public PickleBuilder None() => Op((byte)'N');

    public PickleBuilder Str(string text)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        return utf8.Length < 256 ? Op(0x8C).Byte((byte)utf8.Length).Raw(utf8) : Op((byte)'X').U32(utf8.Length).Raw(utf8);
    }

    public PickleBuilder BinUnicode(string text)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        return Op((byte)'X').U32(utf8.Length).Raw(utf8);
    }

    /// <summary>Protocol 0 STRING: <c>S'text'\n</c>.</summary>
    public PickleBuilder StringLine(string text) => Op((byte)'S').Ascii($"'{text}'\n");

    /// <summary>Protocol 0 UNICODE: <c>Vtext\n</c>.</summary>
    public PickleBuilder UnicodeLine(string text) => Op((byte)'V').Ascii(text + "\n");

    public PickleBuilder ShortBinString(string text) => Op((byte)'U').Byte((byte)text.Length).Ascii(text);

    public PickleBuilder BinBytes(byte[] data) => Op((byte)'B').U32(data.Length).Raw(data);

    public PickleBuilder Int(int value) => Op((byte)'J').I32(value);

    public PickleBuilder Global(string module, string name) => Op((byte)'c').Ascii($"{module}\n{name}\n");

    public PickleBuilder Inst(string module, string name) => Op((byte)'i').Ascii($"{module}\n{name}\n");

    public PickleBuilder StackGlobal() => Op(0x93);

    public PickleBuilder Reduce() => Op((byte)'R');

    public PickleBuilder Build() => Op((byte)'b');

    public PickleBuilder NewObj() => Op(0x81);

    public PickleBuilder Obj() => Op((byte)'o');

    public PickleBuilder EmptyTuple() => Op((byte)')');

    public PickleBuilder Tuple() => Op((byte)'t');

    public PickleBuilder Tuple1() => Op(0x85);

    public PickleBuilder Tuple2() => Op(0x86);

    public PickleBuilder Tuple3() => Op(0x87);

    public PickleBuilder EmptyDict() => Op((byte)'}');

    public PickleBuilder EmptyList() => Op((byte)']');

    public PickleBuilder Append() => Op((byte)'a');

    public PickleBuilder SetItem() => Op((byte)'s');

    public PickleBuilder SetItems() => Op((byte)'u');

    public PickleBuilder Memoize() => Op(0x94);

    public PickleBuilder BinPut(byte index) => Op((byte)'q').Byte(index);

    public PickleBuilder BinGet(byte index) => Op((byte)'h').Byte(index);

    public PickleBuilder PutLine(int index) => Op((byte)'p').Ascii($"{index}\n");

    public PickleBuilder GetLine(int index) => Op((byte)'g').Ascii($"{index}\n");

    public PickleBuilder BinPersId() => Op((byte)'Q');

    public PickleBuilder Ext1(byte code) => Op(0x82).Byte(code);

    public PickleBuilder Ext2(ushort code) => Op(0x83).U16(code);

    public PickleBuilder Ext4(int code) => Op(0x84).I32(code);

    public PickleBuilder Op(byte opcode) => Byte(opcode);

    public PickleBuilder Byte(byte value)
    {
        _bytes.Add(value);
        return this;
    }

    public PickleBuilder Raw(byte[] data)
    {
        _bytes.AddRange(data);
        return this;
    }

    public PickleBuilder Ascii(string text) => Raw(Encoding.ASCII.GetBytes(text));

    public PickleBuilder Repeat(byte value, int count)
    {
        for (int i = 0; i < count; i++)
        {
            _bytes.Add(value);
        }

        return this;
    }

    public PickleBuilder U16(ushort value)
    {
        byte[] b = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        return Raw(b);
    }

    public PickleBuilder U32(int value)
    {
        byte[] b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)value);
        return Raw(b);
    }

    public PickleBuilder I32(int value)
    {
        byte[] b = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, value);
        return Raw(b);
    }

    public PickleBuilder U64(long value)
    {
        byte[] b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)value);
        return Raw(b);
    }

    public int Length => _bytes.Count;

    public byte[] ToArray() => _bytes.ToArray();

    /// <summary>A PyTorch legacy checkpoint: magic, protocol version, sys_info, the object pickle, storage keys.</summary>
    public static byte[] TorchLegacy(byte[] objectPickle, byte[]? firstPickle = null)
    {
        byte[] magic = firstPickle ?? new byte[] { 0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E };
        byte[] version = { 0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E };
        byte[] sysInfo = Create().Proto(2).EmptyDict().Str("protocol_version").Int(1001).SetItem().Stop().ToArray();
        byte[] keys = Create().Proto(2).EmptyList().Stop().ToArray();
        using var buffer = new MemoryStream();
        foreach (byte[] part in new[] { magic, version, sysInfo, objectPickle, keys })
        {
            buffer.Write(part, 0, part.Length);
        }

        // Raw storage data follows the five pickles; it is never unpickled.
        byte[] storage = new byte[64];
        new Random(7).NextBytes(storage);
        buffer.Write(storage, 0, storage.Length);
        return buffer.ToArray();
    }

    /// <summary>
    /// A protocol-2 state dict like torch.save writes into data.pkl: one tensor rebuilt by
    /// torch._utils._rebuild_tensor_v2 from a BINPERSID storage.
    /// </summary>
    public static byte[] TorchStateDict(string storageKey = "0")
    {
        return Create().Proto(2)
            .Global("collections", "OrderedDict").EmptyTuple().Reduce()
            .Str("weight")
            .Global("torch._utils", "_rebuild_tensor_v2")
            .Mark()
            .Mark().Str("storage").Global("torch", "FloatStorage").Str(storageKey).Str("cpu").Int(4).Tuple().BinPersId()
            .Int(0)
            .Int(4).Tuple1()
            .Int(1).Tuple1()
            .Op(0x89)
            .Global("collections", "OrderedDict").EmptyTuple().Reduce()
            .Tuple()
            .Reduce()
            .SetItem()
            .Stop().ToArray();
    }
}
