using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.ML.BatchNormMlp.Featurization;

namespace Microsoft.ML.BatchNormMlp.Tests.Featurization;

public class CorpusSplitTests
{
    private static readonly string[] Tiny = [.. Enumerable.Range(0, 100).Select(i => $"n{i}")];

    [Test]
    public void NamesTxt_Seed42_IsTheSeedsSplit()
    {
        NameCorpus corpus = TestData.Names;
        CorpusSplit split = CorpusSplit.Create(corpus.Names); // seed 42, 0.8 / 0.1 / 0.1
        Assert.That((split.Train.Count, split.Dev.Count, split.Test.Count), Is.EqualTo((25626, 3203, 3204)));

        Vocabulary vocabulary = Vocabulary.FromCorpus(corpus);
        int[] rows = [.. new[] { split.Train, split.Dev, split.Test }.Select(s => ContextWindowFeaturizer.Featurize(s, vocabulary, 3).Count)];
        Assert.That(rows, Is.EqualTo(new[] { 182625, 22655, 22866 }));
    }

    [Test]
    public void NamesTxt_Seed42_ShufflesExactlyLikePython()
    {
        JsonElement expected = JsonDocument.Parse(File.ReadAllText(TestData.Fixture("python_random.json"))).RootElement.GetProperty("names");
        CorpusSplit split = CorpusSplit.Create(TestData.Names.Names, seed: 42);
        string[] shuffled = [.. split.Train, .. split.Dev, .. split.Test];

        Assert.That(shuffled.Take(10), Is.EqualTo(expected.GetProperty("first").EnumerateArray().Select(e => e.GetString())));
        Assert.That(shuffled.TakeLast(10), Is.EqualTo(expected.GetProperty("last").EnumerateArray().Select(e => e.GetString())));
        Assert.That(shuffled.Take(5), Is.EqualTo(new[] { "yuheng", "diondre", "xavien", "jori", "juanluis" }));
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", shuffled))));
        Assert.That(hash, Is.EqualTo(expected.GetProperty("sha256").GetString()), "the whole shuffled order");
    }

    [Test]
    public void SameSeed_SameSplit()
    {
        CorpusSplit a = CorpusSplit.Create(Tiny, seed: 7), b = CorpusSplit.Create(Tiny, seed: 7);
        Assert.That(a.Train, Is.EqualTo(b.Train));
        Assert.That(a.Dev, Is.EqualTo(b.Dev));
        Assert.That(a.Test, Is.EqualTo(b.Test));
    }

    [Test]
    public void DifferentSeed_DifferentSplit_SameNames()
    {
        CorpusSplit a = CorpusSplit.Create(Tiny, seed: 7), b = CorpusSplit.Create(Tiny, seed: 8);
        Assert.That(a.Train, Is.Not.EqualTo(b.Train));
        Assert.That(a.Train.Concat(a.Dev).Concat(a.Test), Is.EquivalentTo(Tiny));
        Assert.That(b.Train.Concat(b.Dev).Concat(b.Test), Is.EquivalentTo(Tiny));
    }

    [Test]
    public void Fractions_CutLikePython_AndLeaveTheInputAlone()
    {
        string[] names = [.. Tiny];
        CorpusSplit split = CorpusSplit.Create(names, seed: 1, trainFraction: 0.5, devFraction: 0.25);
        Assert.That((split.Train.Count, split.Dev.Count, split.Test.Count), Is.EqualTo((50, 25, 25)));
        Assert.That(names, Is.EqualTo(Tiny), "the caller's list is not shuffled");
        CorpusSplit seven = CorpusSplit.Create(Tiny.Take(7).ToArray()); // int(0.8*7) = 5, int(0.9*7) = 6
        Assert.That((seven.Train.Count, seven.Dev.Count, seven.Test.Count), Is.EqualTo((5, 1, 1)));
        CorpusSplit noTest = CorpusSplit.Create(Tiny, trainFraction: 0.9, devFraction: 0.1);
        Assert.That((noTest.Train.Count, noTest.Dev.Count, noTest.Test.Count), Is.EqualTo((90, 10, 0)));
    }

    [Test]
    public void BadFractions_AreRefused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => CorpusSplit.Create(Tiny, trainFraction: 1.5));
        Assert.That(e!.Message, Does.StartWith("The train fraction must be between 0 and 1."));
        e = Assert.Throws<ArgumentOutOfRangeException>(() => CorpusSplit.Create(Tiny, trainFraction: 0.8, devFraction: 0.3));
        Assert.That(e!.Message, Does.StartWith(
            "The dev fraction must be at least 0, and the train and dev fractions must sum to at most 1; got train 0.8 and dev 0.3."));
    }
}
