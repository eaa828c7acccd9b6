using Hep.Autograd;
using Hep.Cli.Options;
using Hep.Models.Optim;

namespace Hep.Cli.Training;

/// <summary>Optimiser and learning-rate schedule from the CLI flags (shared by every trainer).</summary>
public static class OptimizerSetup
{
    public static Optimizer Create(string name, IEnumerable<Variable> parameters, double learningRate, double momentum, double weightDecay) => name switch
    {
        "sgd" => new Sgd(parameters, learningRate, momentum, weightDecay),
        "adamw" => new AdamW(parameters, learningRate, weightDecay: weightDecay),
        // weaver's default: RAdam + Lookahead with β = (0.95, 0.999), ε = 1e-5, k = 6, α = 0.5; decay as weaver's RAdam.
        "ranger" => new Ranger(parameters, learningRate, weightDecay: weightDecay),
        _ => throw new CliException($"flag --optimizer: unknown optimiser '{name}' (sgd | adamw | ranger)"),
    };

    public static ILrSchedule Schedule(string name, double learningRate, int epochs) => name switch
    {
        "constant" => new ConstantLr(learningRate),
        "cosine" => new CosineLr(learningRate, epochs),
        "step" => new StepLr(learningRate, [Math.Max(1, epochs * 2 / 3)]),
        "flat+decay" => new FlatDecayLr(learningRate, epochs),
        _ => throw new CliException($"flag --lr_schedule: unknown schedule '{name}' (constant | step | cosine | flat+decay)"),
    };
}
