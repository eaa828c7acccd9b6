using Hep.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace Hep.Benchmarks.HotKernels;

/// <summary>Copies between engine tensors and libtorch tensors for the comparison benchmarks (setup only, never timed).</summary>
internal static class Torch
{
    /// <summary>Uses every core (libtorch's intra-op pool) and returns the thread count.</summary>
    public static int UseAllCores()
    {
        torch.set_num_threads(Environment.ProcessorCount);
        return torch.get_num_threads();
    }

    public static torch.Tensor From(Hep.Engine.Tensor t) =>
        torch.tensor(t.ToArray<float>(), t.Shape.Select(d => (long)d).ToArray());

    public static torch.Tensor FromInts(Hep.Engine.Tensor t) =>
        torch.tensor(Array.ConvertAll(t.ToArray<int>(), v => (long)v), t.Shape.Select(d => (long)d).ToArray());

    public static float[] Floats(torch.Tensor t) => t.contiguous().data<float>().ToArray();

    public static long[] Longs(torch.Tensor t) => t.contiguous().data<long>().ToArray();

    /// <summary>Throws unless |a − e| ≤ atol + rtol·|e| everywhere (benchmarks validate once before timing).</summary>
    public static void AssertClose(string what, float[] actual, float[] expected, double atol, double rtol)
    {
        if (actual.Length != expected.Length) throw new InvalidOperationException($"{what}: {actual.Length} vs {expected.Length} values");
        for (int i = 0; i < actual.Length; i++)
        {
            if (!(Math.Abs(actual[i] - expected[i]) <= atol + rtol * Math.Abs(expected[i])))
                throw new InvalidOperationException($"{what}: engine and libtorch differ at [{i}]: {actual[i]} vs {expected[i]}");
        }
    }
}
