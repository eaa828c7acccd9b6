namespace Hep.Cli.Data.EventGraphs;

/// <summary>
/// Built-in generator of physics-inspired CEPC-like events for HeteroNet (no downloads; docs/event-graphs.md):
/// e⁺e⁻ at √s = 240 GeV, straight-line tracks (no magnetic field), massless final-state particles.
/// <list type="bullet">
/// <item>Signal (<c>label_llp</c>, process 3): ZH with Z → νν̄ and H → XX, X a long-lived scalar
///   (m_X = 50 GeV, τ_X = 1 ns by default: the paper's headline point). Each X flies L = βγcτ with τ ~ Exp(τ_X)
///   (mean ≈ 0.22 m at the default point) and decays to bb̄ at its displaced vertex, at time γτ.</item>
/// <item>Background (<c>label_bkg</c>), one third each: ZH with Z → νν̄, H → bb̄ (process 0); e⁺e⁻ → qq̄ with
///   each jet at 60–100% of the beam energy (ISR), b quarks in 22% (process 1); W⁺W⁻ → 4 light jets (process 2).</item>
/// </list>
/// Quarks become jets of 1–2 charged and 0–2 neutral particles sharing the jet energy (Dirichlet(1)),
/// at angles ~ |N(0, σ)|, σ = min(0.3, 1.5/√E_jet) around the jet axis; b jets start from a B-hadron
/// vertex displaced by Exp(0.455 mm · p_B/m_B), p_B = 0.7 E_jet (a small, real displacement the model must
/// not confuse with an LLP).
/// Detector: four tracker barrel layers at r = 100, 300, 600, 1000 mm (|z| ≤ 1500 mm, efficiency 97%,
/// a layer is hit only when the particle starts inside it; σ_t = 0.3 ns; deposited energy ≈ 100 keV ×
/// log-normal(−0.1, 0.25)) plus 1–3 noise hits (random layer, time U(0, 8) ns); hits beyond 24 are dropped at
/// random (readout limit). ECAL: barrel r = 1850 mm, |z| ≤ 2350 mm, endcaps z = ±2350 mm for 300 ≤ r &lt; 1850 mm;
/// one cluster per particle above 0.3 GeV, energy resolution 17%/√E ⊕ 1% (photons) or 50%/√E ⊕ 3% (charged),
/// σ_t = 0.2 ns, width ~ N(1.5, 0.3) cm (photons) or N(4, 1) cm (charged); clusters within 100 mm merge
/// (energy-weighted), the 8 most energetic are kept, and an event with fewer than two clusters gets noise
/// clusters (0.2–1 GeV, random barrel position, time U(0, 10) ns).
/// Observables: <c>event_number</c>, <c>truth_process</c> (0–3) and <c>truth_llp_r</c> (smallest transverse
/// LLP decay radius, m; 0 for background). Deterministic for a seed; classes alternate (even events background).
/// </summary>
public static class SyntheticLlpEvents
{
    public static readonly string[] LabelNames = ["label_bkg", "label_llp"];
    public static readonly string[] ObservableNames = ["event_number", "truth_process", "truth_llp_r"];

    private const double SqrtS = 240, MassH = 125, MassZ = 91.19, MassW = 80.4, MassB = 5.28, CTauB = 0.455;
    private const double C = 299.792458;                      // mm/ns
    private static readonly double[] LayerRadii = [100, 300, 600, 1000];
    private const double TrackerHalfLength = 1500, EcalRadius = 1850, EcalHalfLength = 2350, EndcapInner = 300;
    private const int MaxHits = 24, MaxClusters = 8;

