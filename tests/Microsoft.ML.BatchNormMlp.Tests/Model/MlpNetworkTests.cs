using Microsoft.ML.BatchNormMlp.Layers;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Tests.Training;
using Microsoft.ML.BatchNormMlp.Training;

namespace Microsoft.ML.BatchNormMlp.Tests.Model;

public class MlpNetworkTests
{
    private static readonly MlpConfig Small = new() { ContextLength = 3, VocabularySize = 9, EmbeddingWidth = 4, OutputWidth = 9, HiddenWidths = [8, 8, 6], HiddenBias = true, Residual = true, OutputBatchNorm = true };

    private static (MlpNetwork, Dataset) SmallWithData(int rows = 300, ulong seed = 5)
    {
        var net = new MlpNetwork(Small);
        var rng = new Rng(seed);
        Initialization.Initialize(net, new InitOptions(), rng);
        var ids = Enumerable.Range(0, rows * 3).Select(_ => rng.NextInt(9)).ToArray();
        var labels = Enumerable.Range(0, rows).Select(i => (ids[3 * i] + ids[3 * i + 2]) % 9).ToArray();
        return (net, Dataset.FromContexts(ids, 3, labels));
    }

    [TestCaseSource(typeof(PresetTests), nameof(PresetTests.AllPresetNames))]
    public void Tensors_FollowTensorLayoutInNameShapeAndRole(string preset)
    {
        var config = Presets.Get(preset).Config;
        var net = new MlpNetwork(config);
        var expected = TensorLayout.Expected(config);
        Assert.That(net.Tensors.Select(t => t.Name), Is.EqualTo(expected.Select(s => s.Name)));
        Assert.That(net.Tensors.Select(t => t.ShapeText), Is.EqualTo(expected.Select(s => "[" + string.Join(", ", s.Shape) + "]")));
        Assert.That(net.Parameters.Select(p => p.Name), Is.EqualTo(expected.Where(s => s.Role == TensorRole.Parameter).Select(s => s.Name)));
    }

    [Test]
    public void Evaluate_InChunksEqualsOneBigBatch()
    {
        var (net, data) = SmallWithData(rows: 300);
        double whole = net.Evaluate(data, chunk: 300);
        double chunked = net.Evaluate(data, chunk: 64);   // 4 chunks of 64 and one of 44
        Assert.That(chunked, Is.EqualTo(whole).Within(1e-6 * whole));
        Assert.That(whole, Is.GreaterThan(1.0), "an untrained network is far from certain");
    }

    [Test]
    public void EvalMode_UsesRunningStatisticsSoARowsLogitsDoNotDependOnItsBatch()
    {
        var (net, data) = SmallWithData(rows: 20);
        var alone = net.Forward(data.Rows(0, 1), 1, training: false).ToArray();
        var inBatch = net.Forward(data.Rows(0, 20), 20, training: false)[..9].ToArray();
        Assert.That(inBatch, Is.EqualTo(alone).Within(1e-5f));
        var trainingMode = net.Forward(data.Rows(0, 20), 20, training: true)[..9].ToArray();
        Assert.That(trainingMode, Is.Not.EqualTo(alone).Within(1e-3f), "training mode normalizes with the batch's own statistics");
    }

    [Test]
    public void TrainingForward_UpdatesRunningStatisticsWithMomentumAndUnbiasedVariance()
    {
        var net = new MlpNetwork(new MlpConfig { DenseInputWidth = 1, VocabularySize = 0, EmbeddingWidth = 0, OutputWidth = 2, HiddenWidths = [1] });
        net.Hidden[0].Weight.Data[0] = 1;   // the BatchNorm sees the input itself
        net.Forward(NetworkInput.Dense([1, 2, 3, 6]), 4, training: true);
        var bn = net.Norms[0]!;
        // mean 3, biased variance 3.5, unbiased 14/3: running = 0.9·(0, 1) + 0.1·(3, 14/3)
        Assert.That(bn.RunningMean.Data[0], Is.EqualTo(0.3f).Within(1e-6f));
        Assert.That(bn.RunningVar.Data[0], Is.EqualTo(0.9f + 0.1f * 14 / 3f).Within(1e-6f));
        // Normalized with the biased variance: (6 - 3)/sqrt(3.5 + 1e-5), then tanh.
        Assert.That(net.GetWorkspace(4).Activated[0][3], Is.EqualTo(MathF.Tanh(3 / MathF.Sqrt(3.5f + 1e-5f))).Within(1e-6f));
    }

