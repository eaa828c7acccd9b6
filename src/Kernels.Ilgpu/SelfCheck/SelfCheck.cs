using System.Diagnostics;

namespace Hep.Kernels.Ilgpu;

/// <summary>Outcome of <see cref="SelfCheck.Run"/>: counts and one line per failed check.</summary>
public sealed record SelfCheckResult(int Passed, int Failed, IReadOnlyList<string> Failures)
{
    public bool Ok => Failed == 0 && Passed > 0;
}

/// <summary>
/// Runs every op family, forward and backward, on a chosen ILGPU device and compares with float64
/// references computed on the host (<see cref="HostReference"/>). No test framework: this is what
/// `hep selfcheck --device cuda` runs on a GPU machine, where NUnit is not available.
/// Tolerances allow for the device's fast math (e.g. PTX ex2.approx) but catch indexing,
/// synchronisation and reduction bugs, which show up as O(1) errors.
/// </summary>
public static class SelfCheck
{
    /// <summary>Runs all checks on <paramref name="backend"/>, writing one line per check to <paramref name="log"/>.</summary>
    public static SelfCheckResult Run(IlgpuBackend backend, TextWriter log)
    {
        var run = new Runner(backend, log);
        log.WriteLine($"selfcheck on {backend} (float64: {(backend.Supports(DType.Float64) ? "yes" : "no")})");
        var dtypes = backend.Supports(DType.Float64) ? new[] { DType.Float32, DType.Float64 } : [DType.Float32];
        foreach (var dtype in dtypes)
        {
            foreach (var op in Enum.GetValues<UnaryOp>()) run.Check($"Unary {op} {dtype}", () => SelfCheckCases.Unary(backend, op, dtype));
            foreach (var op in Enum.GetValues<BinaryOp>()) run.Check($"Binary {op} {dtype}", () => SelfCheckCases.Binary(backend, op, dtype));
            run.Check($"Where {dtype}", () => SelfCheckCases.Where(backend, dtype));
            run.Check($"Reduce {dtype}", () => SelfCheckCases.Reduce(backend, dtype));
            run.Check($"MatMul {dtype}", () => SelfCheckCases.MatMul(backend, dtype));
            run.Check($"Softmax {dtype}", () => SelfCheckCases.Softmax(backend, dtype));
            run.Check($"LayerNorm {dtype}", () => SelfCheckCases.LayerNorm(backend, dtype));
            run.Check($"BatchNorm {dtype}", () => SelfCheckCases.BatchNorm(backend, dtype));
            run.Check($"Indexing {dtype}", () => SelfCheckCases.Indexing(backend, dtype));
            run.Check($"Random {dtype}", () => SelfCheckCases.Random(backend, dtype));
            run.Check($"Memory {dtype}", () => SelfCheckCases.Memory(backend, dtype));
            run.Check($"Knn {dtype}", () => HotKernelCases.Knn(backend, dtype));
            run.Check($"EdgeGather {dtype}", () => HotKernelCases.EdgeGather(backend, dtype));
            run.Check($"Segments {dtype}", () => HotKernelCases.Segments(backend, dtype));
            run.Check($"MaskedSoftmax {dtype}", () => HotKernelCases.MaskedSoftmax(backend, dtype));
            run.Check($"Attention {dtype}", () => HotKernelCases.Attention(backend, dtype));
        }
        log.WriteLine($"selfcheck: {run.Passed} passed, {run.Failed} failed ({backend.LoadedKernelCount} kernels loaded)");
        return new SelfCheckResult(run.Passed, run.Failed, run.Failures);
    }

    /// <summary>One labelled comparison produced by a case.</summary>
    internal readonly record struct Comparison(string Label, double[] Actual, double[] Expected, double Atol, double Rtol, bool AllowZero = false);

    private sealed class Runner(IlgpuBackend backend, TextWriter log)
    {
        public int Passed { get; private set; }
        public int Failed { get; private set; }
        public List<string> Failures { get; } = [];

        public void Check(string name, Func<IEnumerable<Comparison>> body)
        {
            var watch = Stopwatch.StartNew();
            string? failure = null;
            double maxDiff = 0;
            try
            {
                using (TensorScope.Begin())
                {
                    foreach (var c in body())
                    {
                        var (bad, diff) = Compare(c);
                        maxDiff = Math.Max(maxDiff, diff);
                        if (bad is not null)
                        {
                            failure = $"{c.Label}: {bad}";
                            break;
                        }
                    }
                }
                backend.Synchronize();
            }
            catch (Exception e)
            {
                failure = $"{e.GetType().Name}: {e.Message}";
            }
            if (failure is null)
            {
                Passed++;
                log.WriteLine($"  ok    {name,-28} max|diff| {maxDiff:G3}  {watch.ElapsedMilliseconds} ms");
            }
            else
            {
                Failed++;
                Failures.Add($"{name}: {failure}");
                log.WriteLine($"  FAIL  {name,-28} {failure}");
            }
        }

        // Mixed tolerance |a − e| ≤ atol + rtol·|e|; NaN/±∞ must match; an all-zero reference is refused.
        private static (string? Bad, double MaxDiff) Compare(Comparison c)
        {
            if (c.Actual.Length != c.Expected.Length) return ($"{c.Actual.Length} values, expected {c.Expected.Length}", 0);
            if (!c.AllowZero && c.Expected.Length > 0 && c.Expected.All(v => v == 0)) return ("reference is all zero (degenerate check)", 0);
            double maxDiff = 0;
            for (int i = 0; i < c.Expected.Length; i++)
            {
                double a = c.Actual[i], e = c.Expected[i];
                if (double.IsNaN(e) && double.IsNaN(a)) continue;
                if (double.IsInfinity(e) && a == e) continue;
                double diff = Math.Abs(a - e);
                if (double.IsNaN(diff) || diff > c.Atol + c.Rtol * Math.Abs(e))
                    return ($"[{i}] {a:R} vs {e:R} (atol {c.Atol}, rtol {c.Rtol})", diff);
                maxDiff = Math.Max(maxDiff, diff);
            }
            return (null, maxDiff);
        }
    }
}
