using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using BenchmarkDotNet.Attributes;
using Hep.Engine;
using Hep.Kernels.Cpu;
using TorchSharp;
using static TorchSharp.torch;

namespace Hep.Benchmarks.HotKernels;

/// <summary>
/// Message aggregation at the heterogeneous GNN's size: E = 200,000 edges of F = 64 features into
/// V = 20,000 nodes (mean in-degree 10), forward (scatter-add) + backward (gather of the node
/// gradient). libtorch: zeros(V, F).index_add_(0, index, src) and grad.index_select(0, index).
/// Engine: sorted/CSR (deterministic) and unordered (per-core partial buffers) variants, and the planned
/// variant: the index's sorted <see cref="SegmentPlan"/> is built once in the setup (as HeteroNet builds
/// one per edge type per batch and reuses it in all six layers) and the timed call only sums; the
/// "plan built in the call" rows include the plan's construction (parallel counting sort) every time.
/// libtorch is measured in its configurations so that the best one is the comparison: its intra-op pool on
/// every core and on one thread (set in the targeted setup), and index_select with an int32 index beside
/// int64 (this libtorch's index_add_ takes int64 only). The "floor" rows move the ops' bytes without the
/// ops, on 64-byte-aligned native buffers over 2 cores: the source streamed in order (the forward's 51 MB
/// read), the source rows read in the plan's order (the deterministic forward's access pattern) and
/// grouped by blocks of 2048 target nodes in edge order (a tiled forward's pattern), E×F written with
/// non-temporal stores (the backward's output), and the streamed read and the write in sequence.
/// The setup prints how far each large array starts past a 64-byte line (the aligned paths need 0).
/// In a same-process harness alternating the calls, fwd + bwd took the sum of its parts (the gather
/// after a forward, after another gather, or after a 51 MB sweep within 0.05 ms of each other; no page
/// faults, the outputs are recycled without clearing). The fwd + bwd rows here run 0.3–0.5 ms over the
/// sum of the fwd and bwd rows, most likely because a row repeats one call back to back: the read-only
/// rows re-read the same 51 MB source and the L3 seems to come to keep part of it between calls (the
/// stream-read floor: 0.83 ms here; in the harness, 1.7 ms p10 after one earlier sweep, 1.15 ms p10
/// after 30). Compare fwd + bwd rows with fwd + bwd rows.
/// </summary>
[Config(typeof(HotKernelConfig))]
[MemoryDiagnoser]
public unsafe class ScatterAddBenchmarks
{
    private const int E = 200_000, F = 64, V = 20_000;
    private Hep.Engine.Tensor _src = null!, _idx = null!, _grad = null!;
    private SegmentPlan _plan = null!;
    private torch.Tensor _tSrc = null!, _tIdx = null!, _tGrad = null!, _tIdx32 = null!;
    private float* _floorSrc, _floorOut;
    private int[] _planOrder = null!, _blockOrder = null!;
    private const int FloorChunks = 16;

