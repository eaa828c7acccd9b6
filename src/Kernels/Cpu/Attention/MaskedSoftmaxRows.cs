using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Hep.Engine;

namespace Hep.Kernels.Cpu.Attention;

/// <summary>
/// Softmax over the last axis of x + mask. Shapes: x, y (rows, n) contiguous; mask a view of x's shape
/// whose last axis has stride 1 or 0 (broadcast) and whose leading axes may have any strides (0 on
/// broadcast axes). Thread mapping: rows split across cores in contiguous ranges (large calls: chunks
/// of ≈ 512 KB of x claimed in turn, <see cref="CpuParallel.ForRows"/>).
/// float32 with AVX-512 runs <see cref="MaskedSoftmaxAvx512"/> (rows in registers, one read of x and
/// one streaming write of y). Otherwise (float64, or no AVX-512) each row is read from memory once and
/// processed in L1 with Vector512: s = x + m with a running max into y, y = exp(s − max) with its sum,
/// then y *= 1/sum.
/// A row whose entries are all −∞ gives zeros (no NaN); subtracting the max keeps large logits finite.
/// Backward reuses the plain softmax row kernel: gx = y ⊙ (g − Σ g ⊙ y).
/// Deterministic (per-row work only, fixed summation order).
/// </summary>
internal static class MaskedSoftmaxRows<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static unsafe void Forward(Tensor x, Tensor? mask, Tensor y)
    {
        const string op = "MaskedSoftmax";
        var xs = CpuTensor.Array<T>(x, op);
        var ys = CpuTensor.Array<T>(y, op);
        T[]? ms = mask is null ? null : CpuTensor.Array<T>(mask, op);
        int n = x.Shape[^1];
        int rows = n == 0 ? 0 : (int)(x.Numel / n);
        int maskStep = mask is null || n == 1 ? 0 : mask.Strides[^1];
        if (maskStep is not (0 or 1)) throw new ArgumentException($"{op}: mask's last axis must have stride 1 or 0, got {maskStep}");
        if (rows == 0) return;
        var walk = mask is null ? null : new MaskWalk(mask.Shape.ToArray()[..^1], mask.Strides[..^1].ToArray(), mask.Offset);
        int xo = x.Offset, yo = y.Offset;
        if (typeof(T) == typeof(float) && Avx512F.IsSupported)
        {
            var xf = (float[])(object)xs;
            var yf = (float[])(object)ys;
            var mf = (float[]?)(object?)ms;
            bool stream = StreamingStores.Pays<float>(x.Numel);
            CpuParallel.ForRows(rows, (long)n * sizeof(float), 8L * n, (s, e) =>
            {
                fixed (float* px = xf, py = yf, pm = mf)
                    MaskedSoftmaxAvx512.Rows(px + xo, py + yo, pm, walk, maskStep, n, s, e, stream);
            });
            return;
        }
        CpuParallel.ForRows(rows, (long)n * sizeof(T), 8L * n, (s, e) => Rows(xs, xo, ys, yo, ms, walk, maskStep, n, s, e));
    }

    public static void Backward(Tensor y, Tensor gradY, Tensor gradX) => SoftmaxRows<T>.Backward(y, gradY, gradX, log: false);

    // Rows [s, e). Fully optimised from the start: the loop runs long, and on-stack-replacement code
    // would keep the vector accumulators in memory.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows(T[] xs, int xo, T[] ys, int yo, T[]? ms, MaskWalk? walk, int maskStep, int n, int s, int e)
    {
        var tmp = ms is not null && maskStep == 0 ? new T[n] : null;
        var cursor = walk?.At(s);
        for (int r = s; r < e; r++)
        {
            var xr = xs.AsSpan(xo + r * n, n);
            var yr = ys.AsSpan(yo + r * n, n);
            ReadOnlySpan<T> mr = default;
            if (ms is not null)
            {
                if (maskStep == 1) mr = ms.AsSpan(cursor!.Offset, n);
                else
                {
                    tmp.AsSpan().Fill(ms[cursor!.Offset]);
                    mr = tmp;
                }
                if (r + 1 < e) cursor.Next();
            }
            Row(xr, mr, yr);
        }
    }

    // y = softmax(x + m) for one row (m empty = no mask).
    private static void Row(ReadOnlySpan<T> x, ReadOnlySpan<T> m, Span<T> y)
    {
        int n = x.Length, lanes = Vector512<T>.Count, j = 0;
        bool masked = !m.IsEmpty;
        var vmax = Vector512.Create(T.NegativeInfinity);
        T max = T.NegativeInfinity;
        for (; j + lanes <= n; j += lanes)
        {
            var v = Vector512.Create(x.Slice(j, lanes));
            if (masked) v += Vector512.Create(m.Slice(j, lanes));
            v.CopyTo(y.Slice(j, lanes));
            vmax = Vector512.Max(vmax, v);
        }
        for (; j < n; j++)
        {
            T v = masked ? x[j] + m[j] : x[j];
            y[j] = v;
            max = T.Max(max, v);
        }
        max = T.Max(max, HorizontalMax(vmax));
        if (T.IsNegativeInfinity(max))
        {
            y.Clear();
            return;
        }
        var shift = Vector512.Create(max);
        var vsum = Vector512<T>.Zero;
        T sum = T.Zero;
        for (j = 0; j + lanes <= n; j += lanes)
        {
            var e = TileKernels<T>.ExpNonPositive(Vector512.Create<T>(y.Slice(j, lanes)) - shift);
            e.CopyTo(y.Slice(j, lanes));
            vsum += e;
        }
        for (; j < n; j++)
        {
            y[j] = T.Exp(y[j] - max);
            sum += y[j];
        }
        sum += Vector512.Sum(vsum);
        var inv = Vector512.Create(T.One / sum);
        for (j = 0; j + lanes <= n; j += lanes) (Vector512.Create<T>(y.Slice(j, lanes)) * inv).CopyTo(y.Slice(j, lanes));
        T invS = T.One / sum;
        for (; j < n; j++) y[j] *= invS;
    }

    /// <summary>Largest lane (reduced through the 256- and 128-bit halves, no element addressing).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T HorizontalMax(Vector512<T> v)
    {
        var h = Vector128.Max(Vector256.Max(v.GetLower(), v.GetUpper()).GetLower(), Vector256.Max(v.GetLower(), v.GetUpper()).GetUpper());
        T m = h.GetElement(0);
        for (int l = 1; l < Vector128<T>.Count; l++) m = T.Max(m, h.GetElement(l));
        return m;
    }
}

