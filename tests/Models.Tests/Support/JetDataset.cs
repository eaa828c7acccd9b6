using Hep.RootIO.Conversion;

namespace Hep.Models.Tests.Support;

/// <summary>
/// A shared jet subset (.npy: pf_points, pf_vectors, pf_mask, labels) with the kin features rebuilt,
/// sliced into engine tensors by jet index.
/// </summary>
internal sealed class JetDataset
{
    private JetDataset(float[] points, float[] vectors, float[] mask, int[] labels, int jets, int slots)
    {
        Points = points;
        Vectors = vectors;
        Mask = mask;
        Labels = labels;
        Jets = jets;
        Slots = slots;
        Features = KinematicFeatures.Build(vectors, points, mask, jets, slots);
    }

    public float[] Points { get; }
    public float[] Vectors { get; }
    public float[] Mask { get; }
    public float[] Features { get; }
    public int[] Labels { get; }
    public int Jets { get; }
    public int Slots { get; }

    /// <summary>TopLandscape subset; labels in weaver's order [is_top, is_QCD]: 0 = top, 1 = QCD.</summary>
    public static JetDataset TopLandscape()
    {
        string F(string name) => SharedFiles.Data("toptagging-toplandscape-2k", name);
        var labels = NpyArray.Load(F("tl_labels.npy")).As<long>().Select(l => l == 1 ? 0 : 1).ToArray();
        return Load(F("tl_pf_points.npy"), F("tl_pf_vectors.npy"), F("tl_pf_mask.npy"), labels);
    }

    /// <summary>JetClass H→bb subset (all label 1 = Hbb in JetClass order).</summary>
    public static JetDataset JetClassHbb()
    {
        string F(string name) => SharedFiles.Data("jetclass-hbb-2k", name);
        var onehot = NpyArray.Load(F("jc_kin_labels.npy")).As<long>();
        var labels = Enumerable.Range(0, onehot.Length / 10).Select(i => Array.IndexOf(onehot, 1L, i * 10, 10) - i * 10).ToArray();
        return Load(F("jc_kin_pf_points.npy"), F("jc_kin_pf_vectors.npy"), F("jc_kin_pf_mask.npy"), labels);
    }

    private static JetDataset Load(string points, string vectors, string mask, int[] labels)
    {
        var p = NpyArray.Load(points);
        return new JetDataset(p.As<float>(), NpyArray.Load(vectors).As<float>(), NpyArray.Load(mask).As<float>(), labels, p.Shape[0], p.Shape[2]);
    }

    public Tensor PointsOf(IBackend backend, int[] jets) => Gather(backend, Points, 2, jets);
    public Tensor VectorsOf(IBackend backend, int[] jets) => Gather(backend, Vectors, 4, jets);
    public Tensor MaskOf(IBackend backend, int[] jets) => Gather(backend, Mask, 1, jets);
    public Tensor FeaturesOf(IBackend backend, int[] jets) => Gather(backend, Features, KinematicFeatures.Count, jets);
    public Tensor LabelsOf(IBackend backend, int[] jets) => Tensor.FromArray<int>(backend, jets.Select(j => Labels[j]).ToArray(), new Shape(jets.Length));

    private Tensor Gather(IBackend backend, float[] source, int channels, int[] jets)
    {
        int row = channels * Slots;
        var data = new float[jets.Length * row];
        for (int i = 0; i < jets.Length; i++) Array.Copy(source, (long)jets[i] * row, data, (long)i * row, row);
        return Tensor.FromArray<float>(backend, data, new Shape(jets.Length, channels, Slots));
    }
}
