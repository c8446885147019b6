using BatchNormMlp.Samples.Baselines;

namespace Microsoft.ML.BatchNormMlp.Tests.Baselines;

/// <summary>
/// The count baseline on names.txt, against the figures issue 7 measured on a 0.8/0.1/0.1 split (dev
/// cross-entropy about 2.10 at context 3, about 2.54 at context 8). Counting and scoring take well under a second.
/// </summary>
public class NGramNamesTests
{
    private static NGramBaselineResult Run(int contextLength)
    {
        var (train, dev, test, v) = NamesCorpus.Load(contextLength);
        return NGramBaseline.Run(train, dev, test, contextLength, v);
    }

    [Test]
    public void Context3_IsStrong_Context8_OverfitsTheCounts()
    {
        var three = Run(3);
        var five = Run(5);
        var eight = Run(8);
        foreach (var r in new[] { three, five, eight })
            TestContext.Out.WriteLine($"ctx {r.ContextLength}: k {r.Smoothing.K:G4} train {r.Train.CrossEntropy:F4} dev {r.Dev.CrossEntropy:F4} " +
                                      $"test {r.Test.CrossEntropy:F4} dev acc {r.Dev.Accuracy:P1} test acc {r.Test.Accuracy:P1} pairs {r.DistinctPairs} fit+k {r.FitTime.TotalMilliseconds:F0} ms");

        Assert.That(three.Dev.Rows + three.Train.Rows + three.Test.Rows, Is.EqualTo(228146), "32033 names plus one end symbol each");
        Assert.That(three.Dev.CrossEntropy, Is.EqualTo(2.10).Within(0.05));
        Assert.That(three.Test.CrossEntropy, Is.EqualTo(2.10).Within(0.05));
        Assert.That(eight.Dev.CrossEntropy, Is.EqualTo(2.54).Within(0.08));
        // Long contexts are memorized: most dev contexts were never counted, train sits far below dev.
        Assert.That(five.Dev.CrossEntropy, Is.InRange(three.Dev.CrossEntropy, eight.Dev.CrossEntropy));
        Assert.That(eight.Train.CrossEntropy, Is.LessThan(eight.Dev.CrossEntropy - 0.5));
        // Far better than uniform (log 27 = 3.30) at both lengths.
        Assert.That(three.Dev.CrossEntropy, Is.LessThan(Math.Log(27) - 1));
    }
}
