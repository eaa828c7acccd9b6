using System.Collections;

namespace Hep.Engine;

/// <summary>
/// Immutable tensor shape (row-major). Rank 0 is a scalar with one element.
/// </summary>
public readonly struct Shape : IEquatable<Shape>, IReadOnlyList<int>
{
    private readonly int[]? _dims;

    public Shape(params int[] dims)
    {
        foreach (var d in dims)
        {
            if (d < 0) throw new ArgumentException($"shape [{string.Join(", ", dims)}] has a negative dimension");
        }
        _dims = (int[])dims.Clone();
    }

    private int[] Dims => _dims ?? [];

    public int Rank => Dims.Length;
    public int Count => Dims.Length;
    public int this[int axis] => Dims[axis];

    /// <summary>Number of elements (product of dimensions; 1 for a scalar).</summary>
    public long Numel
    {
        get
        {
            long n = 1;
            foreach (var d in Dims) n *= d;
            return n;
        }
    }

    /// <summary>Row-major strides of a contiguous tensor of this shape.</summary>
    public int[] ContiguousStrides()
    {
        var strides = new int[Rank];
        long s = 1;
        for (int i = Rank - 1; i >= 0; i--)
        {
            strides[i] = checked((int)s);
            s *= Math.Max(Dims[i], 1);
        }
        return strides;
    }

    /// <summary>Resolves a possibly negative axis (-1 is the last) and validates it.</summary>
    public int NormalizeAxis(int axis, string op)
    {
        int a = axis < 0 ? axis + Rank : axis;
        if (a < 0 || a >= Rank) throw new ArgumentException($"{op}: axis {axis} is out of range for shape {this}");
        return a;
    }

    public int[] ToArray() => (int[])Dims.Clone();

    /// <summary>NumPy broadcasting of two shapes; throws naming <paramref name="op"/> when incompatible.</summary>
    public static Shape Broadcast(Shape a, Shape b, string op)
    {
        int rank = Math.Max(a.Rank, b.Rank);
        var dims = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i - (rank - a.Rank) >= 0 ? a[i - (rank - a.Rank)] : 1;
            int db = i - (rank - b.Rank) >= 0 ? b[i - (rank - b.Rank)] : 1;
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"{op}: shapes {a} and {b} cannot be broadcast together");
            dims[i] = da == 1 ? db : da;
        }
        return new Shape(dims);
    }

    public Shape With(int axis, int size)
    {
        var d = ToArray();
        d[axis] = size;
        return new Shape(d);
    }

    public Shape Without(int axis)
    {
        var d = new List<int>(Dims);
        d.RemoveAt(axis);
        return new Shape([.. d]);
    }

    public bool Equals(Shape other) => Dims.AsSpan().SequenceEqual(other.Dims);
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var d in Dims) h.Add(d);
        return h.ToHashCode();
    }
    public static bool operator ==(Shape a, Shape b) => a.Equals(b);
    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);
    public static implicit operator Shape(int[] dims) => new(dims);

    public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)Dims).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    public override string ToString() => "(" + string.Join(", ", Dims) + ")";
}
