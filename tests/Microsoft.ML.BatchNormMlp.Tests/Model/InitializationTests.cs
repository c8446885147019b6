using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Tests.Model;

public class InitializationTests
{
    private static readonly MlpConfig Config = new() { VocabularySize = 27, EmbeddingWidth = 16, OutputWidth = 27, HiddenWidths = [400, 400], HiddenBias = true, OutputBias = true };

    private static MlpNetwork Init(InitOptions o, MlpConfig? config = null)
    {
        var net = new MlpNetwork(config ?? Config);
        Initialization.Initialize(net, o, new Rng(17));
        return net;
    }

    private static (double Mean, double Std, double MaxAbs) Stats(float[] x)
    {
        double m = x.Average(v => (double)v);
        double s = Math.Sqrt(x.Average(v => (v - m) * (v - m)));
        return (m, s, x.Max(v => Math.Abs((double)v)));
    }

    [Test]
    public void PyTorchDefault_IsUniformWithinOneOverRootFanIn_AndEmbeddingIsStandardNormal()
    {
        var net = Init(new InitOptions());
        var (_, std, max) = Stats(net.Hidden[1].Weight.Data);
        double bound = 1 / Math.Sqrt(400);
        Assert.That(max, Is.LessThanOrEqualTo(bound).And.GreaterThan(0.99 * bound));
        Assert.That(std, Is.EqualTo(bound / Math.Sqrt(3)).Within(0.02 * bound));   // U(-b, b) has std b/√3
        Assert.That(Stats(net.Hidden[1].Bias!.Data).MaxAbs, Is.LessThanOrEqualTo(bound));
        Assert.That(Stats(net.Embedding!.Weight.Data).Std, Is.EqualTo(1).Within(0.08));
        Assert.That(net.Norms[0]!.Weight.Data, Is.All.EqualTo(1f));
        Assert.That(net.Norms[0]!.RunningVar.Data, Is.All.EqualTo(1f));
    }

    [TestCase(Activation.Tanh, 5.0 / 3)]
    [TestCase(Activation.Relu, 1.4142135623730951)]
    public void KaimingNormal_HasStdGainOverRootFanIn(Activation activation, double gain)
    {
        var net = Init(new InitOptions(InitScheme.KaimingNormal), Config with { Activation = activation });
        var (mean, std, _) = Stats(net.Hidden[1].Weight.Data);
        Assert.That(std, Is.EqualTo(gain / Math.Sqrt(400)).Within(0.02 * gain / Math.Sqrt(400)));
        Assert.That(Math.Abs(mean), Is.LessThan(0.002));
        Assert.That(Stats(net.Output.Weight.Data).MaxAbs, Is.LessThanOrEqualTo(1 / Math.Sqrt(400)), "the output layer keeps PyTorch's default");
    }

    [Test]
    public void HeUniform_BoundsEveryLinearIncludingOutputAndZeroesBiases()
    {
        var net = Init(new InitOptions(InitScheme.HeUniform));
        double bound = Math.Sqrt(6.0 / 400);
        Assert.That(Stats(net.Hidden[1].Weight.Data).MaxAbs, Is.LessThanOrEqualTo(bound).And.GreaterThan(0.99 * bound));
        Assert.That(Stats(net.Output.Weight.Data).MaxAbs, Is.LessThanOrEqualTo(bound).And.GreaterThan(0.9 * bound));
        Assert.That(net.Hidden[0].Bias!.Data, Is.All.EqualTo(0f));
        Assert.That(net.Output.Bias!.Data, Is.All.EqualTo(0f));
    }

    [Test]
    public void NaiveNormal_IsStandardNormalEverywhere()
    {
        var net = Init(new InitOptions(InitScheme.NaiveNormal));
        Assert.That(Stats(net.Hidden[1].Weight.Data).Std, Is.EqualTo(1).Within(0.01));
        Assert.That(Stats(net.Output.Bias!.Data).MaxAbs, Is.GreaterThan(0.5));
    }

    [Test]
    public void OutputScaling_ShrinksTheOutputWeightsAndCanZeroTheBias()
    {
        var plain = Init(new InitOptions());
        var scaled = Init(new InitOptions(OutputWeightScale: 0.1f, ZeroOutputBias: true));
        for (int i = 0; i < plain.Output.Weight.Data.Length; i++)
            Assert.That(scaled.Output.Weight.Data[i], Is.EqualTo(0.1f * plain.Output.Weight.Data[i]));
        Assert.That(scaled.Output.Bias!.Data, Is.All.EqualTo(0f));
        Assert.That(scaled.Hidden[0].Weight.Data, Is.EqualTo(plain.Hidden[0].Weight.Data), "same seed, same hidden weights");
    }

    [Test]
    public void NaiveInit_ReproducesTheSeedsFailure_WhileAScaledOutputStartsNearUniform()
    {
        // plain1's architecture (no BatchNorm): naive N(0, 1) weights saturate tanh and make confident wrong guesses.
        var config = new MlpConfig { VocabularySize = 27, EmbeddingWidth = 10, OutputWidth = 27, HiddenWidths = [200], HiddenBias = true, HiddenBatchNorm = false };
        var rng = new Rng(3);
        var ids = Enumerable.Range(0, 256 * 3).Select(_ => rng.NextInt(27)).ToArray();
        var labels = Enumerable.Range(0, 256).Select(_ => rng.NextInt(27)).ToArray();
        var data = Dataset.FromContexts(ids, 3, labels);

        var naive = Init(new InitOptions(InitScheme.NaiveNormal), config);
        double naiveLoss = naive.Evaluate(data);
        naive.Forward(data.Rows(0, 256), 256, training: true);
        float[] h = naive.GetWorkspace(256).Activated[0];
        double saturated = h.Count(v => MathF.Abs(v) > 0.99f) / (double)h.Length;

        var scaled = Init(new InitOptions(InitScheme.KaimingNormal, OutputWeightScale: 0.01f, ZeroOutputBias: true), config);
        double scaledLoss = scaled.Evaluate(data);

        Assert.That(naiveLoss, Is.GreaterThan(15), "the seeds start near 27 with naive weights");
        Assert.That(saturated, Is.GreaterThan(0.5), "most tanh units sit in the flat tails (measured 65%)");
        Assert.That(scaledLoss, Is.EqualTo(Math.Log(27)).Within(0.05), "a shrunken output layer starts at the uniform guess, ln 27");
    }
}
