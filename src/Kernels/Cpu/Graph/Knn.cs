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
/// ranking keys ‖p_j‖² − 2·p_i·p_j (= distance − ‖p_i‖²) for a whole row of candidates (only up to
/// the last real point); each query's running top-K list then takes only the lanes a SIMD compare
/// finds below its current K-th key. float32 with K ≤ 16 (AVX-512) keeps the list as 16 sorted
/// (key, index) composites in two registers (<see cref="KnnTopK16"/>); otherwise, for K ≤ SIMD width the
/// sorted list lives in two registers (keys, indices) with branch-free shift-insertion, and larger K
/// uses the same insertion over several vectors (<see cref="TopK"/>). Candidates are visited in index order and only strictly smaller
/// keys enter, so ties keep the lower index. Self, padded and tail lanes carry +∞ and never enter.
/// Padded particles follow weaver's ParticleNet, where every coordinate of a padded point is 1e9
/// (coord_shift); evaluated exactly, that means: a real query's padded neighbours come after all its
/// real ones, in index order; a padded query takes the other padded points first (distance 0, index
/// order), then real points by ‖p_j‖² − 2e9·Σ_c p_j,c (its exact distance ordering, in float64).
/// Non-finite coordinates (NaN, ±∞, or |x| large enough that ‖p‖² overflows) give non-finite
/// distances, which rank after the padded points, in index order; a query with such a coordinate takes
/// the padded points, then the other real points, in index order.
/// Thread mapping: one job per jet (per (jet, block of 64 queries) when there are few jets), taken
/// dynamically by one worker per core; a worker's jet scratch is reused while its jobs stay in one jet. Deterministic (no cross-thread reduction).
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
        // Jobs: whole jets when there are enough of them to share out (each jet's coordinates are then
        // copied once), else (jet, block of 64 queries). Workers take jobs in order from a shared counter,
        // so uneven jets, or a core slowed by other processes, do not leave the other core idle.
        int blocks = b >= 4 * CpuParallel.Threads ? 1 : (n + QueryBlock - 1) / QueryBlock;
        int queryBlock = blocks == 1 ? n : QueryBlock, jobs = b * blocks, next = -1;
        CpuParallel.For(CpuParallel.Threads, (long)jobs * queryBlock * n * (c + 4) / CpuParallel.Threads, (s, e) =>
        {
            var jet = new JetScratch(c, n, k);
            try
            {
                int loaded = -1;
                for (int job = Interlocked.Increment(ref next); job < jobs; job = Interlocked.Increment(ref next))
                {
                    int bi = job / blocks, q0 = job % blocks * queryBlock, q1 = Math.Min(n, q0 + queryBlock);
                    if (bi != loaded)
                    {
                        jet.Load(ps, po + bi * c * n, ms, mo + bi * n);
                        loaded = bi;
                    }
                    var result = outIdx.AsSpan(oo + bi * n * k, n * k);
                    for (int i0 = q0; i0 < q1; i0 += Rows)
                    {
                        int rows = Math.Min(Rows, q1 - i0);
                        if (jet.AnyReal(i0, rows)) jet.QueryTile(i0, rows, result);
                    }
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
        private readonly T[] _realMask;   // all-ones bits for real j < N, zero otherwise (stride)
        private readonly T[] _tile;       // Rows × stride ranking keys of the current query tile
        private readonly TopK _lists;     // the running top-K of each tile row
        private readonly int[] _padded;   // indices of the padded points of the loaded jet, ascending
        private int _paddedCount, _realEnd;
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
            _realMask = ArrayPool<T>.Shared.Rent(_stride);
            _tile = ArrayPool<T>.Shared.Rent(Rows * _stride);
            _lists = new TopK(Rows, k);
            Real = new bool[n];
            _padded = new int[n];
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
            _paddedCount = 0;
            _realEnd = 0;
            for (int j = 0; j < _n; j++)
            {
                Real[j] = mask is null || mask[maskOffset + j] != T.Zero;
                if (Real[j])
                {
                    RealCount++;
                    _realEnd = j + 1;
                }
                else _padded[_paddedCount++] = j;
            }
            // Real lanes all-ones, padded and tail lanes zero: coordinates are masked with one AND, so a
            // padded point's stored values (zeros, 1e9, NaN, anything) never reach the dot products.
            var realBits = Vector512<T>.AllBitsSet.GetElement(0);
            for (int j = 0; j < _stride; j++) _realMask[j] = j < _n && Real[j] ? realBits : T.Zero;
            int lanes = Lanes, full = _n / lanes * lanes;
            fixed (T* coords = _coords, norms = _baseKey, realMask = _realMask)
            {
                new Span<T>(norms, _stride).Clear();
                for (int ch = 0; ch < _c; ch++)
                {
                    var src = points.AsSpan(pointsOffset + ch * _n, _n);
                    T* dst = coords + ch * _stride;
                    for (int j = 0; j < full; j += lanes)
                        (Vector512.Create<T>(src.Slice(j, lanes)) & Vector512.Load(realMask + j)).Store(dst + j);
                    for (int j = full; j < _stride; j++) dst[j] = j < _n && Real[j] ? src[j] : T.Zero;
                    for (int j = 0; j < _stride; j += lanes)
                    {
                        var v = Vector512.Load(dst + j);
                        TileKernels<T>.Fma(v, v, Vector512.Load(norms + j)).Store(norms + j);
                    }
                }
                for (int j = 0; j < _stride; j++)
                {
                    if (j >= _n || !Real[j]) norms[j] = T.PositiveInfinity;
                }
            }
        }

        /// <summary>True when one of queries i0 … i0 + rows − 1 is a real particle.</summary>
        public bool AnyReal(int i0, int rows)
        {
            for (int r = 0; r < rows; r++)
            {
                if (Real[i0 + r]) return true;
            }
            return false;
        }

        /// <summary>Top-K of queries i0 … i0 + rows − 1 over all candidates; writes the rows of real queries.</summary>
        public void QueryTile(int i0, int rows, Span<int> result)
        {
            int k = _k, lanes = Lanes;
            bool composite = typeof(T) == typeof(float) && KnnTopK16.Supported(k);
            if (!composite) _lists.Reset();
            // Candidates past the last real point are padded or tail lanes (+∞): never visited.
            int end = (_realEnd + 2 * lanes - 1) / (2 * lanes) * (2 * lanes);
            fixed (T* coords = _coords, baseKey = _baseKey, tile = _tile)
            fixed (int* res = result)
            {
                for (int j0 = 0; j0 < end; j0 += 2 * lanes) DotTile(coords, baseKey, i0, j0, tile + j0);
                int pending = -1;   // composite path: a real row waiting for a partner (rows go in pairs)
                for (int r = 0; r < rows; r++)
                {
                    int i = i0 + r;
                    if (!Real[i]) continue;
                    if (!T.IsFinite(baseKey[i]))
                    {
                        // A query with a non-finite coordinate is at a non-finite distance from every
                        // point (its keys omit the +∞ ‖p_i‖², so they would not show it): no list.
                        if (composite) Complete(res + i * k, 0, i);
                        continue;
                    }
                    T* row = tile + r * _stride;
                    row[i] = T.PositiveInfinity;   // self (i < N ≤ stride)
                    if (composite)
                    {
                        if (pending < 0)
                        {
                            pending = r;
                            continue;
                        }
                        int ia = i0 + pending;
                        var (fa, fb) = KnnTopK16.SelectPair((float*)(tile + pending * _stride), (float*)row, end, k, res + ia * k, res + i * k);
                        Complete(res + ia * k, fa, ia);
                        Complete(res + i * k, fb, i);
                        pending = -1;
                    }
                    else if (k <= lanes) SelectRowInRegisters(r, row, end);
                    else SelectRow(r, row, end);
                }
                if (pending >= 0)
                {
                    int ia = i0 + pending;
                    Complete(res + ia * k, KnnTopK16.Select((float*)(tile + pending * _stride), end, k, res + ia * k), ia);
                }
            }
            if (composite) return;
            for (int r = 0; r < rows; r++)
            {
                int i = i0 + r;
                if (!Real[i]) continue;
                fixed (int* dst = result.Slice(i * k, k)) Complete(dst, _lists.CopyTo(r, new Span<int>(dst, k)), i);
            }
        }

        // Completes query i's row after its `found` real neighbours with finite keys: first the padded
        // points (all at the same distance, beyond every real one) in index order, then (only when
        // coordinates are not finite) the real points whose key is NaN or +∞, which never enter a list,
        // in index order.
        private void Complete(int* dst, int found, int i)
        {
            int real = found;
            for (int p = 0; found < _k && p < _paddedCount; p++) dst[found++] = _padded[p];
            for (int j = 0; found < _k; j++)
            {
                if (j == i || !Real[j] || new ReadOnlySpan<int>(dst, real).Contains(j)) continue;
                dst[found++] = j;
            }
        }

        // tile[r·stride + 0 .. 2L) = base[j0 ..] − 2·Σ_c p[c, i0 + r]·p[c, j0 ..]: the shared 8 × 2-vector register tile.
        private void DotTile(T* coords, T* baseKey, int i0, int j0, T* tile)
        {
            int lanes = Lanes, w = _stride;
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

        // Row r's top-K over count candidate keys (general K): a SIMD compare against the current K-th
        // key picks the lanes worth inserting into the vector lists of TopK.
        private void SelectRow(int r, T* keys, int count)
        {
            int lanes = Lanes;
            T threshold = _lists.Threshold(r);
            for (int j0 = 0; j0 < count; j0 += lanes)
            {
                ulong bits = Vector512.LessThan(Vector512.Load(keys + j0), Vector512.Create(threshold)).ExtractMostSignificantBits();
                while (bits != 0)
                {
                    int lane = BitOperations.TrailingZeroCount(bits);
                    bits &= bits - 1;
                    T key = keys[j0 + lane];
                    if (key < threshold) threshold = _lists.Insert(r, key, j0 + lane);
                }
            }
        }

        // K ≤ L: the sorted list is one vector of keys and one of indices kept in registers for the
        // whole row. Insertion: gt = keys > key (a suffix of the first K lanes, as they are sorted);
        // lanes whose left neighbour is gt shift right by one, the first gt lane takes the new entry.
        // Lanes ≥ K hold don't-care values; the threshold is lane K − 1.
        private void SelectRowInRegisters(int r, T* row, int count)
        {
            int lanes = Lanes, last = _k - 1;
            var keys = Vector512.Create(T.PositiveInfinity);
            var ids = Vector512<T>.Zero;
            T threshold = T.PositiveInfinity;
            for (int j0 = 0; j0 < count; j0 += lanes)
            {
                ulong bits = Vector512.LessThan(Vector512.Load(row + j0), Vector512.Create(threshold)).ExtractMostSignificantBits();
                while (bits != 0)
                {
                    int lane = BitOperations.TrailingZeroCount(bits);
                    bits &= bits - 1;
                    T key = row[j0 + lane];
                    if (!(key < threshold)) continue;
                    var kv = Vector512.Create(key);
                    var gt = Vector512.GreaterThan(keys, kv);
                    var shift = TopK.ShiftUp(gt, T.Zero);   // lane i: lane i − 1 is gt (lane 0: never)
                    var at = Vector512.AndNot(gt, shift);
                    keys = Vector512.ConditionalSelect(at, kv, Vector512.ConditionalSelect(shift, TopK.ShiftUp(keys, T.Zero), keys));
                    ids = Vector512.ConditionalSelect(at, Vector512.Create(T.CreateTruncating(j0 + lane)),
                        Vector512.ConditionalSelect(shift, TopK.ShiftUp(ids, T.Zero), ids));
                    threshold = keys.GetElement(last);
                }
            }
            _lists.Set(r, keys, ids);
        }

        /// <summary>A padded query's neighbours: other padded points by index, then real points in exact coord-shift order.</summary>
        public void PaddedQuery(int i, Span<int> dst)
        {
            int count = 0;
            for (int p = 0; p < _paddedCount && count < _k; p++)
            {
                if (_padded[p] != i) dst[count++] = _padded[p];
            }
            if (count == _k) return;
            _paddedOrder ??= PaddedQueryOrder(_k - count);   // the same count for every padded query of the jet
            for (int p = 0; count < _k; p++) dst[count++] = _paddedOrder[p];
        }

        // The `want` real points nearest to a padded query, in order:
        // Σ_c (1e9 − p_j,c)² = C·1e18 − 2e9·Σ_c p_j,c + ‖p_j‖², ordered by the last two terms (float64),
        // ties by index (sorted insertion, strict compares), NaN as +∞.
        private int[] PaddedQueryOrder(int want)
        {
            var sum = new double[_n];
            var sq = new double[_n];
            for (int ch = 0; ch < _c; ch++)
            {
                var src = _source.AsSpan(_sourceOffset + ch * _n, _n);
                for (int j = 0; j < _n; j++)
                {
                    double x = double.CreateTruncating(src[j]);
                    sum[j] += x;
                    sq[j] += x * x;
                }
            }
            var keys = new double[want];
            var order = new int[want];
            int have = 0;
            for (int j = 0; j < _n; j++)
            {
                if (!Real[j]) continue;
                double key = sq[j] - 2 * PaddedCoordinate * sum[j];
                if (double.IsNaN(key)) key = double.PositiveInfinity;
                if (have == want && !(key < keys[want - 1])) continue;
                int at = have < want ? have++ : want - 1;
                for (; at > 0 && keys[at - 1] > key; at--)
                {
                    keys[at] = keys[at - 1];
                    order[at] = order[at - 1];
                }
                keys[at] = key;
                order[at] = j;
            }
            return order;
        }

        public void Dispose()
        {
            ArrayPool<T>.Shared.Return(_coords);
            ArrayPool<T>.Shared.Return(_baseKey);
            ArrayPool<T>.Shared.Return(_realMask);
            ArrayPool<T>.Shared.Return(_tile);
        }
    }

    /// <summary>
    /// Sorted top-K lists held in SIMD registers' worth of memory: per row, ⌈K/L⌉ vectors of keys
    /// (+∞ when empty) and as many of candidate indices (stored as T, exact below 2^24). Insertion is
    /// branch-free: p = number of kept keys ≤ the new key; lanes after p take their left neighbour
    /// (carried across vectors), lane p takes the new entry. Ties therefore keep the earlier (lower) index.
    /// </summary>
    private sealed class TopK
    {
        private readonly int _k, _vectors;
        private readonly Vector512<T>[] _keys, _idx;
        private static readonly Vector512<T> LaneIndex = Vector512.CreateSequence(T.Zero, T.One);

        public TopK(int rows, int k)
        {
            _k = k;
            _vectors = (k + Lanes - 1) / Lanes;
            _keys = new Vector512<T>[rows * _vectors];
            _idx = new Vector512<T>[rows * _vectors];
        }

        public void Reset() => _keys.AsSpan().Fill(Vector512.Create(T.PositiveInfinity));

        /// <summary>The K-th smallest key of row r (+∞ while fewer than K are held).</summary>
        public T Threshold(int r) => _keys[r * _vectors + (_k - 1) / Lanes].GetElement((_k - 1) % Lanes);

        /// <summary>Inserts (key, j) into row r (key below the threshold); returns the new threshold.</summary>
        public T Insert(int r, T key, int j)
        {
            int lanes = Lanes, baseAt = r * _vectors;
            var k = Vector512.Create(key);
            // p = number of held keys ≤ key among the first K lanes.
            int p = 0;
            for (int v = 0; v < _vectors; v++)
            {
                ulong le = Vector512.LessThanOrEqual(_keys[baseAt + v], k).ExtractMostSignificantBits();
                int valid = Math.Min(lanes, _k - v * lanes);
                p += BitOperations.PopCount(le & ((1UL << valid) - 1));
            }
            var idx = Vector512.Create(T.CreateTruncating(j));
            T carryKey = T.PositiveInfinity, carryIdx = T.Zero;
            for (int v = 0; v < _vectors; v++)
            {
                var keys = _keys[baseAt + v];
                var ids = _idx[baseAt + v];
                var local = Vector512.Create(T.CreateTruncating(p - v * lanes));
                var after = Vector512.GreaterThan(LaneIndex, local);
                var at = Vector512.Equals(LaneIndex, local);
                T lastKey = keys.GetElement(lanes - 1), lastIdx = ids.GetElement(lanes - 1);
                var shiftedKeys = ShiftUp(keys, carryKey);
                var shiftedIds = ShiftUp(ids, carryIdx);
                _keys[baseAt + v] = Vector512.ConditionalSelect(at, k, Vector512.ConditionalSelect(after, shiftedKeys, keys));
                _idx[baseAt + v] = Vector512.ConditionalSelect(at, idx, Vector512.ConditionalSelect(after, shiftedIds, ids));
                carryKey = lastKey;
                carryIdx = lastIdx;
            }
            return Threshold(r);
        }

        /// <summary>Replaces row r's list (K ≤ L) with one vector of keys and one of indices.</summary>
        public void Set(int r, Vector512<T> keys, Vector512<T> ids)
        {
            _keys[r * _vectors] = keys;
            _idx[r * _vectors] = ids;
        }

        /// <summary>Writes row r's held indices (finite keys, in order) to dst; returns how many.</summary>
        public int CopyTo(int r, Span<int> dst)
        {
            int count = 0;
            for (int i = 0; i < _k; i++)
            {
                var key = _keys[r * _vectors + i / Lanes].GetElement(i % Lanes);
                if (T.IsPositiveInfinity(key)) break;
                dst[count++] = int.CreateTruncating(_idx[r * _vectors + i / Lanes].GetElement(i % Lanes));
            }
            return count;
        }

        // Lane i ← lane i − 1, lane 0 ← carry.
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public static Vector512<T> ShiftUp(Vector512<T> v, T carry)
        {
            Vector512<T> shifted;
            if (typeof(T) == typeof(float))
                shifted = Vector512.Shuffle(v.As<T, float>(), Vector512.Create(0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14)).As<float, T>();
            else if (typeof(T) == typeof(double))
                shifted = Vector512.Shuffle(v.As<T, double>(), Vector512.Create(0L, 0, 1, 2, 3, 4, 5, 6)).As<double, T>();
            else throw new NotSupportedException(typeof(T).Name);
            return shifted.WithElement(0, carry);
        }
    }
}
