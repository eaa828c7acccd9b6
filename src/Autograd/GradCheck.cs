namespace Hep.Autograd;

/// <summary>Outcome of a gradient check: pass/fail, the worst error and a per-input report.</summary>
public sealed record GradCheckResult(bool Passed, double MaxAbsError, string Report)
{
    public override string ToString() => Report;
}

/// <summary>
/// Finite-difference gradient check in float64 (PyTorch gradcheck semantics). The function's output is
/// projected onto a fixed random direction r, L(x) = Σ r ⊙ f(x), so every output element is checked at
/// once; the analytic ∂L/∂x from one backward (seeded with r) is compared with central differences
/// (L(x + h·eⱼ) − L(x − h·eⱼ))/2h element by element, |analytic − numeric| ≤ atol + rtol·|numeric|.
/// Also checks that a second backward reproduces the first (reentrancy) and that gradient shapes match.
/// </summary>
public static class GradCheck
{
    public static GradCheckResult Check(Func<Variable[], Variable> f, IReadOnlyList<Tensor> inputs, bool[]? requiresGrad = null,
        double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3, int seed = 1234)
    {
        var needs = requiresGrad ?? inputs.Select(t => t.DType.IsFloating()).ToArray();
        foreach (var t in inputs)
        {
            if (t.DType.IsFloating() && t.DType != DType.Float64)
                throw new ArgumentException($"GradCheck: inputs must be Float64, got {t.DType}");
        }
        var backend = inputs[0].Backend;
        var host = inputs.Select(t => t.DType == DType.Float64 ? t.ToArray<double>() : null).ToArray();
        var report = new System.Text.StringBuilder();
        bool passed = true;
        double maxErr = 0;

        // Projection direction r, shaped like the output.
        Shape outShape;
        using (Tape.NoGrad())
        using (TensorScope.Begin())
        {
            outShape = f(Wrap(backend, inputs, host, needs, asParameters: false)).Shape;
        }
        var rng = new Random(seed);
        var r = Enumerable.Range(0, (int)outShape.Numel).Select(_ => rng.NextDouble() * 2 - 1).ToArray();

        var analytic = Analytic(f, backend, inputs, host, needs, outShape, r);
        var again = Analytic(f, backend, inputs, host, needs, outShape, r);
        for (int i = 0; i < inputs.Count; i++)
        {
            if (!needs[i]) continue;
            for (int j = 0; j < analytic[i].Length; j++)
            {
                if (Math.Abs(analytic[i][j] - again[i][j]) > 1e-12 * (1 + Math.Abs(analytic[i][j])))
                {
                    passed = false;
                    report.AppendLine($"input {i}: backward is not reentrant at [{j}] ({analytic[i][j]:R} vs {again[i][j]:R})");
                    break;
                }
            }
            int mismatches = 0;
            var x = host[i]!;
            for (int j = 0; j < x.Length; j++)
            {
                double saved = x[j];
                x[j] = saved + eps;
                double plus = Evaluate(f, backend, inputs, host, needs, r);
                x[j] = saved - eps;
                double minus = Evaluate(f, backend, inputs, host, needs, r);
                x[j] = saved;
                double numeric = (plus - minus) / (2 * eps);
                double err = Math.Abs(analytic[i][j] - numeric);
                maxErr = Math.Max(maxErr, err);
                if (!(err <= atol + rtol * Math.Abs(numeric)))
                {
                    passed = false;
                    if (mismatches++ < 5) report.AppendLine($"input {i} [{j}]: analytic {analytic[i][j]:G10} numeric {numeric:G10}");
                }
            }
            if (mismatches > 5) report.AppendLine($"input {i}: {mismatches} mismatching elements in total");
        }
        report.Insert(0, $"gradcheck {(passed ? "passed" : "FAILED")}: max |analytic − numeric| = {maxErr:G3}\n");
        return new GradCheckResult(passed, maxErr, report.ToString());
    }

    private static double[][] Analytic(Func<Variable[], Variable> f, IBackend backend, IReadOnlyList<Tensor> inputs, double[]?[] host,
        bool[] needs, Shape outShape, double[] r)
    {
        var result = new double[inputs.Count][];
        using var scope = TensorScope.Begin();
        var vars = Wrap(backend, inputs, host, needs, asParameters: true);
        try
        {
            using (var tape = Tape.Begin())
            {
                var y = f(vars);
                if (y.Shape != outShape) throw new InvalidOperationException($"GradCheck: output shape changed ({y.Shape} vs {outShape})");
                if (!y.RequiresGrad) throw new InvalidOperationException("GradCheck: output does not depend on any input that requires a gradient");
                using var seedGrad = Tensor.FromArray<double>(backend, r, outShape);
                tape.Backward(y, seedGrad);
            }
            for (int i = 0; i < vars.Length; i++)
            {
                if (!needs[i]) continue;
                var g = vars[i].Grad;
                if (g is not null && g.Shape != vars[i].Shape) throw new InvalidOperationException($"GradCheck: gradient {g.Shape} for input {i} of shape {vars[i].Shape}");
                result[i] = g?.ToArray<double>() ?? new double[inputs[i].Numel];
            }
        }
        finally
        {
            foreach (var v in vars) v.ZeroGrad();
        }
        return result;
    }

    private static double Evaluate(Func<Variable[], Variable> f, IBackend backend, IReadOnlyList<Tensor> inputs, double[]?[] host, bool[] needs, double[] r)
    {
        using var noGrad = Tape.NoGrad();
        using var scope = TensorScope.Begin();
        var y = f(Wrap(backend, inputs, host, needs, asParameters: false)).Data.ToArray<double>();
        double s = 0;
        for (int k = 0; k < y.Length; k++) s += r[k] * y[k];
        return s;
    }

    // Fresh tensors from the (possibly perturbed) host copies; integer inputs are passed through.
    private static Variable[] Wrap(IBackend backend, IReadOnlyList<Tensor> inputs, double[]?[] host, bool[] needs, bool asParameters)
    {
        var vars = new Variable[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            var data = host[i] is null ? inputs[i].Alias() : Tensor.FromArray<double>(backend, host[i], inputs[i].Shape);
            vars[i] = new Variable(data, requiresGrad: asParameters && needs[i]);
        }
        return vars;
    }
}
