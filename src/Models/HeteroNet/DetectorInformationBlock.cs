using Hep.Models.Nn;

namespace Hep.Models.HeteroNet;

/// <summary>
/// HeteroNet's detector information block (the MindSpore port's LLPB, spec §4.4) for one node type:
/// message m = φ_e([h_src ‖ h_dst ‖ e]); gate g = φ_m(m); edge update e + clip(e·g, −100, 100);
/// node update h + φ_h([h ‖ Σ_{edges at the node} g·m]) with the sum taken at the source node (port)
/// or the destination. φ_x exists only for parameter parity (never called).
/// Names: phi_e.{0,1,3}, phi_x.{0,1,3}, phi_m.0, phi_h.{0,1,3}.
/// </summary>
public sealed class DetectorInformationBlock : Module
{
    private readonly Linear _e1, _e2, _m, _h1, _h2;
    private readonly BatchNorm _eNorm, _hNorm;
    private readonly bool _bySource;

    public DetectorInformationBlock(IBackend backend, int d, bool keepPhiX, bool aggregateBySource, ulong seed, DType dtype = DType.Float32)
    {
        _bySource = aggregateBySource;
        _e1 = RegisterModule("phi_e.0", ZeroBias(new Linear(backend, 3 * d, 3 * d, seed: seed, dtype: dtype)));
        _eNorm = RegisterModule("phi_e.1", new BatchNorm(backend, 3 * d, dtype: dtype));
        _e2 = RegisterModule("phi_e.3", ZeroBias(new Linear(backend, 3 * d, d, seed: seed + 1, dtype: dtype)));
        if (keepPhiX)
        {
            RegisterModule("phi_x.0", ZeroBias(new Linear(backend, d, d, seed: seed + 2, dtype: dtype)));
            RegisterModule("phi_x.1", new BatchNorm(backend, d, dtype: dtype));
            var last = RegisterModule("phi_x.3", new Linear(backend, d, 1, bias: false, seed: seed + 3, dtype: dtype));
            double bound = 0.001 * Math.Sqrt(6.0 / (d + 1));
            using var xavier = Init.Uniform(backend, new Shape(1, d), -bound, bound, seed + 4, dtype);
            TensorOps.CopyInto(xavier, last.Weight.Data);
        }
        _m = RegisterModule("phi_m.0", ZeroBias(new Linear(backend, d, 1, seed: seed + 5, dtype: dtype)));
        _h1 = RegisterModule("phi_h.0", ZeroBias(new Linear(backend, 2 * d, 2 * d, seed: seed + 6, dtype: dtype)));
        _hNorm = RegisterModule("phi_h.1", new BatchNorm(backend, 2 * d, dtype: dtype));
        _h2 = RegisterModule("phi_h.3", ZeroBias(new Linear(backend, 2 * d, d, seed: seed + 7, dtype: dtype)));
    }

    internal static Linear ZeroBias(Linear linear)
    {
        if (linear.Bias is not null) TensorOps.FillInPlace(linear.Bias.Data, 0);
        return linear;
    }

    /// <summary>h (V, d), e (E, d), src/dst (E) node rows → (h', e'); builds the aggregation plan for this call.</summary>
    public (Variable Nodes, Variable Edges) Forward(Variable h, Variable e, int[] source, int[] destination)
    {
        using var src = Tensor.FromArray<int>(h.Backend, source, new Shape(source.Length));
        using var dst = Tensor.FromArray<int>(h.Backend, destination, new Shape(destination.Length));
        using var plan = TensorOps.BuildSegmentPlan(_bySource ? src : dst, h.Shape[0]);
        return Forward(h, e, src, dst, plan);
    }

    /// <summary>
    /// h (V, d), e (E, d), src/dst (E) Int32 node rows, and the sorted plan of the aggregation index (src
    /// when aggregating at the source, else dst; built once per batch by <see cref="HeteroGraphBatch"/>) → (h', e').
    /// </summary>
    public (Variable Nodes, Variable Edges) Forward(Variable h, Variable e, Tensor source, Tensor destination, SegmentPlan aggregation)
    {
        int v = h.Shape[0], d = h.Shape[1];
        if (aggregation.Segments != v || aggregation.Elements != source.Shape[0])
            throw new ArgumentException($"DetectorInformationBlock: aggregation plan ({aggregation.Elements} edges into {aggregation.Segments} nodes) does not match {source.Shape[0]} edges and {v} nodes");
        Variable aggregated;
        Variable edges = e;
        if (source.Shape[0] == 0)
        {
            using var zeros = Tensor.Zeros(h.Backend, new Shape(v, d), h.DType);
            aggregated = Variable.Constant(zeros);
        }
        else
        {
            var input = Fn.Concat([Fn.IndexSelect(h, 0, source), Fn.IndexSelect(h, 0, destination), e], 1);
            var message = Fn.Relu(_e2.Forward(Fn.Relu(_eNorm.Forward(_e1.Forward(input)))));
            var gate = Fn.Sigmoid(_m.Forward(message));
            edges = Fn.Add(e, Fn.Unary(UnaryOp.Clamp, Fn.Mul(e, gate), -100, 100));
            aggregated = Fn.ScatterAdd(Fn.Mul(message, gate), aggregation);
        }
        var update = _h2.Forward(Fn.Relu(_hNorm.Forward(_h1.Forward(Fn.Concat([h, aggregated], 1)))));
        return (Fn.Add(h, update), edges);
    }
}
