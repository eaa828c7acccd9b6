using Hep.Models.Nn;

namespace Hep.Models.Tests;

/// <summary>
/// <see cref="Linear.Apply"/> without a tape (one GEMM with the bias / ReLU in its epilogue, GELU in place)
/// against the recorded path (Fn.Linear then the activation op) on a rank-3 input, in float32 and float64.
/// </summary>
public class LinearInferenceTests
{
    [Test]
    public void InferencePathEqualsTheRecordedOne([Values] GemmActivation activation, [Values(DType.Float32, DType.Float64)] DType dtype)
    {
        var cpu = Backends.Cpu;
        using var scope = TensorScope.Begin();
        using var layer = new Linear(cpu, 37, 21, seed: 3, dtype: dtype);
        var data = Rand.Doubles(5, 3 * 11 * 37, -2, 2);
        var x = Operands.FromDoubles(cpu, data, new Shape(3, 11, 37), dtype);
        Variable inference, recorded;
        using (Tape.NoGrad()) inference = layer.Forward(Variable.Constant(x), activation);
        using (Tape.Begin()) recorded = layer.Forward(Variable.Constant(x), activation);
        Assert.That(recorded.RequiresGrad, "the recorded path keeps the graph");
        Assert.That(inference.Shape, Is.EqualTo(new Shape(3, 11, 21)));
        double tol = dtype == DType.Float32 ? 1e-5 : 1e-12;
        TensorAssert.Close(inference.Data, recorded.Data, tol, tol, $"{activation} {dtype}");
        if (activation == GemmActivation.Relu) Assert.That(inference.Data.ToDoubleArray().Min(), Is.EqualTo(0.0), "ReLU applied");
    }
}