/// <summary>
/// Strided leading axes of a mask view broadcast to x's shape: the element offset of each row's first
/// mask entry, walked with an odometer per worker (no per-call table).
/// </summary>
internal sealed class MaskWalk(int[] shape, int[] strides, int offset)
{
    /// <summary>A cursor positioned at row r.</summary>
    public Cursor At(int r) => new(shape, strides, offset, r);

    /// <summary>Consecutive rows sharing one mask row: the size of the trailing broadcast axes (stride 0 or size 1).</summary>
    public int RunLength
    {
        get
        {
            int run = 1;
            for (int a = shape.Length - 1; a >= 0 && (strides[a] == 0 || shape[a] == 1); a--) run *= shape[a];
            return run;
        }
    }

    /// <summary>An odometer over the leading axes (one per worker; no per-call table).</summary>
    public sealed class Cursor
    {
        private readonly int[] _shape, _strides, _counter;
        private readonly int _repeat;   // axes [_repeat, rank) are broadcast (stride 0 or size 1): consecutive rows share a mask row

        public Cursor(int[] shape, int[] strides, int offset, int r)
        {
            _shape = shape;
            _strides = strides;
            _counter = new int[shape.Length];
            Offset = offset;
            for (int a = shape.Length - 1; a >= 0; a--)
            {
                _counter[a] = r % shape[a];
                r /= shape[a];
                Offset += _counter[a] * strides[a];
            }
            _repeat = shape.Length;
            while (_repeat > 0 && (strides[_repeat - 1] == 0 || shape[_repeat - 1] == 1)) _repeat--;
        }

        /// <summary>Element offset of the current row's first mask entry.</summary>
        public int Offset { get; private set; }

        /// <summary>Moves to the next row; returns its offset.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Next() => Carry(_counter.Length - 1);

        /// <summary>
        /// The number of rows from the current one on that share its mask row (the trailing broadcast
        /// axes' remaining positions; 1 when the last leading axis has a stride).
        /// </summary>
        public int Repeats()
        {
            int span = 1, position = 0;
            for (int a = _counter.Length - 1; a >= _repeat; a--)
            {
                position += _counter[a] * span;
                span *= _shape[a];
            }
            return span - position;
        }

        /// <summary>Moves past the current row's <see cref="Repeats"/> to the next row whose mask row may differ.</summary>
        public void NextRun()
        {
            for (int a = _counter.Length - 1; a >= _repeat; a--) _counter[a] = 0;
            Carry(_repeat - 1);
        }

        // Increments axis `from` (carrying into the axes before it).
        private int Carry(int from)
        {
            for (int a = from; a >= 0; a--)
            {
                _counter[a]++;
                Offset += _strides[a];
                if (_counter[a] < _shape[a]) break;
                Offset -= _counter[a] * _strides[a];
                _counter[a] = 0;
            }
            return Offset;
        }
    }
}
