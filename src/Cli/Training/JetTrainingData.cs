using Hep.Cli.Data;

namespace Hep.Cli.Training;

/// <summary>
/// Batches of jets from a <see cref="IJetStore"/> for training and evaluation.
///   Split: a row is held out for validation when a hash of (seed, row id) falls below --val_fraction,
///     a pure function of the id, so it is the same in memory, streamed, and after a resume.
///   Shuffle: each epoch reads the store (streaming stores permute their file order), collects up to
///     <c>shuffleJets</c> training jets, shuffles that block with the epoch's generator and emits batches;
///     the remainder (less than a batch) is compacted and carried into the next block. When everything
///     fits in one block this is a full uniform shuffle; otherwise memory is bounded by the block.
///   Augmentation: with probability --flip_rate a training jet is mirrored (η → −η and φ → −φ, i.e.
///     p_z and p_y negated), decided by a hash of (seed, epoch, id); 0 is a no-op.
///   Features are computed per batch (on the loader thread), so nothing larger than a block is held.
/// </summary>
public sealed class JetTrainingData(IJetStore store, IReadOnlyList<ProcessingCondition> conditions, int batchSize, double valFraction, int seed,
    double flipRate, long shuffleJets) : ITrainingData<JetHostBatch>
{
    private long _buffered;

    public string[] LabelNames => store.LabelNames;
    public long TrainRows => (long)Math.Round(store.Count * (1 - valFraction));

    /// <summary>Largest number of jets the training shuffle held at once (for the bounded-memory test).</summary>
    public long PeakBufferedJets { get; private set; }

    public IEnumerable<JetHostBatch> Train(int epoch)
    {
        var rng = Seeds.EpochRandom(seed, epoch);
        var pending = new List<(JetChunk Chunk, int Row)>();
        _buffered = 0;
        foreach (var chunk in store.Chunks(store.Streams ? (int)(Seeds.Mix((ulong)epoch ^ ((ulong)(uint)seed << 20)) & 0x7FFFFFFF) : -1))
        {
            _buffered += chunk.Jets.Count;
            PeakBufferedJets = Math.Max(PeakBufferedJets, _buffered);
            for (int r = 0; r < chunk.Ids.Length; r++)
                if (!Seeds.IsValidation(seed, valFraction, chunk.Ids[r])) pending.Add((chunk, r));
            if (pending.Count < shuffleJets) continue;
            foreach (var batch in EmitShuffled(pending, rng, epoch, final: false)) yield return batch;
        }
        foreach (var batch in EmitShuffled(pending, rng, epoch, final: true)) yield return batch;
    }

    public IEnumerable<JetHostBatch> Validation() => Sequential(id => Seeds.IsValidation(seed, valFraction, id));

    /// <summary>Every jet of the store in order (inference).</summary>
    public IEnumerable<JetHostBatch> All() => Sequential(_ => true);

    // Shuffles the block, emits its full batches (and, at the end, the partial one) and compacts the remainder into one small chunk.
    private IEnumerable<JetHostBatch> EmitShuffled(List<(JetChunk Chunk, int Row)> pending, Random rng, int epoch, bool final)
    {
        var rows = pending.ToArray();
        rng.Shuffle(rows);
        pending.Clear();
        int full = rows.Length / batchSize * batchSize;
        for (int start = 0; start < full; start += batchSize) yield return Build(rows.AsSpan(start, batchSize).ToArray(), epoch);
        var rest = rows[full..];
        if (final)
        {
            if (rest.Length > 0) yield return Build(rest, epoch);
            yield break;
        }
        var carried = Compact(rest);
        _buffered = carried?.Jets.Count ?? 0;
        if (carried is not null)
            for (int r = 0; r < carried.Ids.Length; r++) pending.Add((carried, r));
    }

    private IEnumerable<JetHostBatch> Sequential(Func<long, bool> take)
    {
        var pending = new List<(JetChunk, int)>();
        foreach (var chunk in store.Chunks())
        {
            for (int r = 0; r < chunk.Ids.Length; r++)
            {
                if (!take(chunk.Ids[r])) continue;
                pending.Add((chunk, r));
                if (pending.Count < batchSize) continue;
                yield return Build([.. pending], epoch: -1);
                pending.Clear();
            }
        }
        if (pending.Count > 0) yield return Build([.. pending], epoch: -1);
    }

    private static JetChunk? Compact((JetChunk Chunk, int Row)[] rows)
    {
        if (rows.Length == 0) return null;
        var parts = rows.GroupBy(r => r.Chunk).Select(g => g.Key.Select(g.Select(r => r.Row).ToArray())).ToList();
        if (parts.Count == 1) return parts[0];
        var first = parts[0].Jets;
        int stride = first.MaxParticles * 4, n = rows.Length, at = 0;
        var p4 = new float[n * stride];
        var counts = new int[n];
        var labels = new int[n];
        var ids = new long[n];
        var obs = parts[0].Observables.Keys.ToDictionary(k => k, _ => new float[n]);
        foreach (var part in parts)
        {
            Array.Copy(part.Jets.P4, 0, p4, at * stride, part.Jets.Count * stride);
            part.Jets.Counts.CopyTo(counts, at);
            part.Jets.Labels.CopyTo(labels, at);
            part.Ids.CopyTo(ids, at);
            foreach (var (k, v) in part.Observables) v.CopyTo(obs[k], at);
            at += part.Jets.Count;
        }
        return new JetChunk(new JetSet(n, first.MaxParticles, p4, counts, labels, first.LabelNames), ids, obs);
    }

    // Gathers the rows' 4-vectors (mirrored where the flip decides), computes the features and lays out the batch.
    private JetHostBatch Build((JetChunk Chunk, int Row)[] rows, int epoch)
    {
        int b = rows.Length, p = store.MaxParticles, stride = p * 4, channels = conditions.Count;
        var p4 = new float[b * stride];
        var counts = new int[b];
        var labels = new int[b];
        var ids = new long[b];
        var observables = store.ObservableNames.ToDictionary(o => o, _ => new float[b]);
        for (int i = 0; i < b; i++)
        {
            var (chunk, r) = rows[i];
            Array.Copy(chunk.Jets.P4, r * stride, p4, i * stride, stride);
            counts[i] = chunk.Jets.Counts[r];
            labels[i] = chunk.Jets.Labels[r];
            ids[i] = chunk.Ids[r];
            foreach (var (name, values) in observables) values[i] = chunk.Observables[name][r];
            if (epoch >= 0 && flipRate > 0 && Seeds.Uniform(seed, 1_000_000 + epoch, ids[i]) < flipRate)
            {
                for (int k = 0; k < counts[i]; k++)
                {
                    p4[i * stride + k * 4 + 1] = -p4[i * stride + k * 4 + 1];
                    p4[i * stride + k * 4 + 2] = -p4[i * stride + k * 4 + 2];
                }
            }
        }
        var jets = new JetSet(b, p, p4, counts, labels, store.LabelNames);
        var (features, mask) = ParticleFeatures.Compute(jets, conditions);
        var points = new float[b * 2 * p];
        var vectors = new float[b * 4 * p];
        for (int i = 0; i < b; i++)
        {
            Array.Copy(features, i * channels * p, points, i * 2 * p, 2 * p);
            for (int k = 0; k < p; k++)
                for (int c = 0; c < 4; c++) vectors[(i * 4 + c) * p + k] = p4[i * stride + k * 4 + c];
        }
        return new JetHostBatch(b, channels, p, features, points, vectors, mask, labels, ids, observables);
    }
}
