// JetNpyToRoot: converts a padded .npy jet dataset (top tagging / JetClass subsets) into a ROOT
// file in the JetClass (weaver) layout, one entry per jet:
//   part_px part_py part_pz part_energy part_deta part_dphi   vector<float>, real particles only (mask = 1)
//   jet_pt jet_eta jet_phi jet_energy jet_nparticles           float, jet = sum of its particles
//   label_*                                                    bool, one-hot
// Public entry point for the CLI's converter command.
using Hep.RootIO.Writing;

namespace Hep.RootIO.Conversion;

public static class JetNpyToRoot
{
    public static readonly string[] ParticleBranches = ["part_px", "part_py", "part_pz", "part_energy", "part_deta", "part_dphi"];
    public static readonly string[] JetBranches = ["jet_pt", "jet_eta", "jet_phi", "jet_energy", "jet_nparticles"];

    public static ConversionSummary Convert(string npyFolder, string outputRootFile, string treeName = "tree",
        int chunkSize = 500, int compressionLevel = 1)
    {
        if (chunkSize <= 0) throw new ArgumentOutOfRangeException(nameof(chunkSize), "must be positive");
        var set = JetNpySet.Load(npyFolder);
        var specs = ParticleBranches.Select(b => BranchSpec.Vector(b, RootValueType.Float32))
            .Concat(JetBranches.Select(b => BranchSpec.Scalar(b, RootValueType.Float32)))
            .Concat(set.LabelNames.Select(b => BranchSpec.Scalar(b, RootValueType.Bool)))
            .ToList();

        long particles = 0;
        int maxPerJet = 0;
        using (var writer = new RootTreeWriter(outputRootFile, treeName, specs, compressionLevel))
        {
            for (int start = 0; start < set.Jets; start += chunkSize)
            {
                int n = Math.Min(chunkSize, set.Jets - start);
                var chunk = BuildChunk(set, start, n, out long chunkParticles, out int chunkMax);
                particles += chunkParticles;
                maxPerJet = Math.Max(maxPerJet, chunkMax);
                writer.Append(n, chunk);
            }
            writer.Complete();
        }

        var perLabel = set.LabelNames.Select((name, c) => (name, count: set.LabelIndex.Count(l => l == c)))
            .ToDictionary(x => x.name, x => x.count);
        return new ConversionSummary(Path.GetFullPath(npyFolder), Path.GetFullPath(outputRootFile), treeName, set.Jets,
            particles, maxPerJet, specs.Select(s => s.Name).ToList(), set.LabelNames, perLabel, new FileInfo(outputRootFile).Length);
    }

    private static Dictionary<string, WriteColumn> BuildChunk(JetNpySet set, int start, int n, out long particles, out int maxPerJet)
    {
        int p = set.MaxParticles;
        var offsets = new int[n + 1];
        for (int j = 0; j < n; j++)
        {
            int count = 0;
            for (int k = 0; k < p; k++) if (set.Mask[(long)(start + j) * p + k] > 0.5f) count++;
            offsets[j + 1] = offsets[j] + count;
        }
        particles = offsets[n];
        var parts = ParticleBranches.Select(_ => new float[offsets[n]]).ToArray();
        var jet = JetBranches.Select(_ => new float[n]).ToArray();
        var labels = set.LabelNames.Select(_ => new bool[n]).ToArray();
        maxPerJet = 0;
        for (int j = 0; j < n; j++)
        {
            long jetIndex = start + j;
            int w = offsets[j];
            double sx = 0, sy = 0, sz = 0, se = 0;
            for (int k = 0; k < p; k++)
            {
                if (set.Mask[jetIndex * p + k] <= 0.5f) continue;
                for (int c = 0; c < 4; c++) parts[c][w] = set.Vectors[(jetIndex * 4 + c) * p + k];
                parts[4][w] = set.Points[(jetIndex * 2) * p + k];
                parts[5][w] = set.Points[(jetIndex * 2 + 1) * p + k];
                sx += parts[0][w];
                sy += parts[1][w];
                sz += parts[2][w];
                se += parts[3][w];
                w++;
            }
            double pt = Math.Sqrt(sx * sx + sy * sy);
            jet[0][j] = (float)pt;
            jet[1][j] = pt > 0 ? (float)Math.Asinh(sz / pt) : 0f;
            jet[2][j] = (float)Math.Atan2(sy, sx);
            jet[3][j] = (float)se;
            jet[4][j] = offsets[j + 1] - offsets[j];
            maxPerJet = Math.Max(maxPerJet, offsets[j + 1] - offsets[j]);
            labels[set.LabelIndex[jetIndex]][j] = true;
        }
        var chunk = new Dictionary<string, WriteColumn>(StringComparer.Ordinal);
        for (int b = 0; b < ParticleBranches.Length; b++) chunk[ParticleBranches[b]] = WriteColumn.Jagged(parts[b], offsets);
        for (int b = 0; b < JetBranches.Length; b++) chunk[JetBranches[b]] = WriteColumn.Scalars(jet[b]);
        for (int b = 0; b < labels.Length; b++) chunk[set.LabelNames[b]] = WriteColumn.Scalars(labels[b]);
        return chunk;
    }
}
