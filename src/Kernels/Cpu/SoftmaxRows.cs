using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics.X86;
using Hep.Engine;

namespace Hep.Kernels.Cpu;

/// <summary>
/// Row softmax / log-softmax over the last axis, (rows, n) contiguous, rows split across cores.
/// Forward: m = max, y = exp(x − m)/Σ (log: x − m − log Σ). A row that is all −∞ (fully masked)
/// gives zeros (log: −∞) instead of NaN. float32 softmax (not log) with AVX-512 runs the masked-softmax
/// row kernel with no mask (<see cref="Attention.MaskedSoftmaxAvx512"/>). Backward: softmax gx = y(g − g·y); log gx = g − eʸ Σg;
/// float32 softmax and log-softmax with AVX-512 run <see cref="Attention.MaskedSoftmaxAvx512.BackwardRows"/> (masked softmax too).
/// </summary>
internal static class SoftmaxRows<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Forward(Tensor x, Tensor y, bool log)
    {
        if (!log && typeof(T) == typeof(float) && Avx512F.IsSupported && x.Shape.Rank > 0)
        {
            // float32 softmax with AVX-512: the masked-softmax row kernel without a mask (one read of x,
            // one streaming write of y for large outputs).
            Attention.MaskedSoftmaxRows<T>.Forward(x, null, y);
            return;
        }
        var xs = CpuTensor.Array<T>(x, "Softmax");
        var ys = CpuTensor.Array<T>(y, "Softmax");
        int n = x.Shape.Rank == 0 ? 1 : x.Shape[^1];
        int rows = n == 0 ? 0 : (int)(x.Numel / n);
        int xo = x.Offset, yo = y.Offset;
        CpuParallel.For(rows, 4L * n, (s, e) =>
        {
            for (int r = s; r < e; r++)
            {
                var xr = xs.AsSpan(xo + r * n, n);
                var yr = ys.AsSpan(yo + r * n, n);
                T max = TensorPrimitives.Max(xr);
                if (T.IsNegativeInfinity(max))
                {
                    yr.Fill(log ? T.NegativeInfinity : T.Zero);
                    continue;
                }
                TensorPrimitives.Subtract(xr, max, yr);
                if (log)
                {
                    // log Σ exp(x − m), computed without overwriting y's shifted values.
                    T sum = T.Zero;
                    foreach (var v in yr) sum += T.Exp(v);
                    TensorPrimitives.Subtract(yr, T.Log(sum), yr);
                }
                else
                {
                    TensorPrimitives.Exp(yr, yr);
                    T sum = TensorPrimitives.Sum(yr);
                    TensorPrimitives.Multiply(yr, T.One / sum, yr);
                }
            }
        });
    }

    public static unsafe void Backward(Tensor y, Tensor gradY, Tensor gradX, bool log)
    {
        var ys = CpuTensor.Array<T>(y, "SoftmaxBackward");
        var gs = CpuTensor.Array<T>(gradY, "SoftmaxBackward");
        var gx = CpuTensor.Array<T>(gradX, "SoftmaxBackward");
        int n = y.Shape.Rank == 0 ? 1 : y.Shape[^1];
        int rows = n == 0 ? 0 : (int)(y.Numel / n);
        int yo = y.Offset, go = gradY.Offset, xo = gradX.Offset;
        if (typeof(T) == typeof(float) && Avx512F.IsSupported && rows > 0)
        {
            // float32 softmax and log-softmax with AVX-512: one read of y and dy, one (streaming, for large outputs) write of dx.
            var yf = (float[])(object)ys;
            var gf = (float[])(object)gs;
            var xf = (float[])(object)gx;
            bool stream = StreamingStores.Pays<float>(y.Numel);
            CpuParallel.ForRows(rows, (long)n * sizeof(float), 8L * n, (s, e) =>
            {
                fixed (float* py = yf, pg = gf, px = xf)
                    Attention.MaskedSoftmaxAvx512.BackwardRows(py + yo, pg + go, px + xo, n, s, e, stream, log);
            });
            return;
        }
        CpuParallel.For(rows, 4L * n, (s, e) =>
        {
            for (int r = s; r < e; r++)
            {
                var yr = ys.AsSpan(yo + r * n, n);
                var gr = gs.AsSpan(go + r * n, n);
                var xr = gx.AsSpan(xo + r * n, n);
                if (log)
                {
                    T sum = TensorPrimitives.Sum(gr);
                    TensorPrimitives.Exp(yr, xr);
                    TensorPrimitives.MultiplyAdd(xr, -sum, gr, xr);
                }
                else
                {
                    T dot = TensorPrimitives.Dot(gr, yr);
                    TensorPrimitives.Subtract(gr, dot, xr);
                    TensorPrimitives.Multiply(xr, yr, xr);
                }
            }
        });
    }
}