    [Test]
    public void TrainingForward_RejectsABatchOfOneRowNamingTheBatchNorm()
    {
        var (net, data) = SmallWithData();
        var ex = Assert.Throws<ArgumentException>(() => net.Forward(data.Rows(0, 1), 1, training: true));
        Assert.That(ex!.Message, Does.Contain("hidden.0.norm.weight").And.Contain("more than 1 row"));
    }

    [Test]
    public void Calibrate_SetsEachBatchNormToTheFullSetMeanAndUnbiasedVarianceOfItsInput()
    {
        var (net, data) = SmallWithData(rows: 300);
        var trainer = new Trainer(net, new TrainingOptions { Steps = 30, BatchSize = 16, LearningRate = new ConstantSchedule(0.1) });
        trainer.Train(data);
        net.Calibrate(data, chunk: 64);   // 300 rows: four full chunks and a partial one

        // After calibration an eval-mode pass over the whole set must see, at every BatchNorm's input, exactly the
        // statistics that BatchNorm now holds (later layers depend on the earlier, already calibrated ones).
        net.Forward(data.Rows(0, data.Count), data.Count, training: false, keepActivations: true);
        var ws = net.GetWorkspace(data.Count);
        for (int i = 0; i < net.Hidden.Length; i++)
            AssertStatistics(net.Norms[i]!, ws.LinearOut[i], data.Count);
        AssertStatistics(net.OutputNorm!, ws.OutputLinear, data.Count);
    }

    [TestCase(true)]
    [TestCase(false)]
    public void Calibrate_PreActivationNormalizesTheStreamEnteringEachBlock(bool residual)
    {
        var config = new MlpConfig { DenseInputWidth = 4, VocabularySize = 0, EmbeddingWidth = 0, OutputWidth = 3, HiddenWidths = [6, 6, 6], BlockStyle = BlockStyle.PreActivation, Activation = Activation.Relu, Residual = residual, HiddenBias = true };
        var net = new MlpNetwork(config);
        var rng = new Rng(8);
        Initialization.Initialize(net, new InitOptions(InitScheme.HeUniform), rng);
        var x = Enumerable.Range(0, 200 * 4).Select(_ => rng.NextGaussian()).ToArray();
        var data = Dataset.FromDense(x, 4, Enumerable.Range(0, 200).Select(i => i % 3).ToArray());
        net.Calibrate(data, chunk: 37);
        net.Forward(data.Rows(0, 200), 200, training: false, keepActivations: true);
        var ws = net.GetWorkspace(200);
        AssertStatistics(net.Norms[1]!, ws.Stream[0], 200);
        AssertStatistics(net.Norms[2]!, ws.Stream[1], 200);
        Assert.That(net.Norms[0], Is.Null, "the stem has no norm");
    }

    private static void AssertStatistics(BatchNorm1d bn, float[] input, int rows)
    {
        int h = bn.Width;
        for (int j = 0; j < h; j++)
        {
            double mean = 0, sq = 0;
            for (int r = 0; r < rows; r++) mean += input[r * h + j];
            mean /= rows;
            for (int r = 0; r < rows; r++) sq += Math.Pow(input[r * h + j] - mean, 2);
            Assert.That(bn.RunningMean.Data[j], Is.EqualTo(mean).Within(1e-5 * (1 + Math.Abs(mean))), $"{bn.RunningMean.Name}[{j}]");
            Assert.That(bn.RunningVar.Data[j], Is.EqualTo(sq / (rows - 1)).Within(1e-5 * sq / (rows - 1)), $"{bn.RunningVar.Name}[{j}]");
        }
    }

