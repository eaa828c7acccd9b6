namespace Hep.Cli.Data;

/// <summary>A block of jets read together, with each jet's dataset-wide id (entry number across the files) and its observables.</summary>
public sealed record JetChunk(JetSet Jets, long[] Ids, IReadOnlyDictionary<string, float[]> Observables)
{
    /// <summary>The jets at the given local rows, compacted into a new chunk.</summary>
    public JetChunk Select(IReadOnlyList<int> rows) =>
        new(Jets.Select(rows), rows.Select(r => Ids[r]).ToArray(), Observables.ToDictionary(kv => kv.Key, kv => rows.Select(r => kv.Value[r]).ToArray()));
}

/// <summary>
/// A source of jets read chunk by chunk. In-memory stores hold everything once; streaming stores read
/// their files again on every pass, so memory is bounded by the chunk size, not the dataset size.
/// </summary>
public interface IJetStore
{
    long Count { get; }
    int MaxParticles { get; }
    string[] LabelNames { get; }
    string[] ObservableNames { get; }

    /// <summary>True when every pass reads the files again (data larger than the in-memory limit).</summary>
    bool Streams { get; }

    /// <summary>All jets, chunk by chunk. A non-negative <paramref name="fileOrderSeed"/> permutes the file order (streaming stores); ids stay the dataset's.</summary>
    IEnumerable<JetChunk> Chunks(int fileOrderSeed = -1);
}

/// <summary>Jets held in memory (synthetic, .npy, or ROOT data below the in-memory limit): one chunk, ids 0..N−1.</summary>
public sealed class InMemoryJetStore(JetSet jets, IReadOnlyDictionary<string, float[]> observables) : IJetStore
{
    private readonly JetChunk _chunk = new(jets, Enumerable.Range(0, jets.Count).Select(i => (long)i).ToArray(), observables);

    public JetSet Jets => jets;
    public IReadOnlyDictionary<string, float[]> Observables => observables;
    public long Count => jets.Count;
    public int MaxParticles => jets.MaxParticles;
    public string[] LabelNames => jets.LabelNames;
    public string[] ObservableNames => [.. observables.Keys];
    public bool Streams => false;

    public IEnumerable<JetChunk> Chunks(int fileOrderSeed = -1)
    {
        yield return _chunk;
    }
}
