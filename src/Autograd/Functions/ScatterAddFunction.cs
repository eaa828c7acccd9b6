namespace Hep.Autograd;

/// <summary>Row scatter-add y[v] = Σ_{e: index[e] = v} source[e]. dsource[e] = g[index[e]] (a gather).</summary>
internal sealed class ScatterAddFunction : Function
{
    private readonly Tensor _index;

    public ScatterAddFunction(Tensor index) => _index = Save(index);

    public override string Name => "ScatterAdd";

    public override Tensor?[] Backward(Tensor g, bool[] needs) => [TensorOps.SegmentGather(g, _index, counts: null)];
}

public static partial class Fn
{
    /// <summary>
    /// Message aggregation: source (E, F…) summed into numNodes rows by the Int32 target index (E);
    /// nodes without edges get 0. deterministic = true uses the sorted (CSR) reduction (bitwise
    /// reproducible); false the backend's faster unordered variant.
    /// </summary>
    public static Variable ScatterAdd(Variable source, Tensor index, int numNodes, bool deterministic = true) =>
        Tape.Record(new ScatterAddFunction(index), TensorOps.ScatterAdd(source.Data, index, numNodes, deterministic), source);

    /// <summary>
    /// Message aggregation over a prebuilt <see cref="SegmentPlan"/> (deterministic, bitwise equal to the
    /// sorted variant, no per-call sort): for an index reused by several layers.
    /// </summary>
    public static Variable ScatterAdd(Variable source, SegmentPlan plan) =>
        Tape.Record(new ScatterAddFunction(plan.Index), TensorOps.ScatterAdd(source.Data, plan), source);
}
