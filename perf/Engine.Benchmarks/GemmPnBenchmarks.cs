using BenchmarkDotNet.Attributes;
using Hep.Benchmarks.HotKernels;
using Hep.Engine;
using Hep.Kernels.Cpu;
using TorchSharp;
using static TorchSharp.torch;

namespace Hep.Benchmarks;

/// <summary>
/// The GEMMs of ParticleNet's 1×1 convolutions (B = 128 jets, N·K = 128·16 = 2048 positions, O = C
/// channels ∈ {64, 128, 256}), in the three forms a training step runs, with libtorch beside them in the
/// same process (baseline of each category, so Ratio = engine time / libtorch time):
///   forward  Y_b = W·X_b            (W (O, C) shared, X (B, C, 2048))
///   dX       dX_b = Wᵀ·dY_b         (Wᵀ a transposed view)
///   dW       dW = Σ_b dY_b·X_bᵀ     (X_bᵀ a transposed view; reduction over B·2048 = 262,144)
/// libtorch: conv2d 1×1 (forward; dX and dW through autograd.grad with only that input, as PN's
/// libtorch model runs it) and the plain matmul composition (matmul / tensordot). Engine: the calls
/// Conv1x1 and MatMulFunction make. Category "Eval": the forward followed by eval BatchNorm + ReLU
/// (libtorch conv2d → batch_norm → relu under no_grad; engine GEMM then the BN + ReLU pass, and the same
/// in one GEMM with the epilogue, TensorOps.MatMulEpilogue). "FMA peak" does the same FMA count in registers on every core:
/// GFLOP/s = 2·B·O·C·2048 / time, and fraction of peak = peak time / GEMM time.
/// </summary>
[Config(typeof(HotKernelConfig))]
[MemoryDiagnoser]
public class GemmPnBenchmarks
{
    private const int B = 128, P = 2048;
    private Hep.Engine.Tensor _w = null!, _x = null!, _dy = null!, _y = null!, _dx = null!;
    private Hep.Engine.Tensor _scale = null!, _shift = null!;
    private torch.Tensor _tMean = null!, _tVar = null!, _tGamma = null!, _tBeta = null!;
    private torch.Tensor _tw = null!, _tx = null!, _tdy = null!, _tx4 = null!, _tw4 = null!, _ty4 = null!, _tdy4 = null!;

    [Params(64, 128, 256)]
    public int Channels { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Torch.UseAllCores();
        var backend = CpuBackend.Shared;
        int c = Channels;
        _w = Hep.Engine.Tensor.Empty(backend, new Shape(c, c));
        _x = Hep.Engine.Tensor.Empty(backend, new Shape(B, c, P));
        _dy = Hep.Engine.Tensor.Empty(backend, new Shape(B, c, P));
        _y = Hep.Engine.Tensor.Empty(backend, new Shape(B, c, P));
        _dx = Hep.Engine.Tensor.Empty(backend, new Shape(B, c, P));
        backend.Random.Uniform(1, -1, 1, _w);
        backend.Random.Uniform(2, -1, 1, _x);
        backend.Random.Uniform(3, -1, 1, _dy);
        _tw = Torch.From(_w);
        _tx = Torch.From(_x);
        _tdy = Torch.From(_dy);
        _tx4 = _tx.reshape(B, c, 128, 16).detach().requires_grad_(true);
        _tw4 = _tw.reshape(c, c, 1, 1).detach().requires_grad_(true);
        _tdy4 = _tdy.reshape(B, c, 128, 16);
        _ty4 = torch.nn.functional.conv2d(_tx4, _tw4);

        var stats = new float[4][];
        for (int i = 0; i < 4; i++)
        {
            var rng = new Random(10 + i);
            stats[i] = Enumerable.Range(0, c).Select(_ => i == 1 ? 0.5f + rng.NextSingle() : i == 2 ? 0.5f + rng.NextSingle() : rng.NextSingle() - 0.5f).ToArray();
        }
        _tMean = torch.tensor(stats[0]);
        _tVar = torch.tensor(stats[1]);
        _tGamma = torch.tensor(stats[2]);
        _tBeta = torch.tensor(stats[3]);
        var scale = new float[c];
        var shift = new float[c];
        for (int o = 0; o < c; o++)
        {
            scale[o] = stats[2][o] / MathF.Sqrt(stats[1][o] + 1e-5f);
            shift[o] = stats[3][o] - stats[0][o] * scale[o];
        }
        _scale = Hep.Engine.Tensor.FromArray<float>(backend, scale, new Shape(c));
        _shift = Hep.Engine.Tensor.FromArray<float>(backend, shift, new Shape(c));

        // Validate once: engine forward / dX / dW / eval BN + ReLU (composed and fused) against libtorch.
        Forward();
        Torch.AssertClose("forward", _y.ToArray<float>(), Torch.Floats(torch.matmul(_tw, _tx)), 1e-3, 1e-3);
        DInput();
        Torch.AssertClose("dX", _dx.ToArray<float>(), Torch.Floats(torch.matmul(_tw.t(), _tdy)), 1e-3, 1e-3);
        using (var dw = DWeightTensor())
            Torch.AssertClose("dW", dw.ToArray<float>(), Torch.Floats(torch.tensordot(_tdy, _tx, [0, 2], [0, 2])), 2e-2, 1e-3);
        using (var expected = LibtorchEvalTensor())
        {
            var reference = Torch.Floats(expected);
            using (var composed = ComposedEvalTensor()) Torch.AssertClose("GEMM + BN + ReLU", composed.ToArray<float>(), reference, 1e-3, 1e-3);
            using (var fused = FusedEvalTensor()) Torch.AssertClose("GEMM epilogue", fused.ToArray<float>(), reference, 1e-3, 1e-3);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { _w, _x, _dy, _y, _dx, _scale, _shift }) t.Dispose();
        foreach (var t in new[] { _tMean, _tVar, _tGamma, _tBeta, _tw, _tx, _tdy, _tx4, _tw4, _ty4, _tdy4 }) t.Dispose();
    }

