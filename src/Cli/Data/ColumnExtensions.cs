using Hep.RootIO;

namespace Hep.Cli.Data;

/// <summary>Flat values of any numeric ROOT column as float32 (bool → 0/1).</summary>
internal static class ColumnExtensions
{
    public static float[] ToFloat32(this ColumnData column)
    {
        if (column.Values is float[] f) return f;
        var result = new float[column.Values.Length];
        for (int i = 0; i < result.Length; i++) result[i] = (float)column.GetDouble(i);
        return result;
    }
}
