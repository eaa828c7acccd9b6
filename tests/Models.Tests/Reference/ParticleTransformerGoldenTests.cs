using Hep.Models.Checkpoints;
using Hep.Models.ParticleTransformer;

namespace Hep.Models.Tests.Reference;

/// <summary>Where a ParT golden test takes its pair features [ln kT, ln z, ln Δ, ln m²] from.</summary>
public enum PairFeatureSource
{
    /// <summary>Ours (float32, weaver's formulas and operation order, correctly rounded log/atan2).</summary>
    Own,

    /// <summary>
    /// Ours, except the features that are float32 rounding noise (their envelope under the reference's
    /// log/atan2 rounding is wider than 1e-3: collinear pairs whose ΔR is a few ulps of the rapidities) take
    /// the reference's value, which the pair-feature test proves lies in that envelope; the analogue of
    /// injecting the golden kNN indices at exact distance ties.
    /// </summary>
    OwnWithReferenceRoundingNoise,

    /// <summary>pair_embed.pair_fts of debug.safetensors: a bit-level check of everything after them.</summary>
    Stored,
}

/// <summary>
/// Particle Transformer against libtorch golden cases (weaver-core v0.4.17 semantics): the pair features
/// alone, eval logits, and one train-mode step (logits, loss, every gradient, BatchNorm statistics), all at
/// 1e-4 relative (<see cref="GoldenComparison"/>) except the one documented case below.
///
/// The pair-feature step is compared alone: every golden feature lies within the envelope of our formulas
/// with the reference's log/atan2 off by ≤ 4 ulps (libtorch's float32 log/atan2 are not correctly
/// rounded; ln z, which has no transcendental before its final ln, needs the 4), and most are
/// bit-identical. A handful are rounding noise of massless collinear particles (spec §2.8): in part_top_b4,
/// jet 3's pair (24, 17) has Δy = 3 ulps in correctly rounded float32 and 2 ulps in the reference (one ulp of
/// one log), so ln Δ and ln kT differ by ln 1.5. That one pair moves the train-mode pair-embedding
/// BatchNorm statistics and thus pair_embed.embed.*.weight gradients by up to 4.8e-4 of their max (the
/// golden README measured the same 4.7e-4 with its own correctly rounded float32 features): the
/// <see cref="PairFeatureSource.Own"/> train step is therefore held to the case's gradient tolerance
/// (2e-3), while with the reference's rounding of the rounding-noise features, or with the stored
/// features, every gradient agrees to 1e-4. The float64 run shows the reference's own float32 noise
/// (≤ 4e-5) and that the gradients zero in exact arithmetic are zero.
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
        // Every golden feature (padded pairs included) within our formulas' envelope under ≤ 4-ulp log/atan2.
        var vectors = (float[])_case.Inputs["vectors"].Data;
        Assert.That(PairFeatureEnvelope.Compute(vectors, b, n, 0).Low, Is.EqualTo(ours), "the K = 0 envelope is our computation");
        for (int k = 1; k <= ReferenceTranscendentalUlps; k++)
        {
            var envelope = PairFeatureEnvelope.Compute(vectors, b, n, k);
            var outside = Enumerable.Range(0, 4).Select(c => Enumerable.Range(0, b).Sum(jet =>
                Enumerable.Range(0, p).Count(at => !envelope.Contains((jet * 4 + c) * p + at, expected[(jet * 4 + c) * p + at])))).ToArray();
            TestContext.Out.WriteLine($"{caseName} golden pair features outside the {k}-ulp log/atan2 envelope, per channel: {string.Join(", ", outside)}");
            if (k == ReferenceTranscendentalUlps) Assert.That(outside, Is.All.EqualTo(0), $"pair features not explained by {k}-ulp log/atan2 rounding");
        }
        // Padded pairs follow the same formulas on zero vectors (clamped logs): exactly equal.
        for (int jet = 0; jet < b; jet++)
        {
            int at = (jet * 4) * p + (n - 1) * n / 2 + (n - 1);
            if (mask[jet * n + n - 1] == 0) Assert.That(ours[at], Is.EqualTo(expected[at]), "padded pair ln kT");
        }
    }

    /// <summary>Largest ulp error of the reference's float32 log/atan2 that the pair-feature envelope allows.</summary>
    private const int ReferenceTranscendentalUlps = 4;

    private Tensor? PairFeaturesFor(PairFeatureSource source, DType dtype)
    {
        var stored = _case.Debug["pair_embed.pair_fts"];
        switch (source)
        {
            case PairFeatureSource.Own:
                return null;
            case PairFeatureSource.Stored:
                return stored.ToTensor(Cpu, dtype);
            default:
                var shape = _case.Inputs["vectors"].Shape;
                var ours = PairFeatures.Compute(_case.Input(Cpu, "vectors")).ToArray<float>();
                var golden = (float[])stored.Data;
                var envelope = PairFeatureEnvelope.Compute((float[])_case.Inputs["vectors"].Data, shape[0], shape[2], ReferenceTranscendentalUlps);
                int noise = 0, changed = 0;
                for (int at = 0; at < ours.Length; at++)
                {
                    if (envelope.Width(at) <= 1e-3) continue;
                    Assert.That(envelope.Contains(at, golden[at]), $"golden pair feature {at} outside its envelope");
                    noise++;
                    if (ours[at] != golden[at]) changed++;
                    ours[at] = golden[at];
                }
                TestContext.Out.WriteLine($"{caseName}: {noise} rounding-noise pair features take the reference's rounding ({changed} differ from ours)");
                using (var host = Tensor.FromArray<float>(Cpu, ours, new Shape(stored.Shape)))
                    return TensorOps.Cast(host, dtype);
        }
    }

    private Variable Run(ParticleTransformer.ParticleTransformer model, PairFeatureSource source, DType dtype = DType.Float32)
    {
        var pf = PairFeaturesFor(source, dtype);
        return model.Forward(Variable.Constant(_case.Input(Cpu, "features", dtype)), _case.Input(Cpu, "vectors", dtype), _case.Input(Cpu, "mask", dtype), pf);
    }

    [TestCase(PairFeatureSource.Own)]
    [TestCase(PairFeatureSource.Stored)]
    public void EvalLogits(PairFeatureSource source)
    {
        using var scope = TensorScope.Begin();
        using var model = LoadModel(false);
        model.Eval();
        var logits = Run(model, source);
        var cmp = new GoldenComparison(_case);
        cmp.Relative($"logits_eval ({source} pair features)", logits.Data.ToDoubleArray(), _case.Outputs["logits_eval"].ToDoubles());
        cmp.AssertAll();
    }

    [TestCase(PairFeatureSource.Own, DType.Float32)]
    [TestCase(PairFeatureSource.OwnWithReferenceRoundingNoise, DType.Float32)]
    [TestCase(PairFeatureSource.Stored, DType.Float32)]
    [TestCase(PairFeatureSource.Stored, DType.Float64)]
    public void TrainStepLogitsLossGradientsAndBatchNormStatistics(PairFeatureSource source, DType dtype)
    {
        using var scope = TensorScope.Begin();
        using var model = LoadModel(noDropout: true, dtype);
        model.Train();
        using var tape = Tape.Begin();
        var logits = Run(model, source, dtype);
        var loss = Fn.CrossEntropy(logits, _case.Labels(Cpu));
        tape.Backward(loss);
        var cmp = new GoldenComparison(_case);
        cmp.LogitsAndLoss(logits, loss);
        // Own features: one rounding-noise pair feature moves the pair-embedding gradients (class summary).
        cmp.Gradients(model, source == PairFeatureSource.Own ? _case.Tolerance("grad", "rel_to_tensor_max") : GoldenComparison.Required);
        cmp.BatchNormStatistics(model);
        if (dtype == DType.Float64)
        {
            // Zero in exact arithmetic (a bias right before a train-mode BatchNorm): float64 shows it.
            double largest = model.NamedParameters().Max(p => p.Parameter.Grad!.ToDoubleArray().Max(Math.Abs));
            foreach (var (name, p) in model.NamedParameters().Where(p => _case.GradientsZeroInExactArithmetic.Contains("grad." + WeaverNames.ToWeaver(p.Name))))
            {
                double g = p.Grad!.ToDoubleArray().Max(Math.Abs);
                TestContext.Out.WriteLine($"{caseName} {name}: float64 max |grad| {g:E2} (zero in exact arithmetic)");
                Assert.That(g, Is.LessThan(1e-12 * largest), $"{name}: gradient should vanish");
            }
        }
        cmp.AssertAll();
    }
}
