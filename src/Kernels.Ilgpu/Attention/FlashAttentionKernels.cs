namespace Hep.Kernels.Ilgpu;

/// <summary>
/// Sizes of a fused-attention launch; Tiles = query (or key) tiles per (b, h); Scale = 1/√D; with
/// Dropout ≠ 0, weights whose <see cref="AttentionDropout.Hash"/> is below DropThreshold are dropped
/// and the rest scaled by KeepScale = 1/(1 − p).
/// </summary>
internal struct AttentionArgs<T> where T : unmanaged
{
    public int B, H, Nq, Nk, D, Tiles, HasBias, HasMask, HasGradBias, Dropout;
    public uint DropThreshold;
    public ulong DropSeed;
    public T Scale, KeepScale;
}

/// <summary>
/// Fused attention out = softmax(scale·q·kᵀ + bias + mask)·v, forward and backward, never storing
/// the (B, H, Nq, Nk) probabilities. Shapes: q, output, gradQ (B, H, Nq, D); k, v, gradK, gradV
/// (B, H, Nk, D); bias, gradBias (B, H, Nq, Nk) or placeholders; keyPaddingMask (B, Nk) (0 = padded
/// → −∞) or a placeholder; logSumExp and delta (B, H, Nq). D ≤ <see cref="MaxD"/>.
/// <see cref="Forward"/>: one group per (b, h, tile of group-size queries), one thread per query,
/// whose scaled q row and output accumulator live in local memory. Keys and values stream through
/// shared memory in blocks of <see cref="KeyBlock"/> rows (with the block's key mask); per block the
/// thread scores its row, then does the online-softmax update m' = max(m, rowmax), l = l·e^{m−m'} + Σp,
/// acc = acc·e^{m−m'} + Σ p·v. At the end out = acc / l, lse = m + log l (no valid key: out = 0, lse = −∞).
/// Backward (probabilities recomputed from lse, Δ = rowsum(dO ⊙ O) from <see cref="Delta"/>):
/// <see cref="BackwardQuery"/> — same mapping as the forward: p = e^{s − lse}, dp = dO·v,
/// dS = p(dp − Δ) → gradBias, dQ = scale·Σ dS·k. <see cref="BackwardKey"/> — one group per
/// (b, h, tile of keys), one thread per key; queries (scaled q, dO, lse, Δ) stream through shared
/// memory: dV = Σ p·dO, dK = Σ dS·(scale·q). Every gradient element has one owner thread and a fixed
/// summation order: no atomics, deterministic.
/// Attention-weight dropout (Z = keep / (1 − p) from <see cref="AttentionDropout"/>, the CPU backend's
/// formula): forward acc += p·Z·v (l stays undropped); backward dS = p(Z·dp − Δ), dV = Σ p·Z·dO.
/// </summary>
internal static class FlashAttentionKernels
{
    /// <summary>Largest head dimension (per-thread local rows).</summary>
    public const int MaxD = 64;

    /// <summary>Keys (forward, query-side backward) or queries (key-side backward) per shared-memory block.</summary>
    public const int KeyBlock = 32;

    [KernelEntry]
    public static void Forward<T, TS>(ArrayView<T> q, ArrayView<T> k, ArrayView<T> v, ArrayView<T> bias, ArrayView<T> mask,
        ArrayView<T> output, ArrayView<T> lse, AttentionArgs<T> p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        var kBlock = SharedMemory.Allocate1D<T>(KeyBlock * MaxD);
        var vBlock = SharedMemory.Allocate1D<T>(KeyBlock * MaxD);
        var keyBias = SharedMemory.Allocate1D<T>(KeyBlock);
        var qRow = LocalMemory.Allocate1D<T>(MaxD);
        var acc = LocalMemory.Allocate1D<T>(MaxD);
        var scores = LocalMemory.Allocate1D<T>(KeyBlock);
        int bh = Grid.IdxX / p.Tiles, tile = Grid.IdxX - bh * p.Tiles, b = bh / p.H;
        int t = Group.IdxX, g = Group.DimX, d = p.D;
        int i = tile * g + t;
        bool active = i < p.Nq;
        int row = bh * p.Nq + i;
        if (active)
        {
            for (int c = 0; c < d; c++)
            {
                qRow[c] = q[row * d + c] * p.Scale;
                acc[c] = T.Zero;
            }
        }
        T m = T.NegativeInfinity, l = T.Zero;
        uint rowKey = p.Dropout != 0 ? AttentionDropout.RowKey(p.DropSeed, row) : 0u;
        for (int j0 = 0; j0 < p.Nk; j0 += KeyBlock)
        {
            int width = Math.Min(KeyBlock, p.Nk - j0);
            LoadKeys(k, v, mask, kBlock, vBlock, keyBias, bh, b, j0, width, p, t, g);
            Group.Barrier();
            if (active)
            {
                T blockMax = T.NegativeInfinity;
                for (int jj = 0; jj < width; jj++)
                {
                    T s = Score<T>(qRow, kBlock, jj, d) + (p.HasBias != 0 ? bias[row * p.Nk + j0 + jj] + keyBias[jj] : keyBias[jj]);
                    scores[jj] = s;
                    blockMax = T.Max(blockMax, s);
                }
                T mNew = T.Max(m, blockMax);
                if (!T.IsNegativeInfinity(mNew))
                {
                    T correction = T.Exp(m - mNew);
                    l *= correction;
                    for (int c = 0; c < d; c++) acc[c] *= correction;
                    for (int jj = 0; jj < width; jj++)
                    {
                        T pj = T.Exp(scores[jj] - mNew);
                        l += pj;
                        T w = pj * KeepFactor(rowKey, j0 + jj, p);
                        for (int c = 0; c < d; c++) acc[c] += w * vBlock[jj * MaxD + c];
                    }
                    m = mNew;
                }
            }
            Group.Barrier();
        }
        if (!active) return;
        if (l > T.Zero)
        {
            T inv = T.One / l;
            for (int c = 0; c < d; c++) output[row * d + c] = acc[c] * inv;
            lse[row] = m + T.Log(l);
        }
        else
        {
            for (int c = 0; c < d; c++) output[row * d + c] = T.Zero;
            lse[row] = T.NegativeInfinity;
        }
    }

