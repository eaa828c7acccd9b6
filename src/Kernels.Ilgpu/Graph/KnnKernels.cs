namespace Hep.Kernels.Ilgpu;

/// <summary>Sizes of a kNN launch: points (B, C, N), k neighbours, query tiles per jet, mask present.</summary>
internal struct KnnArgs
{
    public int B, C, N, K, Tiles, HasMask;
}

/// <summary>
/// k nearest neighbours per jet without the (B, N, N) distance matrix.
/// Shapes: points (B, C, N), mask (B, N) (≠ 0 real) or a placeholder when HasMask = 0, indices (B, N, K).
/// <see cref="Select"/>: one group per (jet, tile of group-size queries), one thread per query.
/// Candidates are visited in blocks of <see cref="CandidateBlock"/>; each block's coordinates are
/// staged in shared memory <see cref="ChannelBlock"/> channels at a time, and each thread
/// accumulates its query's squared distances Σ_c (p_i − p_j)² to the block in local memory, then
/// feeds them to its running top-K (sorted insertion into a local list of at most <see cref="MaxK"/>).
/// Candidates arrive in index order and only strictly smaller distances enter, after equal ones, so
/// ties keep the lower index. Self and padded candidates never enter; a real query's list is then
/// completed with the padded points in index order (weaver's coord_shift puts them after every real
/// point). Non-finite distances (NaN or +∞, from NaN/±∞ coordinates) never enter a list: they rank
/// after the padded points, in index order, and a real query whose ‖p_i‖² is not finite takes the
/// padded points, then the other real points, in index order (the CPU backend's rule).
/// <see cref="PaddedQueries"/>: one thread per (jet, point), padded queries only: the other
/// padded points first (distance 0, index order), then real points ordered by their exact
/// coord-shift distance ‖p_j‖² − 2e9·Σ_c p_j,c, computed in float64 as on the CPU (NaN as +∞).
/// Deterministic (no cross-thread reductions).
/// </summary>
internal static class KnnKernels
{
    /// <summary>Largest k the per-thread local lists hold.</summary>
    public const int MaxK = 64;

    /// <summary>Candidates per shared-memory block.</summary>
    public const int CandidateBlock = 32;

    /// <summary>Channels staged per shared-memory pass.</summary>
    public const int ChannelBlock = 32;

    private const double PaddedCoordinate = 1e9;

    [KernelEntry]
    public static void Select<T, TS>(ArrayView<T> points, ArrayView<T> mask, ArrayView<int> indices, KnnArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        var tile = SharedMemory.Allocate1D<T>(CandidateBlock * ChannelBlock);
        var candidateReal = SharedMemory.Allocate1D<int>(CandidateBlock);
        var distance = LocalMemory.Allocate1D<T>(CandidateBlock);
        var listKey = LocalMemory.Allocate1D<T>(MaxK);
        var listIdx = LocalMemory.Allocate1D<int>(MaxK);
        int b = Grid.IdxX / p.Tiles, queryTile = Grid.IdxX - b * p.Tiles;
        int t = Group.IdxX, g = Group.DimX, n = p.N, c = p.C, k = p.K;
        int i = queryTile * g + t;
        bool query = i < n && IsReal(mask, p, b, i);
        int pointBase = b * c * n, count = 0;
        // A query with a non-finite ‖p_i‖² is at a non-finite distance from every point: no list.
        bool finiteQuery = false;
        if (query)
        {
            T norm = T.Zero;
            for (int ch = 0; ch < c; ch++)
            {
                T qv = points[pointBase + ch * n + i];
                norm += qv * qv;
            }
            finiteQuery = norm < T.PositiveInfinity;
        }
        for (int j0 = 0; j0 < n; j0 += CandidateBlock)
        {
            for (int jj = 0; jj < CandidateBlock; jj++) distance[jj] = T.Zero;
            for (int s = t; s < CandidateBlock; s += g)
                candidateReal[s] = j0 + s < n && IsReal(mask, p, b, j0 + s) ? 1 : 0;
            for (int c0 = 0; c0 < c; c0 += ChannelBlock)
            {
                int channels = Math.Min(ChannelBlock, c - c0);
                for (int s = t; s < CandidateBlock * ChannelBlock; s += g)
                {
                    int ch = s / CandidateBlock, j = j0 + s - ch * CandidateBlock;
                    tile[s] = ch < channels && j < n ? points[pointBase + (c0 + ch) * n + j] : T.Zero;
                }
                Group.Barrier();
                if (query)
                {
                    for (int ch = 0; ch < channels; ch++)
                    {
                        T qv = points[pointBase + (c0 + ch) * n + i];
                        for (int jj = 0; jj < CandidateBlock; jj++)
                        {
                            T d = qv - tile[ch * CandidateBlock + jj];
                            distance[jj] += d * d;
                        }
                    }
                }
                Group.Barrier();
            }
            if (finiteQuery)
            {
                for (int jj = 0; jj < CandidateBlock; jj++)
                {
                    int j = j0 + jj;
                    if (j >= n || j == i || candidateReal[jj] == 0) continue;
                    T key = distance[jj];
                    if (!(key < T.PositiveInfinity)) continue;   // NaN or +∞: after the padded points
                    count = Insert(listKey, listIdx, count, k, key, j);
                }
            }
            Group.Barrier();
        }
        if (!query) return;
        int outBase = (b * n + i) * k;
        for (int r = 0; r < count; r++) indices[outBase + r] = listIdx[r];
        int found = count;
        for (int j = 0; j < n && count < k; j++)
        {
            if (!IsReal(mask, p, b, j)) indices[outBase + count++] = j;
        }
        // Only with non-finite coordinates: the real points left out of the list, in index order.
        for (int j = 0; j < n && count < k; j++)
        {
            if (j == i || !IsReal(mask, p, b, j)) continue;
            bool held = false;
            for (int r = 0; r < found; r++) held |= listIdx[r] == j;
            if (!held) indices[outBase + count++] = j;
        }
    }

