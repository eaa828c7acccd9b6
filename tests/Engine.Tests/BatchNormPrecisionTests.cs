namespace Hep.Engine.Tests;

/// <summary>
/// Float32 batch-norm statistics of the CPU kernel at libtorch's CPU precision (every element accumulated
/// in float64): on channels whose mean is large against their spread, the mean must be the correctly
/// rounded float32 of the exact mean and the variance within one float32 ulp. Float32 row sums miss both
/// by several ulps; the error moves the whole channel's output (β − μ·γ/σ) and flipped ReLU masks of the
/// golden ParticleNet train step (docs/models.md).
/// </summary>
public class BatchNormPrecisionTests
{
    private static IBackend Cpu => Backends.Cpu;

    [TestCase(8, 3, 2048)]  // EdgeConv layout (B, C, N·k): channel-parallel, row sums
    [TestCase(4096, 37, 1)] // dense (N, C): rows accumulated per channel, C not a multiple of the vector width
    public void Float32MomentsAreCorrectlyRounded(int b, int c, int l)
    {
        // Values 10 ± 1: exact float64 partial sums (38 significant bits), and B·L a power of two, so
        // exact mean = Σ / count in float64 without rounding.
        var data = Rand.Floats(71, b * c * l, 9, 11);
        var shape = l == 1 ? new Shape(b, c) : new Shape(b, c, l);
        using var x = Tensor.FromArray<float>(Cpu, data, shape);
        using var mean = Tensor.Zeros(Cpu, new Shape(c), DType.Float32);
        using var variance = Tensor.Zeros(Cpu, new Shape(c), DType.Float32);
        Cpu.Norm.ChannelMoments(x, mean, variance);
        var m = mean.ToArray<float>();
        var v = variance.ToArray<float>();
        double count = (double)b * l;
        for (int ch = 0; ch < c; ch++)
        {
            double sum = 0;
            for (int i = 0; i < b; i++)
                for (int k = 0; k < l; k++) sum += data[(i * c + ch) * l + k];
            float exactMean = (float)(sum / count);
            Assert.That(m[ch], Is.EqualTo(exactMean), $"channel {ch} mean");
            double sq = 0;
            for (int i = 0; i < b; i++)
                for (int k = 0; k < l; k++)
                {
                    double d = data[(i * c + ch) * l + k] - exactMean;
                    sq += d * d;
                }
            double expected = sq / count;
            Assert.That(Math.Abs(v[ch] - expected), Is.LessThanOrEqualTo(float.Epsilon + MathF.BitIncrement((float)expected) - (float)expected),
                $"channel {ch} variance {v[ch]} vs {expected}");
        }
    }
}
