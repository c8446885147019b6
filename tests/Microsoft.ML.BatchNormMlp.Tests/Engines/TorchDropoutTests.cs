using Microsoft.ML.BatchNormMlp.Engines.TorchSharp;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Tests.Training;
using Microsoft.ML.BatchNormMlp.Training;
using static TorchSharp.torch;
using ManagedDropout = Microsoft.ML.BatchNormMlp.Layers.Dropout;

namespace Microsoft.ML.BatchNormMlp.Tests.Engines;

/// <summary>
/// The TorchSharp engine's own dropout (libtorch's masks, not the parity tests' shared ones): it drops the managed
/// layer's quantized rate and scales the survivors by its 1/(1 - p), lets gradients through the same mask, is off in
/// evaluation mode, and is a function of the seed (the run's dropout stream) alone: the same masks for the same seed
/// at any thread count, new ones each step, so a TorchSharp run with dropout is reproducible.
/// </summary>
[NonParallelizable]
public class TorchDropoutTests
{
    [OneTimeSetUp]
    public void LoadLibtorch() => TorchRuntime.Initialize(TrainingDevice.Cpu);

    [TearDown]
    public void OneThread() => TorchRuntime.SetThreads(1);

    private static TorchDropout Dropout(float rate, ulong seed)
    {
        var dropout = new TorchDropout(CPU);
        dropout.Configure(new ManagedDropout(rate), new Rng(seed));
        return dropout;
    }

    [TestCase(0.3f)]
    [TestCase(0.1f)]
    [TestCase(0.5f)]
    public void DropsTheRateAndScalesTheSurvivorsByOneOverTheKeepProbability(float rate)
    {
        using var dropout = Dropout(rate, 5);
        using var scope = NewDisposeScope();
        dropout.BeginStep();
        float[] y = dropout.Apply(ones(1000, 1000), 0).data<float>().ToArray();
        double dropped = y.Count(v => v == 0) / (double)y.Length;
        // A binomial fraction of 10^6 draws has a standard deviation of at most 0.0005: 5 of them.
        Assert.That(dropped, Is.EqualTo(dropout.Layer!.Threshold / 65536.0).Within(0.0025));
        Assert.That(y.Where(v => v != 0).Distinct(), Is.EqualTo(new[] { dropout.Layer.Scale }), "every survivor is scaled alike");
        Assert.That(dropout.Layer.Scale, Is.EqualTo(1 / (1 - rate)).Within(2e-5 / (1 - rate)), "1/(1 - p), of the rate quantized to 2^-16");
        Assert.That(y.Average(v => (double)v), Is.EqualTo(1).Within(0.005), "inverted scaling keeps the mean");
    }

    [Test]
    public void GradientsGoThroughTheSameMask()
    {
        using var dropout = Dropout(0.3f, 2);
        using var scope = NewDisposeScope();
        var x = randn(64, 50).requires_grad_(true);
        dropout.BeginStep();
        var y = dropout.Apply(x, 0);
        y.sum().backward();
        float[] grad = x.grad!.data<float>().ToArray(), xs = x.detach().data<float>().ToArray(), ys = y.detach().data<float>().ToArray();
        Assert.That(grad.Distinct().Order(), Is.EqualTo(new[] { 0f, dropout.Layer!.Scale }));
        for (int i = 0; i < grad.Length; i++) Assert.That(ys[i], Is.EqualTo(xs[i] * grad[i]), $"element {i}: y = x · mask, dy/dx = mask");
    }

    [Test]
    public void MasksAreAFunctionOfTheSeed_NewEachStep_AtAnyThreadCount()
    {
        float[][] Steps(ulong seed, int threads)
        {
            TorchRuntime.SetThreads(threads);
            using var dropout = Dropout(0.3f, seed);
            using var scope = NewDisposeScope();
            var steps = new float[2][];
            for (int s = 0; s < 2; s++)
            {
                dropout.BeginStep();
                // Two blocks in one step draw different masks.
                var a = dropout.Apply(ones(256, 300), 0);
                var b = dropout.Apply(ones(256, 300), 1);
                steps[s] = cat([a.flatten(), b.flatten()]).data<float>().ToArray();
            }
            return steps;
        }
        var first = Steps(5, 1);
        Assert.That(Steps(5, 1), Is.EqualTo(first), "the same seed, the same masks");
        Assert.That(Steps(5, 2), Is.EqualTo(first), "whatever libtorch's thread count");
        Assert.That(Steps(6, 1)[0], Is.Not.EqualTo(first[0]), "another seed, other masks");
        Assert.That(first[1], Is.Not.EqualTo(first[0]), "each step its own masks");
        int n = first[0].Length / 2;
        Assert.That(first[0][..n], Is.Not.EqualTo(first[0][n..]), "each block its own mask");
    }

    private static readonly MlpConfig Config = new()
    {
        ContextLength = 3, VocabularySize = 9, EmbeddingWidth = 4, OutputWidth = 9, HiddenWidths = [16, 16, 16], Residual = true, HiddenBias = true,
    };

    [TestCase(BlockStyle.PostActivation)]
    [TestCase(BlockStyle.PreActivation)]
    public void EvaluationModeDropsNothing(BlockStyle style)
    {
        var network = ResumeTests.Network(Config with { BlockStyle = style });
        using var module = new TorchMlp(network, CPU);
        using var scope = NewDisposeScope();
        var rng = new Rng(3);
        var ids = tensor(Enumerable.Range(0, 64 * 3).Select(_ => (long)rng.NextInt(9)).ToArray(), [64, 3]);

        module.eval();
        var plain = module.forward(ids).data<float>().ToArray();
        module.Dropout.Configure(new ManagedDropout(0.5f), new Rng(1));
        module.Dropout.BeginStep();
        Assert.That(module.forward(ids).data<float>().ToArray(), Is.EqualTo(plain), "eval(): the identity");

        module.train();
        module.Dropout.BeginStep();
        var dropped = module.forward(ids).data<float>().ToArray();
        module.Dropout.Configure(null, null);
        var undropped = module.forward(ids).data<float>().ToArray();
        Assert.That(dropped, Is.Not.EqualTo(undropped), "train(): dropout changes the logits");
    }

    [Test]
    public void ATorchSharpRunWithDropoutIsReproducibleAndDropsSomething()
    {
        var data = ResumeTests.Data(300, 4);
        float[] Run(float dropout)
        {
            var net = ResumeTests.Network(Config);
            using var trainer = new Trainer(net, new TrainingOptions
            {
                Steps = 40, BatchSize = 24, Dropout = dropout, Optimizer = OptimizerKind.AdamW, WeightDecay = 0.01f, EmaDecay = 0.9f,
                LearningRate = new ConstantSchedule(0.01), Engine = TrainingEngine.TorchSharp, Seed = 3,
            });
            trainer.Train(data);
            return net.Tensors.SelectMany(t => t.Data).ToArray();
        }
        var once = Run(0.3f);
        Assert.That(Run(0.3f), Is.EqualTo(once), "bit-identical for a seed");
        Assert.That(Run(0), Is.Not.EqualTo(once), "the masks changed the run");
    }
}
