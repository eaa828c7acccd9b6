using Hep.Models.Tests.Reference;
using Hep.Models.Tests.Support;

namespace Hep.Models.Tests;

/// <summary>The kin-feature builder used by the training test against the golden cases' stored inputs.</summary>
public class FeatureTests
{
    [TestCase("pn_top_b8")]
    [TestCase("part_small_b4")]
    public void KinematicFeaturesReproduceTheGoldenInputs(string caseName)
    {
        var golden = GoldenCase.Load(caseName);
        var data = JetDataset.TopLandscape();
        var jets = ((long[])golden.Inputs["jet_index"].Data).Select(j => (int)j).ToArray();
        using var scope = TensorScope.Begin();
        var ours = data.FeaturesOf(Backends.Cpu, jets).ToArray<float>();
        var expected = (float[])golden.Inputs["features"].Data;
        double worst = ours.Zip(expected, (a, b) => Math.Abs(a - b)).Max();
        TestContext.Out.WriteLine($"{caseName}: max |feature diff| {worst:E2}");
        Assert.That(worst, Is.LessThanOrEqualTo(1e-6));
        Assert.That(data.LabelsOf(Backends.Cpu, jets).ToArray<int>(), Is.EqualTo(((long[])golden.Inputs["labels"].Data).Select(l => (int)l)));
    }
}
