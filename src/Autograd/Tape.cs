namespace Hep.Autograd;

/// <summary>
/// The reverse-mode tape. While a tape is active on the thread, every differentiable op whose inputs
/// require gradients appends a node; <see cref="Backward"/> walks the nodes in reverse (recording order
/// is a topological order), accumulates input gradients, frees each intermediate gradient as soon as
/// it has been propagated, and adds leaf gradients into <see cref="Variable.Grad"/>. A tape is used for
/// one backward pass; disposing it releases everything the functions saved.
/// <code>
/// using var scope = TensorScope.Begin();
/// using var tape = Tape.Begin();
/// var loss = model.Forward(x);
/// tape.Backward(loss);
/// </code>
/// Without an active tape (inference, or inside <see cref="NoGrad"/>) nothing is recorded.
/// </summary>
public sealed class Tape : IDisposable
{
    [ThreadStatic] private static Tape? _current;

    private readonly Tape? _outer;
    private readonly List<TapeNode> _nodes = [];
    private bool _disposed;

    private Tape(Tape? outer) => _outer = outer;

    /// <summary>The active tape on this thread, or null (no recording).</summary>
    public static Tape? Current => _current;

    /// <summary>Starts recording on this thread.</summary>
    public static Tape Begin()
    {
        var t = new Tape(_current);
        _current = t;
        return t;
    }

    /// <summary>Suspends recording until the returned handle is disposed.</summary>
    public static IDisposable NoGrad() => new Suspension();

    /// <summary>Number of recorded nodes.</summary>
    public int Count => _nodes.Count;

    /// <summary>
    /// Wraps an op's output: records a node when a tape is active and any input requires a gradient;
    /// otherwise disposes the function (and what it saved) at once and returns a constant.
    /// </summary>
    public static Variable Record(Function function, Tensor output, params Variable[] inputs)
    {
        var tape = _current;
        bool needs = false;
        foreach (var v in inputs) needs |= v.RequiresGrad;
        if (tape is null || !needs)
        {
            function.Dispose();
            return new Variable(output);
        }
        var result = new Variable(output, requiresGrad: true);
        var node = new TapeNode(function, inputs, result);
        result.Creator = node;
        tape._nodes.Add(node);
        return result;
    }

    /// <summary>
    /// Back-propagates from <paramref name="output"/> (seeded with ones, or with
    /// <paramref name="gradOutput"/> for a non-scalar output) into every leaf that requires a gradient.
    /// </summary>
    public void Backward(Variable output, Tensor? gradOutput = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!output.RequiresGrad) throw new InvalidOperationException("Backward: output does not require a gradient (nothing was recorded)");
        if (gradOutput is not null && gradOutput.Shape != output.Shape)
            throw new ArgumentException($"Backward: gradOutput {gradOutput.Shape} does not match output {output.Shape}");
        var seed = gradOutput is null
            ? Tensor.Full(output.Backend, output.Shape, 1.0, output.DType)
            : TensorOps.Contiguous(gradOutput, forceCopy: true);
        if (output.IsLeaf || !_nodes.Contains(output.Creator!))
        {
            if (output.TryAdoptGrad(seed)) return;
            output.AccumulateGrad(seed);
            seed.Dispose();
            return;
        }
        var grads = new Dictionary<Variable, Tensor>(ReferenceEqualityComparer.Instance) { [output] = seed };
        try
        {
            for (int n = _nodes.Count - 1; n >= 0; n--)
            {
                var node = _nodes[n];
                if (!grads.Remove(node.Output, out var g)) continue;
                var needs = Array.ConvertAll(node.Inputs, v => v.RequiresGrad);
                Tensor?[] inputGrads;
                try
                {
                    inputGrads = node.Function.Backward(g, needs);
                }
                finally
                {
                    g.Dispose();
                }
                if (inputGrads.Length != node.Inputs.Length)
                    throw new InvalidOperationException($"{node.Function.Name} backward returned {inputGrads.Length} gradients for {node.Inputs.Length} inputs");
                for (int i = 0; i < node.Inputs.Length; i++)
                {
                    var gi = inputGrads[i];
                    var input = node.Inputs[i];
                    if (gi is null)
                    {
                        // A missing gradient is an error, never a silent zero.
                        if (needs[i]) throw new BackwardNotImplementedException(node.Function.Name, $"input {i} ({input.Name ?? input.Shape.ToString()})");
                        continue;
                    }
                    if (!needs[i])
                    {
                        gi.Dispose();
                        continue;
                    }
                    if (gi.Shape != input.Shape)
                        throw new InvalidOperationException($"{node.Function.Name} backward: gradient {gi.Shape} for input {i} of shape {input.Shape}");
                    if (input.Creator is null)
                    {
                        // A leaf's first gradient is taken over when nothing else references its buffer.
                        if (input.TryAdoptGrad(gi)) continue;
                        input.AccumulateGrad(gi);
                        gi.Dispose();
                    }
                    else if (grads.Remove(input, out var existing))
                    {
                        grads[input] = TensorOps.Add(existing, gi);
                        existing.Dispose();
                        gi.Dispose();
                    }
                    else
                    {
                        grads[input] = gi;
                    }
                }
            }
        }
        finally
        {
            foreach (var g in grads.Values) g.Dispose();
            ReleaseNodes();
        }
    }

    private void ReleaseNodes()
    {
        foreach (var node in _nodes)
        {
            node.Function.Dispose();
            node.Output.Creator = null;
        }
        _nodes.Clear();
    }

    public void Dispose()
    {
        if (_disposed) return;
        if (_current != this) throw new InvalidOperationException("Tape disposed out of order (tapes must nest)");
        _disposed = true;
        _current = _outer;
        ReleaseNodes();
    }

    private sealed class Suspension : IDisposable
    {
        private readonly Tape? _saved = _current;
        private bool _done;

        public Suspension() => _current = null;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            _current = _saved;
        }
    }
}
