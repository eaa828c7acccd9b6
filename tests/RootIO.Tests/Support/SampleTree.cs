// SampleTree: a deterministic tree with every writable branch type (seeded values, vectors of
// varying length including empty ones) used by the writer round-trip tests.
using Hep.RootIO.Writing;

namespace Hep.RootIO.Tests.Support;

internal sealed class SampleTree
{
    public static readonly BranchSpec[] Specs =
    [
        BranchSpec.Scalar("f32", RootValueType.Float32),
        BranchSpec.Scalar("f64", RootValueType.Float64),
        BranchSpec.Scalar("i32", RootValueType.Int32),
        BranchSpec.Scalar("i64", RootValueType.Int64),
        BranchSpec.Scalar("flag", RootValueType.Bool),
        BranchSpec.Vector("vf", RootValueType.Float32),
        BranchSpec.Vector("vi", RootValueType.Int32),
    ];

    public SampleTree(int entries, int seed, bool javascriptSafeInt64 = false)
    {
        var rng = new Random(seed);
        Entries = entries;
        F32 = new float[entries];
        F64 = new double[entries];
        I32 = new int[entries];
        I64 = new long[entries];
        Flag = new bool[entries];
        Offsets = new int[entries + 1];
        for (int i = 0; i < entries; i++)
        {
            F32[i] = (float)(rng.NextDouble() * 200 - 100);
            F64[i] = rng.NextDouble() * 1e6 - 5e5;
            I32[i] = rng.Next(int.MinValue, int.MaxValue);
            // jsroot 7.11 decodes negative int64 values wrongly when the low word is below 2^31 (it uses
            // JavaScript's signed ~ on it), so its round trip uses non-negative values below 2^53.
            I64[i] = javascriptSafeInt64 ? rng.NextInt64(0, 1L << 50) : rng.NextInt64(long.MinValue, long.MaxValue);
            Flag[i] = rng.Next(2) == 1;
            Offsets[i + 1] = Offsets[i] + rng.Next(0, 12);
        }
        VF = new float[Offsets[^1]];
        VI = new int[Offsets[^1]];
        for (int j = 0; j < VF.Length; j++)
        {
            VF[j] = (float)(rng.NextDouble() * 10 - 5);
            VI[j] = rng.Next(-1000, 1000);
        }
    }

    public int Entries { get; }
    public float[] F32 { get; }
    public double[] F64 { get; }
    public int[] I32 { get; }
    public long[] I64 { get; }
    public bool[] Flag { get; }
    public int[] Offsets { get; }
    public float[] VF { get; }
    public int[] VI { get; }

    /// <summary>Entries [start, start + count) as writer columns.</summary>
    public Dictionary<string, WriteColumn> Chunk(int start, int count)
    {
        int a = Offsets[start], b = Offsets[start + count];
        var off = Offsets.AsSpan(start, count + 1).ToArray().Select(o => o - a).ToArray();
        return new Dictionary<string, WriteColumn>
        {
            ["f32"] = WriteColumn.Scalars(F32.AsSpan(start, count).ToArray()),
            ["f64"] = WriteColumn.Scalars(F64.AsSpan(start, count).ToArray()),
            ["i32"] = WriteColumn.Scalars(I32.AsSpan(start, count).ToArray()),
            ["i64"] = WriteColumn.Scalars(I64.AsSpan(start, count).ToArray()),
            ["flag"] = WriteColumn.Scalars(Flag.AsSpan(start, count).ToArray()),
            ["vf"] = WriteColumn.Jagged(VF.AsSpan(a, b - a).ToArray(), off),
            ["vi"] = WriteColumn.Jagged(VI.AsSpan(a, b - a).ToArray(), off),
        };
    }

    /// <summary>Writes the tree in chunks of chunkSize entries.</summary>
    public void Write(string path, int chunkSize, int basketSize = 4096, int level = 1)
    {
        using var w = new RootTreeWriter(path, "sample", Specs, level, basketSize, "written by Hep.RootIO tests");
        for (int s = 0; s < Entries; s += chunkSize)
        {
            int n = Math.Min(chunkSize, Entries - s);
            w.Append(n, Chunk(s, n));
        }
        w.Complete();
    }
}
