using Hep.Engine.Ops;

namespace Hep.TestSupport;

/// <summary>
/// The unary-op cases that the elementwise kernel, streaming and cross-backend tests share: every op, the
/// scalar parameters (alpha, beta) each is tested with, and which ops need positive inputs.
/// </summary>
public static class UnaryCases
{
    public static IEnumerable<UnaryOp> All => Enum.GetValues<UnaryOp>();

    /// <summary>Ops defined (or tested) on positive inputs only.</summary>
    public static bool PositiveDomain(UnaryOp op) => op is UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.Rsqrt or UnaryOp.PowScalar or UnaryOp.Reciprocal;

    /// <summary>The op's scalar parameters: the added or multiplied scalar, the exponent, the clamp range; (0, 0) for the rest.</summary>
    public static (double A, double B) Params(UnaryOp op) => op switch
    {
        UnaryOp.AddScalar => (0.75, 0),
        UnaryOp.MulScalar => (-1.5, 0),
        UnaryOp.PowScalar => (1.7, 0),
        UnaryOp.Clamp => (-0.3, 0.4),
        _ => (0, 0),
    };
}
