using System.Numerics;

namespace Hep.Models.Common;

/// <summary>
/// k-nearest neighbours on the host with weaver-core v0.4.17's arithmetic (spec §1.3): padded points
/// are moved by 1e9 in every coordinate, the score s_ij = (−|x_j|² + 2x_i·x_j) − |x_i|² is evaluated in
/// the input's precision, the k+1 largest are kept in descending order (lower index first on ties) and
/// the first column (normally the point itself) is dropped. Indices are computed without gradients.
/// Stand-in until the engine's kNN kernel is used by every model.
/// </summary>
internal static class HostKnn
{
    public const double CoordinateShift = 1e9;

    /// <summary>points (B, C, N), mask (B, N) or (B, 1, N) with 1 = real → Int32 (B, N, k).</summary>
    public static Tensor Compute(Tensor points, Tensor? mask, int k)
    {
        if (points.Rank != 3) throw new ArgumentException($"Knn: points must be (B, C, N), got {points.Shape}");
        int b = points.Shape[0], c = points.Shape[1], n = points.Shape[2];
        if (k < 1 || k + 1 > n) throw new ArgumentException($"Knn: k = {k} needs at least k + 1 = {k + 1} points, got N = {n}");
        var m = mask?.ToDoubleArray();
        if (m is not null && m.Length != b * n) throw new ArgumentException($"Knn: mask {mask!.Shape} does not match points {points.Shape}");
        var result = new int[b * n * k];
        if (points.DType == DType.Float64) Run(points.ToArray<double>(), m, b, c, n, k, result);
        else Run(points.ToArray<float>(), m, b, c, n, k, result);
        return Tensor.FromArray<int>(points.Backend, result, new Shape(b, n, k));
    }

    private static void Run<T>(T[] x, double[]? mask, int b, int c, int n, int k, int[] result) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var shift = T.CreateChecked(CoordinateShift);
        var minusTwo = T.CreateChecked(-2.0);
        Parallel.For(0, b, batch =>
        {
            // Shifted coordinates, point-major (N, C), and squared norms.
            var p = new T[n * c];
            var sq = new T[n];
            for (int i = 0; i < n; i++)
            {
                bool padded = mask is not null && mask[batch * n + i] == 0;
                T s = T.Zero;
                for (int ch = 0; ch < c; ch++)
                {
                    T v = x[(batch * c + ch) * n + i];
                    if (padded) v += shift;
                    p[i * c + ch] = v;
                    s += v * v;
                }
                sq[i] = s;
            }
            var bestScore = new T[k + 1];
            var bestIndex = new int[k + 1];
            for (int i = 0; i < n; i++)
            {
                int filled = 0;
                for (int j = 0; j < n; j++)
                {
                    T dot = T.Zero;
                    for (int ch = 0; ch < c; ch++) dot += p[i * c + ch] * p[j * c + ch];
                    T score = (-sq[j] - minusTwo * dot) - sq[i];
                    if (filled == k + 1 && !(score > bestScore[k])) continue;
                    int pos = filled < k + 1 ? filled++ : k;
                    while (pos > 0 && score > bestScore[pos - 1])
                    {
                        bestScore[pos] = bestScore[pos - 1];
                        bestIndex[pos] = bestIndex[pos - 1];
                        pos--;
                    }
                    bestScore[pos] = score;
                    bestIndex[pos] = j;
                }
                Array.Copy(bestIndex, 1, result, (batch * n + i) * k, k);
            }
        });
    }
}
