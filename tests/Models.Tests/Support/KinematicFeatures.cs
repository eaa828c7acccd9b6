namespace Hep.Models.Tests.Support;

/// <summary>
/// The 7 "kin" particle features of top_kin.yaml rebuilt from the 4-vectors and (Δη, Δφ), as the golden
/// README defines them: ln pT, ln E, ln(pT/jet pT), ln(E/jet E), ΔR, each clip((x − a)·b, −5, 5), then raw
/// Δη, Δφ; jet = sum of the real constituents; evaluated in float64, rounded to float32 once; padding 0.
/// </summary>
internal static class KinematicFeatures
{
    public const int Count = 7;
    private static readonly (double Subtract, double Multiply)[] Standardisation = [(1.7, 0.7), (2.0, 0.7), (-4.7, 0.7), (-4.7, 0.7), (0.2, 4.0)];

    /// <summary>vectors (B·4·N), points (B·2·N), mask (B·N) → features (B·7·N).</summary>
    public static float[] Build(float[] vectors, float[] points, float[] mask, int batch, int n)
    {
        var output = new float[batch * Count * n];
        for (int b = 0; b < batch; b++)
        {
            double sx = 0, sy = 0, se = 0;
            for (int i = 0; i < n; i++)
            {
                if (mask[b * n + i] == 0) continue;
                sx += vectors[(b * 4) * n + i];
                sy += vectors[(b * 4 + 1) * n + i];
                se += vectors[(b * 4 + 3) * n + i];
            }
            double jetPt = Math.Sqrt(sx * sx + sy * sy);
            for (int i = 0; i < n; i++)
            {
                if (mask[b * n + i] == 0) continue;
                double px = vectors[(b * 4) * n + i], py = vectors[(b * 4 + 1) * n + i], e = vectors[(b * 4 + 3) * n + i];
                double deta = points[(b * 2) * n + i], dphi = points[(b * 2 + 1) * n + i];
                double pt = Math.Sqrt(px * px + py * py);
                double[] raw = [Math.Log(pt), Math.Log(e), Math.Log(pt / jetPt), Math.Log(e / se), Math.Sqrt(deta * deta + dphi * dphi)];
                for (int c = 0; c < 5; c++)
                    output[(b * Count + c) * n + i] = (float)Math.Clamp((raw[c] - Standardisation[c].Subtract) * Standardisation[c].Multiply, -5, 5);
                output[(b * Count + 5) * n + i] = (float)deta;
                output[(b * Count + 6) * n + i] = (float)dphi;
            }
        }
        return output;
    }
}
