namespace Hep.TestSupport;

/// <summary>Shared tolerances: float32 kernels vs float64 references, and float64 vs float64.</summary>
public static class Tolerances
{
    public const double F32Atol = 1e-5;
    public const double F32Rtol = 1e-4;
    public const double F64Atol = 1e-12;
    public const double F64Rtol = 1e-10;
}