    /// <summary>Generates <paramref name="events"/> events as detector hits.</summary>
    public static HitEvent[] GenerateHits(int events, int seed, double llpMass = 50, double llpLifetimeNs = 1)
    {
        if (events < 1) throw new ArgumentOutOfRangeException(nameof(events), "at least one event");
        if (!(llpMass > 0 && llpMass < MassH / 2)) throw new ArgumentOutOfRangeException(nameof(llpMass), "0 < m_X < m_H/2");
        if (!(llpLifetimeNs > 0)) throw new ArgumentOutOfRangeException(nameof(llpLifetimeNs), "positive");
        var rng = new Random(seed);
        var result = new HitEvent[events];
        for (int n = 0; n < events; n++)
        {
            var g = new EventSimulation(rng);
            int process = n % 2 == 1 ? 3 : rng.Next(3);
            double llpR = 0;
            switch (process)
            {
                case 0:
                    g.TwoBody(Boost(g.Isotropic(), Momentum(SqrtS, MassH, MassZ), MassH), MassH, bQuarks: true);
                    break;
                case 1:
                    {
                        var axis = g.Isotropic();
                        bool b = rng.NextDouble() < 0.22;
                        g.Jet(Scale(axis, SqrtS / 2 * (0.6 + 0.4 * rng.NextDouble())), Vec3.Zero, 0, b);
                        g.Jet(Scale(axis, -SqrtS / 2 * (0.6 + 0.4 * rng.NextDouble())), Vec3.Zero, 0, b);
                        break;
                    }
                case 2:
                    {
                        var axis = g.Isotropic();
                        double p = Momentum(SqrtS, MassW, MassW);
                        g.TwoBody(Boost(axis, p, MassW), MassW, bQuarks: false);
                        g.TwoBody(Boost(Scale(axis, -1), p, MassW), MassW, bQuarks: false);
                        break;
                    }
                default:
                    {
                        // H (boosted against the Z) → XX; each X decays after a proper time τ ~ Exp(τ_X).
                        var h = Boost(g.Isotropic(), Momentum(SqrtS, MassH, MassZ), MassH);
                        var xAxis = g.Isotropic();
                        double pStar = Math.Sqrt(MassH * MassH / 4 - llpMass * llpMass);
                        llpR = double.PositiveInfinity;
                        foreach (var sign in new[] { 1.0, -1.0 })
                        {
                            var x = h.BoostMassive(Scale(xAxis, sign * pStar), llpMass);
                            double tau = -llpLifetimeNs * Math.Log(1 - rng.NextDouble());
                            double gamma = x.E / llpMass;
                            var beta = Scale(x.P, 1 / x.E);
                            var vertex = Scale(beta, gamma * tau * C);
                            llpR = Math.Min(llpR, Math.Sqrt(vertex.X * vertex.X + vertex.Y * vertex.Y) / 1000);
                            g.TwoBody(new Boost4(beta), llpMass, bQuarks: true, vertex, gamma * tau);
                        }
                        break;
                    }
            }
            result[n] = g.Finish(process == 3 ? 1 : 0, [n, process, (float)llpR]);
        }
        return result;
    }

    // Two-body momentum in the centre-of-mass frame of energy √s.
    private static double Momentum(double sqrtS, double m1, double m2) =>
        Math.Sqrt((sqrtS * sqrtS - (m1 + m2) * (m1 + m2)) * (sqrtS * sqrtS - (m1 - m2) * (m1 - m2))) / (2 * sqrtS);

    private static Boost4 Boost(Vec3 direction, double p, double mass) => new(Scale(direction, p / Math.Sqrt(p * p + mass * mass)));

    private static Vec3 Scale(Vec3 v, double s) => new(v.X * s, v.Y * s, v.Z * s);

    internal readonly record struct Vec3(double X, double Y, double Z)
    {
        public static Vec3 Zero => new(0, 0, 0);
        public double Norm => Math.Sqrt(X * X + Y * Y + Z * Z);
        public Vec3 Unit => Scale(this, 1 / Norm);
        public static Vec3 operator +(Vec3 a, Vec3 b) => new(a.X + b.X, a.Y + b.Y, a.Z + b.Z);
        public static double Dot(Vec3 a, Vec3 b) => a.X * b.X + a.Y * b.Y + a.Z * b.Z;
        public static Vec3 Cross(Vec3 a, Vec3 b) => new(a.Y * b.Z - a.Z * b.Y, a.Z * b.X - a.X * b.Z, a.X * b.Y - a.Y * b.X);
    }

    internal readonly record struct FourMomentum(double E, Vec3 P);

