using System.Reflection;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime.Cuda;

namespace Hep.Kernels.Ilgpu;

/// <summary>One instantiated kernel method as the backend loads it.</summary>
public sealed record KernelEntry(string Name, MethodInfo Method, bool ExplicitlyGrouped);

/// <summary>Result of compiling one kernel to PTX: size of the PTX text, or the error.</summary>
public sealed record PtxResult(string Kernel, bool Ok, int PtxLength, string? Error);

/// <summary>
/// Every kernel of this backend, instantiated for every element type it runs on: methods marked
/// [KernelEntry] in this assembly, with generic kernels expanded by arity:
/// &lt;T, TS&gt; → (float, F32), (double, F64); &lt;T&gt; → float, double, int; &lt;TFrom, TTo, TConv&gt; → the casts.
/// Used to compile all of them for CUDA without a GPU (<see cref="CompilePtx"/>).
/// </summary>
public static class KernelCatalog
{
    private static readonly Type[][] FloatPairs = [[typeof(float), typeof(F32)], [typeof(double), typeof(F64)]];
    private static readonly Type[][] DataTypes = [[typeof(float)], [typeof(double)], [typeof(int)]];
    private static readonly Type[][] Casts =
    [
        [typeof(float), typeof(double), typeof(F32ToF64)], [typeof(double), typeof(float), typeof(F64ToF32)],
        [typeof(int), typeof(float), typeof(I32ToF32)], [typeof(int), typeof(double), typeof(I32ToF64)],
        [typeof(float), typeof(int), typeof(F32ToI32)], [typeof(double), typeof(int), typeof(F64ToI32)],
    ];

    public static IReadOnlyList<KernelEntry> All()
    {
        var result = new List<KernelEntry>();
        var methods = typeof(KernelCatalog).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.GetCustomAttribute<KernelEntryAttribute>() is not null)
            .OrderBy(m => m.DeclaringType!.Name, StringComparer.Ordinal).ThenBy(m => m.Name, StringComparer.Ordinal);
        foreach (var m in methods)
        {
            bool grouped = m.GetParameters()[0].ParameterType != typeof(Index1D);
            string baseName = $"{m.DeclaringType!.Name}.{m.Name}";
            if (!m.IsGenericMethodDefinition)
            {
                result.Add(new KernelEntry(baseName, m, grouped));
                continue;
            }
            var sets = m.GetGenericArguments().Length switch
            {
                1 => DataTypes,
                2 => FloatPairs,
                3 => Casts,
                _ => throw new InvalidOperationException($"{baseName}: no instantiation rule for its generic arity"),
            };
            foreach (var types in sets)
                result.Add(new KernelEntry($"{baseName}<{string.Join(",", types.Select(t => t.Name))}>", m.MakeGenericMethod(types), grouped));
        }
        return result;
    }

    /// <summary>
    /// Compiles every kernel with ILGPU's PTX backend for the given CUDA architecture (default
    /// sm_90) without a GPU or driver. ILGPU writes the lowest PTX target that covers the kernels'
    /// needs (sm_80 when nothing newer is used), which is also what it loads on such a device.
    /// </summary>
    public static IReadOnlyList<PtxResult> CompilePtx(int major = 9, int minor = 0)
    {
        using var context = Context.Create(builder => builder.Cuda().Optimize(OptimizationLevel.O1).EnableAlgorithms());
        var architecture = new CudaArchitecture(major, minor);
        using var backend = new PTXBackend(context, new CudaCapabilityContext(architecture), architecture, CudaInstructionSet.ISA_80, null);
        var results = new List<PtxResult>();
        foreach (var entry in All())
        {
            try
            {
                var description = entry.ExplicitlyGrouped
                    ? EntryPointDescription.FromExplicitlyGroupedKernel(entry.Method)
                    : EntryPointDescription.FromImplicitlyGroupedKernel(entry.Method);
                var compiled = (PTXCompiledKernel)backend.Compile(description, ILGPU.Runtime.KernelSpecialization.Empty);
                results.Add(new PtxResult(entry.Name, true, compiled.PTXAssembly.Length, null));
            }
            catch (Exception e)
            {
                results.Add(new PtxResult(entry.Name, false, 0, e.GetBaseException().Message));
            }
        }
        return results;
    }
}