    [KernelEntry]
    public static void PaddedQueries<T, TS>(Index1D e, ArrayView<T> points, ArrayView<T> mask, ArrayView<int> indices, KnnArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        int n = p.N, c = p.C, k = p.K;
        int b = e / n, i = e - b * n;
        if (IsReal(mask, p, b, i)) return;
        int outBase = (b * n + i) * k, count = 0;
        for (int j = 0; j < n && count < k; j++)
        {
            if (j != i && !IsReal(mask, p, b, j)) indices[outBase + count++] = j;
        }
        if (count == k) return;
        // The remaining k − count slots: real points by Σ_c (1e9 − p_j,c)² − C·1e18 = ‖p_j‖² − 2e9·Σ_c p_j,c, ties by index.
        var listKey = LocalMemory.Allocate1D<double>(MaxK);
        var listIdx = LocalMemory.Allocate1D<int>(MaxK);
        int want = k - count, have = 0;
        for (int j = 0; j < n; j++)
        {
            if (!IsReal(mask, p, b, j)) continue;
            double sum = 0, sq = 0;
            for (int ch = 0; ch < c; ch++)
            {
                double x = TS.ToDouble(points[(b * c + ch) * n + j]);
                sum += x;
                sq += x * x;
            }
            double key = sq - 2 * PaddedCoordinate * sum;
            if (double.IsNaN(key)) key = double.PositiveInfinity;   // NaN ranks as +∞, ties by index
            have = Insert(listKey, listIdx, have, want, key, j);
        }
        for (int r = 0; r < have; r++) indices[outBase + count + r] = listIdx[r];
    }

    // Inserts (key, j) into the list's first count entries, ascending by key (capacity at most): after every
    // entry with a key ≤ key, so equal keys keep their arrival (index) order; a full list drops its last
    // entry, or the new one when its key is not smaller. Returns the new count.
    private static int Insert<TK>(ArrayView<TK> keys, ArrayView<int> ids, int count, int capacity, TK key, int j)
        where TK : unmanaged, IFloatingPointIeee754<TK>
    {
        if (count == capacity && !(key < keys[capacity - 1])) return count;
        int at = count < capacity ? count++ : capacity - 1;
        while (at > 0 && keys[at - 1] > key)
        {
            keys[at] = keys[at - 1];
            ids[at] = ids[at - 1];
            at--;
        }
        keys[at] = key;
        ids[at] = j;
        return count;
    }

    private static bool IsReal<T>(ArrayView<T> mask, KnnArgs p, int b, int j) where T : unmanaged, IFloatingPointIeee754<T> =>
        p.HasMask == 0 || mask[b * p.N + j] != T.Zero;
}
