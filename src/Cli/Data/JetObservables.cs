namespace Hep.Cli.Data;

/// <summary>
/// Jet-level observables from the constituents (inputs of the tabular MLP and carried into predictions):
/// jet pT, η, mass, constituent count, pT-weighted width Σ pT·ΔR / Σ pT, leading-particle pT fraction,
/// and the pT fraction outside ΔR &lt; 0.1 of the axis (prong structure).
/// </summary>
public static class JetObservables
{
    public static readonly string[] Names = ["jet_pt", "jet_eta", "jet_mass", "jet_nparticles", "jet_width", "jet_lead_frac", "jet_outer_frac"];

    public static float[] Compute(JetSet jets)
    {
        int f = Names.Length;
        var result = new float[jets.Count * f];
        for (int j = 0; j < jets.Count; j++)
        {
            double lead = 0;
            int n = jets.Counts[j];
            var (px, py, pz, e) = jets.Momentum(j);
            double jpt = Math.Sqrt(px * px + py * py);
            double jeta = Math.Asinh(pz / Math.Max(jpt, 1e-9)), jphi = Math.Atan2(py, px);
            double m2 = e * e - px * px - py * py - pz * pz;
            double sumPt = 0, width = 0, outer = 0;
            for (int i = 0; i < n; i++)
            {
                int at = (j * jets.MaxParticles + i) * 4;
                double ppt = Math.Sqrt(jets.P4[at] * jets.P4[at] + jets.P4[at + 1] * jets.P4[at + 1]);
                double peta = Math.Asinh(jets.P4[at + 2] / Math.Max(ppt, 1e-9));
                double dphi = Math.IEEERemainder(Math.Atan2(jets.P4[at + 1], jets.P4[at]) - jphi, 2 * Math.PI);
                double dr = Math.Sqrt((peta - jeta) * (peta - jeta) + dphi * dphi);
                sumPt += ppt;
                width += ppt * dr;
                if (dr > 0.1) outer += ppt;
                lead = Math.Max(lead, ppt);
            }
            var row = result.AsSpan(j * f, f);
            row[0] = (float)jpt;
            row[1] = (float)jeta;
            row[2] = (float)Math.Sqrt(Math.Max(m2, 0));
            row[3] = n;
            row[4] = (float)(width / Math.Max(sumPt, 1e-9));
            row[5] = (float)(lead / Math.Max(sumPt, 1e-9));
            row[6] = (float)(outer / Math.Max(sumPt, 1e-9));
        }
        return result;
    }
}
