using Hep.Models.Nn;

namespace Hep.Models.Common;

/// <summary>
/// weaver's classifier head: for each (units, p) a [Linear → ReLU → Dropout(p)] (PyTorch names
/// "{i}.0.weight"), then a final Linear to the classes ("{n}.weight"). Register it as "fc".
/// </summary>
public sealed class FcHead : Module
{
    private readonly List<(Linear Linear, Dropout Dropout)> _hidden = [];
    private readonly Linear _output;

    public FcHead(IBackend backend, int inputs, IReadOnlyList<FcSpec> layers, int classes, ulong seed, DType dtype = DType.Float32)
    {
        int width = inputs;
        for (int i = 0; i < layers.Count; i++)
        {
            var linear = RegisterModule($"{i}.0", new Linear(backend, width, layers[i].Units, seed: seed + (ulong)i, dtype: dtype));
            var dropout = RegisterModule($"{i}.2", new Dropout(layers[i].Dropout, seed * 7919 + (ulong)i));
            _hidden.Add((linear, dropout));
            width = layers[i].Units;
        }
        _output = RegisterModule($"{layers.Count}", new Linear(backend, width, classes, seed: seed + 99, dtype: dtype));
    }

    /// <summary>x (B, inputs) → logits (B, classes).</summary>
    public Variable Forward(Variable x)
    {
        foreach (var (linear, dropout) in _hidden) x = dropout.Forward(Fn.Relu(linear.Forward(x)));
        return _output.Forward(x);
    }
}
