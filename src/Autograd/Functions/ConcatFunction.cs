namespace Hep.Autograd;

/// <summary>y = concat(x₀, x₁, …) along an axis. dxᵢ = the matching window of g.</summary>
internal sealed class ConcatFunction(int axis, int[] sizes) : Function
{
    public override string Name => "Concat";

    public override Tensor?[] Backward(Tensor g, bool[] needs)
    {
        var result = new Tensor?[sizes.Length];
        int start = 0;
        for (int i = 0; i < sizes.Length; i++)
        {
            if (needs[i]) result[i] = TensorOps.SliceCopy(g, axis, start, sizes[i]);
            start += sizes[i];
        }
        return result;
    }
}

public static partial class Fn
{
    public static Variable Concat(IReadOnlyList<Variable> parts, int axis)
    {
        if (parts.Count == 0) throw new ArgumentException("Concat: no inputs");
        int a = parts[0].Shape.NormalizeAxis(axis, "Concat");
        var y = TensorOps.Concat(parts.Select(p => p.Data).ToArray(), a);
        return Tape.Record(new ConcatFunction(a, parts.Select(p => p.Shape[a]).ToArray()), y, [.. parts]);
    }
}