    [GlobalSetup]
    public void Setup()
    {
        Torch.UseAllCores();
        var backend = CpuBackend.Shared;
        _src = Hep.Engine.Tensor.Zeros(backend, new Shape(E, F));
        _grad = Hep.Engine.Tensor.Zeros(backend, new Shape(V, F));
        backend.Random.Uniform(1, -1, 1, _src);
        backend.Random.Uniform(2, -1, 1, _grad);
        var rng = new Random(3);
        var idx = new int[E];
        for (int i = 0; i < E; i++) idx[i] = rng.Next(V);
        _idx = Hep.Engine.Tensor.FromArray<int>(backend, idx, new Shape(E));
        _tSrc = Torch.From(_src);
        _tIdx = Torch.FromInts(_idx);
        _tGrad = Torch.From(_grad);
        _tIdx32 = torch.tensor(idx, new long[] { E });
        _floorSrc = (float*)NativeMemory.AlignedAlloc((nuint)E * F * sizeof(float), 64);
        _floorOut = (float*)NativeMemory.AlignedAlloc((nuint)E * F * sizeof(float), 64);
        _src.ToArray<float>().AsSpan().CopyTo(new Span<float>(_floorSrc, E * F));
        new Span<float>(_floorOut, E * F).Clear();
        _planOrder = new int[E];
        _blockOrder = new int[E];
        _plan = TensorOps.BuildSegmentPlan(_idx, V);
        _plan.Order.ToArray<int>().CopyTo(_planOrder, 0);
        // Edges grouped by blocks of 2048 target nodes, increasing edge id within a block.
        int b = 0;
        for (int block = 0; block * 2048 < V; block++)
        {
            for (int i = 0; i < E; i++)
            {
                if (idx[i] / 2048 == block) _blockOrder[b++] = i;
            }
        }
        using var planned = TensorOps.ScatterAdd(_src, _plan);
        using var ours = TensorOps.ScatterAdd(_src, _idx, V, deterministic: true);
        using (var gs = TensorOps.SegmentGather(_grad, _idx, null))
        {
            Console.WriteLine($"// ScatterAdd setup: bytes past a 64-byte line: source {LineOffset(_src)}, gradY {LineOffset(_grad)}, y {LineOffset(planned)}, gradSource {LineOffset(gs)}");
        }
        using var scope = torch.NewDisposeScope();
        Torch.AssertClose("ScatterAdd", ours.ToArray<float>(), Torch.Floats(torch.zeros(V, F).index_add_(0, _tIdx, _tSrc, 1.0)), 1e-5, 1e-5);
        if (!planned.ToArray<float>().AsSpan().SequenceEqual(ours.ToArray<float>())) throw new InvalidOperationException("planned ScatterAdd differs from the sorted one");
    }

    // Bytes from the cache line where element 0 of a CPU tensor lies (the kernels take their whole-line
    // paths only at 0; arrays over 32 MB get no placement retry, so the 51 MB source and gradient are
    // aligned or not by luck), for the setup's diagnostic line: read through the CPU buffer's Data array
    // (internal, so by reflection); "?" when the buffer has none.
    private static string LineOffset(Hep.Engine.Tensor t)
    {
        if (t.Buffer.GetType().GetProperty("Data")?.GetValue(t.Buffer) is not float[] data) return "?";
        var handle = GCHandle.Alloc(data, GCHandleType.Pinned);
        try
        {
            return (((long)handle.AddrOfPinnedObject() + (long)t.Offset * sizeof(float)) & 63).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        finally
        {
            handle.Free();
        }
    }

    [GlobalSetup(Targets = [nameof(LibtorchForwardBackwardOneThread), nameof(LibtorchForwardOneThread), nameof(LibtorchBackwardOneThread)])]
    public void SetupOneThread()
    {
        Setup();
        torch.set_num_threads(1);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_floorSrc);
        NativeMemory.AlignedFree(_floorOut);
        _tIdx32.Dispose();
        _plan.Dispose();
        _src.Dispose();
        _idx.Dispose();
        _grad.Dispose();
        _tSrc.Dispose();
        _tIdx.Dispose();
        _tGrad.Dispose();
    }

    [Benchmark(Baseline = true, Description = "libtorch: index_add_ + index_select")]
    [BenchmarkCategory("Forward+backward")]
    public long LibtorchForwardBackward()
    {
        using var scope = torch.NewDisposeScope();
        var y = torch.zeros(V, F).index_add_(0, _tIdx, _tSrc, 1.0);
        var gs = _tGrad.index_select(0, _tIdx);
        return y.shape[0] + gs.shape[0];
    }

    [Benchmark(Description = "libtorch, 1 thread: index_add_ + index_select")]
    [BenchmarkCategory("Forward+backward")]
    public long LibtorchForwardBackwardOneThread() => LibtorchForwardBackward();

    [Benchmark(Description = "libtorch: index_add_ + index_select (int32 index)")]
    [BenchmarkCategory("Forward+backward")]
    public long LibtorchForwardBackwardInt32()
    {
        using var scope = torch.NewDisposeScope();
        var y = torch.zeros(V, F).index_add_(0, _tIdx, _tSrc, 1.0);
        var gs = _tGrad.index_select(0, _tIdx32);
        return y.shape[0] + gs.shape[0];
    }

