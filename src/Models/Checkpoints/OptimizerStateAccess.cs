using Hep.Models.Optim;

namespace Hep.Models.Checkpoints;

/// <summary>Checkpoint access to an <see cref="Optimizer"/>'s per-parameter state and step count (its public export/import API).</summary>
internal static class OptimizerStateAccess
{
    /// <summary>State tensors per parameter index (parameters without state are absent).</summary>
    public static IEnumerable<(int Parameter, Tensor[] State)> Export(Optimizer optimizer) => optimizer.ExportState();

    /// <summary>Replaces all state with copies of the given tensors and sets the step count.</summary>
    public static void Import(Optimizer optimizer, IReadOnlyDictionary<int, Tensor[]> state, long stepCount) => optimizer.ImportState(state, stepCount);
}
