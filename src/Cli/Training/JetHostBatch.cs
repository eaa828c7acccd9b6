using Hep.Engine;

namespace Hep.Cli.Training;

/// <summary>
/// A batch of padded jets on the host: features (B, C, P) standardised by the processing conditions,
/// kNN points (B, 2, P) = the first two feature channels, 4-vectors (B, 4, P), mask (B, 1, P).
/// </summary>
public sealed record JetHostBatch(int Rows, int Channels, int MaxParticles, float[] Features, float[] Points, float[] Vectors, float[] Mask,
    int[] Labels, long[] Ids, IReadOnlyDictionary<string, float[]> Observables) : IHostBatch
{
    public JetBatch Upload(IBackend backend) => new(
        Tensor.FromArray<float>(backend, Features, new Shape(Rows, Channels, MaxParticles)),
        Tensor.FromArray<float>(backend, Points, new Shape(Rows, 2, MaxParticles)),
        Tensor.FromArray<float>(backend, Vectors, new Shape(Rows, 4, MaxParticles)),
        Tensor.FromArray<float>(backend, Mask, new Shape(Rows, 1, MaxParticles)),
        Tensor.FromArray<int>(backend, Labels, new Shape(Rows)));
}
