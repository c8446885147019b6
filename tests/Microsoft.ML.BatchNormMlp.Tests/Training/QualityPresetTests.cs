using Microsoft.ML.BatchNormMlp.Export;
using Microsoft.ML.BatchNormMlp.Featurization;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Training;

namespace Microsoft.ML.BatchNormMlp.Tests.Training;

/// <summary>
/// The <c>quality</c> preset builds at the boosted trees' context and learns. Its full run (the dev figure against
/// the trees' 1.957) takes minutes and is measured with <c>bnmlp train --preset quality</c>, not here.
/// </summary>
public class QualityPresetTests
{
    [Test]
    public void Quality_IsAResidualBatchNormNetworkAtContext8()
    {
        var p = Presets.Get("quality");
        Assert.That(p.Config.ContextLength, Is.EqualTo(8));
        Assert.That((p.Config.Residual, p.Config.HiddenBatchNorm, p.Config.HiddenBias), Is.EqualTo((true, true, false)));
        Assert.That(Presets.CharacterNames, Does.Contain("quality"));
        var net = new MlpNetwork(p.Config);
        Assert.That(Enumerable.Range(1, p.Config.HiddenWidths.Count - 1).All(net.AddsResidual), Is.True, "every layer after the first adds its input back");
    }

    [Test]
    public void QualityC3_IsQualityAtContext3_WithReLU_AsAnEnsembleOfThree_AndQualityMergesATanhAndAReLUNetwork()
    {
        var q = Presets.Get("quality");
        var c3 = Presets.Get("quality-c3");
        Assert.That(c3.Config, Is.EqualTo(q.Config with { ContextLength = 3, Activation = Activation.Relu }).Using<MlpConfig>((a, b) => MlpConfigJson.Write(a) == MlpConfigJson.Write(b)));
        Assert.That((c3.Members, q.Members), Is.EqualTo((3, 2)));
        Assert.That(q.Training.EnsembleActivations, Is.EqualTo(new[] { Activation.Tanh, Activation.Relu }), "quality's members: a tanh and a ReLU network");
        Assert.That(c3.Training.EnsembleActivations, Is.Null);
        Assert.That(EnsembleTraining.MergedConfig(q.Config, q.Training with { EnsembleMembers = q.Members }).ActivationGroups, Is.EqualTo(new[] { Activation.Tanh, Activation.Relu }));
        var (_, _, publicTraining, _) = new BatchNormMlpTrainer.Options { Preset = "quality" }.Resolve(27, 8, null, 1);
        Assert.That(publicTraining.EnsembleActivations, Is.EqualTo(new[] { Activation.Tanh, Activation.Relu }), "the public trainer trains the preset's members");
        (_, _, publicTraining, _) = new BatchNormMlpTrainer.Options { Preset = "quality", Activation = Activation.Relu }.Resolve(27, 8, null, 1);
        Assert.That(publicTraining.EnsembleActivations, Is.Null, "an explicit Activation is every member's");
        (_, _, publicTraining, _) = new BatchNormMlpTrainer.Options { Preset = "quality", EnsembleActivations = [Activation.Relu] }.Resolve(27, 8, null, 1);
        Assert.That(publicTraining.EnsembleActivations, Is.EqualTo(new[] { Activation.Relu }));
        Assert.Throws<ArgumentException>(() => new BatchNormMlpTrainer.Options { Preset = "quality", EnsembleActivations = [] }.Resolve(27, 8, null, 1));
        var (_, _, training, _) = new BatchNormMlpTrainer.Options { Preset = "quality-c3" }.Resolve(27, 3, null, 1);
        Assert.That(training.EnsembleMembers, Is.EqualTo(3), "the public trainer trains the preset's ensemble");
        (_, _, training, _) = new BatchNormMlpTrainer.Options { Preset = "quality-c3", EnsembleMembers = 1 }.Resolve(27, 3, null, 1);
        Assert.That(training.EnsembleMembers, Is.EqualTo(1));
        Assert.That(c3.Training.EmaDecay, Is.GreaterThan(0), "the averaged weights are the model");
        Assert.That(c3.Training.CalibrateAfterTraining, Is.True);
        Assert.That(Presets.CharacterNames, Does.Contain("quality-c3"));
    }

    [Test]
    public void Quality_TrainsAFewStepsOnNamesAtItsContext()
    {
        var corpus = NameCorpus.Load(NamesData.FindNamesFile());
        var vocabulary = Vocabulary.FromCorpus(corpus);
        var split = CorpusSplit.Create(corpus.Names);
        var preset = Presets.Get("quality", vocabulary.Count);
        int context = preset.Config.ContextLength;
        Dataset Rows(IEnumerable<string> names)
        {
            var w = ContextWindowFeaturizer.Featurize(names.ToList(), vocabulary, context);
            return Dataset.FromContexts(w.Contexts, context, w.Targets);
        }
        Dataset train = Rows(split.Train.Take(3000)), dev = Rows(split.Dev.Take(500));

        var net = new MlpNetwork(preset.Config);
        Initialization.Initialize(net, preset.Init, new Rng(2147483647));
        double before = net.Evaluate(dev);
        var result = new Trainer(net, preset.Training with { Steps = 150, ProgressEvery = 150 }).Train(train, dev);

        TestContext.Out.WriteLine($"quality, 150 steps on 3000 names: dev {before:F4} -> {result.ValidationLoss:F4}");
        Assert.That(before, Is.GreaterThan(Math.Log(27) - 0.3), "an untrained model is no better than uniform");
        Assert.That(result.ValidationLoss, Is.LessThan(2.5), "150 Adam steps on names learn the letter frequencies and more");
    }
}
