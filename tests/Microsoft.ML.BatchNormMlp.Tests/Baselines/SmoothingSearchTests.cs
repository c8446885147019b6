using BatchNormMlp.Samples.Baselines;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Tests.Baselines;

public class SmoothingSearchTests
{
    /// <summary>A noisy bigram source: each context prefers one symbol, with some mass elsewhere.</summary>
    private static (int[] Contexts, int[] Targets) Sample(ulong seed, int rows, int v)
    {
        var rng = new Rng(seed);
        var contexts = new int[rows];
        var targets = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            contexts[r] = rng.NextInt(v);
            targets[r] = rng.NextDouble() < 0.5 ? (contexts[r] * 7 + 3) % v : rng.NextInt(v);
        }
        return (contexts, targets);
    }

    [Test]
    public void Choose_FindsTheDevMinimum_NoWorseThanAnyGridPointAndAsGoodAsAFineScan()
    {
        const int v = 20;
        var train = Sample(1, 300, v);
        var dev = Sample(2, 400, v);
        var model = NGramModel.Fit(train.Contexts, train.Targets, 1, v);
        var rows = model.Collect(dev.Contexts, dev.Targets, "dev");

        var choice = SmoothingSearch.Choose(rows);
        Assert.That(choice.DevCrossEntropy, Is.EqualTo(rows.CrossEntropy(choice.K)).Within(1e-12));
        Assert.That(choice.Grid.Select(g => g.CrossEntropy), Has.All.GreaterThanOrEqualTo(choice.DevCrossEntropy));
        // The optimum is interior (neither the smallest nor the largest grid value).
        Assert.That(choice.K, Is.GreaterThan(1e-3).And.LessThan(10));

        double fineBest = Enumerable.Range(0, 4001).Select(i => rows.CrossEntropy(Math.Pow(10, -3 + i / 1000.0))).Min();
        Assert.That(choice.DevCrossEntropy, Is.LessThanOrEqualTo(fineBest + 1e-9));
    }

    [Test]
    public void Choose_WithoutRefinement_PicksTheBestGridPoint()
    {
        const int v = 20;
        var train = Sample(3, 300, v);
        var dev = Sample(4, 400, v);
        var rows = NGramModel.Fit(train.Contexts, train.Targets, 1, v).Collect(dev.Contexts, dev.Targets);
        double[] grid = [0.01, 0.1, 1, 10];
        var choice = SmoothingSearch.Choose(rows, grid, refine: false);
        double best = grid.Min(rows.CrossEntropy);
        Assert.That(choice.DevCrossEntropy, Is.EqualTo(best));
        Assert.That(choice.K, Is.EqualTo(grid.Single(k => rows.CrossEntropy(k) == best)));
        Assert.That(choice.Grid.Select(g => g.K), Is.EqualTo(grid));
    }

    [Test]
    public void Choose_RejectsEmptyGridsAndEmptyDevSets()
    {
        var rows = NGramModel.Fit([0], [1], 1, 2).Collect([], []);
        var ex = Assert.Throws<ArgumentException>(() => SmoothingSearch.Choose(rows));
        Assert.That(ex!.Message, Does.StartWith("There are no dev rows to choose the smoothing k on."));
        var full = NGramModel.Fit([0], [1], 1, 2).Collect([0], [1]);
        var grid = Assert.Throws<ArgumentException>(() => SmoothingSearch.Choose(full, []));
        Assert.That(grid!.Message, Does.StartWith("The grid of smoothing values is empty."));
    }
}
