using Hep.Engine;

namespace Hep.Kernels.Cpu;

/// <summary>
/// The shared driver of every CPU elementwise map (unary, binary, where, copy, cast, fill). Adjacent dims
/// that are jointly contiguous in every operand are merged and size-1 dims dropped
/// (<see cref="JointLayout.Merge"/>, as the ILGPU backend plans its views), so the innermost
/// "row" is as long as possible and a body can use span kernels when its inner strides are 1 (or 0 for
/// broadcasts). <see cref="Run"/> splits the flat element range into one piece per core, cutting rows
/// where needed (a fully contiguous tensor is one row), and hands the body row segments.
/// </summary>
internal sealed class StridedRows
{
    private readonly int[] _outerDims;
    private readonly int[][] _outerStrides;
    private readonly int[] _baseOffsets;

    /// <summary>Plans iteration of <paramref name="operands"/>, which all share one shape.</summary>
    public StridedRows(params Tensor[] operands)
    {
        var (dims, strides) = JointLayout.Merge(operands);
        if (dims.Count == 0)
        {
            dims.Add(1);
            strides.Add(new int[operands.Length]);
        }
        InnerLength = dims[^1];
        InnerStrides = strides[^1];
        _outerDims = [.. dims.Take(dims.Count - 1)];
        _outerStrides = [.. strides.Take(strides.Count - 1)];
        _baseOffsets = operands.Select(t => t.Offset).ToArray();
        long rows = 1;
        foreach (var d in _outerDims) rows *= d;
        RowCount = checked((int)rows);
        if (operands[0].Shape.Numel == 0) RowCount = 0;
    }

    public int RowCount { get; }
    public int InnerLength { get; }
    public int[] InnerStrides { get; }
    public int Operands => _baseOffsets.Length;

    /// <summary>Writes the starting element offset of row <paramref name="row"/> for every operand.</summary>
    public void RowOffsets(int row, Span<int> offsets)
    {
        _baseOffsets.CopyTo(offsets);
        for (int d = _outerDims.Length - 1; d >= 0 && row > 0; d--)
        {
            int idx = row % _outerDims[d];
            row /= _outerDims[d];
            var s = _outerStrides[d];
            for (int k = 0; k < offsets.Length; k++) offsets[k] += idx * s[k];
        }
    }

    /// <summary>Total element count (rows × inner length).</summary>
    public long Elements => (long)RowCount * InnerLength;

    /// <summary>
    /// Segment body: <paramref name="offsets"/> are the operands' element offsets of the segment's first
    /// element (valid only during the call); the segment runs <paramref name="length"/> elements along the
    /// inner dim with <see cref="InnerStrides"/>. A segment is a whole row or a piece of one.
    /// </summary>
    public delegate void SegmentBody(ReadOnlySpan<int> offsets, int length);

    /// <summary>
    /// Runs <paramref name="body"/> over every element: the flat range rows × inner length is cut into one
    /// contiguous piece per core (at multiples of <see cref="Granule"/> elements, so a single long row is
    /// split too) when the total work, <paramref name="costPerElement"/> per element, pays for the fork;
    /// each piece is walked as row segments. Pieces are disjoint, so results do not depend on the split.
    /// </summary>
    public void Run(SegmentBody body, int costPerElement = 1)
    {
        long total = Elements;
        if (total == 0) return;
        int n = InnerLength;
        var inner = InnerStrides;
        CpuParallel.For(checked((int)total), costPerElement, (start, end) =>
        {
            start = Snap(start, total);
            end = Snap(end, total);
            Span<int> offsets = stackalloc int[Operands];
            int row = start / n, col = start % n;
            for (int pos = start; pos < end; row++, col = 0)
            {
                int length = Math.Min(n - col, end - pos);
                RowOffsets(row, offsets);
                for (int k = 0; k < offsets.Length; k++) offsets[k] += col * inner[k];
                body(offsets, length);
                pos += length;
            }
        });
    }

    /// <summary>Piece boundaries are multiples of this many elements (whole cache lines for 4- and 8-byte types).</summary>
    public const int Granule = 64;

    private static int Snap(int index, long total) => index == total ? index : index & ~(Granule - 1);
}
