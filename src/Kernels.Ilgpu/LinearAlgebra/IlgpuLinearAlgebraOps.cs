using ILGPU.Runtime;

namespace Hep.Kernels.Ilgpu;

/// <summary>Launcher for <see cref="GemmKernels"/> (plain and with a fused epilogue): validates the (batch, M, K)·(batch, K, N) contract and sizes the grid.</summary>
internal sealed class IlgpuLinearAlgebraOps(IlgpuBackend backend) : ILinearAlgebraOps
{
    public void MatMul(Tensor a, Tensor b, Tensor c, double beta = 0)
    {
        if (a.Rank != 3 || b.Rank != 3 || c.Rank != 3)
            throw new ArgumentException($"MatMul({backend.Name}): expects (batch, M, K)·(batch, K, N) → (batch, M, N), got {a.Shape}·{b.Shape} → {c.Shape}");
        if (!c.IsContiguous) throw new ArgumentException($"MatMul({backend.Name}): destination must be contiguous");
        if (beta != 0 && beta != 1) throw new BackendNotSupportedException("MatMul", backend.Name, $"beta = {beta} (only 0 or 1)");
        backend.RequireFloat("MatMul", c.DType);
        if (c.DType == DType.Float32) Run<float, F32>(a, b, c, beta == 1, null);
        else Run<double, F64>(a, b, c, beta == 1, null);
    }

    public void MatMulEpilogue(Tensor a, Tensor b, Tensor c, GemmEpilogue epilogue)
    {
        const string op = "MatMulEpilogue";
        if (a.Rank != 3 || b.Rank != 3 || c.Rank != 3)
            throw new ArgumentException($"{op}({backend.Name}): expects (batch, M, K)·(batch, K, N) → (batch, M, N), got {a.Shape}·{b.Shape} → {c.Shape}");
        if (!c.IsContiguous) throw new ArgumentException($"{op}({backend.Name}): destination must be contiguous");
        foreach (var v in new[] { epilogue.RowScale, epilogue.RowShift, epilogue.ColumnBias })
            if (v is not null && !v.IsContiguous) throw new ArgumentException($"{op}({backend.Name}): epilogue vectors must be contiguous");
        backend.RequireFloat(op, c.DType);
        if (c.DType == DType.Float32) Run<float, F32>(a, b, c, false, epilogue);
        else Run<double, F64>(a, b, c, false, epilogue);
    }

    private void Run<T, TS>(Tensor a, Tensor b, Tensor c, bool accumulate, GemmEpilogue? epilogue)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TS : struct, IKernelScalar<T>
    {
        int batch = c.Shape[0], m = c.Shape[1], n = c.Shape[2], k = a.Shape[2];
        if ((long)batch * m * n == 0) return;
        int side = backend.GemmThreadsPerSide, tile = side * LaunchMath.MicroTile;
        int tilesN = LaunchMath.CeilDiv(n, tile), tilesM = LaunchMath.CeilDiv(m, tile);
        var args = new GemmArgs
        {
            M = m, N = n, K = k, TilesN = tilesN, ThreadsPerSide = side,
            AOffset = a.Offset, ABatch = a.Shape[0] == 1 ? 0 : a.Strides[0], ARow = a.Strides[1], ACol = a.Strides[2],
            BOffset = b.Offset, BBatch = b.Shape[0] == 1 ? 0 : b.Strides[0], BRow = b.Strides[1], BCol = b.Strides[2],
            COffset = c.Offset, Accumulate = accumulate ? 1 : 0,
            HasRowScale = epilogue?.RowScale is null ? 0 : 1, HasRowShift = epilogue?.RowShift is null ? 0 : 1,
            HasColumnBias = epilogue?.ColumnBias is null ? 0 : 1,
            RowScaleOffset = epilogue?.RowScale?.Offset ?? 0, RowShiftOffset = epilogue?.RowShift?.Offset ?? 0,
            ColumnBiasOffset = epilogue?.ColumnBias?.Offset ?? 0,
            Activation = epilogue?.Activation switch { null or GemmActivation.None => 0, GemmActivation.Relu => 1, GemmActivation.Gelu => 2,
                var other => throw new BackendNotSupportedException("MatMulEpilogue", backend.Name, $"activation {other}") },
        };
        var kernel = backend.Kernels.Explicit<Action<AcceleratorStream, KernelConfig, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>,
            ArrayView<T>, ArrayView<T>, GemmArgs>>(GemmKernels.Gemm<T, TS>);
        var config = new KernelConfig(new Index2D(checked(tilesN * batch), tilesM), new Index2D(side * side, 1));
        var cView = IlgpuTensor.Whole<T>(c, backend, "MatMul");
        // Absent epilogue parts pass c's view (flagged off, never read).
        ArrayView<T> Part(Tensor? t) => t is null ? cView : IlgpuTensor.Whole<T>(t, backend, "MatMulEpilogue");
        kernel(backend.Stream, config, IlgpuTensor.Whole<T>(a, backend, "MatMul"), IlgpuTensor.Whole<T>(b, backend, "MatMul"),
            cView, Part(epilogue?.RowScale), Part(epilogue?.RowShift), Part(epilogue?.ColumnBias), args);
    }
}
