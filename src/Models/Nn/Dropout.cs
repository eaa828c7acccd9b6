namespace Hep.Models.Nn;

/// <summary>
/// Inverted dropout. Each call draws a fresh mask from the counter RNG with seed = base ⊕ call
/// counter, so a run is reproducible from its seed on every backend.
/// </summary>
public sealed class Dropout(double p, ulong seed = 0) : Module
{
    private ulong _calls;

    public double P { get; } = p;

    public Variable Forward(Variable x)
    {
        if (!Training || P == 0) return x;
        ulong s = seed ^ (0x9E3779B97F4A7C15UL * ++_calls);
        return Fn.Dropout(x, P, training: true, s);
    }
}
