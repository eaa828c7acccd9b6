namespace Hep.Models.ParticleTransformer;

/// <summary>
/// The real particles of a padded batch as one packed row set. Every per-particle op of ParT after the
/// input batch norm (the embedding's LayerNorm → Linear → GELU layers, each block's LayerNorms, in_proj,
/// out_proj, head scaling, FFN, dropouts, residuals) treats each (jet, slot) row on its own, and padded
/// rows never reach a real one: attention masks them as keys, the class token never reads them, and
/// their gradients are exactly zero. So those ops run on the R real rows (R, E) only (here about 40 % of
/// B·N), and the rows are scattered to (B, N, ·) — zeros in padded slots — just for attention, which
/// needs the per-jet layout. Outputs and gradients equal the dense computation's (up to summation order
/// in the weight gradients, which no longer add the padded rows' exact zeros).
/// </summary>
public sealed class PackedRows : IDisposable
{
    private readonly Tensor _real, _scatter;
    private readonly Dictionary<(int Parts, int Part, int Heads, bool ZeroRow), Tensor> _headScatter = [];
    private readonly Dictionary<int, Tensor> _headGather = [];
    private readonly Dictionary<(int Parts, int Part, int Heads), Tensor> _classScatter = [];

    private PackedRows(int b, int n, int[] real, int[] scatter, IBackend backend)
    {
        Batch = b;
        Slots = n;
        Count = real.Length;
        _real = Tensor.FromArray<int>(backend, real, new Shape(real.Length)).DetachFromScope();
        _scatter = Tensor.FromArray<int>(backend, scatter, new Shape(scatter.Length)).DetachFromScope();
    }

    public int Batch { get; }
    public int Slots { get; }

    /// <summary>R, the number of real (jet, slot) rows.</summary>
    public int Count { get; }

    /// <summary>Rows of a mask (B, 1, N) or (B, N) with 1 = real particle.</summary>
    public static PackedRows FromMask(Tensor mask)
    {
        int b = mask.Shape[0], n = mask.Shape[^1];
        if (mask.Numel != (long)b * n) throw new ArgumentException($"PackedRows: mask {mask.Shape} must be (B, 1, N) or (B, N)");
        var m = mask.ToDoubleArray();
        var real = new List<int>();
        // Position of each dense row in the packed list; padded rows point at R (a zero row appended on unpack).
        var scatter = new int[m.Length];
        for (int at = 0; at < m.Length; at++)
        {
            if (m[at] != 0)
            {
                scatter[at] = real.Count;
                real.Add(at);
            }
        }
        for (int at = 0; at < m.Length; at++)
        {
            if (m[at] == 0) scatter[at] = real.Count;
        }
        return new PackedRows(b, n, [.. real], scatter, mask.Backend);
    }

    /// <summary>Dense rows (B, N, C) (or (B·N, C)) → the real rows (R, C).</summary>
    public Variable Pack(Variable dense)
    {
        int c = dense.Shape[^1];
        if (dense.Shape.Numel != (long)Batch * Slots * c) throw new ArgumentException($"PackedRows: {dense.Shape} is not (B = {Batch}, N = {Slots}, C)");
        var flat = dense.Shape.Rank == 2 ? dense : Fn.Reshape(dense, Batch * Slots, c);
        return Fn.IndexSelect(flat, 0, _real);
    }

    /// <summary>Real rows (R, C) → dense (B, N, C) with zeros in the padded slots.</summary>
    public Variable Unpack(Variable packed)
    {
        int c = packed.Shape[^1];
        if (packed.Shape != new Shape(Count, c)) throw new ArgumentException($"PackedRows: {packed.Shape} is not (R = {Count}, C)");
        using var zero = Tensor.Zeros(packed.Backend, new Shape(1, c), packed.DType);
        var withZero = Fn.Concat([packed, Variable.Constant(zero)], 0);
        return Fn.Reshape(Fn.IndexSelect(withZero, 0, _scatter), Batch, Slots, c);
    }

    /// <summary>
    /// Packed rows (R, P·H·D) holding P parts (q, k, v) of H heads each → part <paramref name="part"/>
    /// in the attention layout (B, H, N, D), contiguous. One row gather of D-wide rows replaces the
    /// scatter to slots followed by the head transposition copy. Padded slots hold zeros when a gradient
    /// is tracked; without one (inference) they repeat packed row 0's head instead, so the gather reads
    /// the projection in place (no copy with a zero row appended). Either is exact: padded slots are
    /// masked keys (weight exactly 0) and queries whose outputs <see cref="PackHeads"/> never reads.
    /// </summary>
    public Variable UnpackHeads(Variable packed, int parts, int part, int heads)
    {
        int d = packed.Shape[^1] / (parts * heads);
        if (packed.Shape != new Shape(Count, parts * heads * d)) throw new ArgumentException($"PackedRows: {packed.Shape} is not (R = {Count}, {parts}·{heads}·D)");
        var flat = Fn.Reshape(packed, Count * parts * heads, d);
        if (!packed.RequiresGrad && Count > 0)
            return Fn.Reshape(Fn.IndexSelect(flat, 0, HeadsScatter(parts, part, heads, zeroRow: false)), Batch, heads, Slots, d);
        using var zero = Tensor.Zeros(packed.Backend, new Shape(1, d), packed.DType);
        var rows = Fn.Concat([flat, Variable.Constant(zero)], 0);
        return Fn.Reshape(Fn.IndexSelect(rows, 0, HeadsScatter(parts, part, heads, zeroRow: true)), Batch, heads, Slots, d);
    }

