using System.Buffers;
using System.Numerics;
using System.Runtime.Intrinsics;
using Hep.Engine;
using Hep.Kernels.Cpu.Attention;

namespace Hep.Kernels.Cpu.Graph;

/// <summary>
/// k-nearest neighbours per jet without the (B, N, N) distance matrix.
/// Shapes: points (B, C, N), mask (B, N) or null, indices (B, N, K) Int32.
/// Per jet, the C×N coordinates are copied once into a zero-padded scratch (padded particles get
/// zeros there; they never compete as candidates) with the squared norms ‖p_j‖². A register tile of
/// 8 queries × 2 SIMD vectors of candidates accumulates the dot products p_i·p_j over C (GEMM
/// micro-kernel shape: one broadcast per query, two vector loads per channel), turns them into
/// ranking keys ‖p_j‖² − 2·p_i·p_j (= distance − ‖p_i‖²), and each query's running top-K list
/// (sorted insertion) takes only the lanes a SIMD compare finds below its current K-th key.
/// Candidates are visited in index order and only strictly smaller keys enter, so ties keep the
/// lower index. Self, padded and tail lanes carry +∞ and never enter.
/// Padded particles follow weaver's ParticleNet, where every coordinate of a padded point is 1e9
/// (coord_shift); evaluated exactly, that means: a real query's padded neighbours come after all its
/// real ones, in index order; a padded query takes the other padded points first (distance 0, index
/// order), then real points by ‖p_j‖² − 2e9·Σ_c p_j,c (its exact distance ordering, in float64).
/// Thread mapping: one job per (jet, block of 64 queries); the jet scratch is reused while
/// consecutive jobs stay in the same jet. Deterministic (no cross-thread reduction).
/// </summary>
internal static unsafe class Knn<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int Rows = 8;
    private const int QueryBlock = 64;
    private const double PaddedCoordinate = 1e9;

    private static int Lanes => Vector512<T>.Count;

    public static void Run(Tensor points, Tensor? mask, Tensor indices)
    {
        const string op = "Knn";
        var ps = CpuTensor.Array<T>(points, op);
        T[]? ms = mask is null ? null : CpuTensor.Array<T>(mask, op);
        var outIdx = CpuTensor.Array<int>(indices, op);
        int b = points.Shape[0], c = points.Shape[1], n = points.Shape[2], k = indices.Shape[2];
        int po = points.Offset, mo = mask?.Offset ?? 0, oo = indices.Offset;
        if (b * n == 0) return;
        int blocks = (n + QueryBlock - 1) / QueryBlock;
        CpuParallel.For(b * blocks, (long)Math.Min(n, QueryBlock) * n * (c + 4), (s, e) =>
        {
            var jet = new JetScratch(c, n, k);
            try
            {
                int loaded = -1;
                for (int job = s; job < e; job++)
                {
                    int bi = job / blocks, q0 = job % blocks * QueryBlock, q1 = Math.Min(n, q0 + QueryBlock);
                    if (bi != loaded)
                    {
                        jet.Load(ps, po + bi * c * n, ms, mo + bi * n);
                        loaded = bi;
                    }
                    var result = outIdx.AsSpan(oo + bi * n * k, n * k);
                    for (int i0 = q0; i0 < q1; i0 += Rows) jet.QueryTile(i0, Math.Min(Rows, q1 - i0), result);
                    for (int i = q0; i < q1; i++)
                    {
                        if (!jet.Real[i]) jet.PaddedQuery(i, result.Slice(i * k, k));
                    }
                }
            }
            finally
            {
                jet.Dispose();
            }
        });
    }

    /// <summary>One worker's per-jet buffers: padded coordinates, ranking base keys, the top-K lists of a tile.</summary>
    private sealed class JetScratch : IDisposable
    {
        private readonly int _c, _n, _k, _stride;
        private readonly T[] _coords;     // (C, stride) zero-padded coordinates of real points
        private readonly T[] _baseKey;    // ‖p_j‖² for real j < N, +∞ otherwise (stride)
        private readonly T[] _tile;       // Rows × 2·Lanes ranking keys of the current tile
        private readonly T[] _listKey;    // Rows × K sorted keys
        private readonly int[] _listIdx;  // Rows × K candidate indices
        private readonly int[] _listCount = new int[Rows];
        private int[]? _paddedOrder;      // real points in a padded query's order, built on demand
        private T[] _source = [];
        private int _sourceOffset;

        public JetScratch(int c, int n, int k)
        {
            _c = c;
            _n = n;
            _k = k;
            _stride = (n + 2 * Lanes - 1) / (2 * Lanes) * (2 * Lanes);
            _coords = ArrayPool<T>.Shared.Rent(Math.Max(c, 1) * _stride);
            _baseKey = ArrayPool<T>.Shared.Rent(_stride);
            _tile = ArrayPool<T>.Shared.Rent(Rows * 2 * Lanes);
            _listKey = ArrayPool<T>.Shared.Rent(Rows * k);
            _listIdx = ArrayPool<int>.Shared.Rent(Rows * k);
            Real = new bool[n];
        }

        /// <summary>Real[j]: particle j of the loaded jet is real (mask ≠ 0).</summary>
        public bool[] Real { get; }

        public int RealCount { get; private set; }

        public void Load(T[] points, int pointsOffset, T[]? mask, int maskOffset)
        {
            _source = points;
            _sourceOffset = pointsOffset;
            _paddedOrder = null;
            RealCount = 0;
            for (int j = 0; j < _n; j++)
            {
                Real[j] = mask is null || mask[maskOffset + j] != T.Zero;
                if (Real[j]) RealCount++;
            }
            var norms = _baseKey.AsSpan(0, _stride);
            norms.Clear();
            for (int ch = 0; ch < _c; ch++)
            {
                var src = points.AsSpan(pointsOffset + ch * _n, _n);
                var dst = _coords.AsSpan(ch * _stride, _stride);
                for (int j = 0; j < _n; j++) dst[j] = Real[j] ? src[j] : T.Zero;
                dst[_n..].Clear();
                for (int j = 0; j < _stride; j += Lanes)
                {
                    var v = Vector512.Create<T>(dst.Slice(j, Lanes));
                    TileKernels<T>.Fma(v, v, Vector512.Create<T>(norms.Slice(j, Lanes))).CopyTo(norms.Slice(j, Lanes));
                }
            }
            for (int j = 0; j < _stride; j++)
            {
                if (j >= _n || !Real[j]) norms[j] = T.PositiveInfinity;
            }
        }

        /// <summary>Top-K of queries i0 … i0 + rows − 1 over all candidates; writes the rows of real queries.</summary>
        public void QueryTile(int i0, int rows, Span<int> result)
        {
            int k = _k, lanes = Lanes;
            Array.Clear(_listCount);
            fixed (T* coords = _coords, baseKey = _baseKey, tile = _tile)
            {
                for (int j0 = 0; j0 < _n; j0 += 2 * lanes)
                {
                    DotTile(coords, baseKey, i0, j0, tile);
                    for (int r = 0; r < rows; r++)
                    {
                        int i = i0 + r;
                        if (i >= j0 && i < j0 + 2 * lanes) tile[r * 2 * lanes + i - j0] = T.PositiveInfinity;
                        Select(r, tile + r * 2 * lanes, j0);
                    }
                }
            }
            for (int r = 0; r < rows; r++)
            {
                int i = i0 + r;
                if (!Real[i]) continue;
                var dst = result.Slice(i * k, k);
                int count = _listCount[r];
                _listIdx.AsSpan(r * k, count).CopyTo(dst);
                // Padded points (all at the same distance, beyond every real one) in index order.
                for (int j = 0; j < _n && count < k; j++)
                {
                    if (!Real[j]) dst[count++] = j;
                }
            }
        }

        // tile[r, 0 .. 2L) = base[j0 ..] − 2·Σ_c p[c, i0 + r]·p[c, j0 ..]: the shared 8 × 2-vector register tile.
        private void DotTile(T* coords, T* baseKey, int i0, int j0, T* tile)
        {
            int lanes = Lanes, w = 2 * lanes;
            TileKernels<T>.ScoreTile(_c, coords + i0, _stride, coords + j0, _stride, tile, w);
            var base0 = Vector512.Load(baseKey + j0);
            var base1 = Vector512.Load(baseKey + j0 + lanes);
            var minus2 = Vector512.Create(T.CreateTruncating(-2));
            for (int r = 0; r < Rows; r++, tile += w)
            {
                TileKernels<T>.Fma(Vector512.Load(tile), minus2, base0).Store(tile);
                TileKernels<T>.Fma(Vector512.Load(tile + lanes), minus2, base1).Store(tile + lanes);
            }
        }

        // Feeds 2·L candidate keys (indices j0 …) to row r's running top-K.
        private void Select(int r, T* keys, int j0)
        {
            int k = _k, lanes = Lanes;
            ref int count = ref _listCount[r];
            T threshold = count == k ? _listKey[r * k + k - 1] : T.PositiveInfinity;
            for (int v = 0; v < 2; v++)
            {
                ulong bits = Vector512.LessThan(Vector512.Load(keys + v * lanes), Vector512.Create(threshold)).ExtractMostSignificantBits();
                while (bits != 0)
                {
                    int lane = BitOperations.TrailingZeroCount(bits);
                    bits &= bits - 1;
                    T key = keys[v * lanes + lane];
                    if (!(key < threshold)) continue;
                    Insert(r, ref count, key, j0 + v * lanes + lane);
                    if (count == k) threshold = _listKey[r * k + k - 1];
                }
            }
        }

        // Sorted insertion after every equal key (ties keep the earlier, lower index); drops the K-th when full.
        private void Insert(int r, ref int count, T key, int j)
        {
            int k = _k, baseAt = r * k;
            int p = count < k ? count++ : k - 1;
            while (p > 0 && _listKey[baseAt + p - 1] > key)
            {
                _listKey[baseAt + p] = _listKey[baseAt + p - 1];
                _listIdx[baseAt + p] = _listIdx[baseAt + p - 1];
                p--;
            }
            _listKey[baseAt + p] = key;
            _listIdx[baseAt + p] = j;
        }

        /// <summary>A padded query's neighbours: other padded points by index, then real points in exact coord-shift order.</summary>
        public void PaddedQuery(int i, Span<int> dst)
        {
            int count = 0;
            for (int j = 0; j < _n && count < _k; j++)
            {
                if (j != i && !Real[j]) dst[count++] = j;
            }
            if (count == _k) return;
            _paddedOrder ??= PaddedQueryOrder();
            foreach (int j in _paddedOrder)
            {
                if (count == _k) break;
                dst[count++] = j;
            }
        }

        // Σ_c (1e9 − p_j,c)² = C·1e18 − 2e9·Σ_c p_j,c + ‖p_j‖²: order real j by the last two terms (float64), ties by index.
        private int[] PaddedQueryOrder()
        {
            var real = new List<(double Key, int J)>(RealCount);
            for (int j = 0; j < _n; j++)
            {
                if (!Real[j]) continue;
                double sum = 0, sq = 0;
                for (int ch = 0; ch < _c; ch++)
                {
                    double x = double.CreateTruncating(_source[_sourceOffset + ch * _n + j]);
                    sum += x;
                    sq += x * x;
                }
                real.Add((sq - 2 * PaddedCoordinate * sum, j));
            }
            real.Sort((a, b) => a.Key != b.Key ? a.Key.CompareTo(b.Key) : a.J.CompareTo(b.J));
            return real.ConvertAll(t => t.J).ToArray();
        }

        public void Dispose()
        {
            ArrayPool<T>.Shared.Return(_coords);
            ArrayPool<T>.Shared.Return(_baseKey);
            ArrayPool<T>.Shared.Return(_tile);
            ArrayPool<T>.Shared.Return(_listKey);
            ArrayPool<int>.Shared.Return(_listIdx);
        }
    }
}