    // delta[r] = Σ_c gradOutput[r, c]·output[r, c], one thread per (b, h, query) row.
    [KernelEntry]
    public static void Delta<T, TS>(Index1D r, ArrayView<T> output, ArrayView<T> gradOutput, ArrayView<T> delta, int d)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        T s = T.Zero;
        for (int c = 0; c < d; c++) s += gradOutput[r * d + c] * output[r * d + c];
        delta[r] = s;
    }

    [KernelEntry]
    public static void BackwardQuery<T, TS>(ArrayView<T> q, ArrayView<T> k, ArrayView<T> v, ArrayView<T> bias, ArrayView<T> mask,
        ArrayView<T> lse, ArrayView<T> gradOutput, ArrayView<T> delta, ArrayView<T> gradQ, ArrayView<T> gradBias, AttentionArgs<T> p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        var kBlock = SharedMemory.Allocate1D<T>(KeyBlock * MaxD);
        var vBlock = SharedMemory.Allocate1D<T>(KeyBlock * MaxD);
        var keyBias = SharedMemory.Allocate1D<T>(KeyBlock);
        var qRow = LocalMemory.Allocate1D<T>(MaxD);
        var doRow = LocalMemory.Allocate1D<T>(MaxD);
        var dq = LocalMemory.Allocate1D<T>(MaxD);
        int bh = Grid.IdxX / p.Tiles, tile = Grid.IdxX - bh * p.Tiles, b = bh / p.H;
        int t = Group.IdxX, g = Group.DimX, d = p.D;
        int i = tile * g + t;
        bool active = i < p.Nq;
        int row = bh * p.Nq + i;
        T rowLse = T.NegativeInfinity, rowDelta = T.Zero;
        if (active)
        {
            for (int c = 0; c < d; c++)
            {
                qRow[c] = q[row * d + c] * p.Scale;
                doRow[c] = gradOutput[row * d + c];
                dq[c] = T.Zero;
            }
            rowLse = lse[row];
            rowDelta = delta[row];
        }
        bool live = active && !T.IsNegativeInfinity(rowLse);
        uint rowKey = p.Dropout != 0 ? AttentionDropout.RowKey(p.DropSeed, row) : 0u;
        for (int j0 = 0; j0 < p.Nk; j0 += KeyBlock)
        {
            int width = Math.Min(KeyBlock, p.Nk - j0);
            LoadKeys(k, v, mask, kBlock, vBlock, keyBias, bh, b, j0, width, p, t, g);
            Group.Barrier();
            if (active)
            {
                for (int jj = 0; jj < width; jj++)
                {
                    T ds = T.Zero;
                    if (live)
                    {
                        T s = Score<T>(qRow, kBlock, jj, d) + (p.HasBias != 0 ? bias[row * p.Nk + j0 + jj] + keyBias[jj] : keyBias[jj]);
                        T prob = T.Exp(s - rowLse);
                        T dp = Score<T>(doRow, vBlock, jj, d);
                        ds = prob * (dp * KeepFactor(rowKey, j0 + jj, p) - rowDelta);
                        for (int c = 0; c < d; c++) dq[c] += ds * kBlock[jj * MaxD + c];
                    }
                    if (p.HasGradBias != 0) gradBias[row * p.Nk + j0 + jj] = ds;
                }
            }
            Group.Barrier();
        }
        if (!active) return;
        for (int c = 0; c < d; c++) gradQ[row * d + c] = dq[c] * p.Scale;
    }

    [KernelEntry]
    public static void BackwardKey<T, TS>(ArrayView<T> q, ArrayView<T> k, ArrayView<T> v, ArrayView<T> bias, ArrayView<T> mask,
        ArrayView<T> lse, ArrayView<T> gradOutput, ArrayView<T> delta, ArrayView<T> gradK, ArrayView<T> gradV, AttentionArgs<T> p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        var qBlock = SharedMemory.Allocate1D<T>(KeyBlock * MaxD);
        var doBlock = SharedMemory.Allocate1D<T>(KeyBlock * MaxD);
        var lseBlock = SharedMemory.Allocate1D<T>(KeyBlock);
        var deltaBlock = SharedMemory.Allocate1D<T>(KeyBlock);
        var rowKeys = SharedMemory.Allocate1D<uint>(KeyBlock);
        var kRow = LocalMemory.Allocate1D<T>(MaxD);
        var vRow = LocalMemory.Allocate1D<T>(MaxD);
        var dk = LocalMemory.Allocate1D<T>(MaxD);
        var dv = LocalMemory.Allocate1D<T>(MaxD);
        int bh = Grid.IdxX / p.Tiles, tile = Grid.IdxX - bh * p.Tiles, b = bh / p.H;
        int t = Group.IdxX, g = Group.DimX, d = p.D;
        int j = tile * g + t;
        bool active = j < p.Nk;
        int keyRow = bh * p.Nk + j;
        bool valid = active && (p.HasMask == 0 || mask[b * p.Nk + j] != T.Zero);
        if (active)
        {
            for (int c = 0; c < d; c++)
            {
                kRow[c] = k[keyRow * d + c];
                vRow[c] = v[keyRow * d + c];
                dk[c] = T.Zero;
                dv[c] = T.Zero;
            }
        }
        for (int i0 = 0; i0 < p.Nq; i0 += KeyBlock)
        {
            int width = Math.Min(KeyBlock, p.Nq - i0);
            for (int s = t; s < KeyBlock * d; s += g)
            {
                int ii = s / d, c = s - ii * d;
                int r = bh * p.Nq + i0 + ii;
                qBlock[ii * MaxD + c] = ii < width ? q[r * d + c] * p.Scale : T.Zero;
                doBlock[ii * MaxD + c] = ii < width ? gradOutput[r * d + c] : T.Zero;
            }
            for (int s = t; s < KeyBlock; s += g)
            {
                int r = bh * p.Nq + i0 + s;
                lseBlock[s] = s < width ? lse[r] : T.NegativeInfinity;
                deltaBlock[s] = s < width ? delta[r] : T.Zero;
                rowKeys[s] = p.Dropout != 0 ? AttentionDropout.RowKey(p.DropSeed, r) : 0u;
            }
            Group.Barrier();
            if (valid)
            {
                for (int ii = 0; ii < width; ii++)
                {
                    T rowLse = lseBlock[ii];
                    if (T.IsNegativeInfinity(rowLse)) continue;
                    int r = bh * p.Nq + i0 + ii;
                    T s = Score<T>(kRow, qBlock, ii, d) + (p.HasBias != 0 ? bias[r * p.Nk + j] : T.Zero);
                    T prob = T.Exp(s - rowLse);
                    T dp = Score<T>(vRow, doBlock, ii, d);
                    T z = KeepFactor(rowKeys[ii], j, p);
                    T ds = prob * (dp * z - deltaBlock[ii]);
                    T pz = prob * z;
                    for (int c = 0; c < d; c++)
                    {
                        dv[c] += pz * doBlock[ii * MaxD + c];
                        dk[c] += ds * qBlock[ii * MaxD + c];
                    }
                }
            }
            Group.Barrier();
        }
        if (!active) return;
        for (int c = 0; c < d; c++)
        {
            gradK[keyRow * d + c] = dk[c];
            gradV[keyRow * d + c] = dv[c];
        }
    }

    // Stages keys j0 … j0 + width − 1 of (b, h) into shared memory (rows padded to MaxD) with their mask (0 or −∞).
    private static void LoadKeys<T>(ArrayView<T> k, ArrayView<T> v, ArrayView<T> mask, ArrayView<T> kBlock, ArrayView<T> vBlock, ArrayView<T> keyBias,
        int bh, int b, int j0, int width, AttentionArgs<T> p, int t, int g)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = p.D;
        for (int s = t; s < KeyBlock * d; s += g)
        {
            int jj = s / d, c = s - jj * d;
            int r = bh * p.Nk + j0 + jj;
            kBlock[jj * MaxD + c] = jj < width ? k[r * d + c] : T.Zero;
            vBlock[jj * MaxD + c] = jj < width ? v[r * d + c] : T.Zero;
        }
        for (int s = t; s < KeyBlock; s += g)
        {
            bool ok = s < width && (p.HasMask == 0 || mask[b * p.Nk + j0 + s] != T.Zero);
            keyBias[s] = ok ? T.Zero : T.NegativeInfinity;
        }
    }

    // Dropout factor of weight (row, j): 1 without dropout, else keep ? 1/(1 − p) : 0.
    private static T KeepFactor<T>(uint rowKey, int j, AttentionArgs<T> p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (p.Dropout == 0) return T.One;
        return AttentionDropout.Hash(rowKey, j) >= p.DropThreshold ? p.KeepScale : T.Zero;
    }

    // Σ_c row[c]·block[at, c] (block rows padded to MaxD).
    private static T Score<T>(ArrayView<T> row, ArrayView<T> block, int at, int d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T s = T.Zero;
        for (int c = 0; c < d; c++) s += row[c] * block[at * MaxD + c];
        return s;
    }
}
