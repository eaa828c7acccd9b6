namespace Hep.Cli.Data;

/// <summary>One input variable and its standardisation clip((x − subtract)·multiply, min, max) (weaver semantics).</summary>
public sealed record ProcessingCondition(string Name, double Subtract = 0, double Multiply = 1, double Min = -5, double Max = 5);

/// <summary>
/// Per-particle input variables derived from the 4-vectors as weaver's data configs do (jet = sum of
/// the real constituents):
///   part_px/py/pz/energy (raw), part_pt, part_eta, part_phi,
///   part_deta = (η − η_jet)·sign(η_jet) (ParT convention), part_dphi = wrap(φ − φ_jet),
///   part_pt_log = ln pT, part_e_log = ln E, part_logptrel = ln(pT/pT_jet), part_logerel = ln(E/E_jet),
///   part_deltaR = √(Δη² + Δφ²).
/// Output is channel-first (jets, variables, MaxParticles), zero at padded slots, with a mask (jets, MaxParticles).
/// </summary>
public static class ParticleFeatures
{
    public static readonly string[] Known =
    [
        "part_px", "part_py", "part_pz", "part_energy", "part_pt", "part_eta", "part_phi", "part_deta", "part_dphi",
        "part_pt_log", "part_e_log", "part_logptrel", "part_logerel", "part_deltaR",
    ];

    /// <summary>ParticleNet/ParT kinematic inputs with weaver's top-tagging standardisation (the first two are the kNN coordinates).</summary>
    public static readonly ProcessingCondition[] DefaultConditions =
    [
        new("part_deta"), new("part_dphi"),
        new("part_pt_log", 1.7, 0.7), new("part_e_log", 2.0, 0.7),
        new("part_logptrel", -4.7, 0.7), new("part_logerel", -4.7, 0.7), new("part_deltaR", 0.2, 4.0),
    ];

    public static (float[] Features, float[] Mask) Compute(JetSet jets, IReadOnlyList<ProcessingCondition> conditions)
    {
        foreach (var c in conditions)
        {
            if (Array.IndexOf(Known, c.Name) < 0)
                throw new Options.CliException($"flag --Processing_conditions: unknown variable '{c.Name}' (known: {string.Join(", ", Known)})");
        }
        int p = jets.MaxParticles, v = conditions.Count;
        var features = new float[jets.Count * v * p];
        var mask = new float[jets.Count * p];
        Parallel.For(0, jets.Count, j =>
        {
            int n = jets.Counts[j];
            var (jpx, jpy, jpz, je) = jets.Momentum(j);
            double jpt = Math.Sqrt(jpx * jpx + jpy * jpy);
            double jeta = Math.Asinh(jpz / Math.Max(jpt, 1e-20)), jphi = Math.Atan2(jpy, jpx);
            double sign = jeta >= 0 ? 1 : -1;
            for (int i = 0; i < n; i++)
            {
                int at = (j * p + i) * 4;
                double px = jets.P4[at], py = jets.P4[at + 1], pz = jets.P4[at + 2], e = jets.P4[at + 3];
                double pt = Math.Sqrt(px * px + py * py);
                double eta = Math.Asinh(pz / Math.Max(pt, 1e-20)), phi = Math.Atan2(py, px);
                double dphi = Math.IEEERemainder(phi - jphi, 2 * Math.PI);
                double deta = (eta - jeta) * sign;
                mask[j * p + i] = 1;
                for (int k = 0; k < v; k++)
                {
                    var c = conditions[k];
                    double x = c.Name switch
                    {
                        "part_px" => px, "part_py" => py, "part_pz" => pz, "part_energy" => e,
                        "part_pt" => pt, "part_eta" => eta, "part_phi" => phi,
                        "part_deta" => deta, "part_dphi" => dphi,
                        "part_pt_log" => Math.Log(pt), "part_e_log" => Math.Log(e),
                        "part_logptrel" => Math.Log(pt / jpt), "part_logerel" => Math.Log(e / je),
                        _ => Math.Sqrt(deta * deta + dphi * dphi),
                    };
                    x = Math.Clamp((x - c.Subtract) * c.Multiply, c.Min, c.Max);
                    features[(j * v + k) * p + i] = double.IsFinite(x) ? (float)x : 0f;
                }
            }
        });
        return (features, mask);
    }
}
