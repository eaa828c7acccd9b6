namespace Hep.Engine.Ops;

/// <summary>
/// Counter-based randomness: element i of a draw depends only on (seed, i), so every backend
/// produces bit-identical masks and a run is reproducible from its seed.
/// </summary>
public interface IRandomOps
{
    /// <summary>mask[i] = u(seed, i) ≥ p ? 1/(1−p) : 0, with u uniform in [0, 1).</summary>
    void DropoutMask(ulong seed, double p, Tensor mask);

    /// <summary>y[i] = uniform in [low, high) from (seed, i).</summary>
    void Uniform(ulong seed, double low, double high, Tensor y);
}
