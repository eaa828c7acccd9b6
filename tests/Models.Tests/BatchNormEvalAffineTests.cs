using Hep.Models.Nn;

namespace Hep.Models.Tests;

/// <summary>
/// <see cref="BatchNorm.EvalAffine"/>, the one eval-mode scale/shift helper (ParticleNet's GEMM epilogue in the
/// module's dtype, ParT's pair-embedding fold in float64): in the module's dtype it reproduces the eval batch
/// norm exactly as x·Scale + Shift; in float64 it is γ/√(σ² + ε) and β − μ·Scale from the stored values to
/// float64 rounding; without affine parameters γ = 1, β = 0.
/// </summary>
public class BatchNormEvalAffineTests
{
    private static IBackend Cpu => Backends.Cpu;

    private static void Set(Tensor t, double[] values)
    {
        using var source = Tensor.FromArray<float>(t.Backend, Array.ConvertAll(values, v => (float)v), t.Shape);
        TensorOps.CopyInto(source, t);
    }

    private static BatchNorm Randomised(int channels, bool affine)
    {
        var norm = new BatchNorm(Cpu, channels, affine: affine);
        Set(norm.RunningMean, Rand.Doubles(1, channels, -0.5, 0.5));
        Set(norm.RunningVar, Rand.Doubles(2, channels, 0.3, 2.5));
        if (affine)
        {
            Set(norm.Weight!.Data, Rand.Doubles(3, channels, 0.5, 1.5));
            Set(norm.Bias!.Data, Rand.Doubles(4, channels, -0.3, 0.3));
        }
        norm.Eval();
        return norm;
    }

    [TestCase(true)]
    [TestCase(false)]
    public void Float64AffineIsTheHostFormula(bool affine)
    {
        int c = 11;
        using var scope = TensorScope.Begin();
        using var norm = Randomised(c, affine);
        var (scale, shift) = norm.EvalAffine(DType.Float64);
        Assert.That(scale.DType, Is.EqualTo(DType.Float64));
        Assert.That(shift.DType, Is.EqualTo(DType.Float64));
        var mean = norm.RunningMean.ToDoubleArray();
        var variance = norm.RunningVar.ToDoubleArray();
        var gamma = affine ? norm.Weight!.Data.ToDoubleArray() : Enumerable.Repeat(1.0, c).ToArray();
        var beta = affine ? norm.Bias!.Data.ToDoubleArray() : new double[c];
        var s = Enumerable.Range(0, c).Select(i => gamma[i] / Math.Sqrt(variance[i] + norm.Eps)).ToArray();
        var t = Enumerable.Range(0, c).Select(i => beta[i] - mean[i] * s[i]).ToArray();
        TensorAssert.Close(scale, s, 1e-15, 1e-15, "scale");
        TensorAssert.Close(shift, t, 1e-15, 1e-15, "shift");
    }

    [TestCase(true)]
    [TestCase(false)]
    public void ModuleDTypeAffineReproducesTheEvalBatchNorm(bool affine)
    {
        int c = 7, l = 5;
        using var scope = TensorScope.Begin();
        using var norm = Randomised(c, affine);
        var (scale, shift) = norm.EvalAffine();
        Assert.That(scale.DType, Is.EqualTo(DType.Float32));
        using var x = Rand.Tensor(Cpu, 5, new Shape(2, c, l), low: -3, high: 3);
        using var noGrad = Tape.NoGrad();
        var expected = norm.Forward(Variable.Constant(x)).Data.ToDoubleArray();
        var xs = x.ToDoubleArray();
        var s = scale.ToArray<float>();
        var t = shift.ToArray<float>();
        var actual = new double[xs.Length];
        for (int i = 0; i < xs.Length; i++)
        {
            int ch = i / l % c;
            actual[i] = MathF.FusedMultiplyAdd((float)xs[i], s[ch], t[ch]);
        }
        TensorAssert.Close(actual, expected, 1e-6, 1e-6, "x·Scale + Shift vs eval BatchNorm");
    }
}