    /// <summary>
    /// Keys/values of class attention from packed rows, without a gradient: rows (R + B, P·H·D) holding the
    /// projections of the R real particles followed by the B class tokens → part <paramref name="part"/> as
    /// (B, H, 1 + N, D) with the class token in slot 0 and particle slot n in slot 1 + n. Padded slots repeat
    /// the jet's class-token row (finite; they are masked keys, weight exactly 0), so the particles are
    /// never scattered to the dense (B, N, E) layout.
    /// </summary>
    public Variable UnpackClassHeads(Variable packed, int parts, int part, int heads)
    {
        int d = packed.Shape[^1] / (parts * heads);
        if (packed.Shape != new Shape(Count + Batch, parts * heads * d))
            throw new ArgumentException($"PackedRows: {packed.Shape} is not (R + B = {Count + Batch}, {parts}·{heads}·D)");
        if (packed.RequiresGrad) throw new InvalidOperationException("PackedRows: class-token gathers repeat rows and are for inference only");
        var flat = Fn.Reshape(packed, (Count + Batch) * parts * heads, d);
        return Fn.Reshape(Fn.IndexSelect(flat, 0, ClassHeadsScatter(parts, part, heads)), Batch, heads, Slots + 1, d);
    }

    // Row (b, h, s) of part p: s = 0 ← class row R + b; s = 1 + n ← real row r(b, n), or the class row when n is padded.
    private Tensor ClassHeadsScatter(int parts, int part, int heads)
    {
        var key = (parts, part, heads);
        if (_classScatter.TryGetValue(key, out var cached)) return cached;
        var dense = _scatter.ToArray<int>();
        int slots = Slots + 1;
        var map = new int[Batch * heads * slots];
        for (int b = 0; b < Batch; b++)
        {
            for (int h = 0; h < heads; h++)
            {
                int at = (b * heads + h) * slots, clsRow = ((Count + b) * parts + part) * heads + h;
                map[at] = clsRow;
                for (int n = 0; n < Slots; n++)
                {
                    int r = dense[b * Slots + n];
                    map[at + 1 + n] = r == Count ? clsRow : (r * parts + part) * heads + h;
                }
            }
        }
        var index = Tensor.FromArray<int>(_real.Backend, map, new Shape(map.Length)).DetachFromScope();
        _classScatter[key] = index;
        return index;
    }

    /// <summary>Attention layout (B, H, N, D) → the real rows (R, H·D) (heads concatenated in order).</summary>
    public Variable PackHeads(Variable dense)
    {
        int h = dense.Shape[1], d = dense.Shape[3];
        if (dense.Shape != new Shape(Batch, h, Slots, d)) throw new ArgumentException($"PackedRows: {dense.Shape} is not (B = {Batch}, H, N = {Slots}, D)");
        var rows = Fn.Reshape(dense, Batch * h * Slots, d);
        return Fn.Reshape(Fn.IndexSelect(rows, 0, HeadsGather(h)), Count, h * d);
    }

    // Row (b, h, n) of part s ← packed row r(b, n)·P·H + s·H + h of the (R·P·H, D) view; padded slots ← the zero
    // row R·P·H appended to the view (zeroRow) or packed row 0's (s, h) row.
    private Tensor HeadsScatter(int parts, int part, int heads, bool zeroRow)
    {
        var key = (parts, part, heads, zeroRow);
        if (_headScatter.TryGetValue(key, out var cached)) return cached;
        var map = new int[Batch * heads * Slots];
        var dense = _scatter.ToArray<int>();
        for (int b = 0; b < Batch; b++)
        {
            for (int h = 0; h < heads; h++)
            {
                for (int n = 0; n < Slots; n++)
                {
                    int r = dense[b * Slots + n];
                    map[(b * heads + h) * Slots + n] = r == Count
                        ? (zeroRow ? Count * parts * heads : part * heads + h)
                        : (r * parts + part) * heads + h;
                }
            }
        }
        var index = Tensor.FromArray<int>(_real.Backend, map, new Shape(map.Length)).DetachFromScope();
        _headScatter[key] = index;
        return index;
    }

    // Packed row (r, h) ← row (b·H + h)·N + n of the (B·H·N, D) view, for real row r = (b, n).
    private Tensor HeadsGather(int heads)
    {
        if (_headGather.TryGetValue(heads, out var cached)) return cached;
        var real = _real.ToArray<int>();
        var map = new int[Count * heads];
        for (int r = 0; r < Count; r++)
        {
            int b = real[r] / Slots, n = real[r] % Slots;
            for (int h = 0; h < heads; h++) map[r * heads + h] = (b * heads + h) * Slots + n;
        }
        var index = Tensor.FromArray<int>(_real.Backend, map, new Shape(map.Length)).DetachFromScope();
        _headGather[heads] = index;
        return index;
    }

    public void Dispose()
    {
        _real.Dispose();
        _scatter.Dispose();
        foreach (var t in _headScatter.Values) t.Dispose();
        foreach (var t in _headGather.Values) t.Dispose();
        foreach (var t in _classScatter.Values) t.Dispose();
        _classScatter.Clear();
        _headScatter.Clear();
        _headGather.Clear();
    }
}
