using Hep.Models.HeteroNet;

namespace Hep.Cli.Data.EventGraphs;

/// <summary>A calorimeter cluster: position (mm), time (ns), energy (GeV, &gt; 0), transverse shower width (cm).</summary>
public readonly record struct ClusterHit(float X, float Y, float Z, float T, float E, float Width);

/// <summary>A tracker hit: position (mm), time (ns), deposited energy (GeV).</summary>
public readonly record struct TrackerHit(float X, float Y, float Z, float T, float E);

/// <summary>One event as detector hits: clusters, tracker hits, class index and observables (in schema order of the caller).</summary>
public sealed record HitEvent(ClusterHit[] Clusters, TrackerHit[] Trackers, int Label, float[] Observables);

/// <summary>
/// Turns detector hits into HeteroNet's event graph (docs/event-graphs.md, "Features"): per node type a
/// complete directed graph without self-loops (edge order: source i ascending, then destination j ≠ i
/// ascending, as the tutorial's N(N−1) edge counts imply) and the features, all O(1) in size:
/// <list type="bullet">
/// <item>cluster node (6): ln(E/GeV), x, y, z (m), t (ns), width (cm)</item>
/// <item>cluster pair (9): Δx, Δy, Δz, distance (m), Δη, Δφ (wrapped to [−π, π)), ΔR = √(Δη²+Δφ²), Δt (ns), ln(E_dst/E_src)</item>
/// <item>tracker node (5): x, y, z (m), t (ns), deposited energy in units of 100 keV</item>
/// <item>tracker pair (5): Δx, Δy, Δz, distance (m), Δt (ns)</item>
/// </list>
/// Δ = destination − source; η and φ of a cluster are those of its position seen from the origin.
/// Computed in double from the float hit values, stored as float, so the same hits always give the
/// same bits (the generator and the converter share this code).
/// </summary>
public static class EventGraphBuilder
{
    public static EventGraphSchema Schema { get; } = new(
        ["logE", "x", "y", "z", "t", "width"],
        ["dx", "dy", "dz", "dist", "deta", "dphi", "dR", "dt", "logEratio"],
        ["x", "y", "z", "t", "edep"],
        ["dx", "dy", "dz", "dist", "dt"]);

    private const double MetresPerMm = 1e-3;
    private const double HitEnergyUnitGeV = 1e-4;

    public static HeteroEvent Build(HitEvent ev)
    {
        var clusters = ev.Clusters;
        int nc = clusters.Length;
        var cNodes = new float[nc * 6];
        var eta = new double[nc];
        var phi = new double[nc];
        for (int i = 0; i < nc; i++)
        {
            var c = clusters[i];
            double x = c.X * MetresPerMm, y = c.Y * MetresPerMm, z = c.Z * MetresPerMm;
            double rho = Math.Sqrt(x * x + y * y);
            eta[i] = Math.Asinh(z / Math.Max(rho, 1e-9));
            phi[i] = Math.Atan2(y, x);
            Set(cNodes, i, 6, Math.Log(c.E), x, y, z, c.T, c.Width);
        }
        var (cSrc, cDst) = CompleteGraph(nc);
        var cEdges = new float[cSrc.Length * 9];
        for (int k = 0; k < cSrc.Length; k++)
        {
            ClusterHit a = clusters[cSrc[k]], b = clusters[cDst[k]];
            double dx = (b.X - (double)a.X) * MetresPerMm, dy = (b.Y - (double)a.Y) * MetresPerMm, dz = (b.Z - (double)a.Z) * MetresPerMm;
            double deta = eta[cDst[k]] - eta[cSrc[k]];
            double dphi = WrapPhi(phi[cDst[k]] - phi[cSrc[k]]);
            Set(cEdges, k, 9, dx, dy, dz, Math.Sqrt(dx * dx + dy * dy + dz * dz), deta, dphi, Math.Sqrt(deta * deta + dphi * dphi),
                b.T - (double)a.T, Math.Log(b.E / (double)a.E));
        }

        var hits = ev.Trackers;
        int nt = hits.Length;
        var tNodes = new float[nt * 5];
        for (int i = 0; i < nt; i++)
        {
            var h = hits[i];
            Set(tNodes, i, 5, h.X * MetresPerMm, h.Y * MetresPerMm, h.Z * MetresPerMm, h.T, h.E / HitEnergyUnitGeV);
        }
        var (tSrc, tDst) = CompleteGraph(nt);
        var tEdges = new float[tSrc.Length * 5];
        for (int k = 0; k < tSrc.Length; k++)
        {
            TrackerHit a = hits[tSrc[k]], b = hits[tDst[k]];
            double dx = (b.X - (double)a.X) * MetresPerMm, dy = (b.Y - (double)a.Y) * MetresPerMm, dz = (b.Z - (double)a.Z) * MetresPerMm;
            Set(tEdges, k, 5, dx, dy, dz, Math.Sqrt(dx * dx + dy * dy + dz * dz), b.T - (double)a.T);
        }
        return new HeteroEvent(new GraphPart(nc, cNodes, cEdges, cSrc, cDst), new GraphPart(nt, tNodes, tEdges, tSrc, tDst), ev.Label);
    }

    /// <summary>Graphs of many hit events with the builder's schema; observables in <paramref name="observableNames"/> order.</summary>
    public static EventGraphSet BuildSet(IReadOnlyList<HitEvent> events, string[] labelNames, string[] observableNames)
    {
        var graphs = new HeteroEvent[events.Count];
        Parallel.For(0, events.Count, i => graphs[i] = Build(events[i]));
        var observables = new Dictionary<string, float[]>();
        for (int o = 0; o < observableNames.Length; o++) observables[observableNames[o]] = events.Select(e => e.Observables[o]).ToArray();
        return new EventGraphSet(graphs, labelNames, Schema, observables);
    }

    /// <summary>All ordered pairs (i, j), i ≠ j: source-major.</summary>
    public static (int[] Source, int[] Destination) CompleteGraph(int n)
    {
        var src = new int[n * Math.Max(n - 1, 0)];
        var dst = new int[src.Length];
        int k = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                if (i == j) continue;
                src[k] = i;
                dst[k++] = j;
            }
        return (src, dst);
    }

    private static double WrapPhi(double d)
    {
        while (d >= Math.PI) d -= 2 * Math.PI;
        while (d < -Math.PI) d += 2 * Math.PI;
        return d;
    }

    private static void Set(float[] rows, int row, int width, params ReadOnlySpan<double> values)
    {
        for (int f = 0; f < width; f++) rows[row * width + f] = (float)values[f];
    }
}
