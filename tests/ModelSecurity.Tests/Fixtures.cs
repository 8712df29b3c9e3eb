using System;
using System.Collections.Generic;
using System.Formats.Tar;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using ModelSecurity.Formats;

namespace ModelSecurity.Tests;

/// <summary>A tiny file built in memory, and the format its bytes are.</summary>
internal sealed record Fixture(string Name, ModelFormat Format, byte[] Bytes);

/// <summary>
/// Minimal synthetic files, one or more for every <see cref="ModelFormat"/>, each the smallest
/// bytes that the real writer (or the format's specification) would produce. Built, never loaded.
/// </summary>
internal static class Fixtures
{
    private static readonly Lazy<IReadOnlyDictionary<string, Fixture>> ByName =
        new(() => Build().ToDictionary(f => f.Name, StringComparer.Ordinal));

    public static IEnumerable<Fixture> All => ByName.Value.Values;

    public static Fixture Get(string name) => ByName.Value[name];

    public static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    public static byte[] Concat(params byte[][] parts) => Protobuf.Concat(parts);

    /// <summary>A protocol-2 pickle of an empty dict: PROTO 2, EMPTY_DICT, BINPUT 0, STOP.</summary>
    public static byte[] SmallPickle() => new byte[] { 0x80, 0x02, (byte)'}', (byte)'q', 0x00, (byte)'.' };

    public static byte[] Zip(params (string Name, byte[] Content)[] members)
    {
        using var buffer = new MemoryStream();
        using (var archive = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach ((string name, byte[] content) in members)
            {
                ZipArchiveEntry entry = archive.CreateEntry(name, CompressionLevel.NoCompression);
                using Stream stream = entry.Open();
                stream.Write(content, 0, content.Length);
            }
        }

        return buffer.ToArray();
    }

