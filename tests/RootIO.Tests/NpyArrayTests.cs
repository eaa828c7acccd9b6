// NpyArrayTests: the .npy reader on the shared jet files (shapes, dtypes, values) and on broken
// inputs (bad magic, truncated data, Fortran order, unsupported dtype), which must give clear errors.
using System.Text;
using Hep.RootIO.Conversion;
using Hep.RootIO.Tests.Support;

namespace Hep.RootIO.Tests;

[TestFixture]
public class NpyArrayTests
{
    [Test]
    public void LoadsTheSharedJetArrays()
    {
        string folder = Path.Combine(TestData.SharedData, "jetclass-hbb-2k");
        var labels = NpyArray.Load(Path.Combine(folder, "jc_kin_labels.npy"));
        Assert.That(labels.ValueType, Is.EqualTo(RootValueType.Int64));
        Assert.That(labels.Shape, Is.EqualTo(new[] { 2000, 10 }));
        var l = labels.As<long>();
        Assert.That(Enumerable.Range(0, 2000).All(i => l[i * 10 + 1] == 1 && l.Skip(i * 10).Take(10).Sum() == 1), Is.True);
        var vectors = NpyArray.Load(Path.Combine(folder, "jc_kin_pf_vectors.npy"));
        Assert.That(vectors.Shape, Is.EqualTo(new[] { 2000, 4, 128 }));
        Assert.That(vectors.ValueType, Is.EqualTo(RootValueType.Float32));
        var mask = NpyArray.Load(Path.Combine(folder, "jc_kin_pf_mask.npy")).As<float>();
        Assert.That(mask.All(m => m is 0 or 1), Is.True);
        Assert.That(mask[0], Is.EqualTo(1f));
    }

    [TestCase("<f8", 8, RootValueType.Float64)]
    [TestCase("<i4", 4, RootValueType.Int32)]
    [TestCase("|b1", 1, RootValueType.Bool)]
    public void ReadsEachSupportedDtype(string descr, int size, RootValueType type)
    {
        var raw = Enumerable.Range(0, 6).SelectMany(i => type switch
        {
            RootValueType.Float64 => BitConverter.GetBytes((double)(i % 2)),
            RootValueType.Int32 => BitConverter.GetBytes(i % 2),
            _ => new[] { (byte)(i % 2) },
        }).ToArray();
        Assert.That(raw, Has.Length.EqualTo(6 * size));
        string path = Write(descr, "False", "(2, 3)", raw.Length, i => raw[i]);
        var a = NpyArray.Load(path);
        Assert.That(a.ValueType, Is.EqualTo(type));
        Assert.That(a.Shape, Is.EqualTo(new[] { 2, 3 }));
        Assert.That(Enumerable.Range(0, 6).Select(i => a.GetDouble(i)), Is.EqualTo(new double[] { 0, 1, 0, 1, 0, 1 }));
    }

    [Test]
    public void RejectsBrokenFiles()
    {
        string bad = Path.GetTempFileName();
        File.WriteAllText(bad, "not numpy at all");
        Assert.That(Assert.Throws<InvalidDataException>(() => NpyArray.Load(bad))!.Message, Does.Contain("magic"));
        Assert.That(Assert.Throws<InvalidDataException>(() => NpyArray.Load(Write("<f4", "False", "(10,)", 12, _ => 0)))!.Message, Does.Contain("truncated"));
        Assert.That(Assert.Throws<InvalidDataException>(() => NpyArray.Load(Write("<f4", "True", "(2, 2)", 16, _ => 0)))!.Message, Does.Contain("Fortran"));
        Assert.That(Assert.Throws<InvalidDataException>(() => NpyArray.Load(Write(">f4", "False", "(2,)", 8, _ => 0)))!.Message, Does.Contain("dtype"));
        Assert.That(Assert.Throws<InvalidDataException>(() => NpyArray.Load(Write("<c8", "False", "(2,)", 16, _ => 0)))!.Message, Does.Contain("dtype"));
        File.Delete(bad);
    }

    private static string Write(string descr, string fortran, string shape, int dataBytes, Func<int, byte> data)
    {
        string header = $"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}";
        header = header.PadRight(((10 + header.Length + 1 + 63) / 64 * 64) - 10 - 1) + "\n";
        var bytes = new List<byte> { 0x93 };
        bytes.AddRange(Encoding.ASCII.GetBytes("NUMPY"));
        bytes.AddRange([1, 0, (byte)(header.Length & 0xFF), (byte)(header.Length >> 8)]);
        bytes.AddRange(Encoding.ASCII.GetBytes(header));
        for (int i = 0; i < dataBytes; i++) bytes.Add(data(i));
        string path = Path.Combine(Path.GetTempPath(), $"npy-{Guid.NewGuid():N}.npy");
        File.WriteAllBytes(path, bytes.ToArray());
        return path;
    }
}
