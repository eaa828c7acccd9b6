using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Hep.Kernels.Cpu.Attention;

/// <summary>
/// <see cref="MaskedSoftmaxAvx512"/>'s shared parts: the mask row of each row and its active vectors
/// (<see cref="MaskRows"/>), the output stream with its aligned non-temporal stores (<see cref="Output"/>),
/// lane masks and shifts, the pairwise σ tree and the horizontal max/sum (fixed order: deterministic), and
/// the value types that specialise the kernels per vector count and flag.
/// </summary>
internal static unsafe partial class MaskedSoftmaxAvx512
{
    /// <summary>
    /// The mask row of each row in turn: the strided mask row itself, or (a mask broadcast along the row,
    /// or no mask) a row of one repeated value kept in <c>uniform</c>, so the kernels always add a loaded row;
    /// <c>uniform</c> holds two such rows, used in turn, so the rows of a pair keep their own.
    /// Also the row's active vectors: the vectors up to the last one with an entry not masked by −∞
    /// (padded particles sit at the end of a jet, so a key mask typically ends in whole masked vectors,
    /// whose outputs are 0 without reading x or evaluating exp). Cached while consecutive rows share a mask row.
    /// </summary>
    private ref struct MaskRows
    {
        private readonly float* _mask, _uniform;
        private readonly bool _rowMask;
        private readonly int _vectors;
        private readonly Vector512<float> _tail;
        private readonly MaskWalk.Cursor? _cursor;
        private float* _last;
        private int _active, _slot;
        private bool _lastOnly;
        private float _value0, _value1;

        public MaskRows(Job job, MaskWalk.Cursor? cursor, float* uniform, int vectors, Vector512<float> tail)
        {
            _mask = job.Mask;
            _rowMask = job.RowMask;
            _cursor = cursor;
            _uniform = uniform;
            _vectors = vectors;
            _tail = tail;
            _last = null;
            _active = vectors;
            _lastOnly = false;
            _slot = 0;
            _value0 = _value1 = 0f;
            new Span<float>(uniform, 2 * vectors * L).Clear();
        }

        /// <summary>The current row's mask row and its active vector count; advances to the next row.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float* Current(out int active)
        {
            active = _vectors;
            if (_cursor is null) return _uniform;
            float* m = _mask + _cursor.Offset;
            _cursor.Next();
            if (_rowMask)
            {
                if (m != _last)
                {
                    _last = m;
                    _active = ActiveVectors(m);
                }
                active = _active;
                return m;
            }
            float value = *m;
            _slot ^= 1;
            float* row = _uniform + _slot * _vectors * L;
            ref float held = ref _slot == 0 ? ref _value0 : ref _value1;
            if (!value.Equals(held))
            {
                held = value;
                new Span<float>(row, _vectors * L).Fill(value);
            }
            if (float.IsNegativeInfinity(value)) active = 0;
            return row;
        }

        /// <summary>
        /// The mask row shared by the next rows (at most <paramref name="left"/>), how many rows share it, and
        /// its active vector count; advances past them.
        /// </summary>
        public float* Run(int left, out int active, out int count, out bool lastOnly)
        {
            count = _cursor is null ? left : Math.Min(left, _cursor.Repeats());
            active = _vectors;
            lastOnly = false;
            if (_cursor is null) return _uniform;
            float* m = _mask + _cursor.Offset;
            _cursor.NextRun();
            if (_rowMask)
            {
                if (m != _last)
                {
                    _last = m;
                    _active = ActiveVectors(m);
                    _lastOnly = ZeroBefore(m, _active - 1);
                }
                active = _active;
                lastOnly = _lastOnly;
                return m;
            }
            float value = *m;
            if (!value.Equals(_value0))
            {
                _value0 = value;
                new Span<float>(_uniform, _vectors * L).Fill(value);
            }
            if (float.IsNegativeInfinity(value)) active = 0;
            lastOnly = value == 0f;
            return _uniform;
        }

        // Whether the first `vectors` vectors of the mask row m are all 0 (adding them changes nothing).
        private static bool ZeroBefore(float* m, int vectors)
        {
            for (int k = 0; k < vectors; k++)
                if (!Vector512.EqualsAll(Vector512.Load(m + k * L), Vector512<float>.Zero)) return false;
            return true;
        }

        private readonly int ActiveVectors(float* m)
        {
            var masked = Vector512.Create(float.NegativeInfinity);
            for (int k = _vectors - 1; k >= 0; k--)
            {
                var v = k == _vectors - 1 ? Avx512F.MaskLoad(m + k * L, _tail, masked) : Vector512.Load(m + k * L);
                if (!Vector512.EqualsAll(v, masked)) return k + 1;
            }
            return 0;
        }
    }

    // Lanes [0, count) set (count 1 … 16).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> FirstLanes(int count) =>
        Vector512.LessThan(Vector512.CreateSequence(0, 1), Vector512.Create(count)).AsSingle();

    // Per-lane shift: the lane max, −float.MaxValue for a lane with no valid entry (so e = c = 0 there).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Shift(Vector512<float> laneMax) => Avx512F.Max(laneMax, Vector512.Create(float.MinValue));

    // σ as a pairwise tree over the row's nv vectors (a serial chain would put 8 dependent adds on the critical path).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    // Over the first nv vectors only (callers pass the active count where the rest are 0).
    private static Vector512<float> SumTree(int nv, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3,
        Vector512<float> v4, Vector512<float> v5, Vector512<float> v6, Vector512<float> v7) => nv switch
    {
        <= 1 => v0,
        2 => v0 + v1,
        3 => (v0 + v1) + v2,
        4 => (v0 + v1) + (v2 + v3),
        5 => ((v0 + v1) + (v2 + v3)) + v4,
        6 => ((v0 + v1) + (v2 + v3)) + (v4 + v5),
        7 => ((v0 + v1) + (v2 + v3)) + ((v4 + v5) + v6),
        _ => ((v0 + v1) + (v2 + v3)) + ((v4 + v5) + (v6 + v7)),
    };

