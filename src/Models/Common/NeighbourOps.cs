namespace Hep.Models.Common;

/// <summary>
/// Neighbour gathers for EdgeConv composed from tested primitives (Gather, Sub, MatMul): x_j for
/// every neighbour, and the first 1×1 conv applied to the edge features [x_i, x_j − x_i] without
/// materialising them, W·[x_i; x_j − x_i] = W_c·x_i + W_d·(x_j − x_i) with W = [W_c | W_d].
/// </summary>
internal static class NeighbourOps
{
    /// <summary>x (B, C, N), index (B, N, K) Int32 → x_j (B, C, N, K).</summary>
    public static Variable Gather(Variable x, Tensor index)
    {
        int b = x.Shape[0], c = x.Shape[1], n = x.Shape[2];
        int k = index.Shape[2];
        if (index.Rank != 3 || index.Shape[0] != b || index.Shape[1] != n)
            throw new ArgumentException($"GatherNeighbors: index {index.Shape} does not match x {x.Shape}");
        using var flat = TensorOps.Reshape(index, b, 1, n * k);
        using var wide = flat.Expand(new Shape(b, c, n * k));
        using var dense = TensorOps.Contiguous(wide, forceCopy: true);
        var gathered = Fn.Gather(x, 2, dense);
        return Fn.Reshape(gathered, b, c, n, k);
    }

    /// <summary>weight (O, 2C) applied to the edge features of x: (B, O, N, K).</summary>
    public static Variable EdgeConvProject(Variable x, Variable weight, Tensor index)
    {
        int b = x.Shape[0], c = x.Shape[1], n = x.Shape[2];
        int k = index.Shape[2];
        int o = weight.Shape[0];
        if (weight.Shape.Rank != 2 || weight.Shape[1] != 2 * c)
            throw new ArgumentException($"EdgeConvProject: weight {weight.Shape} must be (O, {2 * c})");
        var wCentre = Fn.Slice(weight, 1, 0, c);
        var wDiff = Fn.Slice(weight, 1, c, c);
        var diff = Fn.Sub(Gather(x, index), Fn.Unsqueeze(x, 3));
        var fromDiff = Fn.MatMul(wDiff, Fn.Reshape(diff, b, c, n * k));
        var fromCentre = Fn.MatMul(wCentre, x);
        var sum = Fn.Add(Fn.Reshape(fromDiff, b, o, n, k), Fn.Unsqueeze(fromCentre, 3));
        return sum;
    }
}