    public static byte[] Tar(params (string Name, byte[] Content)[] members)
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach ((string name, byte[] content) in members)
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) };
                writer.WriteEntry(entry);
            }
        }

        return buffer.ToArray();
    }

    public static byte[] Gzip(byte[] content)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(content, 0, content.Length);
        }

        return buffer.ToArray();
    }

    public static byte[] Zlib(byte[] content)
    {
        using var buffer = new MemoryStream();
        using (var zlib = new ZLibStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            zlib.Write(content, 0, content.Length);
        }

        return buffer.ToArray();
    }

    private static IEnumerable<Fixture> Build()
    {
        byte[] pickle = SmallPickle();
        byte[] npy = NumPyArray();

        // Weights formats.
        yield return new("gguf-v3-le", ModelFormat.Gguf, Concat(Ascii("GGUF"), new byte[] { 3, 0, 0, 0 }, new byte[16]));
        yield return new("gguf-v3-be", ModelFormat.Gguf, Concat(Ascii("GGUF"), new byte[] { 0, 0, 0, 3 }, new byte[16]));
        yield return new("ggml-lmgg", ModelFormat.Ggml, Concat(Ascii("lmgg"), new byte[28]));
        yield return new("ggjt", ModelFormat.Ggml, Concat(Ascii("tjgg"), new byte[] { 3, 0, 0, 0 }, new byte[24]));
        yield return new("safetensors", ModelFormat.SafeTensors, Concat(
            new byte[] { 0x3C, 0, 0, 0, 0, 0, 0, 0 },
            Ascii("{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}"),
            new byte[16]));
        yield return new("numpy-v1.0", ModelFormat.NumPy, npy);

        // Pickles.
        yield return new("pickle-protocol-2", ModelFormat.Pickle, pickle);
        yield return new("pickle-protocol-4", ModelFormat.Pickle, Concat(
            new byte[] { 0x80, 0x04, 0x95 }, BitConverter.GetBytes(3L), new byte[] { (byte)'}', 0x94, (byte)'.' }));
        yield return new("pickle-protocol-0", ModelFormat.Pickle, Ascii("cos\nsystem\n(S'id'\ntR."));
        yield return new("pickle-protocol-0-data", ModelFormat.Pickle, Ascii("(dp0\nS'a'\np1\nI1\ns."));
        yield return new("pickle-broken", ModelFormat.Pickle, Concat(Ascii("cos\nsystem\n(S'id'\ntR"), new byte[] { 0xFF, 0xFE, 0x00 }));
        yield return new("joblib", ModelFormat.Joblib, Concat(
            new byte[] { 0x80, 0x02 },
            Ascii("cjoblib.numpy_pickle\nNumpyArrayWrapper\n"),
            new byte[] { (byte)'q', 0x00, (byte)')', 0x81, (byte)'q', 0x01, (byte)'.' }));
        yield return new("pytorch-legacy", ModelFormat.PyTorchLegacy, new byte[]
        {
            0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E,
            0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E,
        });

        // Zips, told apart by their members.
        byte[] pytorchZip = Zip(("archive/data.pkl", pickle), ("archive/data/0", new byte[16]), ("archive/version", Ascii("3\n")));
        yield return new("zip-pytorch", ModelFormat.PyTorchZip, pytorchZip);
        yield return new("zip-torchscript", ModelFormat.TorchScript, Zip(
            ("archive/data.pkl", pickle),
            ("archive/constants.pkl", pickle),
            ("archive/code/__torch__/m.py", Ascii("def forward(self):\n    return None\n")),
            ("archive/version", Ascii("3\n"))));
        yield return new("zip-keras", ModelFormat.Keras, Zip(
            ("config.json", Ascii("{\"class_name\":\"Sequential\"}")),
            ("metadata.json", Ascii("{\"keras_version\":\"3.5.0\"}")),
            ("model.weights.h5", Hdf5())));
        yield return new("zip-skops", ModelFormat.Skops, Zip(("schema.json", Ascii("{\"__class__\":\"Pipeline\"}"))));
        yield return new("zip-npz", ModelFormat.NumPyArchive, Zip(("a.npy", npy), ("b.npy", npy)));
        yield return new("zip-plain", ModelFormat.Zip, Zip(("readme.txt", Ascii("hello\n"))));
        yield return new("zip-prefixed", ModelFormat.PyTorchZip, Concat(new byte[64], pytorchZip));

        // Tars.
        yield return new("tar-pytorch", ModelFormat.PyTorchTar, Tar(
            ("sys_info", pickle), ("pickle", pickle), ("storages", pickle), ("tensors", pickle)));
        yield return new("tar-nemo", ModelFormat.NeMo, Tar(
            ("./model_config.yaml", Ascii("name: model\n")), ("./model_weights.ckpt", pickle)));
        yield return new("tar-plain", ModelFormat.Tar, Tar(("readme.txt", Ascii("hello\n"))));

        // Compression.
        yield return new("gzip", ModelFormat.Gzip, Gzip(pickle));
        yield return new("bzip2", ModelFormat.Bzip2, Concat(Ascii("BZh91AY&SY"), new byte[] { 0x12, 0x34, 0x56, 0x78 }, new byte[16]));
        yield return new("xz", ModelFormat.Xz, Concat(new byte[] { 0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, 0x00, 0x04, 0xE6, 0xD6, 0xB4, 0x46 }, new byte[16]));
        yield return new("lz4", ModelFormat.Lz4, Concat(new byte[] { 0x04, 0x22, 0x4D, 0x18, 0x64, 0x40, 0xA7 }, new byte[16]));
        yield return new("zstd", ModelFormat.Zstd, Concat(new byte[] { 0x28, 0xB5, 0x2F, 0xFD, 0x24, 0x06 }, new byte[16]));
        yield return new("7z", ModelFormat.SevenZip, Concat(new byte[] { 0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C, 0x00, 0x04 }, new byte[24]));

        // "lzma alone": properties 0x5D (lc=3 lp=0 pb=2), 8 MiB dictionary, unknown size.
        yield return new("lzma", ModelFormat.Lzma, Concat(
            new byte[] { 0x5D, 0x00, 0x00, 0x80, 0x00 }, Enumerable.Repeat((byte)0xFF, 8).ToArray(), new byte[] { 0x00, 0x40, 0x20, 0x10 }));
        yield return new("zlib", ModelFormat.Zlib, Zlib(pickle));
        yield return new("zlib-joblib-zf", ModelFormat.Zlib, Concat(Ascii("ZF" + "0x6".PadRight(19)), Zlib(pickle)));

        // Programs.
        yield return new("elf", ModelFormat.Elf, Elf());
        yield return new("pe", ModelFormat.PE, PortableExecutable());
        yield return new("macho-64", ModelFormat.MachO, Concat(new byte[] { 0xCF, 0xFA, 0xED, 0xFE, 0x07, 0x00, 0x00, 0x01 }, new byte[24]));
        yield return new("macho-fat", ModelFormat.MachO, Concat(new byte[] { 0xCA, 0xFE, 0xBA, 0xBE, 0x00, 0x00, 0x00, 0x02 }, new byte[40]));
        yield return new("script", ModelFormat.Script, Ascii("#!/bin/sh\necho hello\n"));
        yield return new("llamafile", ModelFormat.Llamafile, Concat(Ascii("MZqFpD='\n\nexec 7<> \"$0\"\n"), new byte[32]));

        // Protobuf models.
        yield return new("onnx", ModelFormat.Onnx, Onnx());
        yield return new("coreml", ModelFormat.CoreML, Protobuf.Concat(
            Protobuf.Varint(1, 4),
            Protobuf.Message(2, Protobuf.Message(1, Protobuf.Text(1, "input"))),
            Protobuf.Message(500, Protobuf.Varint(1, 1))));
        yield return new("tf-savedmodel", ModelFormat.TensorFlowSavedModel, Protobuf.Concat(
            Protobuf.Varint(1, 1),
            Protobuf.Message(2, Protobuf.Message(1, Protobuf.Text(4, "serve")), Protobuf.Bytes(2, GraphDef()))));
        yield return new("tf-graphdef", ModelFormat.TensorFlowGraphDef, GraphDef());
        yield return new("tf-fingerprint", ModelFormat.TensorFlowMetadata, Protobuf.Concat(
            Protobuf.Varint(1, 0xDEAD_BEEF_1234_5678),
            Protobuf.Varint(2, 0x1122_3344_5566_7788),
            Protobuf.Varint(3, 0x0102_0304_0506_0708),
            Protobuf.Varint(4, 0x0F0E_0D0C_0B0A_0908),
            Protobuf.Varint(5, 0x7766_5544_3322_1100),
            Protobuf.Message(6, Protobuf.Varint(1, 1))));
        yield return new("keras-metadata", ModelFormat.TensorFlowMetadata, Protobuf.Message(
            1,
            Protobuf.Text(3, "root"),
            Protobuf.Text(4, "_tf_keras_sequential"),
            Protobuf.Text(5, "{\"name\": \"sequential\"}")));

        // TensorFlow files with markers.
        yield return new("tflite", ModelFormat.TFLite, Concat(new byte[] { 0x18, 0, 0, 0 }, Ascii("TFL3"), new byte[24]));
        yield return new("tf-checkpoint-index", ModelFormat.TensorFlowMetadata, Concat(
            new byte[] { 0x00, 0x00, 0x06, 0x08, 0x01, 0x1A, 0x02, 0x08, 0x01 },
            new byte[40],
            new byte[] { 0x57, 0xFB, 0x80, 0x8B, 0x24, 0x75, 0x47, 0xDB }));

        // HDF5.
        yield return new("hdf5", ModelFormat.Hdf5, Hdf5());
        yield return new("hdf5-user-block", ModelFormat.Hdf5, Concat(new byte[512], Hdf5()));

        // Text and documents.
        yield return new("json", ModelFormat.Json, Ascii("{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 4096}\n"));
        yield return new("yaml", ModelFormat.Yaml, Ascii("name: model\nversion: 2\nlayers:\n  - dense\n  - relu\n"));
        yield return new("jinja", ModelFormat.JinjaTemplate, Ascii(
            "{% for message in messages %}<|{{ message['role'] }}|>\n{{ message['content'] }}{% endfor %}\n"));
        yield return new("text", ModelFormat.Text, Ascii("This model was trained on public data.\nUse it responsibly.\n"));
        yield return new("png", ModelFormat.Image, Concat(
            new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D },
            Ascii("IHDR"),
            new byte[] { 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89 }));
        yield return new("empty", ModelFormat.Empty, Array.Empty<byte>());
        yield return new("random", ModelFormat.Unknown, RandomBytes());
    }

    private static byte[] NumPyArray()
    {
        // v1.0: magic, version, uint16 header length, a dict literal padded with spaces to 64 bytes, '\n'.
        string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
        header = header.PadRight(64 - 10 - 1) + "\n";
        return Concat(new byte[] { 0x93 }, Ascii("NUMPY"), new byte[] { 1, 0, (byte)header.Length, 0 }, Ascii(header), new byte[8]);
    }

    private static byte[] Hdf5() => Concat(new byte[] { 0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x00 }, new byte[84]);

    private static byte[] Elf()
    {
        byte[] elf = new byte[64];
        new byte[] { 0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0 }.CopyTo(elf, 0);
        elf[16] = 2; // e_type: executable
        elf[18] = 0x3E; // e_machine: x86-64
        return elf;
    }

    private static byte[] PortableExecutable()
    {
        byte[] pe = new byte[0x80 + 24];
        pe[0] = (byte)'M';
        pe[1] = (byte)'Z';
        pe[0x3C] = 0x80;
        new byte[] { (byte)'P', (byte)'E', 0, 0, 0x64, 0x86 }.CopyTo(pe, 0x80);
        return pe;
    }

    private static byte[] Onnx() => Protobuf.Concat(
        Protobuf.Varint(1, 8),
        Protobuf.Text(2, "pytorch"),
        Protobuf.Text(3, "2.1.0"),
        Protobuf.Message(
            7,
            Protobuf.Message(1, Protobuf.Text(1, "x"), Protobuf.Text(2, "y"), Protobuf.Text(4, "Relu")),
            Protobuf.Text(2, "main_graph")),
        Protobuf.Message(8, Protobuf.Varint(2, 17)));

    private static byte[] GraphDef() => Protobuf.Concat(
        Protobuf.Message(1, Protobuf.Text(1, "weights"), Protobuf.Text(2, "Const")),
        Protobuf.Message(1, Protobuf.Text(1, "output"), Protobuf.Text(2, "MatMul"), Protobuf.Text(3, "weights")),
        Protobuf.Message(4, Protobuf.Varint(1, 1087)));

    private static byte[] RandomBytes()
    {
        // A fixed seed: the same bytes every run. Arbitrary binary must not be mistaken for anything.
#pragma warning disable CA5394 // Not security-relevant: test data.
        var random = new Random(20240229);
        byte[] bytes = new byte[4096];
        random.NextBytes(bytes);
#pragma warning restore CA5394
        return bytes;
    }
}
