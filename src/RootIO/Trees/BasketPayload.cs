// BasketPayload: one decompressed basket: its entry range and the data bytes with, for
// variable-size entries, per-entry byte offsets (EntryCount + 1 values, relative to Data start).
namespace Hep.RootIO.Trees;

internal sealed class BasketPayload
{
    public long FirstEntry { get; init; }
    public int EntryCount { get; init; }
    public byte[] Buffer { get; init; } = [];
    public int DataStart { get; init; }
    public int DataLength { get; init; }
    public int[]? Offsets { get; init; }

    public ReadOnlySpan<byte> Data => new(Buffer, DataStart, DataLength);

    /// <summary>Uncompressed payload bytes (data + offsets), for throughput accounting.</summary>
    public int UncompressedBytes { get; init; }

    /// <summary>True when Buffer was rented from ArrayPool and must be returned after use.</summary>
    public bool Pooled { get; init; }

    public void Release()
    {
        if (Pooled) System.Buffers.ArrayPool<byte>.Shared.Return(Buffer);
    }
}
