namespace Hep.Models.Nn;

/// <summary>
/// Parameter initialisers on any backend, reproducible from a seed (counter RNG). Defaults follow
/// PyTorch: Linear/Conv weights and biases ~ U(−1/√fan_in, 1/√fan_in).
/// </summary>
public static class Init
{
    public static Tensor Uniform(IBackend backend, Shape shape, double low, double high, ulong seed, DType dtype = DType.Float32)
    {
        var t = Tensor.Zeros(backend, shape, dtype);
        backend.Random.Uniform(seed, low, high, t);
        return t;
    }

    public static Tensor FanIn(IBackend backend, Shape shape, int fanIn, ulong seed, DType dtype = DType.Float32)
    {
        double bound = 1 / Math.Sqrt(Math.Max(fanIn, 1));
        return Uniform(backend, shape, -bound, bound, seed, dtype);
    }
}
