namespace Hep.Autograd.Tests.HotKernels;

/// <summary>
/// Float64 gradient checks of the planned scatter-add / segment mean (a prebuilt <see cref="SegmentPlan"/>),
/// with empty segments, and a deliberately broken planned backward that the check must reject.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class SegmentPlanGradCheckTests(IBackend backend)
{
    // ScatterAdd over a plan whose backward forgets that several edges share a node: it gathers the
    // gradient of the node one above the target (mod V) instead of the target's.
    private sealed class ShiftedGatherScatterAdd(Tensor index, int segments) : Function
    {
        private readonly Tensor _shifted = Shift(index, segments);

        public override string Name => "ShiftedGatherScatterAdd";

        public override Tensor?[] Backward(Tensor g, bool[] needs) => [TensorOps.SegmentGather(g, _shifted, counts: null)];

        private static Tensor Shift(Tensor index, int segments)
        {
            var values = index.ToArray<int>().Select(i => (i + 1) % segments).ToArray();
            return Tensor.FromArray<int>(index.Backend, values, index.Shape).DetachFromScope();
        }
    }

    [Test]
    public void PlannedScatterAddAndSegmentMeanWithEmptySegments() => NotImplementedGuard.Run(backend, () =>
    {
        using var scope = TensorScope.Begin();
        // 7 edges into 6 nodes; nodes 4 and 5 receive nothing.
        var src = Rand.Tensor(backend, 121, new Shape(7, 3), DType.Float64);
        var idx = Tensor.FromArray<int>(backend, [2, 0, 2, 1, 3, 2, 0], new Shape(7));
        using var plan = TensorOps.BuildSegmentPlan(idx, 6);
        var sum = GradCheck.Check(v => Fn.ScatterAdd(v[0], plan), [src]);
        Assert.That(sum.Passed, Is.True, sum.Report);
        var mean = GradCheck.Check(v => Fn.SegmentMean(v[0], plan), [src]);
        Assert.That(mean.Passed, Is.True, mean.Report);
    });

    [Test]
    public void BrokenPlannedBackwardIsCaught() => NotImplementedGuard.Run(backend, () =>
    {
        using var scope = TensorScope.Begin();
        var src = Rand.Tensor(backend, 122, new Shape(7, 3), DType.Float64);
        var idx = Tensor.FromArray<int>(backend, [2, 0, 2, 1, 3, 2, 0], new Shape(7));
        using var plan = TensorOps.BuildSegmentPlan(idx, 6);
        var broken = GradCheck.Check(v => Tape.Record(new ShiftedGatherScatterAdd(plan.Index, 6), TensorOps.ScatterAdd(v[0].Data, plan), v[0]), [src]);
        Assert.That(broken.Passed, Is.False, "a planned scatter-add whose backward gathers the wrong rows must fail the check");
        Assert.That(broken.Report, Does.Contain("input 0"));
        // The real op on the same data passes: the failure is the formula, not the harness.
        Assert.That(GradCheck.Check(v => Fn.ScatterAdd(v[0], plan), [src]).Passed, Is.True);
    });
}
