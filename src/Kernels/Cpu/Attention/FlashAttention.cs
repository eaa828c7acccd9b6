using System.Buffers;
using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Hep.Engine;
using Hep.Engine.Ops;

namespace Hep.Kernels.Cpu.Attention;

/// <summary>
/// Fused attention out = (softmax(scale·q·kᵀ + bias + mask) ⊙ Z)·v, forward and backward, without the
/// (B, H, Nq, Nk) probability matrix (Z: optional attention-weight dropout, keep / (1 − p) from
/// <see cref="AttentionDropout"/>, 1 without). Shapes: q (B, H, Nq, D); k, v (B, H, Nk, D); bias
/// (B, H, Nq, Nk) or null; keyPaddingMask (B, Nk) (1 valid, 0 padded → −∞) or null; logSumExp (B, H, Nq).
/// Thread mapping: (b, h) pairs are handed out dynamically to one worker per core (robust to uneven
/// jets and to a busy core); each worker packs kᵀ of its (b, h) and walks query tiles of 8 rows.
/// One query per (b, h) in float32 with D = 16 (class attention) takes <see cref="SingleQueryKernel"/>.
/// Forward (<see cref="ForwardWorkspace"/>): exact softmax over all keys of the row at once,
/// lse = m + log l (a row with no valid key: O = 0, lse = −∞); keys after the jet's last valid key are skipped.
/// Backward (FlashAttention-2, <see cref="BackwardWorkspace"/>): Δ = rowsum(dO ⊙ O); per key block
/// P = exp(S − lse), dV += (P ⊙ Z)ᵀ·dO, dP = dO·vᵀ, dS = P ⊙ (Z ⊙ dP − Δ), dBias = dS,
/// dQ += scale·dS·k, dK += scale·dSᵀ·q.
/// Every output element is written by one worker with a fixed summation order: deterministic.
/// </summary>
internal static unsafe partial class FlashAttention<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int Rows = TileKernels<T>.Rows;

    private static int Lanes => Vector512<T>.Count;

    // Keys per online-softmax block: 8 SIMD vectors.
    private static int Block => 8 * Lanes;

    public static void Forward(Tensor q, Tensor k, Tensor v, Tensor? bias, Tensor? mask, double scale, AttentionDropout dropout, Tensor output, Tensor lse)
    {
        const string op = "AttentionForward";
        var g = new Geometry(q, k, bias, mask, dropout, op);
        var outs = CpuTensor.Array<T>(output, op);
        var lses = CpuTensor.Array<T>(lse, op);
        int outO = output.Offset, lseO = lse.Offset;
        T scaleT = T.CreateTruncating(scale);
        if (SingleQuery(g))
        {
            SingleQueryForward(g, q, k, v, (float)scale, output, lse);
            return;
        }
        ForEachHead(g.B * g.H, (long)g.Nq * g.Nk * (2 * g.D + 8), () => new ForwardWorkspace(g),
            (w, bh, nextBh) => w.Run(q, k, v, bh, nextBh, scaleT, outs, outO, lses, lseO));
    }

    public static void Backward(Tensor q, Tensor k, Tensor v, Tensor? bias, Tensor? mask, double scale, AttentionDropout dropout,
        Tensor output, Tensor lse, Tensor gradOutput, Tensor gradQ, Tensor gradK, Tensor gradV, Tensor? gradBias)
    {
        const string op = "AttentionBackward";
        var g = new Geometry(q, k, bias, mask, dropout, op);
        T scaleT = T.CreateTruncating(scale);
        var grads = new Gradients(output, lse, gradOutput, gradQ, gradK, gradV, gradBias, op);
        if (SingleQuery(g))
        {
            SingleQueryBackward(g, q, k, v, (float)scale, grads);
            return;
        }
        ForEachHead(g.B * g.H, (long)g.Nq * g.Nk * (4 * g.D + 8), () => new BackwardWorkspace(g), (w, bh, _) =>
        {
            w.PackKeys(k, v, bh, bh / g.H);
            w.ClearKeyGradients();
            for (int i0 = 0; i0 < g.Nq; i0 += Rows)
                w.BackwardTile(q, k, bh, i0, Math.Min(Rows, g.Nq - i0), scaleT, grads);
            w.StoreKeyGradients(grads, bh, scaleT);
        });
    }

    // Runs body(workspace, item, successor) for item ∈ [0, count): runs of `chunk` consecutive items are
    // claimed from a shared counter by one worker per core (each with its own workspace), inline when the
    // work is small. Small items (class attention) take several per claim, so the workers do not contend on
    // the counter. A worker claims its next run before working through the current one, so body learns the
    // item it will do next (successor, −1 if none) and can prefetch that item's inputs.
    private static void ForEachHead<TW>(int count, long workPerItem, Func<TW> workspace, Action<TW, int, int> body, int chunk = 1) where TW : IDisposable
    {
        if (count <= 0) return;
        int workers = (int)Math.Min(Math.Min(CpuParallel.Threads, count), Math.Max(1, count * Math.Max(workPerItem, 1) / (1 << 15)));
        if (workers <= 1)
        {
            using var w = workspace();
            for (int i = 0; i < count; i++) body(w, i, i + 1 < count ? i + 1 : -1);
            return;
        }
        chunk = Math.Clamp(chunk, 1, Math.Max(1, count / (4 * workers)));
        int next = -1;
        Parallel.For(0, workers, _ =>
        {
            using var w = workspace();
            for (int c = Interlocked.Increment(ref next); c * chunk < count;)
            {
                int after = Interlocked.Increment(ref next);
                int end = Math.Min(count, c * chunk + chunk), successor = after * chunk < count ? after * chunk : -1;
                for (int i = c * chunk; i < end; i++) body(w, i, i + 1 < end ? i + 1 : successor);
                c = after;
            }
        });
    }

    /// <summary>Sizes, host arrays and offsets of the inputs.</summary>
    private sealed class Geometry
    {
        public Geometry(Tensor q, Tensor k, Tensor? bias, Tensor? mask, AttentionDropout dropout, string op)
        {
            Dropout = dropout.Active;
            DropSeed = dropout.Seed;
            DropThreshold = dropout.Threshold;
            KeepScale = T.CreateTruncating(dropout.KeepScale);
            B = q.Shape[0];
            H = q.Shape[1];
            Nq = q.Shape[2];
            D = q.Shape[3];
            Nk = k.Shape[2];
            Bias = bias is null ? null : CpuTensor.Array<T>(bias, op);
            BiasOffset = bias?.Offset ?? 0;
            Mask = mask is null ? null : CpuTensor.Array<T>(mask, op);
            MaskOffset = mask?.Offset ?? 0;
            Op = op;
            // Keys padded to whole score tiles (2 vectors), head dim to whole vectors.
            KeyStride = Math.Max(2 * Lanes, (Nk + 2 * Lanes - 1) / (2 * Lanes) * (2 * Lanes));
            // Per jet: one past its last valid key (keys after it are padding and are skipped).
            LastValid = new int[B];
            for (int b = 0; b < B; b++) LastValid[b] = Mask is null ? Nk : MaskSpans.LastNonZeroEnd<T>(Mask.AsSpan(MaskOffset + b * Nk, Nk));
            DPad = (D + Lanes - 1) / Lanes * Lanes;
        }

        public int B { get; }
        public int H { get; }
        public int Nq { get; }
        public int Nk { get; }
        public int D { get; }
        public int KeyStride { get; }
        public int DPad { get; }
        public T[]? Bias { get; }
        public int BiasOffset { get; }
        public T[]? Mask { get; }
        public int MaskOffset { get; }
        public int[] LastValid { get; }

        /// <summary>Keys of jet b that the backward tiles visit: up to its last valid key, rounded up to a score tile.</summary>
        public int KeyEnd(int b) => Math.Min(KeyStride, (LastValid[b] + 2 * Lanes - 1) / (2 * Lanes) * (2 * Lanes));
        public string Op { get; }
        public bool Dropout { get; }
        public ulong DropSeed { get; }
        public uint DropThreshold { get; }
        public T KeepScale { get; }
    }

    /// <summary>Host arrays of the backward's extra inputs and outputs.</summary>
    private sealed class Gradients(Tensor output, Tensor lse, Tensor gradOutput, Tensor gradQ, Tensor gradK, Tensor gradV, Tensor? gradBias, string op)
    {
        public T[] Out { get; } = CpuTensor.Array<T>(output, op);
        public int OutOffset { get; } = output.Offset;
        public T[] Lse { get; } = CpuTensor.Array<T>(lse, op);
        public int LseOffset { get; } = lse.Offset;
        public T[] GradOut { get; } = CpuTensor.Array<T>(gradOutput, op);
        public int GradOutOffset { get; } = gradOutput.Offset;
        public T[] GradQ { get; } = CpuTensor.Array<T>(gradQ, op);
        public int GradQOffset { get; } = gradQ.Offset;
        public T[] GradK { get; } = CpuTensor.Array<T>(gradK, op);
        public int GradKOffset { get; } = gradK.Offset;
        public T[] GradV { get; } = CpuTensor.Array<T>(gradV, op);
        public int GradVOffset { get; } = gradV.Offset;
        public T[]? GradBias { get; } = gradBias is null ? null : CpuTensor.Array<T>(gradBias, op);
        public int GradBiasOffset { get; } = gradBias?.Offset ?? 0;
    }

    /// <summary>Per-worker scratch arrays from the shared pool, handed out cleared and returned on Dispose.</summary>
    private abstract class PooledScratch : IDisposable
    {
        private readonly List<T[]> _rented = [];

        protected T[] Rent(int length)
        {
            var a = ArrayPool<T>.Shared.Rent(Math.Max(length, 1));
            a.AsSpan().Clear();
            _rented.Add(a);
            return a;
        }

        public void Dispose()
        {
            foreach (var a in _rented) ArrayPool<T>.Shared.Return(a);
            _rented.Clear();
        }
    }

    /// <summary>One backward worker's scratch panels (pooled), reused across its (b, h) jobs.</summary>
    private sealed class BackwardWorkspace : PooledScratch
    {
        private readonly Geometry _g;
        private readonly T[] _kt, _vt, _kRows, _keyBias;   // packed keys/values of the current (b, h)
        private readonly T[] _qPanel, _qRows, _doPanel, _doRows;    // the current query tile
        private readonly T[] _scores, _dp, _acc;                     // Rows × Block scores, dP; Rows × D' accumulator
        private readonly T[] _rowMax = new T[Rows], _delta = new T[Rows];
        private readonly T[]? _dk, _dv;                              // KeyStride × D' key gradients

        public BackwardWorkspace(Geometry g)
        {
            _g = g;
            int ks = g.KeyStride, dp = g.DPad, d = Math.Max(g.D, 1);
            _kt = Rent(d * ks);
            _kRows = Rent(ks * dp);
            _keyBias = Rent(ks);
            _qPanel = Rent(d * Rows);
            _scores = Rent(Rows * Block);
            _acc = Rent(Rows * dp);
            _vt = Rent(d * ks);
            _qRows = Rent(Rows * dp);
            _doPanel = Rent(d * Rows);
            _doRows = Rent(Rows * dp);
            _dp = Rent(Rows * Block);
            _dk = Rent(ks * dp);
            _dv = Rent(ks * dp);
        }

        /// <summary>
        /// Packs kᵀ, vᵀ (and the padded k rows when D is not a multiple of L) of the keys (b, h) = bh visits
        /// and the key mask row of jet b. Columns past those keys may hold a previous head's values: their
        /// key mask is −∞, so P and dS are exactly 0 there.
        /// </summary>
        public void PackKeys(Tensor k, Tensor v, int bh, int b)
        {
            var g = _g;
            int nk = g.Nk, d = g.D, ks = g.KeyStride, dp = g.DPad, n = Math.Min(g.KeyEnd(b), nk);
            var ks_ = CpuTensor.Array<T>(k, g.Op).AsSpan(k.Offset + bh * nk * d, n * d);
            var vs = CpuTensor.Array<T>(v, g.Op).AsSpan(v.Offset + bh * nk * d, n * d);
            if (typeof(T) == typeof(float) && d == 16 && Avx512F.IsSupported)
            {
                fixed (T* kp = ks_, vp = vs, kt = _kt, vt = _vt)
                {
                    Transpose16((float*)kp, n, 1f, (float*)kt, ks);
                    Transpose16((float*)vp, n, 1f, (float*)vt, ks);
                }
            }
            else
            {
                for (int j = 0; j < n; j++)
                {
                    for (int c = 0; c < d; c++)
                    {
                        _kt[c * ks + j] = ks_[j * d + c];
                        _vt[c * ks + j] = vs[j * d + c];
                    }
                }
            }
            if (d % Lanes != 0)
                for (int j = 0; j < n; j++) ks_.Slice(j * d, d).CopyTo(_kRows.AsSpan(j * dp, d));
            for (int j = 0; j < ks; j++)
            {
                bool valid = j < nk && (g.Mask is null || g.Mask[g.MaskOffset + b * nk + j] != T.Zero);
                _keyBias[j] = valid ? T.Zero : T.NegativeInfinity;
            }
        }

        // Packs the tile's q rows (scaled) as a D × 8 panel; unused rows are zero.
        private void PackQueries(T[] source, int offset, int rows, T factor, T[] panel, T[]? rowsOut)
        {
            int d = _g.D, dp = _g.DPad;
            panel.AsSpan(0, d * Rows).Clear();
            rowsOut?.AsSpan(0, Rows * dp).Clear();
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < d; c++) panel[c * Rows + r] = source[offset + r * d + c] * factor;
                if (rowsOut is not null) source.AsSpan(offset + r * d, d).CopyTo(rowsOut.AsSpan(r * dp, d));
            }
        }

        // scores[r, 0..width) = panel·kᵀ (or vᵀ) for the key block starting at j0 (width a multiple of 2L).
        private void ScoreBlock(T[] panel, T[] transposed, int j0, int width, T[] dst)
        {
            int lanes = Lanes, d = _g.D;
            fixed (T* a = panel, bt = transposed, tile = dst)
            {
                for (int jj = 0; jj < width; jj += 2 * lanes)
                    TileKernels<T>.ScoreTile(d, a, Rows, bt + j0 + jj, _g.KeyStride, tile + jj, Block);
            }
        }

        // scores[r, :] += bias row + key mask (−∞ on padded and tail keys); rows ≥ rows are left alone.
        private void AddBias(int bh, int i0, int rows, int j0, int width)
        {
            var g = _g;
            int valid = Math.Clamp(g.Nk - j0, 0, width);
            for (int r = 0; r < rows; r++)
            {
                var row = _scores.AsSpan(r * Block, width);
                var kb = _keyBias.AsSpan(j0, width);
                if (g.Bias is not null)
                {
                    var br = g.Bias.AsSpan(g.BiasOffset + (bh * g.Nq + i0 + r) * g.Nk + j0, valid);
                    int lanes = Lanes, j = 0;
                    for (; j + lanes <= valid; j += lanes)
                    {
                        var sum = Vector512.Create<T>(row.Slice(j, lanes)) + Vector512.Create<T>(br.Slice(j, lanes)) + Vector512.Create<T>(kb.Slice(j, lanes));
                        sum.CopyTo(row.Slice(j, lanes));
                    }
                    for (; j < valid; j++) row[j] += br[j] + kb[j];
                    for (; j < width; j++) row[j] = T.NegativeInfinity;
                }
                else
                {
                    AddInPlace(row, kb);
                }
            }
        }

        public void ClearKeyGradients()
        {
            int n = _g.KeyStride * _g.DPad;
            _dk.AsSpan(0, n).Clear();
            _dv.AsSpan(0, n).Clear();
        }

        public void BackwardTile(Tensor q, Tensor k, int bh, int i0, int rows, T scale, Gradients gr)
        {
            var g = _g;
            int dp = g.DPad, d = g.D, keyEnd = g.KeyEnd(bh / g.H);
            int rowBase = bh * g.Nq + i0;
            PackQueries(CpuTensor.Array<T>(q, g.Op), q.Offset + rowBase * d, rows, scale, _qPanel, _qRows);
            PackQueries(gr.GradOut, gr.GradOutOffset + rowBase * d, rows, T.One, _doPanel, _doRows);
            for (int r = 0; r < Rows; r++)
            {
                if (r >= rows)
                {
                    _delta[r] = T.Zero;
                    _rowMax[r] = T.NegativeInfinity;
                    continue;
                }
                T delta = T.Zero;
                for (int c = 0; c < d; c++) delta += gr.GradOut[gr.GradOutOffset + (rowBase + r) * d + c] * gr.Out[gr.OutOffset + (rowBase + r) * d + c];
                _delta[r] = delta;
                _rowMax[r] = gr.Lse[gr.LseOffset + rowBase + r];   // the row's log-sum-exp
            }
            _acc.AsSpan(0, Rows * dp).Clear();   // dQ accumulator
            bool direct = d % Lanes == 0;   // k rows read in place
            var kAll = CpuTensor.Array<T>(k, g.Op);
            for (int j0 = 0; j0 < keyEnd; j0 += Block)
            {
                int width = Math.Min(Block, keyEnd - j0);
                ScoreBlock(_qPanel, _kt, j0, width, _scores);
                AddBias(bh, i0, rows, j0, width);
                ScoreBlock(_doPanel, _vt, j0, width, _dp);
                int valid = Math.Clamp(g.Nk - j0, 0, width);
                for (int r = 0; r < Rows; r++)
                {
                    var p = _scores.AsSpan(r * Block, width);
                    var ds = _dp.AsSpan(r * Block, width);
                    if (T.IsNegativeInfinity(_rowMax[r]))
                    {
                        p.Clear();
                        ds.Clear();
                        if (gr.GradBias is not null && r < rows)
                            gr.GradBias.AsSpan(gr.GradBiasOffset + (rowBase + r) * g.Nk + j0, valid).Clear();
                        continue;
                    }
                    // P = exp(S − lse); dS = P ⊙ (dP − Δ), or with dropout dS = P ⊙ (Z ⊙ dP − Δ) and P ← P ⊙ Z for dV.
                    ExpShifted(p, _rowMax[r]);
                    if (g.Dropout) DropoutSoftmaxGrad(p, ds, _delta[r], AttentionDropout.RowKey(g.DropSeed, rowBase + r), j0, g.DropThreshold, g.KeepScale);
                    else SoftmaxGrad(p, ds, _delta[r]);
                    if (gr.GradBias is not null && r < rows)
                        ds[..valid].CopyTo(gr.GradBias.AsSpan(gr.GradBiasOffset + (rowBase + r) * g.Nk + j0, valid));
                }
                fixed (T* p = _scores, ds = _dp, doRows = _doRows, qRows = _qRows, kRows = _kRows, kIn = kAll, acc = _acc, dk = _dk, dv = _dv)
                {
                    TileKernels<T>.TransposeTimesRows(width, p, Block, doRows, dp, dp, dv + j0 * dp, dp);
                    TileKernels<T>.TransposeTimesRows(width, ds, Block, qRows, dp, dp, dk + j0 * dp, dp);
                    // dQ += dS·k over the keys that exist (dS is 0 past them).
                    T* kr = direct ? kIn + k.Offset + ((long)bh * g.Nk + j0) * d : kRows + j0 * dp;
                    TileKernels<T>.RowsTimesMatrix(Math.Min(width, g.Nk - j0), ds, Block, kr, direct ? d : dp, dp, acc, dp);
                }
            }
            if (gr.GradBias is not null && keyEnd < g.Nk)
                for (int r = 0; r < rows; r++) gr.GradBias.AsSpan(gr.GradBiasOffset + (rowBase + r) * g.Nk + keyEnd, g.Nk - keyEnd).Clear();
            for (int r = 0; r < rows; r++)
            {
                var dst = gr.GradQ.AsSpan(gr.GradQOffset + (rowBase + r) * d, d);
                var src = _acc.AsSpan(r * dp, d);
                for (int c = 0; c < d; c++) dst[c] = src[c] * scale;
            }
        }

        public void StoreKeyGradients(Gradients gr, int bh, T scale)
        {
            var g = _g;
            int d = g.D, dp = g.DPad;
            for (int j = 0; j < g.Nk; j++)
            {
                var dk = gr.GradK.AsSpan(gr.GradKOffset + (bh * g.Nk + j) * d, d);
                var dv = gr.GradV.AsSpan(gr.GradVOffset + (bh * g.Nk + j) * d, d);
                for (int c = 0; c < d; c++)
                {
                    dk[c] = _dk![j * dp + c] * scale;
                    dv[c] = _dv![j * dp + c];
                }
            }
        }
    }

    // dst[c·ldd + j] = scale·src[j·16 + c] for j < n (rounded up to 16 with zero rows), c < 16: 16 × 16
    // blocks transposed in registers in four rounds of VPERMT2PS; round b swaps bit b of the row
    // index with bit b of the lane index (new[i][p] = old[i | b][p ^ b] where p has bit b, and so on).
    private static void Transpose16(float* src, int n, float scale, float* dst, int ldd)
    {
        var rows = stackalloc Vector512<float>[16];
        var f = Vector512.Create(scale);
        for (int j0 = 0; j0 < n; j0 += 16)
        {
            for (int i = 0; i < 16; i++)
                rows[i] = j0 + i < n ? Vector512.Load(src + (long)(j0 + i) * 16) * f : Vector512<float>.Zero;
            for (int b = 8; b >= 1; b >>= 1)
            {
                var lo = TransposeControl(b, upper: false);
                var hi = TransposeControl(b, upper: true);
                for (int i = 0; i < 16; i++)
                {
                    if ((i & b) != 0) continue;
                    var x = rows[i];
                    var y = rows[i | b];
                    rows[i] = Avx512F.PermuteVar16x32x2(x, lo, y);
                    rows[i | b] = Avx512F.PermuteVar16x32x2(x, hi, y);
                }
            }
            for (int c = 0; c < 16; c++) rows[c].Store(dst + (long)c * ldd + j0);
        }
    }

    // VPERMT2PS indices for one transpose round (index ≥ 16 selects the second operand):
    // lower row: p without bit b → x[p], with it → y[p ^ b]; upper row: without → x[p | b], with → y[p].
    private static Vector512<int> TransposeControl(int b, bool upper)
    {
        var p = Vector512<int>.Indices;
        var hasBit = Vector512.Equals(p & Vector512.Create(b), Vector512.Create(b));
        var withoutBit = upper ? p | Vector512.Create(b) : p;
        var withBit = upper ? p + Vector512.Create(16) : (p ^ Vector512.Create(b)) + Vector512.Create(16);
        return Vector512.ConditionalSelect(hasBit, withBit, withoutBit);
    }

    // Row helpers over whole vectors (every row length here is a multiple of the SIMD width).

    private static void AddInPlace(Span<T> row, ReadOnlySpan<T> add)
    {
        int lanes = Lanes;
        for (int j = 0; j < row.Length; j += lanes)
            (Vector512.Create<T>(row.Slice(j, lanes)) + Vector512.Create<T>(add.Slice(j, lanes))).CopyTo(row.Slice(j, lanes));
    }

    // row = exp(row − shift) in place (−∞ entries become 0); returns the sum. shift is the row max
    // (forward) or its log-sum-exp (backward), so the arguments are ≤ 0 up to rounding.
    private static T ExpShifted(Span<T> row, T shift)
    {
        int lanes = Lanes;
        var s = Vector512.Create(shift);
        var sum = Vector512<T>.Zero;
        for (int j = 0; j < row.Length; j += lanes)
        {
            var e = TileKernels<T>.ExpNonPositive(Vector512.Create<T>(row.Slice(j, lanes)) - s);
            e.CopyTo(row.Slice(j, lanes));
            sum += e;
        }
        return Vector512.Sum(sum);
    }

    // ds = p ⊙ (ds − delta) in place.
    private static void SoftmaxGrad(ReadOnlySpan<T> p, Span<T> ds, T delta)
    {
        int lanes = Lanes;
        var dv = Vector512.Create(delta);
        for (int j = 0; j < p.Length; j += lanes)
            (Vector512.Create<T>(p.Slice(j, lanes)) * (Vector512.Create<T>(ds.Slice(j, lanes)) - dv)).CopyTo(ds.Slice(j, lanes));
    }

    // Z[j0 + j .. + L) = keep / (1 − p) for the L keys from j0 + j of the row (AttentionDropout's hash, 16 at a time).
    private static Vector512<T> KeepFactors(uint rowKey, int j, uint threshold, T keepScale)
    {
        var x = Vector512.Create(rowKey + (uint)(j + 1) * 0x9E3779B9u) + Vector512<uint>.Indices * 0x9E3779B9u;
        x ^= Vector512.ShiftRightLogical(x, 16);
        x *= 0x85EBCA6Bu;
        x ^= Vector512.ShiftRightLogical(x, 13);
        x *= 0xC2B2AE35u;
        x ^= Vector512.ShiftRightLogical(x, 16);
        var keep = Vector512.GreaterThanOrEqual(x, Vector512.Create(threshold));
        var scale = Vector512.Create(keepScale);
        if (typeof(T) == typeof(float)) return keep.As<uint, T>() & scale;
        // float64: the lower 8 hashes, each widened to a 64-bit lane mask.
        return Vector512.WidenLower(keep.AsInt32()).As<long, T>() & scale;
    }

    // row[j] *= Z[j0 + j] (dropout after normalisation; row length a multiple of L).
    private static void DropWeights(Span<T> row, uint rowKey, int j0, uint threshold, T keepScale)
    {
        int lanes = Lanes;
        for (int j = 0; j < row.Length; j += lanes)
            (Vector512.Create<T>(row.Slice(j, lanes)) * KeepFactors(rowKey, j0 + j, threshold, keepScale)).CopyTo(row.Slice(j, lanes));
    }

    // ds = p ⊙ (Z ⊙ ds − delta), then p ← p ⊙ Z, in place.
    private static void DropoutSoftmaxGrad(Span<T> p, Span<T> ds, T delta, uint rowKey, int j0, uint threshold, T keepScale)
    {
        int lanes = Lanes;
        var dv = Vector512.Create(delta);
        for (int j = 0; j < p.Length; j += lanes)
        {
            var z = KeepFactors(rowKey, j0 + j, threshold, keepScale);
            var pv = Vector512.Create<T>(p.Slice(j, lanes));
            (pv * (z * Vector512.Create<T>(ds.Slice(j, lanes)) - dv)).CopyTo(ds.Slice(j, lanes));
            (pv * z).CopyTo(p.Slice(j, lanes));
        }
    }
}
