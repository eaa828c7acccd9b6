namespace Hep.Engine;

/// <summary>
/// Reference-counted owner of one <see cref="IDeviceBuffer"/>. Every tensor (and view) holds one
/// reference; the buffer is released when the last reference is dropped. Thread-safe counting.
/// <see cref="Version"/> counts the writes into the buffer after its creation (see <see cref="Tensor.Version"/>).
/// </summary>
public sealed class Storage
{
    private int _refs = 1;
    private long _version;

    public Storage(IDeviceBuffer buffer) => Buffer = buffer;

    public IDeviceBuffer Buffer { get; }
    public bool IsAlive => Volatile.Read(ref _refs) > 0;

    /// <summary>True while exactly one tensor (or view) references this storage.</summary>
    public bool IsExclusive => Volatile.Read(ref _refs) == 1;

    /// <summary>Number of in-place writes recorded so far (0 for a fresh buffer; only ever grows).</summary>
    public long Version => Volatile.Read(ref _version);

    internal void BumpVersion() => Interlocked.Increment(ref _version);

    internal void AddRef()
    {
        int r;
        do
        {
            r = Volatile.Read(ref _refs);
            if (r <= 0) throw new TensorDisposedException("storage");
        }
        while (Interlocked.CompareExchange(ref _refs, r + 1, r) != r);
    }

    internal void Release()
    {
        int r = Interlocked.Decrement(ref _refs);
        if (r == 0) Buffer.Dispose();
        else if (r < 0) throw new InvalidOperationException("storage released more often than referenced");
    }
}
