namespace Hep.Autograd;

/// <summary>Neighbour features y[b, c, n, k] = x[b, c, index[b, n, k]]. dx = scatter-add of g at index (deterministic).</summary>
internal sealed class GatherNeighborsFunction : Function
{
    private readonly Tensor _index;

    public GatherNeighborsFunction(Tensor index) => _index = Save(index);

    public override string Name => "GatherNeighbors";

    public override Tensor?[] Backward(Tensor g, bool[] needs) => [TensorOps.GatherNeighborsBackward(g, _index)];
}

public static partial class Fn
{
    /// <summary>x_j for x (B, C, N) and neighbour indices (B, N, K) → (B, C, N, K).</summary>
    public static Variable GatherNeighbors(Variable x, Tensor index) =>
        Tape.Record(new GatherNeighborsFunction(index), TensorOps.GatherNeighbors(x.Data, index), x);
}
