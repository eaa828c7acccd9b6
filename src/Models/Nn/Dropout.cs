namespace Hep.Models.Nn;

/// <summary>
/// Inverted dropout. Each call draws a fresh mask from the counter RNG with seed = base ⊕ call
/// counter, so a run is reproducible from its seed on every backend. <see cref="Reseed"/> restarts the
/// stream (trainers reseed every dropout at each epoch from the run seed and the epoch, so a run
/// resumed at an epoch boundary draws exactly the masks the uninterrupted run drew).
/// </summary>
public sealed class Dropout(double p, ulong seed = 0) : Module
{
    private ulong _calls;
    private ulong _seed = seed;

    /// <summary>Restarts the mask stream from a new base seed.</summary>
    public void Reseed(ulong newSeed)
    {
        _seed = newSeed;
        _calls = 0;
    }

    public double P { get; } = p;

    public Variable Forward(Variable x)
    {
        if (!Training || P == 0) return x;
        return Fn.Dropout(x, P, training: true, NextSeed());
    }

    /// <summary>
    /// The next mask seed of this module's stream (what <see cref="Forward"/> uses), for ops that apply
    /// the dropout themselves (the fused attention's weight dropout).
    /// </summary>
    public ulong NextSeed() => _seed ^ (0x9E3779B97F4A7C15UL * ++_calls);
}
