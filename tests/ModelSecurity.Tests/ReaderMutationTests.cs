using System;
using System.Collections.Generic;
using System.Linq;
using ModelSecurity.Analysis;
using Xunit;

namespace ModelSecurity.Tests;

/// <summary>
/// Seeded mutations (byte flips, truncations, inflated lengths, splices) of pickles, the containers
/// that carry them, GGUF, SafeTensors and chat templates: every one must give a result without a
/// reader exception (MS-GEN-003).
/// </summary>
public class ReaderMutationTests
{
    public static TheoryData<string> Seeds() => new()
    {
        "pickle-p2", "pickle-p4", "pickle-p0", "torch-zip", "torch-legacy", "npz", "gzip", "tar",
        "gguf", "safetensors", "tokenizer-config", "yaml", "jinja", "onnx", "savedmodel", "tflite", "checkpoint-index",
    };

    [Theory]
    [MemberData(nameof(Seeds))]
    public void MutatedInput_NeverBreaksTheScanner(string seed)
    {
        byte[] original = Seed(seed);
        var random = new Random(seed.GetHashCode(StringComparison.Ordinal) & 0x7FFFFFFF);
        var failures = new List<string>();
        for (int i = 0; i < 1500; i++)
        {
            byte[] mutated = Mutate(original, random);
            ModelScanResult result = Scan.Bytes("model.bin", mutated);
            if (result.Findings.Any(f => f.RuleId == RuleIds.AnalysisFailed))
            {
                failures.Add($"#{i} ({mutated.Length} bytes): {result.Findings.First(f => f.RuleId == RuleIds.AnalysisFailed).Detail} :: {Convert.ToHexString(mutated.AsSpan(0, Math.Min(64, mutated.Length)))}");
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures.Take(5)));
    }

    private static byte[] Seed(string name) => name switch
    {
        "pickle-p2" => PickleBuilder.TorchStateDict(),
        "pickle-p4" => Fixtures.Concat(PickleBuilder.CallWithString("os", "system"), PickleBuilder.Create().Proto(4).Frame(6).EmptyList().Str("abc").Append().Stop().ToArray()),
        "pickle-p0" => Fixtures.Ascii("(lp0\nI1\naS'x'\np1\nag1\nacposix\nsystem\n(S'id'\ntR."),
        "torch-zip" => ZipBuilder.StoredZip(("archive/data.pkl", PickleBuilder.TorchStateDict()), ("archive/data/0", new byte[16]), ("archive/version", Fixtures.Ascii("3\n"))),
        "torch-legacy" => PickleBuilder.TorchLegacy(PickleBuilder.TorchStateDict()),
        "npz" => ZipBuilder.StoredZip(("a.npy", Fixtures.Get("numpy-v1.0").Bytes)),
        "gzip" => Fixtures.Gzip(PickleBuilder.TorchStateDict()),
        "gguf" => new GgufBuilder()
            .Text("general.architecture", "llama")
            .Text("tokenizer.chat_template", "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}{% endfor %}")
            .StringArray("tokenizer.ggml.tokens", "a", "b", "c")
            .AddTensor("w", new long[] { 32, 2 })
            .Build(),
        "safetensors" => Fixtures.Get("safetensors").Bytes,
        "tokenizer-config" => Fixtures.Utf8("{\"chat_template\": \"{% if messages[0]['role'] == 'system' %}{{ messages[0]['content'] }}{% endif %}\", \"bos_token\": \"<s>\"}"),
        "yaml" => Fixtures.Utf8("model_name: x\nchat_template: '{{ messages[0].content }}'\nparams:\n  a: [1, 2]\n"),
        "onnx" => OnnxBuilder.Model(OnnxBuilder.Graph(
            OnnxBuilder.Node("If", "if", string.Empty, Protobuf.Concat(Protobuf.Text(1, "then_branch"), Protobuf.Message(6, OnnxBuilder.Node("Relu")))),
            OnnxBuilder.Initializer("w"),
            OnnxBuilder.Initializer("e", "weights.bin"),
            OnnxBuilder.Input(11, "x", "batch", 3))),
        "savedmodel" => TensorFlowBuilder.SavedModel(TensorFlowBuilder.GraphDef(
            new[] { TensorFlowBuilder.StringConst("p", "data"), TensorFlowBuilder.Node("r", "ReadFile", new[] { "p" }) },
            TensorFlowBuilder.SaverFunctions())),
        "tflite" => TfLiteBuilder.Model("m", 2, 3, "Custom"),
        "checkpoint-index" => TensorFlowBuilder.CheckpointIndex("a", "b/c"),
        "jinja" => Fixtures.Utf8("{%- for message in messages %}{{- '<|' + message['role'] + '|>' }}{{ message['content'] | trim }}{%- endfor %}"),
        _ => Fixtures.Tar(("sys_info", PickleBuilder.TorchStateDict()), ("pickle", PickleBuilder.TorchStateDict())),
    };

    private static byte[] Mutate(byte[] original, Random random)
    {
        byte[] bytes = (byte[])original.Clone();
        switch (random.Next(5))
        {
            case 0:
                for (int n = random.Next(1, 4); n > 0; n--)
                {
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                }

                return bytes;
            case 1:
                return bytes.AsSpan(0, random.Next(bytes.Length)).ToArray();
            case 2:
                // Inflate what may be a length field: four bytes set to a large value.
                int at = random.Next(Math.Max(1, bytes.Length - 4));
                BitConverter.GetBytes(random.Next(2) == 0 ? int.MaxValue : random.Next(1 << 20, 1 << 30)).CopyTo(bytes, Math.Min(at, bytes.Length - 4));
                return bytes;
            case 3:
                // Splice: repeat a slice of the file inside itself.
                int start = random.Next(bytes.Length);
                int length = random.Next(1, Math.Min(64, bytes.Length - start) + 1);
                int into = random.Next(bytes.Length);
                return bytes.Take(into).Concat(bytes.Skip(start).Take(length)).Concat(bytes.Skip(into)).ToArray();
            default:
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                return bytes;
        }
    }
}
