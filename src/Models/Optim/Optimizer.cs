namespace Hep.Models.Optim;

/// <summary>
/// Base of the optimisers: a parameter list, a learning rate the schedule may change between steps,
/// and per-parameter state tensors (momentum buffers, moments) owned outside any scope. Updates are
/// written with backend-agnostic in-place ops, so optimisers run on every backend.
/// </summary>
public abstract class Optimizer : IDisposable
{
    private readonly Dictionary<Variable, Tensor[]> _state = new(ReferenceEqualityComparer.Instance);

    protected Optimizer(IEnumerable<Variable> parameters, double learningRate)
    {
        Parameters = [.. parameters];
        LearningRate = learningRate;
    }

    public IReadOnlyList<Variable> Parameters { get; }
    public double LearningRate { get; set; }

    /// <summary>Number of completed steps.</summary>
    public long StepCount { get; private set; }

    /// <summary>Applies one update to every parameter that has a gradient.</summary>
    public void Step()
    {
        StepCount++;
        using var scope = TensorScope.Begin();
        foreach (var p in Parameters)
        {
            if (p.Grad is null) continue;
            Update(p, p.Grad);
        }
    }

    public void ZeroGrad()
    {
        foreach (var p in Parameters) p.ZeroGrad();
    }

    protected abstract void Update(Variable parameter, Tensor grad);

    /// <summary>The parameter's state tensors (zero-initialised on first use, outside any scope).</summary>
    protected Tensor[] State(Variable parameter, int count) => State(parameter, count, out _);

    /// <summary>As <see cref="State(Variable, int)"/>; <paramref name="created"/> is true on the parameter's first update.</summary>
    protected Tensor[] State(Variable parameter, int count, out bool created)
    {
        created = false;
        if (!_state.TryGetValue(parameter, out var s))
        {
            created = true;
            s = new Tensor[count];
            for (int i = 0; i < count; i++) s[i] = TensorOps.ZerosLike(parameter.Data).DetachFromScope();
            _state[parameter] = s;
        }
        return s;
    }

    /// <summary>State tensors per parameter index (parameters without state yet are absent); for checkpoints.</summary>
    public IEnumerable<(int Parameter, Tensor[] State)> ExportState()
    {
        for (int i = 0; i < Parameters.Count; i++)
        {
            if (_state.TryGetValue(Parameters[i], out var s)) yield return (i, s);
        }
    }

    /// <summary>Replaces all state with copies of the given tensors (shapes checked) and sets the step count.</summary>
    public void ImportState(IReadOnlyDictionary<int, Tensor[]> state, long stepCount)
    {
        foreach (var (index, tensors) in state)
        {
            if (index < 0 || index >= Parameters.Count) throw new ArgumentException($"optimizer state for parameter {index}, optimizer has {Parameters.Count}");
            foreach (var t in tensors)
            {
                if (t.Shape != Parameters[index].Shape)
                    throw new ArgumentException($"optimizer state {t.Shape} for parameter {index} ({Parameters[index].Name}) of shape {Parameters[index].Shape}");
            }
        }
        foreach (var s in _state.Values)
            foreach (var t in s) t.Dispose();
        _state.Clear();
        foreach (var (index, tensors) in state)
            _state[Parameters[index]] = tensors.Select(t => TensorOps.Contiguous(t, forceCopy: true).DetachFromScope()).ToArray();
        StepCount = stepCount;
    }

    public void Dispose()
    {
        foreach (var s in _state.Values)
            foreach (var t in s) t.Dispose();
        _state.Clear();
        GC.SuppressFinalize(this);
    }
}
