// JetNpySet: the four arrays of a padded jet dataset as found in a folder (*_pf_vectors.npy
// (N,4,P) px/py/pz/E, *_pf_points.npy (N,2,P) deta/dphi, *_pf_mask.npy (N,1,P), *_labels.npy),
// validated for consistent shapes, plus the label scheme derived from the labels' shape:
//   (N,)   0/1 -> label_QCD / label_Top (top tagging, 1 = top)
//   (N,10) one-hot in JetClass order -> label_QCD label_Hbb ... label_Tbl
//   (N,K)  other one-hot -> label_0 ... label_{K-1}
namespace Hep.RootIO.Conversion;

public sealed class JetNpySet
{
    private static readonly string[] JetClassLabels =
        ["QCD", "Hbb", "Hcc", "Hgg", "H4q", "Hqql", "Zqq", "Wqq", "Tbqq", "Tbl"];

    private JetNpySet(NpyArray vectors, NpyArray points, NpyArray mask, NpyArray labels)
    {
        Vectors = vectors.As<float>();
        Points = points.As<float>();
        Mask = mask.As<float>();
        Jets = vectors.Shape[0];
        MaxParticles = vectors.Shape[2];
        if (labels.Shape.Count == 1)
        {
            LabelNames = ["label_QCD", "label_Top"];
            LabelIndex = new int[Jets];
            for (int i = 0; i < Jets; i++)
            {
                double v = labels.GetDouble(i);
                if (v is not (0 or 1)) throw new InvalidDataException($"{labels.Path}: label {v} of jet {i} is not 0 or 1");
                LabelIndex[i] = (int)v;
            }
        }
        else
        {
            int k = labels.Shape[1];
            LabelNames = (k == JetClassLabels.Length ? JetClassLabels : Enumerable.Range(0, k).Select(c => c.ToString()))
                .Select(n => "label_" + n).ToArray();
            LabelIndex = new int[Jets];
            for (int i = 0; i < Jets; i++)
            {
                int hot = -1;
                for (int c = 0; c < k; c++)
                {
                    double v = labels.GetDouble((long)i * k + c);
                    if (v == 1 && hot < 0) hot = c;
                    else if (v != 0) throw new InvalidDataException($"{labels.Path}: row {i} is not one-hot");
                }
                if (hot < 0) throw new InvalidDataException($"{labels.Path}: row {i} has no class set");
                LabelIndex[i] = hot;
            }
        }
    }

    public int Jets { get; }
    public int MaxParticles { get; }
    public float[] Vectors { get; }
    public float[] Points { get; }
    public float[] Mask { get; }
    public string[] LabelNames { get; }
    public int[] LabelIndex { get; }

    public static JetNpySet Load(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"npy folder not found: {folder}");
        var vectors = NpyArray.Load(Find(folder, "_pf_vectors.npy"));
        var points = NpyArray.Load(Find(folder, "_pf_points.npy"));
        var mask = NpyArray.Load(Find(folder, "_pf_mask.npy"));
        var labels = NpyArray.Load(Find(folder, "_labels.npy"));
        Expect(vectors, 3, 1, 4);
        int n = vectors.Shape[0], p = vectors.Shape[2];
        Expect(points, 3, 1, 2);
        Expect(mask, 3, 1, 1);
        foreach (var a in new[] { points, mask })
            if (a.Shape[0] != n || a.Shape[2] != p)
                throw new InvalidDataException($"{a.Path}: shape ({string.Join(",", a.Shape)}) does not match {vectors.Path} ({n},4,{p})");
        foreach (var a in new[] { vectors, points, mask })
            if (a.ValueType != RootValueType.Float32) throw new InvalidDataException($"{a.Path}: expected float32, found {a.ValueType}");
        if (labels.Shape.Count is < 1 or > 2 || labels.Shape[0] != n)
            throw new InvalidDataException($"{labels.Path}: expected shape ({n},) or ({n},K), found ({string.Join(",", labels.Shape)})");
        return new JetNpySet(vectors, points, mask, labels);
    }

    private static void Expect(NpyArray a, int rank, int axis, int size)
    {
        if (a.Shape.Count != rank || a.Shape[axis] != size)
            throw new InvalidDataException($"{a.Path}: expected a rank-{rank} array with {size} channels on axis {axis}, found ({string.Join(",", a.Shape)})");
    }

    private static string Find(string folder, string suffix)
    {
        var hits = Directory.GetFiles(folder, "*" + suffix);
        return hits.Length switch
        {
            1 => hits[0],
            0 => throw new FileNotFoundException($"no *{suffix} file in {folder}"),
            _ => throw new InvalidDataException($"several *{suffix} files in {folder}: {string.Join(", ", hits.Select(Path.GetFileName))}"),
        };
    }
}
