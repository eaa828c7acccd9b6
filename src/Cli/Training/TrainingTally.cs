using Hep.Autograd;
using Hep.Engine;
using Hep.Engine.Ops;

namespace Hep.Cli.Training;

/// <summary>
/// Running loss and accuracy of an epoch, accumulated on the device: a training step only queues
/// ops (no host read, so a GPU stream is never stalled per step); <see cref="Read"/> synchronises
/// once, when the caller reports progress.
/// </summary>
public sealed class TrainingTally : IDisposable
{
    private readonly Tensor _lossSum;
    private readonly Tensor _correct;

    public TrainingTally(IBackend backend)
    {
        _lossSum = Tensor.Zeros(backend, new Shape()).DetachFromScope();
        _correct = Tensor.Zeros(backend, new Shape()).DetachFromScope();
    }

    /// <summary>Number of items added so far.</summary>
    public int Seen { get; private set; }

    /// <summary>Adds a batch: its mean loss (weighted by the batch size) and its correct argmax predictions.</summary>
    public void Add(Variable meanLoss, Variable logits, Tensor labels)
    {
        int rows = labels.Shape[0];
        using var scope = TensorScope.Begin();
        TensorOps.AddInPlace(_lossSum, meanLoss.Data, rows);
        var predicted = TensorOps.Cast(TensorOps.ArgMax(logits.Data, 1), DType.Float32);
        var truth = TensorOps.Cast(labels, DType.Float32);
        TensorOps.AddInPlace(_correct, TensorOps.SumAll(TensorOps.Binary(BinaryOp.Equal, predicted, truth)));
        Seen += rows;
    }

    /// <summary>Mean loss and accuracy over everything added (one host read).</summary>
    public (double Loss, double Accuracy) Read() =>
        Seen == 0 ? (0, 0) : (_lossSum.Item() / Seen, _correct.Item() / Seen);

    public void Dispose()
    {
        _lossSum.Dispose();
        _correct.Dispose();
    }
}