    // Per-lane max over the first count vectors (count 0: v0, which callers set to −∞), a pairwise tree.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> MaxTree(int count, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3,
        Vector512<float> v4, Vector512<float> v5, Vector512<float> v6, Vector512<float> v7) => count switch
    {
        <= 1 => v0,
        2 => Avx512F.Max(v0, v1),
        3 => Avx512F.Max(Avx512F.Max(v0, v1), v2),
        4 => Avx512F.Max(Avx512F.Max(v0, v1), Avx512F.Max(v2, v3)),
        5 => Avx512F.Max(Avx512F.Max(Avx512F.Max(v0, v1), Avx512F.Max(v2, v3)), v4),
        6 => Avx512F.Max(Avx512F.Max(Avx512F.Max(v0, v1), Avx512F.Max(v2, v3)), Avx512F.Max(v4, v5)),
        7 => Avx512F.Max(Avx512F.Max(Avx512F.Max(v0, v1), Avx512F.Max(v2, v3)), Avx512F.Max(Avx512F.Max(v4, v5), v6)),
        _ => Avx512F.Max(Avx512F.Max(Avx512F.Max(v0, v1), Avx512F.Max(v2, v3)), Avx512F.Max(Avx512F.Max(v4, v5), Avx512F.Max(v6, v7))),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float HorizontalMax(Vector512<float> v)
    {
        var h = Avx.Max(v.GetLower(), v.GetUpper());
        var q = Sse.Max(h.GetLower(), h.GetUpper());
        q = Sse.Max(q, Sse.Shuffle(q, q, 0b01_00_11_10));
        q = Sse.Max(q, Sse.Shuffle(q, q, 0b10_11_00_01));
        return q.ToScalar();
    }

    // Pairwise lane sum (fixed order: deterministic).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float HorizontalSum(Vector512<float> v)
    {
        var h = Avx.Add(v.GetLower(), v.GetUpper());
        var q = Sse.Add(h.GetLower(), h.GetUpper());
        q = Sse.Add(q, Sse.Shuffle(q, q, 0b01_00_11_10));
        q = Sse.Add(q, Sse.Shuffle(q, q, 0b10_11_00_01));
        return q.ToScalar();
    }

    /// <summary>
    /// The worker's output rows y[s·n .. e·n), one contiguous stream of vectors. Ordinary mode: stores in
    /// place (a partial last vector with a masked store). Streaming mode (whole vectors only): the vectors go
    /// to a <see cref="StreamingLineWriter{T}"/> in stream order; each vector after the first completes a
    /// 64-byte line written with one aligned non-temporal store, the stream's partial first and last lines
    /// go out with masked stores (at a stream start on a line, each vector is stored one call late and
    /// <see cref="Finish"/> stores the last).
    /// </summary>
    private readonly struct Output(float* start)
    {
        private readonly float* _start = start;
        private readonly StreamingLineWriter<float> _lines = StreamingLineWriter<float>.For(start);

        /// <summary>Writes v, vector k of the row at y (nv vectors, a partial last one holding the lanes in tail); previous precedes v in the stream.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Put<TStream>(Vector512<float> previous, Vector512<float> v, int k, int nv, bool partial, Vector512<float> tail, float* y)
            where TStream : struct, IFlag
        {
            float* dst = y + k * L;
            if (!TStream.Value)
            {
                if (k < nv - 1 || !partial) v.Store(dst);
                else Avx512F.MaskStore(dst, tail, v);
            }
            else if (dst != _start) _lines.Put(dst, previous, v);
            else _lines.First(dst, v);
        }

        /// <summary>Streaming, any vector v at p after the stream's first (p > start): one aligned non-temporal store of the line it completes.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void PutNext(Vector512<float> previous, Vector512<float> v, float* p) => _lines.Put(p, previous, v);

        /// <summary>Streaming: writes the last partial line (the stream ends at end, last vector previous) and orders the non-temporal stores.</summary>
        public void Finish(float* end, Vector512<float> previous)
        {
            if (end > _start) _lines.Finish(end, previous);
            Sse.StoreFence();
        }
    }

    // Compile-time constants for the specialisations (static abstract members fold per value type).
    private interface IConstant
    {
        static abstract int Value { get; }
    }

    private interface IFlag
    {
        static abstract bool Value { get; }
    }

    private struct Zero : IConstant { public static int Value => 0; }
    private struct One : IConstant { public static int Value => 1; }
    private struct Two : IConstant { public static int Value => 2; }
    private struct Three : IConstant { public static int Value => 3; }
    private struct Four : IConstant { public static int Value => 4; }
    private struct Five : IConstant { public static int Value => 5; }
    private struct Six : IConstant { public static int Value => 6; }
    private struct Seven : IConstant { public static int Value => 7; }
    private struct Eight : IConstant { public static int Value => 8; }
    private struct Yes : IFlag { public static bool Value => true; }

    // Mask modes of the pipelined runs: no mask row, added to the last active vector only, added to every vector.
    private struct MaskNone : IConstant { public static int Value => 0; }
    private struct MaskLast : IConstant { public static int Value => 1; }
    private struct MaskAll : IConstant { public static int Value => 2; }
    private struct No : IFlag { public static bool Value => false; }
}
