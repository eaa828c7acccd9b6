namespace Hep.Kernels.Ilgpu;

/// <summary>Sizes and strides of one batched GEMM launch (element units).</summary>
internal struct GemmArgs
{
    public int M, N, K;
    /// <summary>Output tiles along N; grid X enumerates (batch, tile-N) pairs.</summary>
    public int TilesN;
    /// <summary>Threads per side of the square group (16 on GPUs, 4 on the CPU accelerator).</summary>
    public int ThreadsPerSide;
    public int AOffset, ABatch, ARow, ACol;
    public int BOffset, BBatch, BRow, BCol;
    public int COffset;
    /// <summary>1: c += a·b (beta = 1); 0: c = a·b.</summary>
    public int Accumulate;
    /// <summary>Epilogue parts present (1 each): per-row scale, per-row shift, per-column bias; offsets into their views.</summary>
    public int HasRowScale, HasRowShift, HasColumnBias;
    public int RowScaleOffset, RowShiftOffset, ColumnBiasOffset;
    /// <summary>Epilogue activation: 0 none, 1 ReLU, 2 GELU (<see cref="GemmActivation"/>).</summary>
    public int Activation;
}

/// <summary>
/// Tiled batched GEMM c[b] = a[b]·b[b] (+ c[b]) for a (batch, M, K), b (batch, K, N) with any
/// strides (transposed views, stride-0 broadcast batch) and c contiguous (batch, M, N).
/// Thread mapping: a group of T×T threads owns a (4T)×(4T) output tile; each thread accumulates a
/// 4×4 micro-tile in registers (rows ty + i·T, cols tx + j·T, so neighbouring threads store
/// neighbouring columns). K is walked in panels of 16: both operand panels are staged in shared
/// memory (zero-padded at the edges), then consumed between two barriers.
/// Grid: X = batch × tiles-N, Y = tiles-M. Each output sums k in increasing order: deterministic.
/// Epilogue (GemmEpilogue, flags in <see cref="GemmArgs"/>): each thread finishes its outputs as
/// act(v·rowScale[m] + (rowShift[m] + columnBias[n])) before the store; absent parts' views are never read.
/// </summary>
internal static class GemmKernels
{
    [KernelEntry]
    public static void Gemm<T, TS>(ArrayView<T> a, ArrayView<T> b, ArrayView<T> c, ArrayView<T> rowScale, ArrayView<T> rowShift,
        ArrayView<T> columnBias, GemmArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        const int mt = LaunchMath.MicroTile, panel = LaunchMath.GemmPanelK;
        var aPanel = SharedMemory.Allocate1D<T>(panel * LaunchMath.MaxGemmTile);
        var bPanel = SharedMemory.Allocate1D<T>(panel * LaunchMath.MaxGemmTile);
        var acc = LocalMemory.Allocate1D<T>(mt * mt);

        int side = p.ThreadsPerSide, tile = side * mt, threads = side * side;
        int tid = Group.IdxX, tx = tid % side, ty = tid / side;
        int batch = Grid.IdxX / p.TilesN, m0 = Grid.IdxY * tile, n0 = (Grid.IdxX - batch * p.TilesN) * tile;
        int aBase = p.AOffset + batch * p.ABatch, bBase = p.BOffset + batch * p.BBatch;
        for (int q = 0; q < mt * mt; q++) acc[q] = T.Zero;

        for (int k0 = 0; k0 < p.K; k0 += panel)
        {
            // aPanel[kk, mm] = a[m0 + mm, k0 + kk]; k fastest across threads (row-major a reads coalesce).
            for (int e = tid; e < panel * tile; e += threads)
            {
                int mm = e / panel, kk = e - mm * panel;
                int m = m0 + mm, k = k0 + kk;
                aPanel[kk * tile + mm] = m < p.M && k < p.K ? a[aBase + m * p.ARow + k * p.ACol] : T.Zero;
            }
            // bPanel[kk, nn] = b[k0 + kk, n0 + nn]; n fastest across threads.
            for (int e = tid; e < panel * tile; e += threads)
            {
                int kk = e / tile, nn = e - kk * tile;
                int k = k0 + kk, n = n0 + nn;
                bPanel[kk * tile + nn] = k < p.K && n < p.N ? b[bBase + k * p.BRow + n * p.BCol] : T.Zero;
            }
            Group.Barrier();
            int depth = p.K - k0 < panel ? p.K - k0 : panel;
            for (int kk = 0; kk < depth; kk++)
            {
                for (int i = 0; i < mt; i++)
                {
                    T av = aPanel[kk * tile + ty + i * side];
                    for (int j = 0; j < mt; j++) acc[i * mt + j] += av * bPanel[kk * tile + tx + j * side];
                }
            }
            Group.Barrier();
        }

        for (int i = 0; i < mt; i++)
        {
            int m = m0 + ty + i * side;
            if (m >= p.M) continue;
            for (int j = 0; j < mt; j++)
            {
                int n = n0 + tx + j * side;
                if (n >= p.N) continue;
                int at = p.COffset + (batch * p.M + m) * p.N + n;
                T v = p.Accumulate != 0 ? c[at] + acc[i * mt + j] : acc[i * mt + j];
                T scale = p.HasRowScale != 0 ? rowScale[p.RowScaleOffset + m] : T.One;
                T shift = p.HasRowShift != 0 ? rowShift[p.RowShiftOffset + m] : T.Zero;
                T bias = p.HasColumnBias != 0 ? columnBias[p.ColumnBiasOffset + n] : T.Zero;
                v = v * scale + (shift + bias);
                if (p.Activation == 1) v = v > T.Zero ? v : T.Zero;
                else if (p.Activation == 2) v = TS.Gelu(v);
                c[at] = v;
            }
        }
    }
}
