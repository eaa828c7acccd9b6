namespace Hep.Models.Optim;

/// <summary>Learning rate as a function of progress (epoch and fraction of the epoch done).</summary>
public interface ILrSchedule
{
    double At(double epoch);
}

/// <summary>Constant learning rate.</summary>
public sealed record ConstantLr(double LearningRate) : ILrSchedule
{
    public double At(double epoch) => LearningRate;
}

/// <summary>Multiplies by <paramref name="Gamma"/> at each milestone epoch (PyTorch MultiStepLR).</summary>
public sealed record StepLr(double LearningRate, int[] Milestones, double Gamma = 0.1) : ILrSchedule
{
    public double At(double epoch) => LearningRate * Math.Pow(Gamma, Milestones.Count(m => epoch >= m));
}

/// <summary>Cosine annealing from the base rate to <paramref name="Minimum"/> over <paramref name="Epochs"/>.</summary>
public sealed record CosineLr(double LearningRate, double Epochs, double Minimum = 0) : ILrSchedule
{
    public double At(double epoch) => Minimum + (LearningRate - Minimum) * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(epoch / Epochs, 1)));
}

/// <summary>
/// weaver's "flat+decay": constant for the first 70% of training, then exponential decay to 1% of the
/// base rate at the end.
/// </summary>
public sealed record FlatDecayLr(double LearningRate, double Epochs, double FlatFraction = 0.7, double FinalFactor = 0.01) : ILrSchedule
{
    public double At(double epoch)
    {
        double start = FlatFraction * Epochs;
        if (epoch < start) return LearningRate;
        double frac = Math.Min((epoch - start) / Math.Max(Epochs - start, 1e-9), 1);
        return LearningRate * Math.Pow(FinalFactor, frac);
    }
}
