namespace Hep.Autograd;

/// <summary>
/// EdgeConv edge features y = [x_i, x_j − x_i] (B, 2C, N, K) from x (B, C, N) and fixed kNN indices
/// (B, N, K). dx_n = Σ_k (g₁ − g₂)[n, k] + Σ_{(n', k): index = n} g₂[n', k] (one backend kernel).
/// </summary>
internal sealed class EdgeFeaturesFunction : Function
{
    private readonly Tensor _index;

    public EdgeFeaturesFunction(Tensor index) => _index = Save(index);

    public override string Name => "EdgeFeatures";

    public override Tensor?[] Backward(Tensor g, bool[] needs) => [TensorOps.EdgeFeaturesBackward(g, _index)];
}

public static partial class Fn
{
    /// <summary>[x_i, x_j − x_i] for x (B, C, N) and neighbour indices (B, N, K) → (B, 2C, N, K), like weaver's get_graph_feature.</summary>
    public static Variable EdgeFeatures(Variable x, Tensor index) =>
        Tape.Record(new EdgeFeaturesFunction(index), TensorOps.EdgeFeatures(x.Data, index), x);
}
