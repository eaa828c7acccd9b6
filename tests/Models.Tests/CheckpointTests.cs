using System.IO.Compression;
using System.Text;
using Hep.Models.Checkpoints;
using Hep.Models.ParticleNet;
using Hep.Models.Tests.Support;

namespace Hep.Models.Tests;

/// <summary>PyTorch .pt import (restricted unpickler), safetensors, weaver name mapping errors, our own checkpoint format.</summary>
public class CheckpointTests
{
    private static IBackend Cpu => Backends.Cpu;

    private static string Released(string file)
    {
        string path = SharedFiles.Pretrained(file);
        if (!File.Exists(path)) Assert.Ignore($"released checkpoint not present: {path}");
        return path;
    }

    [Test]
    public void ReadsTheReleasedParticleNetCheckpoint()
    {
        var tensors = TorchCheckpoint.Read(Released("ParticleNet_full.pt"));
        Assert.That(tensors, Has.Count.EqualTo(81));
        var byName = tensors.ToDictionary(kv => kv.Key, kv => kv.Value);
        // Values cross-checked with Python's zipfile + struct on the raw storages.
        Assert.That(((float[])byName["mod.bn_fts.running_mean"].Data)[6], Is.EqualTo(0.1460258960723877f));
        Assert.That(((float[])byName["mod.fc.1.bias"].Data).Take(3), Is.EqualTo(new[] { -0.44315189123153687f, -0.06905756145715714f, 0.022143468260765076f }));
        Assert.That(byName["mod.edge_convs.0.convs.0.weight"].Shape, Is.EqualTo(new[] { 64, 34, 1, 1 }));
        Assert.That(((float[])byName["mod.edge_convs.0.convs.0.weight"].Data).Take(2), Is.EqualTo(new[] { 2.9410181045532227f, -0.8626607656478882f }));
        Assert.That(byName["mod.edge_convs.0.bns.0.num_batches_tracked"].DType, Is.EqualTo(HostDType.Int64));
    }

    [TestCase("ParticleNet_full.pt", 17)]
    [TestCase("ParticleNet_kinpid.pt", 13)]
    public void ReleasedWeightsLoadAndGiveFiniteDeterministicOutputs(string file, int inputs)
    {
        using var scope = TensorScope.Begin();
        using var model = new ParticleNet.ParticleNet(Cpu, ParticleNetConfig.Paper(inputs, 10) with { ForInference = true });
        StateDictLoader.LoadWeaver(model, TorchCheckpoint.Read(Released(file)));
        Assert.That(model.ParameterCount, Is.EqualTo(inputs == 17 ? 370_156L : 369_380L));
        model.Eval();
        // Real H→bb jets: kin features in their JetClass slots (0–4, Δη, Δφ last), PID/track inputs 0.
        var data = JetDataset.JetClassHbb();
        int[] jets = [0, 1, 2, 3];
        var kin = data.FeaturesOf(Cpu, jets).ToArray<float>();
        var full = new float[jets.Length * inputs * data.Slots];
        for (int b = 0; b < jets.Length; b++)
        {
            for (int c = 0; c < 7; c++)
            {
                int to = c < 5 ? c : inputs - 7 + c;
                Array.Copy(kin, (b * 7 + c) * data.Slots, full, (b * inputs + to) * data.Slots, data.Slots);
            }
        }
        var features = Tensor.FromArray<float>(Cpu, full, new Shape(jets.Length, inputs, data.Slots));
        var first = model.Forward(data.PointsOf(Cpu, jets), Variable.Constant(features), data.MaskOf(Cpu, jets)).Data.ToArray<float>();
        var second = model.Forward(data.PointsOf(Cpu, jets), Variable.Constant(features), data.MaskOf(Cpu, jets)).Data.ToArray<float>();
        Assert.That(second, Is.EqualTo(first), "bit-identical repeat");
        Assert.That(first.All(float.IsFinite));
        for (int b = 0; b < jets.Length; b++) Assert.That(first.Skip(10 * b).Take(10).Sum(), Is.EqualTo(1).Within(1e-5), "probabilities");
        Assert.That(first.Distinct().Count(), Is.GreaterThan(10), "not a constant output");
    }

    [Test]
    public void MismatchedModelsNameEveryMissingUnexpectedAndMisShapedKey()
    {
        var tensors = TorchCheckpoint.Read(Released("ParticleNet_full.pt"));
        using var lite = new ParticleNet.ParticleNet(Cpu, ParticleNetConfig.Lite(17, 10));
        var ex = Assert.Throws<CheckpointMismatchException>(() => StateDictLoader.LoadWeaver(lite, tensors))!;
        Assert.That(ex.Unexpected, Does.Contain("mod.edge_convs.2.convs.0.weight"));
        Assert.That(ex.MisShaped.Any(m => m.StartsWith("mod.edge_convs.0.convs.0.weight (checkpoint [64, 34, 1, 1], model (32, 34, 1, 1))")), Is.True, string.Join("; ", ex.MisShaped));
        Assert.That(ex.Missing, Is.Empty);
        Assert.That(ex.Message, Does.Contain("unexpected keys").And.Contain("wrongly shaped keys"));

        using var fusion = new ParticleNet.ParticleNet(Cpu, ParticleNetConfig.Paper(17, 10) with { UseFusion = true });
        var ex2 = Assert.Throws<CheckpointMismatchException>(() => StateDictLoader.LoadWeaver(fusion, tensors))!;
        Assert.That(ex2.Missing, Does.Contain("fusion_block.0.weight").And.Contain("fusion_block.1.running_var"));
        Assert.That(ex2.MisShaped.Single(), Does.StartWith("mod.fc.0.0.weight"));
    }

