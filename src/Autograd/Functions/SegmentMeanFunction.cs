namespace Hep.Autograd;

/// <summary>Segment mean y[v] = Σ_{e: index[e] = v} source[e] / n_v (0 when n_v = 0). dsource[e] = g[index[e]] / n_index[e].</summary>
internal sealed class SegmentMeanFunction : Function
{
    private readonly Tensor _index, _counts;

    public SegmentMeanFunction(Tensor index, Tensor counts)
    {
        _index = Save(index);
        _counts = Save(counts);
    }

    public override string Name => "SegmentMean";

    public override Tensor?[] Backward(Tensor g, bool[] needs) => [TensorOps.SegmentGather(g, _index, _counts)];
}

public static partial class Fn
{
    /// <summary>Per-segment mean (e.g. per-graph readout) of source (E, F…) by the Int32 segment index (E) → (numSegments, F…).</summary>
    public static Variable SegmentMean(Variable source, Tensor index, int numSegments, bool deterministic = true)
    {
        var y = TensorOps.SegmentMean(source.Data, index, numSegments, deterministic, out var counts);
        using (counts) return Tape.Record(new SegmentMeanFunction(index, counts), y, source);
    }

    /// <summary>Per-segment mean over a prebuilt <see cref="SegmentPlan"/> (deterministic, no per-call sort).</summary>
    public static Variable SegmentMean(Variable source, SegmentPlan plan)
    {
        var y = TensorOps.SegmentMean(source.Data, plan, out var counts);
        using (counts) return Tape.Record(new SegmentMeanFunction(plan.Index, counts), y, source);
    }
}