    [Benchmark(Description = "floor: stream-read source + NT-write E×F")]
    [BenchmarkCategory("Forward+backward")]
    public float FloorForwardBackward() => FloorForward() + FloorBackward();

    [Benchmark(Description = "engine: sorted (deterministic)")]
    [BenchmarkCategory("Forward+backward")]
    public int EngineSorted()
    {
        using var y = TensorOps.ScatterAdd(_src, _idx, V, deterministic: true);
        using var gs = TensorOps.SegmentGather(_grad, _idx, null);
        return y.Shape[0] + gs.Shape[0];
    }

    [Benchmark(Description = "engine: planned (plan prebuilt in setup)")]
    [BenchmarkCategory("Forward+backward")]
    public int EnginePlanned()
    {
        using var y = TensorOps.ScatterAdd(_src, _plan);
        using var gs = TensorOps.SegmentGather(_grad, _plan.Index, null);
        return y.Shape[0] + gs.Shape[0];
    }

    [Benchmark(Description = "engine: plan built in the call + planned")]
    [BenchmarkCategory("Forward+backward")]
    public int EnginePlanBuiltInCall()
    {
        using var plan = TensorOps.BuildSegmentPlan(_idx, V);
        using var y = TensorOps.ScatterAdd(_src, plan);
        using var gs = TensorOps.SegmentGather(_grad, plan.Index, null);
        return y.Shape[0] + gs.Shape[0];
    }

    [Benchmark(Description = "engine: unordered partial buffers")]
    [BenchmarkCategory("Forward+backward")]
    public int EngineUnordered()
    {
        using var y = TensorOps.ScatterAdd(_src, _idx, V, deterministic: false);
        using var gs = TensorOps.SegmentGather(_grad, _idx, null);
        return y.Shape[0] + gs.Shape[0];
    }

    [Benchmark(Baseline = true, Description = "libtorch: index_add_")]
    [BenchmarkCategory("Forward")]
    public long LibtorchForward()
    {
        using var scope = torch.NewDisposeScope();
        return torch.zeros(V, F).index_add_(0, _tIdx, _tSrc, 1.0).shape[0];
    }

    [Benchmark(Description = "libtorch, 1 thread: index_add_")]
    [BenchmarkCategory("Forward")]
    public long LibtorchForwardOneThread() => LibtorchForward();

    [Benchmark(Description = "floor: stream-read source (51 MB)")]
    [BenchmarkCategory("Forward")]
    public float FloorForward()
    {
        var partial = new float[FloorChunks];
        nint src = (nint)_floorSrc;
        Parallel.For(0, FloorChunks, c =>
        {
            long n = (long)E * F, s = n * c / FloorChunks, end = n * (c + 1) / FloorChunks;
            float* p = (float*)src;
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (long i = s; i < end; i += 64)
            {
                a0 += Vector512.LoadAligned(p + i);
                a1 += Vector512.LoadAligned(p + i + 16);
                a2 += Vector512.LoadAligned(p + i + 32);
                a3 += Vector512.LoadAligned(p + i + 48);
            }
            partial[c] = Vector512.Sum(a0 + a1 + a2 + a3);
        });
        return partial.Sum();
    }

    [Benchmark(Description = "floor: read source rows in plan (CSR) order")]
    [BenchmarkCategory("Forward")]
    public float FloorForwardPlanOrder() => ReadRows(_planOrder);

    [Benchmark(Description = "floor: read source rows by 2048-node blocks, edge order")]
    [BenchmarkCategory("Forward")]
    public float FloorForwardBlockOrder() => ReadRows(_blockOrder);

