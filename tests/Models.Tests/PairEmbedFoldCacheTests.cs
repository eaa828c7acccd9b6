using Hep.Models.Checkpoints;
using Hep.Models.Nn;
using Hep.Models.Optim;
using Hep.Models.ParticleTransformer;

namespace Hep.Models.Tests;

/// <summary>
/// The folded pair-embedding layers (<see cref="PairEmbed.FoldedElements"/>) are computed once and reused
/// until a parameter or running statistic changes (<see cref="Tensor.Version"/>): a repeated eval forward does
/// not refold and gives the same bits; after every kind of write to the module's state (an optimiser step of
/// each optimiser, a state-dict load, a train-mode batch-norm update, dense and weighted, a replaced parameter
/// tensor, a backend write marked with MarkModified) the output equals that of a fresh module holding the same
/// state, bit for bit, and differs from the stale one, so a cache that missed the change would fail.
/// </summary>
public class PairEmbedFoldCacheTests
{
    private static IBackend Cpu => Backends.Cpu;

    public enum Mutation { Sgd, AdamW, Ranger, StateLoad, TrainForward, TrainForwardDistinct, SetData, MarkedBackendWrite }

    private static PairEmbed NewEmbed(DType dtype) => new(Cpu, 4, [12, 8], 3, preActivation: false, seed: 7, dtype);

    private static void Set(Tensor t, double[] values)
    {
        using var source = Operands.FromDoubles(t.Backend, values, t.Shape, t.DType);
        TensorOps.CopyInto(source, t);
    }

    private static void Randomise(PairEmbed embed, int seed)
    {
        int k = seed;
        foreach (var norm in embed.Modules().OfType<BatchNorm>())
        {
            int c = norm.RunningMean.Shape[0];
            Set(norm.RunningMean, Rand.Doubles(k++, c, -0.5, 0.5));
            Set(norm.RunningVar, Rand.Doubles(k++, c, 0.3, 2.5));
            Set(norm.Weight!.Data, Rand.Doubles(k++, c, 0.5, 1.5));
            Set(norm.Bias!.Data, Rand.Doubles(k++, c, -0.3, 0.3));
        }
    }

    private static Tensor Features(DType dtype, int u) => Rand.Tensor(Cpu, 3, new Shape(1, 4, u), dtype, -2, 2);

    private static double[] Folded(PairEmbed embed, Tensor features)
    {
        using var scope = TensorScope.Begin();
        using var noGrad = Tape.NoGrad();
        return embed.FoldedElements(features).ToDoubleArray();
    }

    // The output of a new module loaded with embed's current state (its first, uncached fold).
    private static double[] Fresh(PairEmbed embed, Tensor features)
    {
        using var fresh = NewEmbed(features.DType);
        StateDictLoader.Load(fresh, StateDictLoader.Export(embed));
        fresh.Eval();
        var result = Folded(fresh, features);
        Assert.That(fresh.FoldCount, Is.EqualTo(1));
        return result;
    }

    [TestCase(DType.Float32)]
    [TestCase(DType.Float64)]
    public void RepeatedEvalForwardsReuseTheFoldAndEqualAnUncachedOne(DType dtype)
    {
        using var scope = TensorScope.Begin();
        using var embed = NewEmbed(dtype);
        Randomise(embed, 10);
        embed.Eval();
        using var features = Features(dtype, 300);
        var first = Folded(embed, features);
        var second = Folded(embed, features);
        var third = Folded(embed, features);
        Assert.That(embed.FoldCount, Is.EqualTo(1), "folded once");
        Assert.That(second, Is.EqualTo(first), "cached fold, same bits");
        Assert.That(third, Is.EqualTo(first), "cached fold, same bits");
        Assert.That(Fresh(embed, features), Is.EqualTo(first), "a fresh module's fold");
        Assert.That(first.Distinct().Count(), Is.GreaterThan(100), "outputs are not degenerate");
    }