    /// <summary>A Lorentz boost by velocity β (|β| &lt; 1).</summary>
    internal readonly record struct Boost4(Vec3 Beta)
    {
        public FourMomentum BoostMassive(Vec3 p, double mass) => Apply(Math.Sqrt(Vec3.Dot(p, p) + mass * mass), p);

        public FourMomentum Apply(double e, Vec3 p)
        {
            double b2 = Vec3.Dot(Beta, Beta);
            if (b2 == 0) return new(e, p);
            double gamma = 1 / Math.Sqrt(1 - b2), bp = Vec3.Dot(Beta, p);
            double factor = (gamma - 1) * bp / b2 + gamma * e;
            return new(gamma * (e + bp), p + Scale(Beta, factor));
        }
    }

    /// <summary>Particles of one event traced through the toy detector.</summary>
    private sealed class EventSimulation(Random rng)
    {
        private readonly List<ClusterHit> _clusters = [];
        private readonly List<TrackerHit> _hits = [];

        public Vec3 Isotropic()
        {
            double cos = 2 * rng.NextDouble() - 1, phi = 2 * Math.PI * rng.NextDouble(), sin = Math.Sqrt(1 - cos * cos);
            return new(sin * Math.Cos(phi), sin * Math.Sin(phi), cos);
        }

        private double Gauss(double mean, double sigma) =>
            mean + sigma * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

        /// <summary>A parent of <paramref name="mass"/> moving with <paramref name="boost"/> decays isotropically into two massless quarks (jets) at a vertex.</summary>
        public void TwoBody(Boost4 boost, double mass, bool bQuarks, Vec3 vertex = default, double time = 0)
        {
            var axis = Isotropic();
            foreach (var sign in new[] { 1.0, -1.0 })
            {
                var q = boost.Apply(mass / 2, Scale(axis, sign * mass / 2));
                Jet(q.P, vertex, time, bQuarks);
            }
        }

        /// <summary>A jet of momentum <paramref name="p"/> (massless) starting at <paramref name="vertex"/> at <paramref name="time"/>.</summary>
        public void Jet(Vec3 p, Vec3 vertex, double time, bool bQuark)
        {
            double energy = p.Norm;
            var axis = p.Unit;
            if (bQuark)
            {
                double pB = 0.7 * energy, flight = -CTauB * pB / MassB * Math.Log(1 - rng.NextDouble());
                vertex += Scale(axis, flight);
                time += flight / C;
            }
            int charged = 1 + rng.Next(2), neutral = rng.Next(3);
            var shares = Enumerable.Range(0, charged + neutral).Select(_ => -Math.Log(1 - rng.NextDouble())).ToArray();
            double total = shares.Sum();
            double sigma = Math.Min(0.3, 1.5 / Math.Sqrt(energy));
            var (u, v) = Basis(axis);
            for (int i = 0; i < shares.Length; i++)
            {
                double theta = Math.Abs(Gauss(0, sigma)), phi = 2 * Math.PI * rng.NextDouble();
                var dir = Scale(axis, Math.Cos(theta)) + Scale(u, Math.Sin(theta) * Math.Cos(phi)) + Scale(v, Math.Sin(theta) * Math.Sin(phi));
                Particle(vertex, time, dir.Unit, energy * shares[i] / total, i < charged);
            }
        }

        private static (Vec3 U, Vec3 V) Basis(Vec3 axis)
        {
            var helper = Math.Abs(axis.Z) < 0.9 ? new Vec3(0, 0, 1) : new Vec3(1, 0, 0);
            var u = Vec3.Cross(axis, helper).Unit;
            return (u, Vec3.Cross(axis, u));
        }

