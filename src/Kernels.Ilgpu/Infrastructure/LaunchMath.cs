namespace Hep.Kernels.Ilgpu;

/// <summary>
/// Launch geometry shared by the explicitly grouped kernels. Group sizes adapt to the accelerator:
/// 256 threads on GPUs; ILGPU's CPU accelerator allows 16, which is what CI exercises, so every
/// group kernel is written for any power-of-two group size up to <see cref="MaxGroupSize"/>.
/// </summary>
internal static class LaunchMath
{
    /// <summary>Largest group used; static shared-memory scratch arrays are sized by it.</summary>
    public const int MaxGroupSize = 256;

    /// <summary>GEMM register micro-tile: each thread computes MicroTile × MicroTile outputs.</summary>
    public const int MicroTile = 4;

    /// <summary>GEMM K-panel depth staged in shared memory per barrier pair.</summary>
    public const int GemmPanelK = 16;

    /// <summary>Largest GEMM output tile side (16 threads × 4 outputs).</summary>
    public const int MaxGemmTile = 64;

    /// <summary>Power-of-two group size for row/channel reductions: min(256, device limit).</summary>
    public static int RowGroupSize(int maxThreadsPerGroup)
    {
        int g = 1;
        while (g * 2 <= Math.Min(MaxGroupSize, maxThreadsPerGroup)) g *= 2;
        return g;
    }

    /// <summary>Threads per side of the square GEMM group (16 on GPUs, 4 on the CPU accelerator).</summary>
    public static int GemmThreadsPerSide(int maxThreadsPerGroup)
    {
        int t = 1;
        while ((t * 2) * (t * 2) <= maxThreadsPerGroup && t * 2 * MicroTile <= MaxGemmTile) t *= 2;
        return t;
    }

    public static int CeilDiv(int a, int b) => (a + b - 1) / b;
}
