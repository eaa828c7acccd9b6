using System.Reflection;
using Hep.Models.Optim;

namespace Hep.Models.Checkpoints;

/// <summary>
/// Reads and restores an <see cref="Optimizer"/>'s per-parameter state tensors and step count for
/// checkpoints. The optimiser base class keeps them private and has no export API yet, so this one
/// place reaches them by reflection (field "_state", StepCount's private setter) and fails loudly if
/// they are renamed; replace it with a public ExportState/ImportState on Optimizer when one exists.
/// </summary>
internal static class OptimizerStateAccess
{
    private static readonly FieldInfo? StateField = typeof(Optimizer).GetField("_state", BindingFlags.NonPublic | BindingFlags.Instance);
    private static readonly MethodInfo? StepSetter = typeof(Optimizer).GetProperty(nameof(Optimizer.StepCount))?.GetSetMethod(nonPublic: true);

    private static Dictionary<Variable, Tensor[]> States(Optimizer optimizer) =>
        StateField?.GetValue(optimizer) as Dictionary<Variable, Tensor[]>
        ?? throw new InvalidOperationException("Optimizer state is not accessible (Optimizer._state changed); update OptimizerStateAccess");

    /// <summary>State tensors per parameter index (parameters without state are absent).</summary>
    public static IEnumerable<(int Parameter, Tensor[] State)> Export(Optimizer optimizer)
    {
        var states = States(optimizer);
        for (int i = 0; i < optimizer.Parameters.Count; i++)
        {
            if (states.TryGetValue(optimizer.Parameters[i], out var s)) yield return (i, s);
        }
    }

    /// <summary>Replaces all state with copies of the given tensors and sets the step count.</summary>
    public static void Import(Optimizer optimizer, IReadOnlyDictionary<int, Tensor[]> state, long stepCount)
    {
        var states = States(optimizer);
        foreach (var s in states.Values)
            foreach (var t in s) t.Dispose();
        states.Clear();
        foreach (var (index, tensors) in state)
        {
            if (index < 0 || index >= optimizer.Parameters.Count) throw new ArgumentException($"optimizer state for parameter {index}, optimizer has {optimizer.Parameters.Count}");
            var p = optimizer.Parameters[index];
            foreach (var t in tensors)
            {
                if (t.Shape != p.Shape) throw new ArgumentException($"optimizer state {t.Shape} for parameter {index} ({p.Name}) of shape {p.Shape}");
            }
            states[p] = tensors.Select(t => TensorOps.Contiguous(t, forceCopy: true).DetachFromScope()).ToArray();
        }
        if (StepSetter is null) throw new InvalidOperationException("Optimizer.StepCount has no setter; update OptimizerStateAccess");
        StepSetter.Invoke(optimizer, [stepCount]);
    }
}
