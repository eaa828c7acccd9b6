using Hep.Cli.Options;

namespace Hep.Cli.Data;

/// <summary>
/// Checks jets as they are read: NaN/infinite 4-vector components are counted and replaced by 0
/// (weaver's behaviour) or, with --reject_nonfinite, rejected; a jet without particles is an error.
/// </summary>
public static class JetValidation
{
    /// <summary>Cleans <paramref name="jets"/> in place and returns how many values were replaced.</summary>
    public static int Clean(JetSet jets, long[] ids, string source, bool rejectNonFinite)
    {
        int bad = 0;
        var p4 = jets.P4;
        for (int i = 0; i < p4.Length; i++)
        {
            if (float.IsFinite(p4[i])) continue;
            if (rejectNonFinite)
            {
                long jet = ids[i / (jets.MaxParticles * 4)];
                throw new CliException($"flag --reject_nonfinite: jet {jet} in {source} has a NaN or infinite particle value");
            }
            p4[i] = 0;
            bad++;
        }
        int empty = Array.IndexOf(jets.Counts, 0);
        if (empty >= 0) throw new CliException($"flag --data_root: jet {ids[empty]} in {source} has no particles");
        return bad;
    }
}
