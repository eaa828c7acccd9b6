using Hep.Autograd;
using Hep.Cli.Options;
using Hep.Cli.Training;
using Hep.Engine;
using Hep.Kernels.Cpu;
using Hep.Models.Optim;

namespace Hep.Cli.Tests;

public class OptimizerSetupTests
{
    [Test]
    public void CreatesEveryNamedOptimiser()
    {
        using var p = Variable.Parameter(Tensor.FromArray<float>(CpuBackend.Shared, [1f, 2f], new Shape(2)));
        using var sgd = OptimizerSetup.Create("sgd", [p], 0.1, 0.9, 0);
        using var adamw = OptimizerSetup.Create("adamw", [p], 0.1, 0.9, 0);
        using var ranger = OptimizerSetup.Create("ranger", [p], 0.1, 0.9, 0);
        Assert.That((sgd, adamw, ranger), Is.EqualTo((sgd as Sgd, adamw as AdamW, ranger as Ranger)));
        var r = (Ranger)ranger;
        Assert.That((r.LookaheadSteps, r.LookaheadAlpha, r.LearningRate), Is.EqualTo((6, 0.5, 0.1)));
        var error = Assert.Throws<CliException>(() => OptimizerSetup.Create("lamb", [p], 0.1, 0.9, 0));
        Assert.That(error!.Message, Does.Contain("'lamb'").And.Contain("ranger"));
    }
}
