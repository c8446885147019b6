using BatchNormMlp.Samples.TrainerComparison;

namespace Microsoft.ML.BatchNormMlp.Tests.Experiments;

/// <summary>
/// The comparison sample's --quick run end to end on the real names: every trainer present at both contexts, finite
/// losses between a good model and far worse than uniform, the seeds' split sizes, and the tree grids chosen on dev.
/// </summary>
public class ComparisonTests
{
    [Test]
    public void Quick_TableHoldsEveryTrainerAtBothContexts()
    {
        string data = Path.Combine(ExperimentTests.Root(), "..", "shared", "data", "names.txt");
        if (!File.Exists(data)) data = Path.Combine(ExperimentTests.Root(), "data", "names.txt");
        var options = ComparisonOptions.Quick(data, threads: 1);
        var result = ComparisonSample.Run(options);

        string[] trainers = ["Count n-gram, add-k", "BatchNormMlp bn1", "SdcaMaximumEntropy", "LbfgsMaximumEntropy", "LightGbm (multiclass)", "OneVersusAll(FastTree)"];
        foreach (int context in new[] { 3, 8 })
        {
            var here = result.Rows.Where(r => r.Context == context).Select(r => r.Trainer).ToList();
            foreach (string t in trainers.Where(t => context == 3 || t != "BatchNormMlp bn1"))
                Assert.That(here, Does.Contain(t), $"context {context}");
            Assert.That(here.Count(t => t.StartsWith("BatchNormMlp", StringComparison.Ordinal)), Is.EqualTo(context == 3 ? 2 : 1), "bn1 and quality-c3 at 3, quality at 8");
        }
        Assert.That(result.Rows.Select(r => r.Trainer), Does.Contain("BatchNormMlp quality"));
        foreach (var r in result.Rows)
        {
            Assert.That(r.DevLogLoss, Is.GreaterThan(1.5).And.LessThan(4.5), $"{r.Trainer} at {r.Context}: dev LogLoss");
            Assert.That(r.TestLogLoss, Is.GreaterThan(1.5).And.LessThan(4.5), $"{r.Trainer} at {r.Context}: test LogLoss");
            Assert.That(r.DevAccuracy, Is.GreaterThan(0.1).And.LessThanOrEqualTo(1), $"{r.Trainer} at {r.Context}: better than a uniform guess (1/27)");
            Assert.That(r.TrainingSeconds, Is.GreaterThanOrEqualTo(0));
        }
        // The n-gram scored through Evaluate equals its own arithmetic well under uniform's ln 27 = 3.30 at context 3.
        Assert.That(result.Rows.Single(r => r.Context == 3 && r.Trainer.StartsWith("Count")).DevLogLoss, Is.LessThan(3.0));

        // The seeds' split, cut to the quick slice: 600 / 150 / 150 names, one row per symbol plus the end.
        Assert.That(result.Sizes.Select(s => s.Context), Is.EqualTo(new[] { 3, 8 }));
        foreach (var s in result.Sizes)
        {
            Assert.That(s.Classes, Is.EqualTo(27));
            Assert.That(s.TrainRows, Is.InRange(600 * 4, 600 * 16));
            Assert.That(s.DevRows, Is.InRange(150 * 4, 150 * 16));
            Assert.That(s.TestRows, Is.InRange(150 * 4, 150 * 16));
        }
        Assert.That(result.Sizes[0].TrainRows, Is.EqualTo(result.Sizes[1].TrainRows), "the context length does not change the rows");

        // Each tree learner tried its grid at each context and kept exactly its best dev setting.
        foreach (var group in result.Grid.GroupBy(g => (g.Trainer, g.Context)))
        {
            Assert.That(group.Count(), Is.EqualTo(2));
            Assert.That(group.Single(g => g.Chosen).DevLogLoss, Is.EqualTo(group.Min(g => g.DevLogLoss)));
        }
        Assert.That(result.Grid.Select(g => (g.Trainer, g.Context)).Distinct().Count(), Is.EqualTo(4));

        string text = result.Outcome.ToText();
        Assert.That(text, Does.Not.Contain("NaN"));
        Assert.That(result.Outcome.Findings.Count(f => f.StartsWith("Context", StringComparison.Ordinal)), Is.EqualTo(2));
        var html = result.Outcome.Report.ToHtml();
        Assert.That(html, Does.Contain("Dev LogLoss by trainer").And.Contain("compare --quick"));
    }

    [Test]
    public void Arguments_AreRead_AndAnUnknownOptionIsAnError_NotIgnored()
    {
        var o = ComparisonOptions.Full(null, 1).WithArguments(["compare", "--contexts", "8", "--refit", "BatchNormMlp quality", "--results", "r.jsonl", "--threads", "1"]);
        Assert.That((o.Contexts, o.Refit, o.ResultsPath), Is.EqualTo((new[] { 8 }, new[] { "BatchNormMlp quality" }, "r.jsonl")));
        var ex = Assert.Throws<ArgumentException>(() => ComparisonOptions.Full(null, 1).WithArguments(["compare", "--result", "r.jsonl"]));
        Assert.That(ex!.Message, Does.Contain("compare does not know the option '--result'").And.Contain("--results"));
        Assert.Throws<ArgumentException>(() => ComparisonOptions.Full(null, 1).WithArguments(["compare", "--out", "x"]));
    }
}
