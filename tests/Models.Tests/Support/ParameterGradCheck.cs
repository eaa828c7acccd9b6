using Hep.Models.Nn;

namespace Hep.Models.Tests.Support;

/// <summary>
/// Float64 finite-difference check of a module's parameter gradients (the engine's GradCheck covers
/// inputs): L = Σ r ⊙ f() with a fixed random projection r; the analytic ∂L/∂θ from one backward is
/// compared with central differences (L(θ + h) − L(θ − h))/2h for every element (or a seeded sample of
/// at most <c>maxPerTensor</c> per tensor), |analytic − numeric| ≤ atol + rtol·|numeric|.
/// </summary>
internal static class ParameterGradCheck
{
    public static void AssertPasses(Module model, Func<Variable> forward, int maxPerTensor = 40, double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3, int seed = 7)
    {
        var parameters = model.NamedParameters().ToList();
        Assert.That(parameters.All(p => p.Parameter.DType == DType.Float64), "parameter gradcheck needs a float64 model");
        double[] r;
        double[][] analytic;
        using (var scope = TensorScope.Begin())
        {
            model.ZeroGrad();
            using var tape = Tape.Begin();
            var y = forward();
            var rng = new Random(seed);
            r = Enumerable.Range(0, (int)y.Data.Numel).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
            using var seedGrad = Tensor.FromArray<double>(y.Backend, r, y.Shape);
            tape.Backward(y, seedGrad);
            analytic = parameters.Select(p => p.Parameter.Grad?.ToArray<double>() ?? new double[p.Parameter.Data.Numel]).ToArray();
            model.ZeroGrad();
        }
        var failures = new List<string>();
        int checkedCount = 0;
        var pick = new Random(seed + 1);
        for (int t = 0; t < parameters.Count; t++)
        {
            var (name, p) = parameters[t];
            var values = p.Data.ToArray<double>();
            var indices = Enumerable.Range(0, values.Length).ToArray();
            if (indices.Length > maxPerTensor) indices = indices.OrderBy(_ => pick.Next()).Take(maxPerTensor).ToArray();
            foreach (int j in indices)
            {
                double saved = values[j];
                values[j] = saved + eps;
                double plus = Evaluate(p, values, forward, r);
                values[j] = saved - eps;
                double minus = Evaluate(p, values, forward, r);
                values[j] = saved;
                Upload(p, values);
                double numeric = (plus - minus) / (2 * eps);
                checkedCount++;
                if (!(Math.Abs(analytic[t][j] - numeric) <= atol + rtol * Math.Abs(numeric)) && failures.Count < 10)
                    failures.Add($"{name}[{j}]: analytic {analytic[t][j]:G8}, numeric {numeric:G8}");
            }
        }
        TestContext.Out.WriteLine($"parameter gradcheck: {checkedCount} elements of {parameters.Count} tensors");
        Assert.That(failures, Is.Empty, string.Join("\n", failures));
    }

    private static double Evaluate(Variable p, double[] values, Func<Variable> forward, double[] r)
    {
        Upload(p, values);
        using var noGrad = Tape.NoGrad();
        using var scope = TensorScope.Begin();
        var y = forward().Data.ToArray<double>();
        double s = 0;
        for (int i = 0; i < y.Length; i++) s += r[i] * y[i];
        return s;
    }

    private static void Upload(Variable p, double[] values)
    {
        using var scope = TensorScope.Begin();
        var t = Tensor.FromArray<double>(p.Backend, values, p.Shape);
        TensorOps.CopyInto(t, p.Data);
    }
}