        private void Particle(Vec3 vertex, double time, Vec3 dir, double energy, bool charged)
        {
            if (charged)
            {
                foreach (double r in LayerRadii)
                {
                    if (CylinderExit(vertex, dir, r) is not { } s) continue;
                    var at = vertex + Scale(dir, s);
                    if (Math.Abs(at.Z) > TrackerHalfLength || rng.NextDouble() > 0.97) continue;
                    _hits.Add(new TrackerHit((float)Gauss(at.X, 0.01), (float)Gauss(at.Y, 0.01), (float)Gauss(at.Z, 0.02),
                        (float)Gauss(time + s / C, 0.3), (float)(1e-4 * Math.Exp(Gauss(-0.1, 0.25)))));
                }
            }
            if (energy < 0.3) return;
            double? path = null;
            if (CylinderExit(vertex, dir, EcalRadius) is { } sb && Math.Abs(vertex.Z + sb * dir.Z) <= EcalHalfLength) path = sb;
            else if (dir.Z != 0 && Math.Abs(vertex.Z) < EcalHalfLength)
            {
                double se = (Math.Sign(dir.Z) * EcalHalfLength - vertex.Z) / dir.Z;
                var end = vertex + Scale(dir, se);
                double r = Math.Sqrt(end.X * end.X + end.Y * end.Y);
                if (se > 0 && r >= EndcapInner && r < EcalRadius) path = se;
            }
            if (path is not { } d) return;
            var hit = vertex + Scale(dir, d);
            double stochastic = charged ? 0.5 : 0.17, constant = charged ? 0.03 : 0.01;
            double resolution = Math.Sqrt(stochastic * stochastic / energy + constant * constant);
            double measured = Math.Max(0.05, energy * Gauss(1, resolution));
            double width = Math.Max(0.5, charged ? Gauss(4, 1) : Gauss(1.5, 0.3));
            _clusters.Add(new ClusterHit((float)Gauss(hit.X, 2), (float)Gauss(hit.Y, 2), (float)Gauss(hit.Z, 2), (float)Gauss(time + d / C, 0.2),
                (float)measured, (float)width));
        }

        // Path length s > 0 at which a line from vertex (inside radius r) crosses the cylinder of radius r, or null.
        private static double? CylinderExit(Vec3 vertex, Vec3 dir, double r)
        {
            double a = dir.X * dir.X + dir.Y * dir.Y, b = 2 * (vertex.X * dir.X + vertex.Y * dir.Y), c = vertex.X * vertex.X + vertex.Y * vertex.Y - r * r;
            if (c >= 0 || a < 1e-12) return null;
            return (-b + Math.Sqrt(b * b - 4 * a * c)) / (2 * a);
        }

        public HitEvent Finish(int label, float[] observables)
        {
            int noise = 1 + rng.Next(3);
            for (int i = 0; i < noise; i++)
            {
                double r = LayerRadii[rng.Next(LayerRadii.Length)], phi = 2 * Math.PI * rng.NextDouble();
                _hits.Add(new TrackerHit((float)(r * Math.Cos(phi)), (float)(r * Math.Sin(phi)), (float)(TrackerHalfLength * (2 * rng.NextDouble() - 1)),
                    (float)(8 * rng.NextDouble()), (float)(1e-4 * Math.Exp(Gauss(-0.1, 0.25)))));
            }
            while (_hits.Count > MaxHits) _hits.RemoveAt(rng.Next(_hits.Count));
            var clusters = Merge(_clusters).OrderByDescending(c => c.E).Take(MaxClusters).ToList();
            while (clusters.Count < 2)
            {
                double phi = 2 * Math.PI * rng.NextDouble();
                clusters.Add(new ClusterHit((float)(EcalRadius * Math.Cos(phi)), (float)(EcalRadius * Math.Sin(phi)), (float)(EcalHalfLength * (2 * rng.NextDouble() - 1)),
                    (float)(10 * rng.NextDouble()), (float)(0.2 + 0.8 * rng.NextDouble()), (float)Math.Max(0.5, Gauss(3, 1))));
            }
            return new HitEvent([.. clusters], [.. _hits], label, observables);
        }

        // Greedy merging, most energetic first: clusters within 100 mm of a seed join it (energy-weighted position, time, width).
        private static List<ClusterHit> Merge(List<ClusterHit> clusters)
        {
            var left = clusters.OrderByDescending(c => c.E).ToList();
            var merged = new List<ClusterHit>();
            while (left.Count > 0)
            {
                var seed = left[0];
                var group = left.Where(c => Distance(c, seed) < 100).ToList();
                left.RemoveAll(group.Contains);
                double e = group.Sum(c => (double)c.E);
                float W(Func<ClusterHit, float> f) => (float)(group.Sum(c => c.E * (double)f(c)) / e);
                merged.Add(new ClusterHit(W(c => c.X), W(c => c.Y), W(c => c.Z), W(c => c.T), (float)e, W(c => c.Width)));
            }
            return merged;
        }

        private static double Distance(ClusterHit a, ClusterHit b)
        {
            double dx = a.X - b.X, dy = a.Y - b.Y, dz = a.Z - b.Z;
            return Math.Sqrt(dx * dx + dy * dy + dz * dz);
        }
    }
}
