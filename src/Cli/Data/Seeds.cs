namespace Hep.Cli.Data;

/// <summary>
/// Deterministic random decisions as pure functions of (seed, epoch, row id): the validation split,
/// per-epoch shuffles and augmentation flips do not depend on what ran before, so streaming,
/// in-memory and resumed runs agree.
/// </summary>
public static class Seeds
{
    /// <summary>SplitMix64 finaliser: a well-mixed 64-bit value from any counter.</summary>
    public static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    /// <summary>A uniform double in [0, 1) from (seed, stream, id).</summary>
    public static double Uniform(int seed, int stream, long id) =>
        (Mix(Mix(((ulong)(uint)seed << 32) | (uint)stream) ^ (ulong)id) >> 11) * (1.0 / (1UL << 53));

    /// <summary>Whether row <paramref name="id"/> belongs to the held-out validation split.</summary>
    public static bool IsValidation(int seed, double fraction, long id) => Uniform(seed, -1, id) < fraction;

    /// <summary>A <see cref="Random"/> for one epoch's shuffle.</summary>
    public static Random EpochRandom(int seed, int epoch) => new((int)(Mix(((ulong)(uint)seed << 32) | (uint)epoch) & 0x7FFFFFFF));
}
