using BenchmarkDotNet.Attributes;
using Hep.Engine;
using Hep.Kernels.Cpu;
using TorchSharp;
using static TorchSharp.torch;

namespace Hep.Benchmarks.HotKernels;

/// <summary>
/// kNN at ParticleNet's sizes (B = 128 jets, N = 128 slots, K = 16; C = 2 coordinates in the first
/// block, 64/128 features later), jets padded to 16…128 real particles. libtorch runs weaver's
/// composition: points + coord_shift, −2·xᵀx, squared norms, pairwise matrix, topk(K + 1), drop the first.
/// </summary>
[Config(typeof(HotKernelConfig))]
[MemoryDiagnoser]
public class KnnBenchmarks
{
    private const int B = 128, N = 128, K = 16;
    private Hep.Engine.Tensor _points = null!, _mask = null!;
    private torch.Tensor _tPoints = null!, _tShift = null!;

    [Params(2, 64, 128)]
    public int C { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Torch.UseAllCores();
        var backend = CpuBackend.Shared;
        var real = new int[B];
        var rng = new Random(7);
        var mask = new float[B * N];
        for (int b = 0; b < B; b++)
        {
            real[b] = rng.Next(16, N + 1);
            for (int j = 0; j < real[b]; j++) mask[b * N + j] = 1;
        }
        var pts = new float[B * C * N];
        for (int b = 0; b < B; b++)
            for (int c = 0; c < C; c++)
                for (int j = 0; j < real[b]; j++) pts[(b * C + c) * N + j] = (float)(rng.NextDouble() * 2 - 1);
        _points = Hep.Engine.Tensor.FromArray<float>(backend, pts, new Shape(B, C, N));
        _mask = Hep.Engine.Tensor.FromArray<float>(backend, mask, new Shape(B, N));
        _tPoints = Torch.From(_points);
        using var tMask = Torch.From(_mask);
        _tShift = (tMask.eq(0).to_type(ScalarType.Float32) * 1e9f).unsqueeze(1);
        Validate(real);
    }

    // Real queries of jets with more than K real particles must agree (up to float32 near-ties).
    private void Validate(int[] real)
    {
        using var ours = TensorOps.Knn(_points, _mask, K);
        var o = ours.ToArray<int>();
        long[] t;
        using (var scope = torch.NewDisposeScope()) t = Torch.Longs(TorchKnn());
        int same = 0, total = 0;
        for (int b = 0; b < B; b++)
        {
            if (real[b] <= K) continue;
            for (int i = 0; i < real[b]; i++)
                for (int r = 0; r < K; r++, total++)
                    if (o[(b * N + i) * K + r] == t[(b * N + i) * K + r]) same++;
        }
        if (same < 0.98 * total) throw new InvalidOperationException($"kNN validation: only {same}/{total} neighbours agree with libtorch");
    }

    private torch.Tensor TorchKnn()
    {
        var x = _tPoints + _tShift;
        var inner = -2 * torch.matmul(x.transpose(2, 1), x);
        var xx = (x * x).sum(1, keepdim: true);
        var pd = -xx - inner - xx.transpose(2, 1);
        return pd.topk(K + 1, dim: -1).indexes[.., .., 1..];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _points.Dispose();
        _mask.Dispose();
        _tPoints.Dispose();
        _tShift.Dispose();
    }

    [Benchmark(Baseline = true, Description = "libtorch: shift + matmul + topk")]
    public long Libtorch()
    {
        using var scope = torch.NewDisposeScope();
        return TorchKnn().shape[2];
    }

    [Benchmark(Description = "engine: tiled kNN")]
    public int Engine()
    {
        using var idx = TensorOps.Knn(_points, _mask, K);
        return idx.Shape[2];
    }
}
