using Hep.Autograd;
using Hep.Engine;
using Hep.Models.Mlp;

namespace Hep.Cli.Training;

/// <summary>Settings of a training run (from the CLI flags), shared by every trainer.</summary>
public sealed record TabularSettings(int Epochs, int BatchSize, double LearningRate, double Momentum, double WeightDecay,
    string Optimizer, string Schedule, double LabelSmoothing, double ValFraction, int Seed, int[] Hidden, double Dropout,
    bool Resume = false, double FlipRate = 0, long ShuffleJets = 1_000_000);

/// <summary>
/// Trains the MLP classifier on a feature table (N, F): the split, standardisation and batches from
/// <see cref="TabularTrainingData"/>, the loop, metrics, checkpoints and resume from <see cref="EpochRunner"/>.
/// </summary>
public sealed class TabularTrainer(IBackend backend, TabularSettings settings, TextWriter log, string? expDir = null)
{
    /// <summary>Trains, then returns the validation metrics with the held-out rows (ids) and their class probabilities.</summary>
    public EvaluationResult Run(float[] features, int featureCount, int[] labels, string[] labelNames, string config = "")
    {
        var data = new TabularTrainingData(features, featureCount, labels, labelNames, settings.BatchSize, settings.ValFraction, settings.Seed);
        using var model = new MlpClassifier(backend, featureCount, settings.Hidden, labelNames.Length, settings.Dropout, seed: (ulong)settings.Seed);
        log.WriteLine($"model: MLP {featureCount} → [{string.Join(", ", settings.Hidden)}] → {labelNames.Length}, {model.ParameterCount:N0} parameters; " +
            $"{data.TrainRows} training / {labels.Length - data.TrainRows} validation rows; backend {backend.Name}");
        return new EpochRunner(backend, settings, log, expDir, "rows").Run(model, data,
            b => model.Forward(Variable.Constant(Tensor.FromArray<float>(backend, b.X, new Shape(b.Rows, featureCount)))), config);
    }
}
