namespace Hep.Models.Mlp;

/// <summary>
/// The tabular MLP of the users' HEPMASS article (seed 002): 28 inputs → 3 × [Linear(112) → ReLU] →
/// Linear(1), no BatchNorm or dropout (28,673 parameters). The single output is a logit: train it with
/// <c>Fn.BceWithLogits</c>, which folds in the article's sigmoid output layer.
/// </summary>
public static class HepmassMlp
{
    public const int Inputs = 28;
    public const int Hidden = 112;

    public static MlpClassifier Create(IBackend backend, ulong seed = 1, DType dtype = DType.Float32) =>
        new(backend, Inputs, [Hidden, Hidden, Hidden], classes: 1, dropout: 0, batchNorm: false, seed: seed, dtype: dtype);
}
