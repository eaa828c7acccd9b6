// VectorReadBenchmarks: reading the six vector<float> branches of a 100k-jet multi-basket file
// (full reader: file reads, decompression, offsets, byte swapping) against decompressing the very
// same baskets from memory (the floor any reader pays). The goal is Ratio <= 1.5 for the reader.
// The "MB/s payload" column divides the uncompressed basket payload by the mean time.
using BenchmarkDotNet.Attributes;
using Hep.RootIO.Compression;
using Hep.RootIO.Format;
using Hep.RootIO.Internal;
using Hep.RootIO.Trees;

namespace Hep.RootIO.Benchmarks;

[Config(typeof(ThroughputConfig))]
[MemoryDiagnoser]
public class VectorReadBenchmarks
{
    private string _dir = "";
    private RootFile? _file;
    private RootTree? _tree;
    private readonly List<(byte[] Raw, KeyHeader Key)> _baskets = new();
    private byte[] _scratch = [];

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("rootio-bench-").FullName;
        string path = BenchmarkData.Write(_dir);
        _file = RootFile.Open(path);
        _tree = _file.GetTree("tree");
        long payload = 0;
        var ctx = new ReadContext(path);
        foreach (var name in BenchmarkData.Branches)
        {
            foreach (var r in BasketLoader.List(_tree.GetBranch(name).Record, ctx))
            {
                byte[] raw = _file.Source.Read(r.Seek, r.Bytes, ctx);
                var key = KeyHeader.Read(new RootBuffer(raw, ctx));
                _baskets.Add((raw, key));
                payload += key.ObjLen;
            }
        }
        _scratch = new byte[_baskets.Max(b => b.Key.ObjLen)];
        ThroughputColumn.PayloadBytes = payload;
        File.WriteAllText(ThroughputColumn.PayloadFile, payload.ToString());
        // Validate once before timing: the reader returns what was written.
        var px = _tree.ReadColumn("part_px");
        if (px.EntryCount != BenchmarkData.Jets || px.Offsets![^1] != px.Values.Length)
            throw new InvalidOperationException("benchmark file does not read back correctly");
        Console.WriteLine($"// {_baskets.Count} baskets, {payload / 1e6:F1} MB uncompressed payload, file {new FileInfo(path).Length / 1e6:F1} MB");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _file?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "Decompress same baskets (memory)")]
    public int DecompressOnly()
    {
        int total = 0;
        var ctx = new ReadContext("bench");
        foreach (var (raw, key) in _baskets)
        {
            var dst = _scratch.AsSpan(0, key.ObjLen);
            if (key.IsCompressed) RootDecompressor.Decompress(raw, key.KeyLen, key.Nbytes - key.KeyLen, dst, ctx);
            else raw.AsSpan(key.KeyLen, key.ObjLen).CopyTo(dst);
            total += dst[^1];
        }
        return total;
    }

    [Benchmark(Description = "Read 6 vector<float> branches")]
    public long ReadVectorBranches()
    {
        long total = 0;
        foreach (var name in BenchmarkData.Branches) total += _tree!.ReadColumn(name).Values.Length;
        return total;
    }
}
