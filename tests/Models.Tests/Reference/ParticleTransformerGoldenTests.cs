using Hep.Models.Checkpoints;
using Hep.Models.ParticleTransformer;

namespace Hep.Models.Tests.Reference;

/// <summary>
/// Particle Transformer against libtorch golden cases (weaver-core v0.4.17 semantics): the pair features
/// alone, eval logits and one train-mode step (logits, loss, every gradient, BatchNorm statistics) with
/// our own float32 pair features, and the same with the stored pair features for a bit-level check of
/// everything after them.
/// </summary>
[TestFixture("part_small_b4")]
[TestFixture("part_top_b4")]
public class ParticleTransformerGoldenTests(string caseName)
{
    private static IBackend Cpu => Backends.Cpu;
    private GoldenCase _case = null!;

    [OneTimeSetUp]
    public void LoadCase() => _case = GoldenCase.Load(caseName);

    private ParticleTransformer.ParticleTransformer LoadModel(bool noDropout, DType dtype = DType.Float32)
    {
        var m = _case.Model;
        var config = new ParticleTransformerConfig(m.GetProperty("input_dim").GetInt32(), m.GetProperty("num_classes").GetInt32())
        {
            NumHeads = m.GetProperty("num_heads").GetInt32(),
            NumLayers = m.GetProperty("num_layers").GetInt32(),
            NumClassLayers = m.GetProperty("num_cls_layers").GetInt32(),
            EmbedDims = m.GetProperty("embed_dims").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
            PairEmbedDims = m.GetProperty("pair_embed_dims").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
            UsePreActivationPair = m.GetProperty("use_pre_activation_pair").GetBoolean(),
            Trim = m.GetProperty("trim").GetBoolean(),
        };
        var model = new ParticleTransformer.ParticleTransformer(Cpu, noDropout ? config.WithoutDropout() : config, dtype: dtype);
        StateDictLoader.LoadWeaver(model, _case.Weights.Tensors);
        return model;
    }

    [Test]
    public void PairFeaturesMatchTheReferenceFloat32Arithmetic()
    {
        using var scope = TensorScope.Begin();
        var ours = PairFeatures.Compute(_case.Input(Cpu, "vectors")).ToArray<float>();
        var golden = _case.Debug["pair_embed.pair_fts"];
        var expected = (float[])golden.Data;
        Assert.That(ours.Length, Is.EqualTo(expected.Length));
        int b = golden.Shape[0], p = golden.Shape[2];
        var mask = _case.Inputs["mask"].ToDoubles();
        int n = _case.Inputs["mask"].Shape[2];
        for (int c = 0; c < 4; c++)
        {
            int real = 0, identical = 0, off = 0;
            for (int jet = 0; jet < b; jet++)
            {
                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j <= i; j++)
                    {
                        if (mask[jet * n + i] == 0 || mask[jet * n + j] == 0) continue;
                        int at = (jet * 4 + c) * p + i * (i + 1) / 2 + j;
                        real++;
                        if (ours[at] == expected[at]) identical++;
                        if (Math.Abs(ours[at] - expected[at]) > 1e-3) off++;
                    }
                }
            }
            TestContext.Out.WriteLine($"{caseName} pair channel {c}: {identical}/{real} real pairs bit-identical, {off} differ by > 1e-3");
            Assert.That(identical, Is.GreaterThan(0.6 * real), $"channel {c}: too few bit-identical pair features");
            Assert.That(off, Is.LessThanOrEqualTo(2), $"channel {c}: pairs off by more than 1e-3");
        }
        // Padded pairs follow the same formulas on zero vectors (clamped logs): exactly equal.
        for (int jet = 0; jet < b; jet++)
        {
            int at = (jet * 4) * p + (n - 1) * n / 2 + (n - 1);
            if (mask[jet * n + n - 1] == 0) Assert.That(ours[at], Is.EqualTo(expected[at]), "padded pair ln kT");
        }
    }

    private Variable Run(ParticleTransformer.ParticleTransformer model, bool storedPairFeatures, DType dtype = DType.Float32)
    {
        var pf = storedPairFeatures ? _case.Debug["pair_embed.pair_fts"].ToTensor(Cpu, dtype) : null;
        return model.Forward(Variable.Constant(_case.Input(Cpu, "features", dtype)), _case.Input(Cpu, "vectors", dtype), _case.Input(Cpu, "mask", dtype), pf);
    }

    [TestCase(false)]
    [TestCase(true)]
    public void EvalLogits(bool storedPairFeatures)
    {
        using var scope = TensorScope.Begin();
        using var model = LoadModel(false);
        model.Eval();
        var logits = Run(model, storedPairFeatures);
        var cmp = new GoldenComparison(_case);
        cmp.Elementwise($"logits_eval ({(storedPairFeatures ? "stored" : "own")} pair features)", logits.Data.ToDoubleArray(),
            _case.Outputs["logits_eval"].ToDoubles(), _case.Tolerance("logits_eval", "abs"), _case.Tolerance("logits_eval", "rel"));
        cmp.AssertAll();
    }

    [TestCase(false, DType.Float32)]
    [TestCase(true, DType.Float32)]
    public void TrainStepLogitsLossGradientsAndBatchNormStatistics(bool storedPairFeatures, DType dtype)
    {
        using var scope = TensorScope.Begin();
        using var model = LoadModel(noDropout: true, dtype);
        model.Train();
        using var tape = Tape.Begin();
        var logits = Run(model, storedPairFeatures, dtype);
        var loss = Fn.CrossEntropy(logits, _case.Labels(Cpu));
        tape.Backward(loss);
        var cmp = new GoldenComparison(_case);
        cmp.Elementwise("logits_train", logits.Data.ToDoubleArray(), _case.Outputs["logits_train"].ToDoubles(),
            _case.Tolerance("logits_train", "abs"), _case.Tolerance("logits_train", "rel"));
        cmp.Elementwise("loss", [loss.Data.Item()], _case.Outputs["loss"].ToDoubles(), _case.Tolerance("loss", "abs"), _case.Tolerance("loss", "rel"));
        cmp.Gradients(model);
        cmp.BatchNormStatistics(model);
        cmp.AssertAll();
    }
}