    [Benchmark(Description = "FMA peak (same FMA count)")]
    [BenchmarkCategory("Peak")]
    public float Peak() => FmaPeak.Run((long)B * P * Channels * Channels);

    [Benchmark(Baseline = true, Description = "libtorch: conv2d 1x1")]
    [BenchmarkCategory("Forward")]
    public long LibtorchConvForward()
    {
        using var noGrad = torch.no_grad();
        using var y = torch.nn.functional.conv2d(_tx4, _tw4);
        return y.shape[1];
    }

    [Benchmark(Description = "libtorch: matmul")]
    [BenchmarkCategory("Forward")]
    public long LibtorchMatMulForward()
    {
        using var noGrad = torch.no_grad();
        using var y = torch.matmul(_tw, _tx);
        return y.shape[1];
    }

    [Benchmark(Description = "engine: GEMM")]
    [BenchmarkCategory("Forward")]
    public void Forward()
    {
        using var w = _w.View(1, Channels, Channels);
        using var wb = w.Expand(new Shape(B, Channels, Channels));
        CpuBackend.Shared.LinearAlgebra.MatMul(wb, _x, _y);
    }

    [Benchmark(Baseline = true, Description = "libtorch: conv2d 1x1 -> batch_norm -> relu")]
    [BenchmarkCategory("Eval")]
    public long LibtorchEval()
    {
        using var y = LibtorchEvalTensor();
        return y.shape[1];
    }

    [Benchmark(Description = "engine: GEMM + BN+ReLU pass")]
    [BenchmarkCategory("Eval")]
    public int ComposedEval()
    {
        using var y = ComposedEvalTensor();
        return y.Shape[1];
    }

    [Benchmark(Description = "engine: GEMM epilogue")]
    [BenchmarkCategory("Eval")]
    public int FusedEval()
    {
        using var y = FusedEvalTensor();
        return y.Shape[1];
    }

    private torch.Tensor LibtorchEvalTensor()
    {
        using var noGrad = torch.no_grad();
        using var conv = torch.nn.functional.conv2d(_tx4, _tw4);
        using var bn = torch.nn.functional.batch_norm(conv, _tMean, _tVar, _tGamma, _tBeta, training: false);
        return torch.nn.functional.relu(bn);
    }

    // What the eval pipeline did before the epilogue: the GEMM, then the per-channel affine + ReLU pass.
    private Hep.Engine.Tensor ComposedEvalTensor()
    {
        using var y = TensorOps.MatMul(_w, _x);
        var r = Hep.Engine.Tensor.Empty(CpuBackend.Shared, y.Shape);
        CpuBackend.Shared.Norm.ChannelAffineRelu(y, _scale, _shift, 1, r);
        return r;
    }

    private Hep.Engine.Tensor FusedEvalTensor() =>
        TensorOps.MatMulEpilogue(_w, _x, Hep.Engine.Ops.GemmEpilogue.RowAffine(_scale, _shift, Hep.Engine.Ops.GemmActivation.Relu));

    [Benchmark(Baseline = true, Description = "libtorch: conv2d 1x1 autograd")]
    [BenchmarkCategory("dX")]
    public long LibtorchConvDInput()
    {
        var g = torch.autograd.grad([_ty4], [_tx4], [_tdy4], retain_graph: true);
        long r = g[0].shape[1];
        g[0].Dispose();
        return r;
    }

    [Benchmark(Description = "libtorch: matmul")]
    [BenchmarkCategory("dX")]
    public long LibtorchMatMulDInput()
    {
        using var noGrad = torch.no_grad();
        using var wt = _tw.t();
        using var dx = torch.matmul(wt, _tdy);
        return dx.shape[1];
    }

    [Benchmark(Description = "engine: GEMM")]
    [BenchmarkCategory("dX")]
    public void DInput()
    {
        using var w = _w.View(1, Channels, Channels);
        using var wt = w.Transpose(1, 2);
        using var wb = wt.Expand(new Shape(B, Channels, Channels));
        CpuBackend.Shared.LinearAlgebra.MatMul(wb, _dy, _dx);
    }

    [Benchmark(Baseline = true, Description = "libtorch: conv2d 1x1 autograd")]
    [BenchmarkCategory("dW")]
    public long LibtorchConvDWeight()
    {
        var g = torch.autograd.grad([_ty4], [_tw4], [_tdy4], retain_graph: true);
        long r = g[0].shape[1];
        g[0].Dispose();
        return r;
    }

    [Benchmark(Description = "libtorch: tensordot")]
    [BenchmarkCategory("dW")]
    public long LibtorchTensordotDWeight()
    {
        using var noGrad = torch.no_grad();
        using var dw = torch.tensordot(_tdy, _tx, [0, 2], [0, 2]);
        return dw.shape[1];
    }

    [Benchmark(Description = "engine: GEMM")]
    [BenchmarkCategory("dW")]
    public int DWeight()
    {
        using var dw = DWeightTensor();
        return dw.Shape[1];
    }

    // What the weight gradient of Conv1x1 (MatMulFunction with a broadcast weight) computes.
    private Hep.Engine.Tensor DWeightTensor()
    {
        using var xt = _x.Transpose(1, 2);
        return TensorOps.MatMulBatchSum(_dy, xt);
    }
}
