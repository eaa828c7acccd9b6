namespace Hep.Engine.Ops;

/// <summary>
/// The engine's counter-based generator (a SplitMix64 finaliser over seed ⊕ golden-ratio·(i+1)).
/// Pure integer arithmetic so that CPU and GPU kernels compute identical values.
/// </summary>
public static class CounterRng
{
    /// <summary>64 random bits for element <paramref name="index"/> of stream <paramref name="seed"/>.</summary>
    public static ulong Bits(ulong seed, long index)
    {
        ulong z = seed + 0x9E3779B97F4A7C15UL * (ulong)(index + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform double in [0, 1) with 53 random bits.</summary>
    public static double Uniform(ulong seed, long index) => (Bits(seed, index) >> 11) * (1.0 / (1UL << 53));
}
