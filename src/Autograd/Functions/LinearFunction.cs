namespace Hep.Autograd;

/// <summary>
/// y = x·Wᵀ + b for x (…, in), W (out, in), b (out). With rows = Π leading dims:
/// dx = g·W, dW = gᵀ·x (one GEMM over all rows), db = Σ_rows g.
/// </summary>
internal sealed class LinearFunction : Function
{
    private readonly Tensor _x, _w;

    public LinearFunction(Tensor x, Tensor w)
    {
        _x = Save(x);
        _w = Save(w);
    }

    public override string Name => "Linear";

    public override Tensor?[] Backward(Tensor g, bool[] needs)
    {
        int outF = _w.Shape[0], inF = _w.Shape[1];
        int rows = (int)(g.Numel / Math.Max(outF, 1));
        using var g2 = TensorOps.Reshape(g, rows, outF);
        Tensor? dx = null, dw = null, db = null;
        if (needs[0])
        {
            using var dx2 = TensorOps.MatMul(g2, _w);
            dx = TensorOps.Reshape(dx2, _x.Shape.ToArray());
        }
        if (needs[1])
        {
            using var x2 = TensorOps.Reshape(_x, rows, inF);
            using var gt = g2.Transpose(0, 1);
            dw = TensorOps.MatMul(gt, x2);
        }
        if (needs.Length > 2 && needs[2]) db = TensorOps.Sum(g2, 0);
        return needs.Length > 2 ? [dx, dw, db] : [dx, dw];
    }
}

public static partial class Fn
{
    /// <summary>Affine map over the last axis: x (…, in) · Wᵀ (in, out) + b (out).</summary>
    public static Variable Linear(Variable x, Variable weight, Variable? bias = null)
    {
        RequireSameBackend("Linear", bias is null ? [x, weight] : [x, weight, bias]);
        int inF = weight.Shape[1];
        if (x.Shape[^1] != inF) throw new ArgumentException($"Linear: input {x.Shape} last dim ≠ weight in_features {inF}");
        using var wt = weight.Data.Transpose(0, 1);
        var y = TensorOps.MatMul(x.Data, wt);
        if (bias is not null) TensorOps.AddInPlace(y, bias.Data);
        var fn = new LinearFunction(x.Data, weight.Data);
        return bias is null ? Tape.Record(fn, y, x, weight) : Tape.Record(fn, y, x, weight, bias);
    }
}
