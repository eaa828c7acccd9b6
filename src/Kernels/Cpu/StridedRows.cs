using Hep.Engine;

namespace Hep.Kernels.Cpu;

/// <summary>
/// Iterates same-shape strided operands row by row. Adjacent dims that are jointly contiguous in
/// every operand are merged and size-1 dims dropped, so the innermost "row" is as long as possible
/// and the row body can use span kernels when its inner strides are 1 (or 0 for broadcasts).
/// </summary>
internal sealed class StridedRows
{
    private readonly int[] _outerDims;
    private readonly int[][] _outerStrides;
    private readonly int[] _baseOffsets;

    /// <summary>Plans iteration of <paramref name="operands"/>, which all share one shape.</summary>
    public StridedRows(params Tensor[] operands)
    {
        var shape = operands[0].Shape;
        int count = operands.Length;
        var dims = new List<int>();
        var strides = new List<int[]>();
        for (int d = 0; d < shape.Rank; d++)
        {
            if (shape[d] == 1) continue;
            var s = new int[count];
            for (int k = 0; k < count; k++) s[k] = operands[k].Strides[d];
            if (dims.Count > 0)
            {
                // Merge with the previous dim when prev stride == this stride · this size for every operand.
                var prev = strides[^1];
                bool merge = true;
                for (int k = 0; k < count; k++)
                {
                    if ((long)prev[k] != (long)s[k] * shape[d]) { merge = false; break; }
                }
                if (merge)
                {
                    dims[^1] *= shape[d];
                    strides[^1] = s;
                    continue;
                }
            }
            dims.Add(shape[d]);
            strides.Add(s);
        }
        if (dims.Count == 0)
        {
            dims.Add(1);
            strides.Add(new int[count]);
        }
        InnerLength = dims[^1];
        InnerStrides = strides[^1];
        _outerDims = [.. dims.Take(dims.Count - 1)];
        _outerStrides = [.. strides.Take(strides.Count - 1)];
        _baseOffsets = operands.Select(t => t.Offset).ToArray();
        long rows = 1;
        foreach (var d in _outerDims) rows *= d;
        RowCount = checked((int)rows);
        if (shape.Numel == 0) RowCount = 0;
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

    /// <summary>Row body: the operands' offsets for this row (valid only during the call).</summary>
    public delegate void RowBody(ReadOnlySpan<int> offsets);

    /// <summary>Runs <paramref name="body"/> for every row, in parallel when the total is large.</summary>
    public void Run(RowBody body)
    {
        CpuParallel.For(RowCount, InnerLength, (start, end) =>
        {
            Span<int> offsets = stackalloc int[Operands];
            for (int r = start; r < end; r++)
            {
                RowOffsets(r, offsets);
                body(offsets);
            }
        });
    }
}
