namespace Hep.Autograd;

/// <summary>
/// The differentiable ops, as static functions over <see cref="Variable"/>s. Each op lives in its own
/// file under Functions/ next to its <see cref="Function"/> (forward beside backward).
/// </summary>
public static partial class Fn
{
    internal static void RequireSameBackend(string op, params Variable[] inputs) =>
        TensorOps.SameBackend(op, Array.ConvertAll(inputs, v => (Tensor?)v.Data));
}
