namespace Hep.Cli.Data;

/// <summary>
/// Jets as padded particle 4-vectors: <see cref="P4"/> is (jets, MaxParticles, 4) with (px, py, pz, E)
/// in GeV, <see cref="Counts"/> the real particles per jet (the rest is zero padding), and integer class
/// labels. This is the common form every reader (ROOT, .npy, synthetic) produces.
/// </summary>
public sealed class JetSet(int jets, int maxParticles, float[] p4, int[] counts, int[] labels, string[] labelNames)
{
    public int Count { get; } = jets;
    public int MaxParticles { get; } = maxParticles;
    public float[] P4 { get; } = p4;
    public int[] Counts { get; } = counts;
    public int[] Labels { get; } = labels;
    public string[] LabelNames { get; } = labelNames;

    /// <summary>The jet's 4-momentum: (px, py, pz, E) of its real particles summed in double, in particle order.</summary>
    public (double Px, double Py, double Pz, double E) Momentum(int jet)
    {
        double px = 0, py = 0, pz = 0, e = 0;
        for (int i = 0; i < Counts[jet]; i++)
        {
            int at = (jet * MaxParticles + i) * 4;
            px += P4[at];
            py += P4[at + 1];
            pz += P4[at + 2];
            e += P4[at + 3];
        }
        return (px, py, pz, e);
    }

    /// <summary>A subset of jets (by index), e.g. a train/validation split.</summary>
    public JetSet Select(IReadOnlyList<int> indices)
    {
        int stride = MaxParticles * 4;
        var p = new float[indices.Count * stride];
        var c = new int[indices.Count];
        var l = new int[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            Array.Copy(P4, indices[i] * stride, p, i * stride, stride);
            c[i] = Counts[indices[i]];
            l[i] = Labels[indices[i]];
        }
        return new JetSet(indices.Count, MaxParticles, p, c, l, LabelNames);
    }
}