    private static string WritePt(string dir, byte[] pickle, Dictionary<string, byte[]>? storages = null)
    {
        string path = Path.Combine(dir, $"crafted-{Guid.NewGuid():N}.pt");
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        void Add(string name, byte[] bytes)
        {
            using var s = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
            s.Write(bytes);
        }
        Add("archive/data.pkl", pickle);
        foreach (var (k, v) in storages ?? []) Add("archive/data/" + k, v);
        return path;
    }

    [Test]
    public void RestrictedUnpicklerRejectsCodeAndArbitraryObjects()
    {
        string dir = Directory.CreateTempSubdirectory("hep-pt").FullName;
        try
        {
            // {'x': os.system('echo hi')} written by hand: PROTO 2, EMPTY_DICT, 'x', GLOBAL os system, ...
            var evil = new List<byte> { 0x80, 2, (byte)'}', (byte)'X', 1, 0, 0, 0, (byte)'x', (byte)'c' };
            evil.AddRange(Encoding.ASCII.GetBytes("os\nsystem\n"));
            evil.AddRange([(byte)'X', 7, 0, 0, 0, .. Encoding.ASCII.GetBytes("echo hi"), 0x85, (byte)'R', (byte)'s', (byte)'.']);
            var ex = Assert.Throws<CheckpointFormatException>(() => TorchCheckpoint.Read(WritePt(dir, [.. evil])))!;
            Assert.That(ex.Message, Does.Contain("forbidden global 'os.system'"));

            // INST ('i'), which instantiates a class by name, is not an allowed opcode.
            var inst = new List<byte> { 0x80, 2, (byte)'(' , (byte)'i' };
            inst.AddRange(Encoding.ASCII.GetBytes("builtins\nobject\n."));
            var ex2 = Assert.Throws<CheckpointFormatException>(() => TorchCheckpoint.Read(WritePt(dir, [.. inst])))!;
            Assert.That(ex2.Message, Does.Contain("opcode 0x69"));

            // A valid tiny state dict {'w': tensor of 3 floats} round-trips; a storage too short is rejected.
            var ok = new List<byte> { 0x80, 2, (byte)'}', (byte)'X', 1, 0, 0, 0, (byte)'w', (byte)'c' };
            ok.AddRange(Encoding.ASCII.GetBytes("torch._utils\n_rebuild_tensor_v2\n"));
            ok.AddRange([(byte)'(', (byte)'(', (byte)'X', 7, 0, 0, 0, .. Encoding.ASCII.GetBytes("storage"), (byte)'c', .. Encoding.ASCII.GetBytes("torch\nFloatStorage\n"),
                (byte)'X', 1, 0, 0, 0, (byte)'0', (byte)'X', 3, 0, 0, 0, .. Encoding.ASCII.GetBytes("cpu"), (byte)'K', 3, (byte)'t', (byte)'Q',
                (byte)'K', 0, (byte)'K', 3, 0x85, (byte)'K', 1, 0x85, 0x89, (byte)'N', (byte)'t', (byte)'R', (byte)'s', (byte)'.']);
            var floats = new byte[12];
            BitConverter.TryWriteBytes(floats.AsSpan(0), 1.5f);
            BitConverter.TryWriteBytes(floats.AsSpan(4), -2f);
            BitConverter.TryWriteBytes(floats.AsSpan(8), 4f);
            var read = TorchCheckpoint.Read(WritePt(dir, [.. ok], new() { ["0"] = floats }));
            Assert.That((float[])read.Single().Value.Data, Is.EqualTo(new[] { 1.5f, -2f, 4f }));
            var ex3 = Assert.Throws<CheckpointFormatException>(() => TorchCheckpoint.Read(WritePt(dir, [.. ok], new() { ["0"] = floats[..8] })))!;
            Assert.That(ex3.Message, Does.Contain("storage '0'"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void SafeTensorsRoundTripAndBadOffsetsAreRejected()
    {
        var tensors = new List<KeyValuePair<string, HostTensor>>
        {
            new("a", new HostTensor(HostDType.Float32, [2, 3], new float[] { 1, 2, 3, 4, 5, 6 })),
            new("b", new HostTensor(HostDType.Int64, [2], new long[] { -7, 1L << 40 })),
            new("c", new HostTensor(HostDType.Float64, [], new double[] { Math.PI })),
        };
        var bytes = SafeTensors.Serialize(tensors, new Dictionary<string, string> { ["k"] = "v" });
        var back = SafeTensors.Parse(bytes);
        Assert.That(back.Metadata["k"], Is.EqualTo("v"));
        Assert.That(back.Tensors.Select(t => t.Key), Is.EqualTo(new[] { "a", "b", "c" }));
        Assert.That((float[])back.Tensors[0].Value.Data, Is.EqualTo(new float[] { 1, 2, 3, 4, 5, 6 }));
        Assert.That((long[])back.Tensors[1].Value.Data, Is.EqualTo(new[] { -7, 1L << 40 }));
        Assert.That(back.Tensors[2].Value.Shape, Is.Empty);
        // Corrupt the header in place: a data_offsets end past the data section.
        var bad = (byte[])bytes.Clone();
        var needle = Encoding.ASCII.GetBytes("\"data_offsets\":[0,24]");
        int at = bad.AsSpan().IndexOf(needle);
        Assert.That(at, Is.GreaterThan(0));
        Encoding.ASCII.GetBytes("\"data_offsets\":[0,99]").CopyTo(bad, at);
        var ex = Assert.Throws<CheckpointFormatException>(() => SafeTensors.Parse(bad))!;
        Assert.That(ex.Message, Does.Contain("tensor 'a'"));
    }

    [Test]
    public void OwnCheckpointRoundTripsWeightsOptimizerStateEpochAndConfig()
    {
        string dir = Directory.CreateTempSubdirectory("hep-ckpt").FullName;
        try
        {
            // No dropout: its masks follow each module's own call counter, which a checkpoint does not carry.
            var config = ParticleNetConfig.Lite(7, 2) with { Fcs = [new FcSpec(128, 0)] };
            var jets = new SyntheticJets(4, 12, 7, [12, 8, 10, 5], seed: 1);
            using var labels = Tensor.FromArray<int>(Cpu, [0, 1, 1, 0], new Shape(4));
            using var model = new ParticleNet.ParticleNet(Cpu, config, seed: 2);
            using var opt = new Optim.AdamW(model.Parameters(), 1e-3);
            void Step(ParticleNet.ParticleNet m, Optim.Optimizer o)
            {
                using var scope = TensorScope.Begin();
                using var tape = Tape.Begin();
                var loss = Fn.CrossEntropy(m.Forward(jets.PointsTensor(Cpu, DType.Float32), Variable.Constant(jets.FeaturesTensor(Cpu, DType.Float32)), jets.MaskTensor(Cpu, DType.Float32)), labels);
                o.ZeroGrad();
                tape.Backward(loss);
                o.Step();
            }
            Step(model, opt);
            Step(model, opt);
            string path = Path.Combine(dir, "pn.ckpt");
            File.WriteAllText(path, "an older file that must be replaced atomically");
            ModelCheckpoint.Save(path, model, epoch: 3, config: config.ToString(), optimizer: opt);
            Assert.That(Directory.GetFiles(dir), Is.EqualTo(new[] { path }), "no temporary file left behind");

            using var restored = new ParticleNet.ParticleNet(Cpu, config, seed: 99);
            using var restoredOpt = new Optim.AdamW(restored.Parameters(), 0.5);
            var info = ModelCheckpoint.Load(path, restored, restoredOpt);
            Assert.That((info.Epoch, info.Config, info.OptimizerType, info.OptimizerSteps), Is.EqualTo((3, config.ToString(), "AdamW", 2L)));
            Assert.That(restoredOpt.LearningRate, Is.EqualTo(1e-3));
            foreach (var ((name, a), (_, b)) in model.NamedParameters().Zip(restored.NamedParameters()))
                Assert.That(b.Data.ToArray<float>(), Is.EqualTo(a.Data.ToArray<float>()), name);
            foreach (var ((name, a), (_, b)) in model.NamedBuffers().Zip(restored.NamedBuffers()))
                Assert.That(b.ToArray<float>(), Is.EqualTo(a.ToArray<float>()), name);
            // One more identical step on both: identical parameters (moments and step count restored).
            Step(model, opt);
            Step(restored, restoredOpt);
            foreach (var ((name, a), (_, b)) in model.NamedParameters().Zip(restored.NamedParameters()))
                Assert.That(b.Data.ToArray<float>(), Is.EqualTo(a.Data.ToArray<float>()), "after resuming: " + name);

            // A newer format version is refused with a clear message.
            var contents = SafeTensors.Read(path);
            var meta = contents.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value);
            meta["version"] = "99";
            string future = Path.Combine(dir, "future.ckpt");
            File.WriteAllBytes(future, SafeTensors.Serialize(contents.Tensors, meta));
            var ex = Assert.Throws<CheckpointFormatException>(() => ModelCheckpoint.Load(future, restored))!;
            Assert.That(ex.Message, Does.Contain("version 99 is newer"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
