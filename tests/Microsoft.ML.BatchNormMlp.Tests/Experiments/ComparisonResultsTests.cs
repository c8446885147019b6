using BatchNormMlp.Samples.TrainerComparison;

namespace Microsoft.ML.BatchNormMlp.Tests.Experiments;

/// <summary>
/// The comparison's results file: a finished fit is found again by trainer, setting, context and split sizes only;
/// --refit forces a fit; an unfinished last line is skipped, a damaged line elsewhere is an error naming the line.
/// </summary>
public class ComparisonResultsTests
{
    private static readonly SplitSizes Sizes = new(8, 1000, 100, 110, 27);

    private static ComparisonRow Row(string trainer, double dev) =>
        new(trainer, 8, "s", dev, dev + 0.01, 0.3, 0.31, 1.5, 123, 456, MlNetTrainer: true);

    [Test]
    public void AFinishedFit_IsReused_OnlyForTheSameKey()
    {
        string path = Path.Combine(Path.GetTempPath(), $"bnmlp-results-{Guid.NewGuid():N}.jsonl");
        try
        {
            var first = ComparisonResults.Open(path, []);
            first.Add(ComparisonResults.Key("LightGbm (multiclass)", "a", Sizes), Row("LightGbm (multiclass)", 2.01));

            var again = ComparisonResults.Open(path, []);
            Assert.That(again.TryGet(ComparisonResults.Key("LightGbm (multiclass)", "a", Sizes), "LightGbm (multiclass)", out var row), Is.True);
            Assert.That(row, Is.EqualTo(Row("LightGbm (multiclass)", 2.01)));
            Assert.That(again.TryGet(ComparisonResults.Key("LightGbm (multiclass)", "b", Sizes), "LightGbm (multiclass)", out _), Is.False, "another setting");
            Assert.That(again.TryGet(ComparisonResults.Key("LightGbm (multiclass)", "a", Sizes with { TrainRows = 999 }), "LightGbm (multiclass)", out _), Is.False, "other rows");
            Assert.That(again.TryGet(ComparisonResults.Key("LightGbm (multiclass)", "a", Sizes with { Context = 3 }), "LightGbm (multiclass)", out _), Is.False, "another context");

            var refit = ComparisonResults.Open(path, ["lightgbm"]);
            Assert.That(refit.TryGet(ComparisonResults.Key("LightGbm (multiclass)", "a", Sizes), "LightGbm (multiclass)", out _), Is.False, "--refit matches the trainer, ignoring case");
        }
        finally { File.Delete(path); }
    }

    [Test]
    public void AnUnfinishedLastLine_IsSkipped_ADamagedEarlierLine_IsAnError()
    {
        string path = Path.Combine(Path.GetTempPath(), $"bnmlp-results-{Guid.NewGuid():N}.jsonl");
        try
        {
            ComparisonResults.Open(path, []).Add(ComparisonResults.Key("T", "a", Sizes), Row("T", 2.0));
            File.AppendAllText(path, "{\"Key\":\"T | b");   // a run killed while writing
            var results = ComparisonResults.Open(path, []);
            Assert.That(results.TryGet(ComparisonResults.Key("T", "a", Sizes), "T", out _), Is.True);

            File.WriteAllText(path, "not json\n" + File.ReadAllLines(path)[0] + "\n");
            var e = Assert.Throws<InvalidDataException>(() => ComparisonResults.Open(path, []));
            Assert.That(e!.Message, Does.Contain(path + ":1"));
        }
        finally { File.Delete(path); }
    }
}
