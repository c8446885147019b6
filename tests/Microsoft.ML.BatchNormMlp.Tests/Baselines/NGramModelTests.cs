using BatchNormMlp.Samples.Baselines;

namespace Microsoft.ML.BatchNormMlp.Tests.Baselines;

public class NGramModelTests
{
    // V = 3, context 2. Rows: (0,0)->1 twice, (0,0)->2, (0,1)->2, (1,2)->0, (1,1)->2, (1,1)->0.
    private static readonly int[] Contexts = [0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 1, 1, 1, 1];
    private static readonly int[] Targets = [1, 1, 2, 2, 0, 2, 0];

    private static NGramModel Tiny() => NGramModel.Fit(Contexts, Targets, 2, 3);

    [Test]
    public void Counts_AreThoseOfTheCorpus()
    {
        var m = Tiny();
        Assert.That(m.Count([0, 0], 1), Is.EqualTo(2));
        Assert.That(m.Count([0, 0], 0), Is.EqualTo(0));
        Assert.That(m.Count([0, 0]), Is.EqualTo(3));
        Assert.That(m.Count([1, 1]), Is.EqualTo(2));
        Assert.That(m.Count([2, 2]), Is.EqualTo(0));
        Assert.That(m.DistinctPairs, Is.EqualTo(6));
        Assert.That(m.TrainingRows, Is.EqualTo(7));
    }

    [Test]
    public void Probabilities_FollowAddKByHand()
    {
        var m = Tiny();
        // (count + k) / (total + k V): k = 1 -> (2+1)/(3+3), (1+1)/6, (0+1)/6.
        Assert.That(m.Probability([0, 0], 1, 1), Is.EqualTo(0.5).Within(1e-15));
        Assert.That(m.Probability([0, 0], 2, 1), Is.EqualTo(2.0 / 6).Within(1e-15));
        Assert.That(m.Probability([0, 0], 0, 1), Is.EqualTo(1.0 / 6).Within(1e-15));
        // k = 0.5: (1 + 0.5) / (1 + 1.5).
        Assert.That(m.Probability([0, 1], 2, 0.5), Is.EqualTo(0.6).Within(1e-15));
        // Unseen context: uniform whatever k.
        Assert.That(m.Probability([2, 2], 1, 0.001), Is.EqualTo(1.0 / 3).Within(1e-15));

        var p = new double[3];
        m.Probabilities([0, 0], 0.25, p);
        Assert.That(p, Is.EqualTo(new[] { 0.25 / 3.75, 2.25 / 3.75, 1.25 / 3.75 }).Within(1e-15));
        Assert.That(p.Sum(), Is.EqualTo(1).Within(1e-15));
    }

    [Test]
    public void Evaluate_IsMeanNaturalLogCrossEntropyAndArgmaxAccuracy()
    {
        var m = Tiny();
        // (0,0)->1: p 0.5, argmax 1 right. (2,2)->1: unseen, p 1/3, argmax 0 wrong. (1,1)->0: p (1+1)/(2+3), tie 0/2 -> 0 right.
        var e = m.Evaluate([0, 0, 2, 2, 1, 1], [1, 1, 0], k: 1);
        double expected = -(Math.Log(0.5) + Math.Log(1.0 / 3) + Math.Log(2.0 / 5)) / 3;
        Assert.That(e.CrossEntropy, Is.EqualTo(expected).Within(1e-15));
        Assert.That(e.Accuracy, Is.EqualTo(2.0 / 3).Within(1e-15));
        Assert.That(e.Rows, Is.EqualTo(3));
    }

    [Test]
    public void UniformModel_HasCrossEntropyLogV()
    {
        var m = Tiny();
        // Contexts never seen in training give exactly 1/V for every k.
        var unseen = m.Evaluate([2, 2, 2, 0, 2, 1], [0, 1, 2], k: 0.01);
        Assert.That(unseen.CrossEntropy, Is.EqualTo(Math.Log(3)).Within(1e-15));
        // A huge k drowns the counts: the model tends to uniform on seen contexts too.
        Assert.That(m.Evaluate(Contexts, Targets, k: 1e12).CrossEntropy, Is.EqualTo(Math.Log(3)).Within(1e-9));
        Assert.That(m.Evaluate(Contexts, Targets, k: 0.1).CrossEntropy, Is.LessThan(Math.Log(3) - 0.2));
    }

    [Test]
    public void ContextsOfEightOverTwentySevenSymbols_PackIntoDistinctKeys()
    {
        // Two contexts differing only in their first position (the most significant digit of the key).
        int[] contexts = [26, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 5];
        var m = NGramModel.Fit(contexts, [26, 1], 8, 27);
        Assert.That(m.Count([26, 0, 0, 0, 0, 0, 0, 5], 26), Is.EqualTo(1));
        Assert.That(m.Count([0, 0, 0, 0, 0, 0, 0, 5], 1), Is.EqualTo(1));
        Assert.That(m.Count([0, 0, 0, 0, 0, 0, 0, 5], 26), Is.EqualTo(0));
        Assert.That(m.Count([0, 0, 0, 0, 0, 0, 0, 5]), Is.EqualTo(1));
    }

    [Test]
    public void BadInput_IsRejectedNamingTheRowAndPosition()
    {
        var id = Assert.Throws<ArgumentException>(() => NGramModel.Fit([0, 1, 3, 0], [0, 1], 2, 3));
        Assert.That(id!.Message, Does.StartWith("The training context of row 1, position 0, holds id 3, outside the vocabulary [0, 3)."));
        var target = Assert.Throws<ArgumentException>(() => NGramModel.Fit([0, 1, 2, 0], [0, -1], 2, 3));
        Assert.That(target!.Message, Does.StartWith("The training target of row 1 is id -1, outside the vocabulary [0, 3)."));
        var shape = Assert.Throws<ArgumentException>(() => NGramModel.Fit([0, 1, 2], [0, 1], 2, 3));
        Assert.That(shape!.Message, Does.StartWith("The training contexts hold 3 ids; 2 targets with a context of 2 need 4."));
        var dev = Assert.Throws<ArgumentException>(() => Tiny().Collect([0, 7], [0], "dev"));
        Assert.That(dev!.Message, Does.StartWith("The dev context of row 0, position 1, holds id 7"));
        var big = Assert.Throws<ArgumentOutOfRangeException>(() => NGramModel.Fit([], [], 20, 27));
        Assert.That(big!.Message, Does.StartWith("A context of 20 over 27 symbols needs 99.9 bits per key; a long holds keys below 63 bits."));
        var k = Assert.Throws<ArgumentOutOfRangeException>(() => Tiny().Probability([0, 0], 1, 0));
        Assert.That(k!.Message, Does.StartWith("The smoothing k must be positive and finite"));
    }
}
