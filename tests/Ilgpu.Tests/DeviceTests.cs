namespace Hep.Ilgpu.Tests;

/// <summary>Device selection, naming, and the self-check on every ILGPU device kind present.</summary>
public class DeviceTests
{
    [Test]
    public void CpuAcceleratorIsNamedAndListed()
    {
        Assert.That(Twin.Gpu.Name, Is.EqualTo("ilgpu-cpu"));
        Assert.That(Twin.Gpu.Device.Kind, Is.EqualTo(DeviceKind.IlgpuCpu));
        Assert.That(Twin.Gpu.Supports(DType.Float64), Is.True);
        var cpu = IlgpuDevices.List(IlgpuDeviceKind.Cpu);
        Assert.That(cpu, Has.Count.EqualTo(1));
        Assert.That(cpu[0].BackendName, Is.EqualTo("ilgpu-cpu"));
        Assert.That(IlgpuDevices.List().Last().Kind, Is.EqualTo(IlgpuDeviceKind.Cpu), "CUDA and OpenCL are listed first");
    }

    [Test]
    public void AbsentDeviceThrowsInsteadOfFallingBack()
    {
        var ex = Assert.Throws<IlgpuDeviceNotFoundException>(() => IlgpuBackend.Create(IlgpuDeviceKind.Cpu, 1));
        Assert.That(ex!.Message, Does.Contain("Cpu").And.Contain("ordinal 1"));
        int cudaCount = IlgpuDevices.List(IlgpuDeviceKind.Cuda).Count;
        var ex2 = Assert.Throws<IlgpuDeviceNotFoundException>(() => IlgpuBackend.Create(IlgpuDeviceKind.Cuda, cudaCount));
        Assert.That(ex2!.Kind, Is.EqualTo(IlgpuDeviceKind.Cuda));
        Assert.Throws<ArgumentException>(() => IlgpuBackend.Create("tpu"));
    }

    [Test]
    public void CreateBestPicksCudaThenOpenClThenCpu()
    {
        using var best = IlgpuBackend.CreateBest();
        var expected = IlgpuDevices.List(IlgpuDeviceKind.Cuda).Count > 0 ? "ilgpu-cuda:0"
            : IlgpuDevices.List(IlgpuDeviceKind.OpenCL).Count > 0 ? "ilgpu-opencl:0" : "ilgpu-cpu";
        Assert.That(best.Name, Is.EqualTo(expected));
        using var parsed = IlgpuBackend.Create("ilgpu-cpu");
        Assert.That(parsed.Name, Is.EqualTo("ilgpu-cpu"));
    }

    [Test]
    public void TensorsOfAnotherBackendAreRejected()
    {
        using var a = Tensor.Full(Twin.Gpu, new Shape(3), 1.0);
        using var b = Tensor.Full(Twin.Cpu, new Shape(3), 1.0);
        var ex = Assert.Throws<DeviceMismatchException>(() => TensorOps.Add(a, b));
        Assert.That(ex!.Op, Is.EqualTo("Add"));
        using var y = Tensor.Zeros(Twin.Gpu, new Shape(3));
        Assert.Throws<DeviceMismatchException>(() => Twin.Gpu.Elementwise.Unary(UnaryOp.Exp, b, y));
    }

    [Test]
    public void SelfCheckPassesOnTheCpuAccelerator()
    {
        var log = new StringWriter();
        var result = SelfCheck.Run(Twin.Gpu, log);
        TestContext.Out.WriteLine(log.ToString());
        Assert.That(result.Failures, Is.Empty);
        Assert.That(result.Passed, Is.GreaterThanOrEqualTo(2 * (Enum.GetValues<UnaryOp>().Length + Enum.GetValues<BinaryOp>().Length + 9)));
        Assert.That(result.Ok, Is.True);
    }

    [Test]
    public void SelfCheckPassesWithSixteenThreadGroups()
    {
        // The default simulator uses 4-thread groups for speed; this covers wider trees and GEMM tiles (16×16).
        using var wide = IlgpuBackend.CreateCpuSimulator(threadsPerWarp: 4, warpsPerGroup: 4);
        var log = new StringWriter();
        var result = SelfCheck.Run(wide, log);
        TestContext.Out.WriteLine(log.ToString());
        Assert.That(result.Failures, Is.Empty);
        Assert.That(result.Ok, Is.True);
    }

    [Test, Category("Gpu")]
    public void SelfCheckPassesOnCuda() => SelfCheckOn(IlgpuDeviceKind.Cuda);

    [Test, Category("Gpu")]
    public void SelfCheckPassesOnOpenCl() => SelfCheckOn(IlgpuDeviceKind.OpenCL);

    private static void SelfCheckOn(IlgpuDeviceKind kind)
    {
        if (IlgpuDevices.List(kind).Count == 0)
            Assert.Ignore($"no {kind} device visible to ILGPU on this machine (driver/runtime absent); the kernels are still compiled for CUDA by PtxCodegenTests");
        using var backend = IlgpuBackend.Create(kind);
        var log = new StringWriter();
        var result = SelfCheck.Run(backend, log);
        TestContext.Out.WriteLine(log.ToString());
        Assert.That(result.Failures, Is.Empty);
        Assert.That(result.Ok, Is.True);
    }
}
