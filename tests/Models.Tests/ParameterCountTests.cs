using Hep.Models.ParticleNet;
using Hep.Models.ParticleTransformer;

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

    [TestCase(17, 10, ExpectedResult = 2_143_486L)]
    [TestCase(13, 10, ExpectedResult = 2_142_958L)]
    [TestCase(7, 10, ExpectedResult = 2_142_166L)]
    [TestCase(7, 2, ExpectedResult = 2_141_134L)]
    public long ParticleTransformer(int inputs, int classes)
    {
        using var model = new ParticleTransformer.ParticleTransformer(Cpu, new ParticleTransformerConfig(inputs, classes));
        return model.ParameterCount;
    }

    [Test]
    public void ParticleTransformerPlain()
    {
        using var model = new ParticleTransformer.ParticleTransformer(Cpu, ParticleTransformerConfig.Plain(17, 10));
        Assert.That(model.ParameterCount, Is.EqualTo(2_133_918L));
    }

    [Test]
    public void ParticleTransformerSmallGoldenConfiguration()
    {
        using var model = new ParticleTransformer.ParticleTransformer(Cpu, new ParticleTransformerConfig(7, 2) { NumHeads = 4, NumLayers = 4 });
        Assert.That(model.ParameterCount, Is.EqualTo(1_342_090L));
    }
}
