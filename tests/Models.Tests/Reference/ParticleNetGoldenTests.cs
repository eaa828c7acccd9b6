using Hep.Models.Checkpoints;
using Hep.Models.ParticleNet;

namespace Hep.Models.Tests.Reference;

/// <summary>
/// ParticleNet and ParticleNet-Lite against libtorch golden cases (weaver-core v0.4.17 semantics):
/// eval logits, one train-mode step (logits, loss, every gradient, BatchNorm statistics), with the
/// golden neighbour indices injected (the jets have exact kNN distance ties, golden README); and eval
/// logits of the tie-free jets with our own kNN. Everything at 1e-4 relative (<see cref="GoldenComparison"/>).
/// The float64 train step shows the reference's own float32 rounding (≤ 2e-5 of each gradient's max):
/// our float32 step is within 4e-6 of our float64 one since the CPU BatchNorm statistics accumulate
/// every element in float64 as libtorch's do (float32 row sums gave 3.6e-4 on pn_top_b8's
/// edge_convs.1.bns.0.bias: a channel-mean error of a few ulps shifts β − μ·γ/σ and flips ReLU masks).
/// </summary>
[TestFixture("pn_lite_top_b8")]
[TestFixture("pn_top_b8")]
public class ParticleNetGoldenTests(string caseName)
{
    private static IBackend Cpu => Backends.Cpu;
    private GoldenCase _case = null!;

    [OneTimeSetUp]
    public void LoadCase() => _case = GoldenCase.Load(caseName);

    private ParticleNetConfig Config(bool noDropout)
    {
        var m = _case.Model;
        var convs = m.GetProperty("conv_params").EnumerateArray()
            .Select(c => new EdgeConvSpec(c[0].GetInt32(), c[1].EnumerateArray().Select(x => x.GetInt32()).ToArray())).ToArray();
        var fcs = m.GetProperty("fc_params").EnumerateArray()
            .Select(f => new FcSpec(f[0].GetInt32(), noDropout ? 0 : f[1].GetDouble())).ToArray();
        return new ParticleNetConfig(m.GetProperty("input_dims").GetInt32(), m.GetProperty("num_classes").GetInt32(), convs, fcs,
            m.GetProperty("use_fusion").GetBoolean(), m.GetProperty("use_fts_bn").GetBoolean(), m.GetProperty("use_counts").GetBoolean());
    }

    private ParticleNet.ParticleNet LoadModel(bool noDropout, DType dtype = DType.Float32)
    {
        var model = new ParticleNet.ParticleNet(Cpu, Config(noDropout), dtype: dtype);
        StateDictLoader.LoadWeaver(model, _case.Weights.Tensors);
        return model;
    }

    private Tensor[] GoldenNeighbours(string mode, int blocks) =>
        Enumerable.Range(0, blocks).Select(i => _case.Debug[$"{mode}.edge_convs.{i}.knn_idx"].ToTensor(Cpu, DType.Int32)).ToArray();

    [Test]
    public void ParameterCountMatchesTheCase()
    {
        using var model = LoadModel(false);
        long expected = _case.Outputs.Where(kv => kv.Key.StartsWith("grad.")).Sum(kv => kv.Value.Numel);
        Assert.That(model.ParameterCount, Is.EqualTo(expected));
    }

    [Test]
    public void EvalLogitsWithGoldenNeighbours()
    {
        using var scope = TensorScope.Begin();
        using var model = LoadModel(false);
        model.Eval();
        var neighbours = GoldenNeighbours("eval", model.Blocks.Count);
        model.NeighbourOverride = i => neighbours[i];
        var logits = model.Forward(_case.Input(Cpu, "points"), Variable.Constant(_case.Input(Cpu, "features")), _case.Input(Cpu, "mask"));
        var cmp = new GoldenComparison(_case);
        cmp.Relative("logits_eval", logits.Data.ToDoubleArray(), _case.Outputs["logits_eval"].ToDoubles());
        cmp.AssertAll();
    }

    [Test]
    public void EvalLogitsOfTieFreeJetsWithOwnKnn()
    {
        using var scope = TensorScope.Begin();
        using var model = LoadModel(false);
        model.Eval();
        var logits = model.Forward(_case.Input(Cpu, "points"), Variable.Constant(_case.Input(Cpu, "features")), _case.Input(Cpu, "mask")).Data.ToDoubleArray();
        var expected = _case.Outputs["logits_eval"].ToDoubles();
        int classes = _case.Model.GetProperty("num_classes").GetInt32();
        var tieFree = _case.Json.GetProperty("checks").GetProperty("diagnostics").GetProperty("tie_free_jets_eval").EnumerateArray().Select(j => j.GetInt32()).ToArray();
        Assert.That(tieFree, Is.Not.Empty);
        var cmp = new GoldenComparison(_case);
        foreach (int jet in tieFree)
        {
            cmp.Relative($"logits_eval jet {jet} (own kNN)", logits.Skip(jet * classes).Take(classes).ToArray(),
                expected.Skip(jet * classes).Take(classes).ToArray());
        }
        // Jets with exact ties may differ by a tie resolution, but only by a small amount (README: ≤ ~1e-3).
        cmp.Elementwise("logits_eval all jets (own kNN, tie-resolution bound)", logits, expected, 5e-3, 0);
        cmp.AssertAll();
    }

    [TestCase(DType.Float32)]
    [TestCase(DType.Float64)]
    public void TrainStepLogitsLossGradientsAndBatchNormStatistics(DType dtype)
    {
        using var scope = TensorScope.Begin();
        using var model = LoadModel(noDropout: true, dtype);
        model.Train();
        var neighbours = GoldenNeighbours("train", model.Blocks.Count);
        model.NeighbourOverride = i => neighbours[i];
        using var tape = Tape.Begin();
        var logits = model.Forward(_case.Input(Cpu, "points", dtype), Variable.Constant(_case.Input(Cpu, "features", dtype)), _case.Input(Cpu, "mask", dtype));
        var loss = Fn.CrossEntropy(logits, _case.Labels(Cpu));
        tape.Backward(loss);
        var cmp = new GoldenComparison(_case);
        cmp.LogitsAndLoss(logits, loss);
        cmp.Gradients(model);
        cmp.BatchNormStatistics(model);
        cmp.AssertAll();
    }
}
