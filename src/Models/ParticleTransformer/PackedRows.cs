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

    public void Dispose()
    {
        _real.Dispose();
        _scatter.Dispose();
    }
}
