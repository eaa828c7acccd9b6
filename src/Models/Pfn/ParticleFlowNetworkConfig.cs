namespace Hep.Models.Pfn;

/// <summary>
/// Particle Flow Network (Deep Sets) hyper-parameters as in particle_transformer's example_PFN.py
/// (JetClass benchmark): Φ widths (128, 128, 128), F widths (128, 128, 128), no input BatchNorm.
/// </summary>
public sealed record ParticleFlowNetworkConfig(int InputDims, int NumClasses)
{
    public IReadOnlyList<int> PhiSizes { get; init; } = [128, 128, 128];
    public IReadOnlyList<int> FSizes { get; init; } = [128, 128, 128];
    public bool UseInputBatchNorm { get; init; }
    public bool ForInference { get; init; }
}
