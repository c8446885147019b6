using Microsoft.ML.BatchNormMlp.Engines.TorchSharp;
using Microsoft.ML.BatchNormMlp.Layers;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Tests.Training;
using Microsoft.ML.BatchNormMlp.Training;

namespace Microsoft.ML.BatchNormMlp.Tests.Engines;

/// <summary>
/// libtorch as a live reference: from the same initial weights and the same minibatches (the shared sampler), the
/// TorchSharp engine's losses agree with the managed engine's to 1e-5 on the first step and to 1e-3 after 1,000
/// steps, and the first step's gradients agree tensor by tensor to 1e-4 of the tensor's largest gradient.
/// </summary>
[NonParallelizable]
public class EngineParityTests
{
    private static readonly Lazy<NamesData> Names = new(NamesData.Load);

    public static IEnumerable<TestCaseData> SeedPresets() => new[] { "bn1", "mlp3", "deep50-res", "seed002" }.Select(p => new TestCaseData(p).SetName($"Parity({p})"));

    private static (Preset Preset, MlpNetwork Managed, MlpNetwork Torch) Pair(string presetName, int vocabulary = 27)
    {
        var preset = Presets.Get(presetName, vocabulary);
        var managed = new MlpNetwork(preset.Config);
        Initialization.Initialize(managed, preset.Init, new Rng(7));
        var torch = new MlpNetwork(preset.Config);
        StateDictionary.Load(torch, StateDictionary.Get(managed));   // the same initial weights
        return (preset, managed, torch);
    }

    [TestCaseSource(nameof(SeedPresets))]
    public void FirstStepGradientsAgree(string presetName)
    {
        var (preset, managed, torch) = Pair(presetName);
        var data = Names.Value.Train;
        int batch = preset.Training.BatchSize;
        var ids = new int[batch * data.RowWidth];
        var labels = new int[batch];
        new MinibatchSampler(Sampling.WithReplacement, 11).Next(data, batch, ids, [], labels);

        var logits = managed.Forward(NetworkInput.Ids(ids), batch, training: true);
        var ws = managed.GetWorkspace(batch);
        double managedLoss = SoftmaxCrossEntropy.Forward(logits, labels, ws.DLogits, batch, managed.Config.OutputWidth);
        managed.Backward(ws.DLogits);

        using var engine = new TorchSharpEngine(torch, preset.Training with { Threads = 1 });
        engine.Begin(batch);
        double torchLoss = engine.Forward(NetworkInput.Ids(ids), labels, batch, readLoss: true);
        engine.Backward();
        var gradients = engine.Gradients().ToDictionary(g => g.Name);

        Assert.That(torchLoss, Is.EqualTo(managedLoss).Within(1e-5), "first-step loss");
        Assert.That(gradients.Keys, Is.EquivalentTo(managed.Parameters.Select(p => p.Name)));
        double largest = gradients.Values.Max(g => g.Data.Max(MathF.Abs));
        foreach (var p in managed.Parameters)
        {
            float[] mine = p.Grad, theirs = gradients[p.Name].Data;
            double scale = theirs.Max(MathF.Abs), worst = mine.Zip(theirs, (a, b) => (double)MathF.Abs(a - b)).Max();
            if (scale < 1e-5 * largest)
            {
                // A bias right before a BatchNorm has an exact gradient of zero (the mean subtraction cancels it): both
                // engines must then produce rounding noise only, and no relative comparison of noise means anything.
                Assert.That(mine.Max(MathF.Abs), Is.LessThan(1e-5 * largest), $"{p.Name}: torch's gradient is rounding noise, the managed one is not");
                continue;
            }
            Assert.That(worst / scale, Is.LessThanOrEqualTo(1e-4), $"{p.Name}: largest gradient difference {worst:G3} against a largest gradient of {scale:G3}");
        }
    }

    [TestCaseSource(nameof(SeedPresets))]
    public void LossesAgreeOverAThousandSteps(string presetName)
    {
        var (preset, managed, torch) = Pair(presetName);
        var options = preset.Training with { Steps = 1000, ProgressEvery = 1, Threads = 1, Seed = 5 };
        var managedLosses = Losses(managed, options with { Engine = TrainingEngine.Managed });
        var torchLosses = Losses(torch, options with { Engine = TrainingEngine.TorchSharp });
        Assert.That(torchLosses, Has.Count.EqualTo(1000));
        Assert.That(torchLosses[0], Is.EqualTo(managedLosses[0]).Within(1e-5), "first step");
        Assert.That(torchLosses[^1], Is.EqualTo(managedLosses[^1]).Within(1e-3), "step 1000");
        // And the trained networks, written back by the TorchSharp engine, evaluate alike on held-out rows.
        var dev = Names.Value.Dev;
        Assert.That(torch.Evaluate(dev), Is.EqualTo(managed.Evaluate(dev)).Within(1e-3), "dev loss of the trained networks");
    }

    /// <summary>What the seed presets do not cover: dense input, pre-activation ReLU blocks, He-uniform init, SGD momentum, shuffled epochs; Adam with weight decay.</summary>
    [TestCase("mnist1d-res-bn", "Sgd")]
    [TestCase("mnist1d-res", "Sgd")]
    [TestCase("mnist1d-res-bn", "Adam")]
    public void DenseAndPreActivationAgree(string presetName, string optimizerName)
    {
        var optimizer = Enum.Parse<OptimizerKind>(optimizerName);
        var (preset, managed, torch) = Pair(presetName);
        var data = DenseData(1000, 40, 10);
        var options = preset.Training with
        {
            Steps = 200, ProgressEvery = 1, Threads = 1, Optimizer = optimizer, WeightDecay = 1e-4f,
            LearningRate = optimizer == OptimizerKind.Adam ? new ConstantSchedule(1e-3) : preset.Training.LearningRate,
        };
        var managedLosses = Losses(managed, options with { Engine = TrainingEngine.Managed }, data);
        var torchLosses = Losses(torch, options with { Engine = TrainingEngine.TorchSharp }, data);
        Assert.That(torchLosses[0], Is.EqualTo(managedLosses[0]).Within(1e-5), "first step");
        Assert.That(torchLosses[^1], Is.EqualTo(managedLosses[^1]).Within(1e-3), "last step");
    }

    internal static Dataset DenseData(int rows, int width, int classes)
    {
        var rng = new Rng(17);
        var features = new float[rows * width];
        for (int i = 0; i < features.Length; i++) features[i] = rng.NextFloat() * 2 - 1;
        var labels = Enumerable.Range(0, rows).Select(r => (features[r * width] > 0 ? 1 : 0) + 2 * (int)((features[r * width + 1] + 1) * 2.49f)).Select(l => l % classes).ToArray();
        return Dataset.FromDense(features, width, labels);
    }

    private static List<double> Losses(MlpNetwork network, TrainingOptions options, Dataset? data = null)
    {
        var losses = new List<double>();
        using var trainer = new Trainer(network, options);
        trainer.Train(data ?? Names.Value.Train, progress: new Collect(losses));
        return losses;
    }

    private sealed class Collect(List<double> losses) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => losses.Add(value.Loss);
    }
}