    [Test]
    public void EveryStateWriteRefolds([Values] Mutation mutation, [Values(DType.Float32, DType.Float64)] DType dtype)
    {
        using var scope = TensorScope.Begin();
        using var embed = NewEmbed(dtype);
        Randomise(embed, 20);
        embed.Eval();
        using var features = Features(dtype, 200);
        var stale = Folded(embed, features);
        Assert.That(embed.FoldCount, Is.EqualTo(1));

        Mutate(embed, mutation, features);

        embed.Eval();
        var actual = Folded(embed, features);
        Assert.That(embed.FoldCount, Is.EqualTo(2), $"{mutation}: refolded once");
        Assert.That(actual, Is.Not.EqualTo(stale), $"{mutation} changed the outputs");
        Assert.That(actual, Is.EqualTo(Fresh(embed, features)), $"{mutation}: the fold of the new state");
        Assert.That(Folded(embed, features), Is.EqualTo(actual), $"{mutation}: cached again");
        Assert.That(embed.FoldCount, Is.EqualTo(2), $"{mutation}: no further refold");
    }

    private static void Mutate(PairEmbed embed, Mutation mutation, Tensor features)
    {
        using var scope = TensorScope.Begin();
        switch (mutation)
        {
            case Mutation.Sgd:
            case Mutation.AdamW:
            case Mutation.Ranger:
            {
                using Optimizer optimizer = mutation switch
                {
                    Mutation.Sgd => new Sgd(embed.Parameters(), 0.05, momentum: 0.9),
                    Mutation.AdamW => new AdamW(embed.Parameters(), 0.01),
                    _ => new Ranger(embed.Parameters(), 0.05),
                };
                // Eval mode with a recording tape: the unfused layers, running statistics untouched, so only
                // the optimiser writes.
                using (var tape = Tape.Begin())
                {
                    var loss = Fn.SumAll(Fn.Square(embed.Elements(Variable.Constant(features))));
                    tape.Backward(loss);
                }
                optimizer.Step();
                embed.ZeroGrad();
                break;
            }
            case Mutation.StateLoad:
            {
                using var other = NewEmbed(features.DType);
                Randomise(other, 30);
                StateDictLoader.Load(embed, StateDictLoader.Export(other));
                break;
            }
            case Mutation.TrainForward:
                embed.Train();
                using (Tape.NoGrad()) embed.Elements(Variable.Constant(features));
                break;
            case Mutation.TrainForwardDistinct:
            {
                embed.Train();
                int u = features.Shape[2];
                using var multiplicity = Rand.Tensor(Cpu, 4, new Shape(u, 1), features.DType, 1, 3);
                using (Tape.NoGrad()) embed.Elements(Variable.Constant(features), multiplicity);
                break;
            }
            case Mutation.SetData:
            {
                var weight = embed.Parameters().First(p => p.Shape.Rank == 3);
                var values = weight.Data.ToDoubleArray().Select(v => v * 1.5).ToArray();
                var replacement = Operands.FromDoubles(Cpu, values, weight.Shape, features.DType);
                weight.SetData(replacement.DetachFromScope());
                break;
            }
            case Mutation.MarkedBackendWrite:
            {
                // A write straight through the backend is invisible until marked.
                var norm = embed.Modules().OfType<BatchNorm>().Last();
                using var shifted = TensorOps.AddScalar(norm.RunningMean, 0.25);
                Cpu.Memory.Copy(shifted, norm.RunningMean);
                embed.Eval();
                Assert.That(Folded(embed, features), Is.Not.EqualTo(Fresh(embed, features)), "an unmarked write is not seen (the fold is cached)");
                Assert.That(embed.FoldCount, Is.EqualTo(1));
                norm.RunningMean.MarkModified();
                break;
            }
        }
    }

    [Test]
    public void AnotherDTypeOfFeaturesGetsItsOwnFold()
    {
        using var scope = TensorScope.Begin();
        using var embed = NewEmbed(DType.Float32);
        Randomise(embed, 40);
        embed.Eval();
        using var features = Features(DType.Float32, 50);
        using var features64 = Features(DType.Float64, 50);
        var first = Folded(embed, features);
        var wide = Folded(embed, features64);
        Assert.That(embed.FoldCount, Is.EqualTo(2), "float64 features refold in float64");
        TensorAssert.Close(wide, first, 1e-5, 1e-5, "float64 vs float32 fold");
        Assert.That(Folded(embed, features), Is.EqualTo(first));
        Assert.That(embed.FoldCount, Is.EqualTo(3), "back to float32: refolded");
    }
}