    // Sums every source row in the given order, prefetching as the planned sums do: rows 64 positions
    // ahead into L2, the order 256 entries past that.
    private float ReadRows(int[] order)
    {
        var partial = new float[FloorChunks];
        nint src = (nint)_floorSrc;
        Parallel.For(0, FloorChunks, c =>
        {
            int s = (int)((long)E * c / FloorChunks), end = (int)((long)E * (c + 1) / FloorChunks);
            float* p = (float*)src;
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            fixed (int* po = order)
            {
                for (int q = s; q < end; q++)
                {
                    if (q + 64 < end)
                    {
                        Sse.Prefetch0(po + q + 64 + 256);
                        float* next = p + (long)po[q + 64] * F;
                        Sse.Prefetch1(next);
                        Sse.Prefetch1(next + 16);
                        Sse.Prefetch1(next + 32);
                        Sse.Prefetch1(next + 48);
                    }
                    float* row = p + (long)po[q] * F;
                    a0 += Vector512.LoadAligned(row);
                    a1 += Vector512.LoadAligned(row + 16);
                    a2 += Vector512.LoadAligned(row + 32);
                    a3 += Vector512.LoadAligned(row + 48);
                }
            }
            partial[c] = Vector512.Sum(a0 + a1 + a2 + a3);
        });
        return partial.Sum();
    }

    [Benchmark(Description = "engine: sorted scatter-add")]
    [BenchmarkCategory("Forward")]
    public int EngineForward()
    {
        using var y = TensorOps.ScatterAdd(_src, _idx, V, deterministic: true);
        return y.Shape[0];
    }

    [Benchmark(Description = "engine: planned scatter-add (plan prebuilt)")]
    [BenchmarkCategory("Forward")]
    public int EngineForwardPlanned()
    {
        using var y = TensorOps.ScatterAdd(_src, _plan);
        return y.Shape[0];
    }

    [Benchmark(Description = "engine: plan build only")]
    [BenchmarkCategory("Forward")]
    public int EnginePlanBuild()
    {
        using var plan = TensorOps.BuildSegmentPlan(_idx, V);
        return plan.Segments;
    }

    [Benchmark(Description = "engine: unordered scatter-add")]
    [BenchmarkCategory("Forward")]
    public int EngineForwardUnordered()
    {
        using var y = TensorOps.ScatterAdd(_src, _idx, V, deterministic: false);
        return y.Shape[0];
    }

    [Benchmark(Baseline = true, Description = "libtorch: index_select")]
    [BenchmarkCategory("Backward")]
    public long LibtorchBackward()
    {
        using var scope = torch.NewDisposeScope();
        return _tGrad.index_select(0, _tIdx).shape[0];
    }

    [Benchmark(Description = "libtorch, 1 thread: index_select")]
    [BenchmarkCategory("Backward")]
    public long LibtorchBackwardOneThread() => LibtorchBackward();

    [Benchmark(Description = "libtorch, int32 index: index_select")]
    [BenchmarkCategory("Backward")]
    public long LibtorchBackwardInt32()
    {
        using var scope = torch.NewDisposeScope();
        return _tGrad.index_select(0, _tIdx32).shape[0];
    }

    [Benchmark(Description = "floor: NT-write E×F (51 MB)")]
    [BenchmarkCategory("Backward")]
    public float FloorBackward()
    {
        nint dst = (nint)_floorOut;
        Parallel.For(0, FloorChunks, c =>
        {
            long n = (long)E * F, s = n * c / FloorChunks, end = n * (c + 1) / FloorChunks;
            float* p = (float*)dst;
            var v = Vector512.Create((float)c);
            for (long i = s; i < end; i += 64)
            {
                v.StoreAlignedNonTemporal(p + i);
                v.StoreAlignedNonTemporal(p + i + 16);
                v.StoreAlignedNonTemporal(p + i + 32);
                v.StoreAlignedNonTemporal(p + i + 48);
            }
            Sse.StoreFence();
        });
        return _floorOut[0];
    }

    [Benchmark(Description = "engine: segment gather")]
    [BenchmarkCategory("Backward")]
    public int EngineBackward()
    {
        using var gs = TensorOps.SegmentGather(_grad, _idx, null);
        return gs.Shape[0];
    }
}
