using Hep.Models.Nn;

namespace Hep.Models.Mlp;

/// <summary>
/// Fully connected classifier for tabular features (e.g. the HIGGS kinematics):
/// [Linear → BatchNorm (optional) → ReLU → Dropout] per hidden layer, then a Linear head giving logits.
/// Parameter names follow PyTorch Sequential numbering ("layers.0.weight").
/// </summary>
public sealed class MlpClassifier : Module
{
    private readonly List<(Linear Linear, BatchNorm? Norm, Dropout Dropout)> _hidden = [];
    private readonly Linear _head;

    public MlpClassifier(IBackend backend, int inputs, IReadOnlyList<int> hidden, int classes, double dropout = 0, bool batchNorm = true,
        ulong seed = 1, DType dtype = DType.Float32)
    {
        int width = inputs;
        for (int i = 0; i < hidden.Count; i++)
        {
            var linear = RegisterModule($"layers.{i}.linear", new Linear(backend, width, hidden[i], seed: seed * 1000 + (ulong)i, dtype: dtype));
            var norm = batchNorm ? RegisterModule($"layers.{i}.norm", new BatchNorm(backend, hidden[i], dtype: dtype)) : null;
            var drop = RegisterModule($"layers.{i}.dropout", new Dropout(dropout, seed * 7919 + (ulong)i));
            _hidden.Add((linear, norm, drop));
            width = hidden[i];
        }
        _head = RegisterModule("head", new Linear(backend, width, classes, seed: seed * 1000 + 999, dtype: dtype));
    }

    /// <summary>x (N, inputs) → logits (N, classes).</summary>
    public Variable Forward(Variable x)
    {
        var h = x;
        foreach (var (linear, norm, drop) in _hidden)
        {
            h = linear.Forward(h);
            if (norm is not null) h = norm.Forward(h);
            h = drop.Forward(Fn.Relu(h));
        }
        return _head.Forward(h);
    }
}
