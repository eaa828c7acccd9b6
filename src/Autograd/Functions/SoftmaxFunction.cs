namespace Hep.Autograd;

/// <summary>y = softmax(x) or log_softmax(x) along an axis; backward from y (backend row kernels).</summary>
internal sealed class SoftmaxFunction : Function
{
    private readonly Tensor _y;
    private readonly int _axis;
    private readonly bool _log;

    public SoftmaxFunction(Tensor y, int axis, bool log)
    {
        _y = Save(y);
        _axis = axis;
        _log = log;
    }

    public override string Name => _log ? "LogSoftmax" : "Softmax";

    public override Tensor?[] Backward(Tensor g, bool[] needs) => [TensorOps.SoftmaxBackward(_y, g, _axis, _log)];
}

public static partial class Fn
{
    public static Variable Softmax(Variable x, int axis = -1)
    {
        var y = TensorOps.Softmax(x.Data, axis);
        return Tape.Record(new SoftmaxFunction(y, axis, log: false), y, x);
    }

    public static Variable LogSoftmax(Variable x, int axis = -1)
    {
        var y = TensorOps.Softmax(x.Data, axis, log: true);
        return Tape.Record(new SoftmaxFunction(y, axis, log: true), y, x);
    }
}
