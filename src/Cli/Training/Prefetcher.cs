using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace Hep.Cli.Training;

/// <summary>
/// Runs an enumeration on a background thread, at most <c>capacity</c> items ahead of the consumer, so
/// reading, decoding and feature computation overlap the training step. Order is preserved; an
/// exception in the producer is rethrown to the consumer (with its original stack); leaving the loop
/// early stops the producer and waits for it, so nothing outlives the enumeration.
/// </summary>
public static class Prefetcher
{
    public static IEnumerable<T> Prefetch<T>(IEnumerable<T> source, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        using var queue = new BlockingCollection<T>(capacity);
        using var stop = new CancellationTokenSource();
        ExceptionDispatchInfo? failure = null;
        var producer = Task.Run(() =>
        {
            try
            {
                foreach (var item in source) queue.Add(item, stop.Token);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                queue.CompleteAdding();
            }
        });
        try
        {
            foreach (var item in queue.GetConsumingEnumerable()) yield return item;
            producer.Wait();
            failure?.Throw();
        }
        finally
        {
            stop.Cancel();
            try
            {
                producer.Wait();
            }
            catch (AggregateException)
            {
                // The producer's own failure was captured above; nothing else can escape it.
            }
        }
    }
}
