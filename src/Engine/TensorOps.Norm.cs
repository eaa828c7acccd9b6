namespace Hep.Engine;

public static partial class TensorOps
{
    /// <summary>Softmax or log-softmax along an axis.</summary>
    public static Tensor Softmax(Tensor x, int axis, bool log = false)
    {
        RequireFloating("Softmax", x);
        int a = x.Shape.NormalizeAxis(axis, "Softmax");
        if (a == x.Rank - 1)
        {
            using var dx = Contiguous(x);
            var y = Tensor.Zeros(x.Backend, x.Shape, x.DType);
            x.Backend.Norm.SoftmaxForward(dx, y, log);
            return y;
        }
        using var moved = x.Transpose(a, -1);
        using var ym = Softmax(moved, -1, log);
        using var back = ym.Transpose(a, -1);
        return Contiguous(back, forceCopy: true);
    }

    /// <summary>Gradient of softmax/log-softmax along an axis given its output y.</summary>
    public static Tensor SoftmaxBackward(Tensor y, Tensor gradY, int axis, bool log = false)
    {
        var backend = SameBackend("SoftmaxBackward", y, gradY);
        int a = y.Shape.NormalizeAxis(axis, "SoftmaxBackward");
        if (a == y.Rank - 1)
        {
            using var dy = Contiguous(y);
            using var dg = Contiguous(gradY);
            var gradX = Tensor.Zeros(backend, y.Shape, y.DType);
            backend.Norm.SoftmaxBackward(dy, dg, gradX, log);
            return gradX;
        }
        using var ym = y.Transpose(a, -1);
        using var gm = gradY.Transpose(a, -1);
        using var r = SoftmaxBackward(ym, gm, -1, log);
        using var back = r.Transpose(a, -1);
        return Contiguous(back, forceCopy: true);
    }
}
