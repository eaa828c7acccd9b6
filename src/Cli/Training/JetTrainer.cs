using Hep.Cli.Data;
using Hep.Engine;

namespace Hep.Cli.Training;

/// <summary>
/// Trains and evaluates a particle-level model (ParticleNet, ParT, PFN) on padded jets from a
/// <see cref="IJetStore"/>: batches from <see cref="JetTrainingData"/> (split, shuffle, flips and
/// features on the background loader), the loop, checkpoints and resume from <see cref="EpochRunner"/>.
/// </summary>
public sealed class JetTrainer(IBackend backend, TabularSettings settings, TextWriter log)
{
    /// <summary>Trains; after every epoch writes last.ckpt and, when validation AUC improves, best.ckpt into <paramref name="expDir"/>.</summary>
    public EvaluationResult Run(JetModel model, IJetStore jets, IReadOnlyList<ProcessingCondition> conditions, string expDir, string config)
    {
        var data = Data(jets, conditions);
        log.WriteLine($"model: {model.Description}, {model.Module.ParameterCount:N0} parameters; ~{data.TrainRows} training / " +
            $"~{jets.Count - data.TrainRows} validation jets; {conditions.Count} inputs [{string.Join(", ", conditions.Select(c => c.Name))}]; backend {backend.Name}");
        return new EpochRunner(backend, settings, log, expDir, "jets").Run(model.Module, data, b => model.Forward(b.Upload(backend)), config);
    }

    /// <summary>Inference on every jet of a store: metrics, class probabilities (jets × classes), ids and observables.</summary>
    public EvaluationResult Predict(JetModel model, IJetStore jets, IReadOnlyList<ProcessingCondition> conditions) =>
        Evaluation.Run(model.Module, Data(jets, conditions).All(), b => model.Forward(b.Upload(backend)), jets.LabelNames);

    public JetTrainingData Data(IJetStore jets, IReadOnlyList<ProcessingCondition> conditions) =>
        new(jets, conditions, settings.BatchSize, settings.ValFraction, settings.Seed, settings.FlipRate, settings.ShuffleJets);
}
