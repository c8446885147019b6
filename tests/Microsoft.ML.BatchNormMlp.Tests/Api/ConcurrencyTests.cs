namespace Microsoft.ML.BatchNormMlp.Tests.Api;

/// <summary>One fitted model serves many threads at once with exactly the results of sequential calls.</summary>
public class ConcurrencyTests
{
    private static IEnumerable<TestCaseData> Models()
    {
        yield return new TestCaseData(false).SetArgDisplayNames("unfolded");
        yield return new TestCaseData(true).SetArgDisplayNames("folded");
    }

    [TestCaseSource(nameof(Models))]
    public void ManyThreads_GetTheSequentialResults(bool folded)
    {
        var t = TrainedModels.Get();
        CharacterModel model = folded ? t.Model.Fold() : t.Model;
        var names = t.Split.Dev.Take(64).ToArray();
        var batches = Enumerable.Range(0, 8).Select(i => t.Split.Test.Skip(i * 97).Take(50 + 40 * i).ToArray()).ToArray();   // odd sizes: every workspace bucket

        var predictions = names.Select(n => model.PredictNext(n)).ToArray();
        var scores = batches.Select(b => model.ScoreBatch(b)).ToArray();
        var samples = Enumerable.Range(0, 8).Select(s => model.Sample(7, seed: s)).ToArray();
        var metrics = model.Evaluate(t.Dev);

        const int tasks = 64;
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, tasks, new ParallelOptions { MaxDegreeOfParallelism = 16 }, k =>
        {
            switch (k % 4)
            {
                case 0:
                    for (int i = 0; i < names.Length; i++)
                        if (!model.PredictNext(names[i]).SequenceEqual(predictions[i])) failures.Add($"PredictNext({names[i]})");
                    break;
                case 1:
                    int b = k % batches.Length;
                    if (!model.ScoreBatch(batches[b]).SequenceEqual(scores[b])) failures.Add($"ScoreBatch #{b}");
                    break;
                case 2:
                    int s = k % samples.Length;
                    if (!model.Sample(7, seed: s).SequenceEqual(samples[s])) failures.Add($"Sample seed {s}");
                    break;
                default:
                    if (k % 16 == 3 && model.Evaluate(t.Dev) != metrics) failures.Add("Evaluate");
                    break;
            }
        });
        Assert.That(failures, Is.Empty);
        Assert.That(model.Evaluate(t.Dev), Is.EqualTo(metrics), "the model is unchanged afterwards");
    }
}
