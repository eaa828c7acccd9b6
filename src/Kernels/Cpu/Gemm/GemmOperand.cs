namespace Hep.Kernels.Cpu.Gemm;

/// <summary>
/// A strided matrix operand inside a host array: element (batch, row, col) lives at
/// Offset + batch·BatchStride + row·RowStride + col·ColStride. Transposed and broadcast views are
/// just different strides, so GEMM never needs a materialised transpose.
/// </summary>
internal readonly record struct GemmOperand<T>(T[] Data, int Offset, int BatchStride, int RowStride, int ColStride)
{
    public int Index(int batch, int row, int col) => Offset + batch * BatchStride + row * RowStride + col * ColStride;
}
