namespace Hep.Engine.Tests;

/// <summary>MaskSpans.LastNonZeroEnd against a scalar scan: every row length class, every last position, any start offset.</summary>
public class MaskSpansTests
{
    private static int Reference(ReadOnlySpan<double> row)
    {
        for (int j = row.Length - 1; j >= 0; j--)
            if (!(row[j] == 0)) return j + 1;
        return 0;
    }

    [Test]
    public void FindsTheEndOfTheLastNonZeroEntry([Values(0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 64, 129)] int n)
    {
        var rng = new Random(n + 1);
        // Rows sliced at 0…15 elements past the array's start, so the vector loads see every alignment.
        for (int offset = 0; offset < 16; offset++)
        {
            for (int end = 0; end <= n; end++)
            {
                var d = new double[offset + n + 3];
                Array.Fill(d, 5.0);   // entries outside the row must not count
                for (int j = 0; j < n; j++) d[offset + j] = j < end && rng.Next(3) > 0 ? 1 : 0;
                if (end > 0) d[offset + end - 1] = rng.Next(2) == 0 ? 1 : -2.5;
                for (int j = end; j < n; j++) d[offset + j] = rng.Next(2) == 0 ? 0.0 : -0.0;   // −0 is padding too
                var row = d.AsSpan(offset, n);
                var f = Array.ConvertAll(row.ToArray(), x => (float)x);
                Assert.That(Reference(row), Is.EqualTo(end), "reference");
                Assert.That(MaskSpans.LastNonZeroEnd<double>(row), Is.EqualTo(end), $"double n={n} end={end} offset={offset}");
                var fs = new float[offset + n + 3];
                Array.Fill(fs, 5f);
                f.CopyTo(fs, offset);
                Assert.That(MaskSpans.LastNonZeroEnd<float>(fs.AsSpan(offset, n)), Is.EqualTo(end), $"float n={n} end={end} offset={offset}");
            }
        }
    }

    [Test]
    public void NaNCountsAsNonZero()
    {
        var row = new float[40];
        row[3] = 1;
        row[25] = float.NaN;
        Assert.That(MaskSpans.LastNonZeroEnd<float>(row), Is.EqualTo(26));
        Assert.That(MaskSpans.LastNonZeroEnd<double>(new double[] { 1, double.NaN, 0 }), Is.EqualTo(2));
    }
}
