namespace Hep.Cli.Data;

/// <summary>
/// Built-in generator of physics-inspired synthetic jets (the demo dataset; no downloads):
/// <list type="bullet">
/// <item>QCD-like (label 0): one prong; 35% get a hard wide-angle splitting carrying 10–40% of the pT. Jet pT ~ U(500, 650) GeV, η ~ U(−2, 2), φ ~ U(−π, π);
///   N ~ 8 + Poisson(22) constituents; momentum fractions from a steeply falling spectrum
///   (z ∝ u⁴ then normalised, so one or two hard particles carry most of the pT); angular offsets
///   (Δη, Δφ) ~ N(0, σ) with σ = 0.02 + 0.18·(1 − z/z_max), soft particles spread wider.</item>
/// <item>Top-like (label 1): three prongs (t → bW → bqq̄'). Prong axes at distance R ~ U(0.15, 0.45)
///   from the jet axis (≈ 2m_t/pT) in random directions, prong pT shares ~ normalised Gamma(3);
///   each prong is a narrow one-prong shower (σ = 0.015 + 0.06·(1 − z/z_max)) with 4 + Poisson(10)
///   constituents; in 25% one prong is soft (×0.1 share). The jet axis is the pT-weighted centroid.</item>
/// </list>
/// Particles are massless: pT, η, φ → (px, py, pz, E). Deterministic for a seed.
/// </summary>
public static class SyntheticJets
{
    public static JetSet Generate(int jets, int maxParticles, int seed)
    {
        var rng = new Random(seed);
        var p4 = new float[jets * maxParticles * 4];
        var counts = new int[jets];
        var labels = new int[jets];
        var pt = new List<double>();
        var deta = new List<double>();
        var dphi = new List<double>();
        for (int j = 0; j < jets; j++)
        {
            int label = j % 2;
            labels[j] = label;
            pt.Clear();
            deta.Clear();
            dphi.Clear();
            double jetPt = 500 + 150 * rng.NextDouble();
            double jetEta = -2 + 4 * rng.NextDouble();
            double jetPhi = Math.PI * (2 * rng.NextDouble() - 1);
            if (label == 0)
            {
                // 35% of QCD jets have a hard wide-angle splitting (gluon → two prongs), giving them mass.
                double split = rng.NextDouble() < 0.35 ? 0.1 + 0.3 * rng.NextDouble() : 0;
                Prong(rng, jetPt * (1 - split), 0, 0, 8 + Poisson(rng, 22), 0.02, 0.18, pt, deta, dphi);
                if (split > 0)
                {
                    double r = 0.1 + 0.4 * rng.NextDouble(), a = 2 * Math.PI * rng.NextDouble();
                    Prong(rng, jetPt * split, r * Math.Cos(a), r * Math.Sin(a), 3 + Poisson(rng, 8), 0.02, 0.08, pt, deta, dphi);
                }
                Recentre(pt, deta, dphi);
            }
            else
            {
                var shares = new double[3];
                for (int k = 0; k < 3; k++) shares[k] = Gamma3(rng);
                // 25% of top jets have one soft prong (partly merged/lost), looking more two-prong.
                if (rng.NextDouble() < 0.25) shares[rng.Next(3)] *= 0.1;
                double total = shares.Sum();
                for (int k = 0; k < 3; k++)
                {
                    double r = 0.15 + 0.3 * rng.NextDouble(), a = 2 * Math.PI * rng.NextDouble();
                    Prong(rng, jetPt * shares[k] / total, r * Math.Cos(a), r * Math.Sin(a), 4 + Poisson(rng, 10), 0.015, 0.06, pt, deta, dphi);
                }
                Recentre(pt, deta, dphi);
            }
            // Highest pT first, as in the reference datasets; truncate to maxParticles.
            var order = Enumerable.Range(0, pt.Count).OrderByDescending(i => pt[i]).Take(maxParticles).ToArray();
            counts[j] = order.Length;
            for (int n = 0; n < order.Length; n++)
            {
                int i = order[n];
                double eta = jetEta + deta[i], phi = jetPhi + dphi[i];
                int at = (j * maxParticles + n) * 4;
                p4[at] = (float)(pt[i] * Math.Cos(phi));
                p4[at + 1] = (float)(pt[i] * Math.Sin(phi));
                p4[at + 2] = (float)(pt[i] * Math.Sinh(eta));
                p4[at + 3] = (float)(pt[i] * Math.Cosh(eta));
            }
        }
        return new JetSet(jets, maxParticles, p4, counts, labels, ["label_QCD", "label_Top"]);
    }

    // Moves the offsets so that the jet axis is the pT-weighted centroid.
    private static void Recentre(List<double> pt, List<double> deta, List<double> dphi)
    {
        double sw = pt.Sum(), ce = 0, cp = 0;
        for (int i = 0; i < pt.Count; i++)
        {
            ce += pt[i] * deta[i];
            cp += pt[i] * dphi[i];
        }
        for (int i = 0; i < pt.Count; i++)
        {
            deta[i] -= ce / sw;
            dphi[i] -= cp / sw;
        }
    }

    private static void Prong(Random rng, double prongPt, double eta0, double phi0, int n, double sigma0, double sigma1,
        List<double> pt, List<double> deta, List<double> dphi)
    {
        var z = new double[n];
        for (int i = 0; i < n; i++) z[i] = Math.Pow(rng.NextDouble(), 4) + 1e-4;
        double sum = z.Sum(), zMax = z.Max();
        for (int i = 0; i < n; i++)
        {
            double sigma = sigma0 + sigma1 * (1 - z[i] / zMax);
            pt.Add(prongPt * z[i] / sum);
            deta.Add(eta0 + sigma * Normal(rng));
            dphi.Add(phi0 + sigma * Normal(rng));
        }
    }

    private static double Normal(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static double Gamma3(Random rng) =>
        -Math.Log((1 - rng.NextDouble()) * (1 - rng.NextDouble()) * (1 - rng.NextDouble()));

    private static int Poisson(Random rng, double mean)
    {
        double l = Math.Exp(-mean), p = 1;
        int k = 0;
        do
        {
            k++;
            p *= rng.NextDouble();
        } while (p > l);
        return k - 1;
    }
}
