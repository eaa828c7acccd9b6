namespace Hep.Kernels.Ilgpu;

/// <summary>
/// Shared-memory tree reductions across one group (power-of-two size ≤ <see cref="LaunchMath.MaxGroupSize"/>).
/// Every thread calls them with its partial value and receives the group's result. The combination
/// order is fixed by the group size, so results are deterministic run to run on one device.
/// </summary>
internal static class GroupReduce
{
    public static T Sum<T>(ArrayView<T> scratch, T value) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int t = Group.IdxX;
        scratch[t] = value;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (t < s) scratch[t] += scratch[t + s];
            Group.Barrier();
        }
        T result = scratch[0];
        Group.Barrier(); // scratch may be reused right after
        return result;
    }

    public static T Max<T>(ArrayView<T> scratch, T value) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int t = Group.IdxX;
        scratch[t] = value;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (t < s) scratch[t] = T.Max(scratch[t], scratch[t + s]);
            Group.Barrier();
        }
        T result = scratch[0];
        Group.Barrier();
        return result;
    }

    public static T Min<T>(ArrayView<T> scratch, T value) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int t = Group.IdxX;
        scratch[t] = value;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (t < s) scratch[t] = T.Min(scratch[t], scratch[t + s]);
            Group.Barrier();
        }
        T result = scratch[0];
        Group.Barrier();
        return result;
    }

    /// <summary>Two sums in one pass (scratch holds 2 × group size).</summary>
    public static (T A, T B) Sum2<T>(ArrayView<T> scratch, T a, T b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int t = Group.IdxX, g = Group.DimX;
        scratch[t] = a;
        scratch[g + t] = b;
        Group.Barrier();
        for (int s = g / 2; s > 0; s >>= 1)
        {
            if (t < s)
            {
                scratch[t] += scratch[t + s];
                scratch[g + t] += scratch[g + t + s];
            }
            Group.Barrier();
        }
        T ra = scratch[0], rb = scratch[g];
        Group.Barrier();
        return (ra, rb);
    }
}

/// <summary>
/// How a row kernel combines per-lane partials: across a group through shared memory
/// (<see cref="GroupRows{T}"/>, long rows) or not at all when one thread owns the row
/// (<see cref="ThreadRows{T}"/>, short rows). Lets one row body serve both thread mappings.
/// </summary>
internal interface IRowReducer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static abstract T Sum(ArrayView<T> scratch, T value);

    static abstract T Max(ArrayView<T> scratch, T value);

    static abstract (T A, T B) Sum2(ArrayView<T> scratch, T a, T b);
}

internal readonly struct GroupRows<T> : IRowReducer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Sum(ArrayView<T> scratch, T value) => GroupReduce.Sum(scratch, value);

    public static T Max(ArrayView<T> scratch, T value) => GroupReduce.Max(scratch, value);

    public static (T A, T B) Sum2(ArrayView<T> scratch, T a, T b) => GroupReduce.Sum2(scratch, a, b);
}

internal readonly struct ThreadRows<T> : IRowReducer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Sum(ArrayView<T> scratch, T value) => value;

    public static T Max(ArrayView<T> scratch, T value) => value;

    public static (T A, T B) Sum2(ArrayView<T> scratch, T a, T b) => (a, b);
}
