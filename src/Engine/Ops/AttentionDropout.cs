namespace Hep.Engine.Ops;

/// <summary>
/// Dropout on the normalised attention weights inside the fused attention kernels (PyTorch semantics:
/// out = (softmax(S) ⊙ Z)·v with Z = keep / (1 − p); the saved log-sum-exp is that of the undropped
/// softmax; the backward regenerates Z). The keep decision of weight (b, h, i, j) is a pure function
/// of (seed, row = (b·H + h)·Nq + i, j), identical on every backend:
///   rowKey = low 32 bits of CounterRng.Bits(seed, row);
///   x = fmix32(rowKey + (j + 1)·0x9E3779B9)   (MurmurHash3's 32-bit finaliser, a bijection);
///   keep ⇔ x ≥ Threshold = round(p·2³²)        (so P(drop) = p to 2⁻³²).
/// <c>default</c> (p = 0) means no dropout; the kernels then take their plain path.
/// </summary>
public readonly record struct AttentionDropout
{
    /// <summary>Dropout with probability <paramref name="p"/> ∈ [0, 1) and mask stream <paramref name="seed"/>.</summary>
    public AttentionDropout(double p, ulong seed)
    {
        if (!(p >= 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), $"Attention dropout: p = {p} must be in [0, 1)");
        P = p;
        Seed = seed;
    }

    /// <summary>No dropout.</summary>
    public static AttentionDropout None => default;

    public double P { get; }
    public ulong Seed { get; }

    /// <summary>True when weights are dropped (p &gt; 0).</summary>
    public bool Active => P > 0;

    /// <summary>Hashes below this are dropped: round(p·2³²), at most 2³² − 1.</summary>
    public uint Threshold => (uint)Math.Min(Math.Round(P * 4294967296.0), uint.MaxValue);

    /// <summary>The factor 1 / (1 − p) applied to kept weights.</summary>
    public double KeepScale => 1.0 / (1.0 - P);

    /// <summary>Per-row key: the low 32 bits of the engine's counter RNG at index <paramref name="row"/>.</summary>
    public static uint RowKey(ulong seed, long row) => (uint)CounterRng.Bits(seed, row);

    /// <summary>The 32-bit hash of key <paramref name="j"/> in the row with key <paramref name="rowKey"/>.</summary>
    public static uint Hash(uint rowKey, int j)
    {
        uint x = rowKey + (uint)(j + 1) * 0x9E3779B9u;
        x ^= x >> 16;
        x *= 0x85EBCA6Bu;
        x ^= x >> 13;
        x *= 0xC2B2AE35u;
        return x ^ (x >> 16);
    }

    /// <summary>Whether weight (row, j) is kept.</summary>
    public bool Keeps(long row, int j) => !Active || Hash(RowKey(Seed, row), j) >= Threshold;
}
