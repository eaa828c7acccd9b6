using Hep.Models.ParticleNet;

namespace Hep.Models.Tests;

/// <summary>Trainable parameter counts of every model against the numbers in the issue and specs.</summary>
public class ParameterCountTests
{
    private static IBackend Cpu => Backends.Cpu;

    [TestCase(7, 2, ExpectedResult = 366_160L)]
    [TestCase(17, 10, ExpectedResult = 370_156L)]
    [TestCase(13, 10, ExpectedResult = 369_380L)]
    public long ParticleNet(int inputs, int classes)
    {
        using var model = new ParticleNet.ParticleNet(Cpu, ParticleNetConfig.Paper(inputs, classes));
        return model.ParameterCount;
    }

    [TestCase(7, 2, false, ExpectedResult = 26_416L)]
    [TestCase(17, 10, false, ExpectedResult = 28_428L)]
    [TestCase(7, 2, true, ExpectedResult = 47_152L)]
    public long ParticleNetLite(int inputs, int classes, bool fusion)
    {
        using var model = new ParticleNet.ParticleNet(Cpu, ParticleNetConfig.Lite(inputs, classes) with { UseFusion = fusion });
        return model.ParameterCount;
    }

    [Test]
    public void ParticleNetWithFusion()
    {
        using var model = new ParticleNet.ParticleNet(Cpu, ParticleNetConfig.Paper(17, 10) with { UseFusion = true });
        Assert.That(model.ParameterCount, Is.EqualTo(575_724L));
    }
}
