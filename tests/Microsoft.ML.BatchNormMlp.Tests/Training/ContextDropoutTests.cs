using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Training;

namespace Microsoft.ML.BatchNormMlp.Tests.Training;

public class ContextDropoutTests
{
    private static int[] Ids(int n) => Enumerable.Range(0, n).Select(i => 1 + i % 26).ToArray();

    [Test]
    public void Apply_ReplacesAboutPOfTheSymbolsWithTheBoundary_AndKeepsTheRest()
    {
        int[] original = Ids(80_000), ids = (int[])original.Clone();
        ContextDropout.Apply(ids, 0.15f, seed: 7, step: 3);
        int dropped = ids.Count(i => i == 0);
        Assert.That(dropped / (double)ids.Length, Is.EqualTo(0.15).Within(0.005));
        Assert.That(Enumerable.Range(0, ids.Length).All(i => ids[i] == 0 || ids[i] == original[i]), Is.True, "a kept symbol is unchanged");
    }

    [Test]
    public void Apply_DependsOnlyOnSeedAndStep()
    {
        int[] a = Ids(1000), b = Ids(1000), c = Ids(1000), d = Ids(1000);
        ContextDropout.Apply(a, 0.3f, 7, 5);
        ContextDropout.Apply(b, 0.3f, 7, 5);
        ContextDropout.Apply(c, 0.3f, 7, 6);
        ContextDropout.Apply(d, 0.3f, 8, 5);
        Assert.That(b, Is.EqualTo(a), "same seed and step: same drops (a resumed run repeats them)");
        Assert.That(c, Is.Not.EqualTo(a), "another step draws other drops");
        Assert.That(d, Is.Not.EqualTo(a), "another seed draws other drops");
    }

    [Test]
    public void Trainer_WithContextDropout_TrainsDifferently_AndLeavesTheTrainingSetAlone()
    {
        var config = new MlpConfig { ContextLength = 3, VocabularySize = 9, EmbeddingWidth = 4, OutputWidth = 9, HiddenWidths = [16] };
        var rng = new Rng(1);
        int[] contexts = Enumerable.Range(0, 600 * 3).Select(_ => 1 + rng.NextInt(8)).ToArray();
        int[] labels = Enumerable.Range(0, 600).Select(i => (contexts[3 * i] + 2 * contexts[3 * i + 2]) % 9).ToArray();
        int[] copy = (int[])contexts.Clone();
        var data = Dataset.FromContexts(contexts, 3, labels);

        MlpNetwork Train(float p)
        {
            var net = new MlpNetwork(config);
            Initialization.Initialize(net, new InitOptions(), new Rng(3));
            new Trainer(net, new TrainingOptions { Steps = 40, BatchSize = 32, ContextDropout = p }).Train(data);
            return net;
        }
        var plain = Train(0f);
        var dropped = Train(0.5f);

        Assert.That(contexts, Is.EqualTo(copy), "the training set is not rewritten");
        Assert.That(dropped.Parameters[0].Data, Is.Not.EqualTo(plain.Parameters[0].Data), "the drops reach the gradients");
    }

    [Test]
    public void Checkpoint_RecordsTheProbability_AndAResumeWithAnotherIsRefused()
    {
        var config = new MlpConfig { ContextLength = 3, VocabularySize = 9, EmbeddingWidth = 4, OutputWidth = 9, HiddenWidths = [8] };
        var data = Dataset.FromContexts(Enumerable.Range(0, 300).Select(i => i % 9).ToArray(), 3, Enumerable.Range(0, 100).Select(i => i % 9).ToArray());
        string path = Path.Combine(Path.GetTempPath(), $"bnmlp-cd-{Guid.NewGuid():N}.safetensors");
        string[] vocabulary = [".", "a", "b", "c", "d", "e", "f", "g", "h"];
        try
        {
            var options = new TrainingOptions { Steps = 4, BatchSize = 16, ContextDropout = 0.25f, CheckpointPath = path };
            new Trainer(new MlpNetwork(config), options, vocabulary).Train(data);
            Assert.That(new Trainer(new MlpNetwork(config), options, vocabulary).Resume(path, data).Training.ContextDropout, Is.EqualTo(0.25f));
            var ex = Assert.Throws<InvalidDataException>(() => new Trainer(new MlpNetwork(config), options with { ContextDropout = 0.5f }, vocabulary).Resume(path, data));
            Assert.That(ex!.Message, Does.Contain("the checkpoint has context dropout 0.25, the run asks for 0.5"));
        }
        finally { File.Delete(path); }
    }

    [TestCase(-0.1f)]
    [TestCase(1f)]
    [TestCase(float.NaN)]
    public void Validate_RejectsAProbabilityOutsideZeroToOne(float p)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingOptions { ContextDropout = p }.Validate());
        Assert.That(ex!.Message, Does.Contain("ContextDropout must be in [0, 1)"));
    }
}
