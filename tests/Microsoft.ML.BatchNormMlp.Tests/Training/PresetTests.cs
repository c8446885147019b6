using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Training;

namespace Microsoft.ML.BatchNormMlp.Tests.Training;

public class PresetTests
{
    public static IEnumerable<string> AllPresetNames() => Presets.Names;

    // Parameter counts printed by PyTorch for torch_ref.py's Net (sum of p.numel()) and the fourth seed's networks.
    [TestCase("bn1", 12097)]
    [TestCase("plain1", 11897)]
    [TestCase("seed002", 16651)]
    [TestCase("mlp3", 1335499)]
    [TestCase("deep50", 3269323)]
    [TestCase("deep50-res", 3269323)]
    [TestCase("mnist1d-res", 55610)]
    [TestCase("mnist1d-res-bn", 56610)]
    [TestCase("quality", 739115)]
    [TestCase("quality-c3", 616235)]
    public void Preset_HasPyTorchsParameterCount(string name, int count)
    {
        Assert.That(new MlpNetwork(Presets.Get(name).Config).ParameterCount, Is.EqualTo(count));
    }

    [Test]
    public void Bn1_HasTheSeedsHyperparameters()
    {
        var p = Presets.Get("bn1");
        Assert.That(p.Training.Steps, Is.EqualTo(200_000));
        Assert.That(p.Training.BatchSize, Is.EqualTo(32));
        Assert.That(p.Training.Sampling, Is.EqualTo(Sampling.WithReplacement));
        Assert.That(p.Training.LearningRate, Is.EqualTo(new StepDecaySchedule(0.1, 0.1)));
        Assert.That(p.Config.HiddenBias, Is.False);
        Assert.That(p.Config.EmbeddingWidth, Is.EqualTo(10));
    }

    [Test]
    public void Seed002_HasHiddenBiasesAndAnOutputBatchNorm()
    {
        var c = Presets.Get("seed002").Config;
        Assert.That((c.HiddenBias, c.HiddenBatchNorm, c.OutputBatchNorm), Is.EqualTo((true, true, true)));
    }

    [Test]
    public void Mnist1dResBn_IsTheFourthSeedsNetworkAndOptimizer()
    {
        var p = Presets.Get("mnist1d-res-bn");
        Assert.That(p.Config.BlockStyle, Is.EqualTo(BlockStyle.PreActivation));
        Assert.That(p.Config.HiddenWidths, Is.EqualTo(new[] { 100, 100, 100, 100, 100, 100 }));
        Assert.That(p.Init.Scheme, Is.EqualTo(InitScheme.HeUniform));
        Assert.That((p.Training.BatchSize, p.Training.Momentum, p.Training.Sampling), Is.EqualTo((200, 0.9f, Sampling.ShuffledEpochs)));
        Assert.That(p.Training.LearningRate, Is.EqualTo(new ConstantSchedule(0.05)));
        var net = new MlpNetwork(p.Config);
        Assert.That(Enumerable.Range(1, 5).All(net.AddsResidual), Is.True, "five residual blocks after the stem");
    }

    [Test]
    public void TorchRefsSpellingDeep50res_IsTheResidualPreset()
    {
        Assert.That(Presets.Get("deep50res").Config.Residual, Is.True);
        Assert.That(Presets.Get("deep50").Config.Residual, Is.False);
    }

    [Test]
    public void UnknownPreset_ListsTheKnownOnes()
    {
        var ex = Assert.Throws<ArgumentException>(() => Presets.Get("bn2"));
        Assert.That(ex!.Message, Does.Contain("Unknown preset 'bn2'").And.Contain("mnist1d-res-bn"));
    }
}
