namespace Hep.Cli.Training;

/// <summary>
/// A batch assembled on the host (by the background loader) and ready to upload: its labels, the
/// dataset-wide ids of its rows (stable across epochs and resumes) and the observables carried through
/// to the predictions.
/// </summary>
public interface IHostBatch
{
    int Rows { get; }
    int[] Labels { get; }
    long[] Ids { get; }
    IReadOnlyDictionary<string, float[]> Observables { get; }
}

/// <summary>
/// Where a trainer's batches come from. <see cref="Train"/> must be a pure function of the epoch (and
/// the run seed the source was built with), so that a run resumed at an epoch boundary sees exactly
/// the batches the uninterrupted run saw.
/// </summary>
public interface ITrainingData<out TBatch> where TBatch : IHostBatch
{
    string[] LabelNames { get; }

    /// <summary>Training rows per epoch (an estimate when the source streams from disk; used for progress and the schedule).</summary>
    long TrainRows { get; }

    /// <summary>The training rows of one epoch, shuffled with a stream derived from the seed and the epoch.</summary>
    IEnumerable<TBatch> Train(int epoch);

    /// <summary>The held-out rows in dataset order.</summary>
    IEnumerable<TBatch> Validation();
}
