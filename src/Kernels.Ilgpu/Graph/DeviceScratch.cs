using ILGPU.Runtime;

namespace Hep.Kernels.Ilgpu;

/// <summary>
/// Grow-only Int32 work buffers of one backend, by slot (CSR counts, offsets, cursors, order, bounds
/// report). Reusing them across launches is safe because the backend has one in-order stream; a
/// buffer that must grow is replaced after a stream sync. They live until the accelerator is
/// disposed and are not tensors, so they are not counted in the live-buffer statistics.
/// </summary>
internal sealed class DeviceScratch(IlgpuBackend backend)
{
    private readonly Dictionary<string, MemoryBuffer1D<int, Stride1D.Dense>> _buffers = [];
    private readonly object _gate = new();

    /// <summary>A view of at least <paramref name="length"/> (≥ 1) ints in slot <paramref name="slot"/>; contents undefined.</summary>
    public ArrayView<int> Ints(string slot, long length)
    {
        if (length > int.MaxValue) throw new BackendNotSupportedException(slot, backend.Name, $"{length} work items exceed 2³¹ − 1");
        long size = Math.Max(length, 1);
        lock (_gate)
        {
            if (!_buffers.TryGetValue(slot, out var buffer) || buffer.Length < size)
            {
                if (buffer is not null)
                {
                    backend.Stream.Synchronize();
                    buffer.Dispose();
                }
                buffer = backend.Accelerator.Allocate1D<int>(Math.Max(size, 64));
                _buffers[slot] = buffer;
            }
            return buffer.View.SubView(0, size).AsContiguous();
        }
    }

    /// <summary>The two-int bounds report (flag, offending value), cleared on the stream when validation is on.</summary>
    public ArrayView<int> ClearedReport()
    {
        var view = Ints("report", 2);
        if (backend.ValidateIndices) view.MemSetToZero(backend.Stream);
        return view;
    }

    /// <summary>Reads the report back (a stream sync) and throws naming the op when an index was out of range.</summary>
    public void CheckReport(string op, int limit)
    {
        if (!backend.ValidateIndices) return;
        var host = GC.AllocateArray<int>(2, pinned: true); // ILGPU copies through a raw pointer
        Ints("report", 2).CopyToCPU(backend.Stream, ref host[0], 2);
        backend.Stream.Synchronize();
        if (host[0] != 0) throw new ArgumentOutOfRangeException("index", $"{op}: index {host[1]} out of range [0, {limit})");
    }
}
