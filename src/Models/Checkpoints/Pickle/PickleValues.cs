namespace Hep.Models.Checkpoints.Pickle;

/// <summary>A module-level name the pickle refers to (only allow-listed ones are ever created).</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>A PyTorch storage referenced by a persistent id: ('storage', type, key, location, numel).</summary>
internal sealed record StorageReference(string Key, HostDType DType, int ElementBytes, bool IsHalf, bool IsBFloat16, long Numel);

/// <summary>A tensor view over a storage, from torch._utils._rebuild_tensor_v2.</summary>
internal sealed record TensorReference(StorageReference Storage, long Offset, int[] Size, long[] Stride);

/// <summary>A dict / OrderedDict keeping insertion order.</summary>
internal sealed class PickleDict
{
    public List<KeyValuePair<object?, object?>> Items { get; } = [];

    public void Set(object? key, object? value)
    {
        for (int i = 0; i < Items.Count; i++)
        {
            if (Equals(Items[i].Key, key))
            {
                Items[i] = new(key, value);
                return;
            }
        }
        Items.Add(new(key, value));
    }
}

/// <summary>The MARK sentinel on the unpickler stack.</summary>
internal sealed class PickleMark
{
    public static readonly PickleMark Instance = new();
}
