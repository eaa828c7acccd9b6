namespace Hep.Autograd;

/// <summary>y = x with axes reordered (a stride view). dx = g permuted by the inverse order.</summary>
internal sealed class PermuteFunction(int[] axes) : Function
{
    public override string Name => "Permute";

    public override Tensor?[] Backward(Tensor g, bool[] needs)
    {
        var inverse = new int[axes.Length];
        for (int i = 0; i < axes.Length; i++) inverse[axes[i]] = i;
        return [g.Permute(inverse)];
    }
}

public static partial class Fn
{
    public static Variable Permute(Variable x, params int[] axes) =>
        Tape.Record(new PermuteFunction(axes.Select(a => x.Shape.NormalizeAxis(a, "Permute")).ToArray()), x.Data.Permute(axes), x);

    public static Variable Transpose(Variable x, int axis0, int axis1)
    {
        var axes = Enumerable.Range(0, x.Data.Rank).ToArray();
        int a = x.Shape.NormalizeAxis(axis0, "Transpose"), b = x.Shape.NormalizeAxis(axis1, "Transpose");
        (axes[a], axes[b]) = (axes[b], axes[a]);
        return Permute(x, axes);
    }

    /// <summary>A contiguous copy (identity for gradients); useful before kernels that need dense data.</summary>
    public static Variable Contiguous(Variable x) =>
        Tape.Record(new ReshapeFunction(x.Shape), TensorOps.Contiguous(x.Data), x);
}
