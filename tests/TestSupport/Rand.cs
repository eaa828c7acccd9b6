using Hep.Engine;

namespace Hep.TestSupport;

/// <summary>Seeded random host data and tensors for tests (reproducible per seed).</summary>
public static class Rand
{
    public static double[] Doubles(int seed, int count, double low = -1, double high = 1)
    {
        var rng = new Random(seed);
        var v = new double[count];
        for (int i = 0; i < count; i++) v[i] = low + (high - low) * rng.NextDouble();
        return v;
    }

    public static float[] Floats(int seed, int count, double low = -1, double high = 1) =>
        Array.ConvertAll(Doubles(seed, count, low, high), d => (float)d);

    /// <summary>A tensor of the given dtype filled with seeded uniform values.</summary>
    public static Tensor Tensor(IBackend backend, int seed, Shape shape, DType dtype = DType.Float32, double low = -1, double high = 1) =>
        Operands.FromDoubles(backend, Doubles(seed, (int)shape.Numel, low, high), shape, dtype);

    public static int[] Ints(int seed, int count, int lowInclusive, int highExclusive)
    {
        var rng = new Random(seed);
        var v = new int[count];
        for (int i = 0; i < count; i++) v[i] = rng.Next(lowInclusive, highExclusive);
        return v;
    }
}
