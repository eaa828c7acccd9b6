using Hep.Models.Nn;

namespace Hep.Models.Checkpoints;

/// <summary>
/// Copies named checkpoint tensors into a module's parameters and buffers. Keys are translated by a
/// name map (null = deliberately ignored key); every model tensor must receive exactly one value of
/// exactly its shape, and every checkpoint key must land somewhere, otherwise nothing is loaded and a
/// <see cref="CheckpointMismatchException"/> lists all offending keys. Values are cast to the model's dtype.
/// </summary>
public static class StateDictLoader
{
    public static void Load(Module module, IEnumerable<KeyValuePair<string, HostTensor>> entries, Func<string, string?>? map = null)
    {
        map ??= name => name;
        var targets = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, p) in module.NamedParameters()) targets[name] = p.Data;
        foreach (var (name, b) in module.NamedBuffers()) targets[name] = b;

        var missing = new List<string>();
        var unexpected = new List<string>();
        var misShaped = new List<string>();
        var plan = new List<(Tensor Target, HostTensor Value)>();
        var assigned = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in entries)
        {
            string? name = map(key);
            if (name is null) continue;
            if (!targets.TryGetValue(name, out var target))
            {
                unexpected.Add(key);
                continue;
            }
            if (!assigned.Add(name))
            {
                unexpected.Add($"{key} (second value for {name})");
                continue;
            }
            if (!target.Shape.SequenceEqual(value.Shape))
            {
                misShaped.Add($"{key} (checkpoint [{string.Join(", ", value.Shape)}], model {target.Shape})");
                continue;
            }
            plan.Add((target, value));
        }
        foreach (var name in targets.Keys)
        {
            if (!assigned.Contains(name)) missing.Add(name);
        }
        if (missing.Count + unexpected.Count + misShaped.Count > 0) throw new CheckpointMismatchException(missing, unexpected, misShaped);

        using var scope = TensorScope.Begin();
        foreach (var (target, value) in plan)
        {
            var t = value.ToTensor(target.Backend, target.DType);
            TensorOps.CopyInto(t, target);
        }
    }

    /// <summary>Loads a weaver checkpoint's tensors (keys "mod.…").</summary>
    public static void LoadWeaver(Module module, IEnumerable<KeyValuePair<string, HostTensor>> entries) => Load(module, entries, WeaverNames.Map);

    /// <summary>The module's parameters and buffers as host tensors, named with <paramref name="rename"/> (identity by default).</summary>
    public static List<KeyValuePair<string, HostTensor>> Export(Module module, Func<string, string>? rename = null)
    {
        rename ??= n => n;
        var list = new List<KeyValuePair<string, HostTensor>>();
        foreach (var (name, p) in module.NamedParameters()) list.Add(new(rename(name), HostTensor.FromTensor(p.Data)));
        foreach (var (name, b) in module.NamedBuffers()) list.Add(new(rename(name), HostTensor.FromTensor(b)));
        return list;
    }
}