    public static IEnumerable<TestCaseData> DeepConfigs()
    {
        yield return new TestCaseData(Small with { HiddenWidths = [8, 8, 8, 6, 6, 6, 6] }).SetArgDisplayNames("post residual, output BN");
        yield return new TestCaseData(Small with { HiddenWidths = [8, 8, 8, 6, 6, 6], Residual = false }).SetArgDisplayNames("post plain");
        yield return new TestCaseData(Small with { HiddenWidths = [8, 8, 8, 6, 6, 6, 6], BlockStyle = BlockStyle.PreActivation }).SetArgDisplayNames("pre residual");
        yield return new TestCaseData(Small with { HiddenWidths = [8, 8, 6, 6, 6], BlockStyle = BlockStyle.PreActivation, Residual = false, HiddenBatchNorm = false }).SetArgDisplayNames("pre plain, no BN");
    }

    [TestCaseSource(nameof(DeepConfigs))]
    public void ForwardOnlyEvaluation_SharesBuffersYetGivesTheSameLogits(MlpConfig config)
    {
        var net = new MlpNetwork(config);
        var rng = new Rng(12);
        Initialization.Initialize(net, new InitOptions(), rng);
        foreach (var norm in net.Norms.Append(net.OutputNorm))
            if (norm is not null) for (int j = 0; j < norm.Width; j++) { norm.RunningMean.Data[j] = 0.3f * rng.NextGaussian(); norm.RunningVar.Data[j] = 0.5f + rng.NextFloat(); }
        var ids = Enumerable.Range(0, 40 * 3).Select(_ => rng.NextInt(9)).ToArray();
        var kept = net.Forward(NetworkInput.Ids(ids), 40, training: false, keepActivations: true).ToArray();
        var shared = net.Forward(NetworkInput.Ids(ids), 40, training: false).ToArray();
        Assert.That(net.LastWorkspace!.ForwardOnly, Is.True);
        Assert.That(shared, Is.EqualTo(kept));
        var ex = Assert.Throws<InvalidOperationException>(() => net.Backward(new float[40 * 9]));
        Assert.That(ex!.Message, Does.Contain("Backward needs the activations of the last forward pass"));
    }

    [Test]
    public void FirstNonFiniteActivation_NamesTheLayerWhereAnInfinityEntered()
    {
        var (net, data) = SmallWithData();
        net.Forward(data.Rows(0, 8), 8, training: true);
        Assert.That(net.FirstNonFiniteActivation(), Is.Null);
        net.Hidden[1].Weight.Data[3] = float.PositiveInfinity;
        net.Forward(data.Rows(0, 8), 8, training: true);
        Assert.That(net.FirstNonFiniteActivation(), Is.EqualTo("hidden.1.linear"));
        Assert.That(net.FirstNonFiniteParameter(), Is.EqualTo("hidden.1.linear.weight"));
    }

    [Test]
    public void Forward_RejectsTheWrongKindOfInput()
    {
        var (net, _) = SmallWithData();
        var ex = Assert.Throws<ArgumentException>(() => net.Forward(NetworkInput.Dense(new float[12]), 1, training: false));
        Assert.That(ex!.Message, Does.Contain("reads symbol ids, not dense feature rows"));
    }

    [Test]
    public void DenseInput_RejectsANonFiniteValueByRowAndColumn()
    {
        var net = new MlpNetwork(new MlpConfig { DenseInputWidth = 3, VocabularySize = 0, EmbeddingWidth = 0, OutputWidth = 2, HiddenWidths = [4] });
        var ex = Assert.Throws<ArgumentException>(() => net.Forward(NetworkInput.Dense([0, 1, 2, 3, float.NaN, 5]), 2, training: false));
        Assert.That(ex!.Message, Does.Contain("Input row 1, column 1 is NaN"));
    }

    [Test]
    public void Config_WithoutVocabularyIsRejectedByName()
    {
        var ex = Assert.Throws<ArgumentException>(() => new MlpNetwork(new MlpConfig { OutputWidth = 5 }));
        Assert.That(ex!.Message, Does.Contain("MlpConfig.VocabularySize must be positive"));
    }
}
