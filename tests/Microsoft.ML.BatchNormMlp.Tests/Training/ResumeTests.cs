using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Tests.Featurization;
using Microsoft.ML.BatchNormMlp.Training;

namespace Microsoft.ML.BatchNormMlp.Tests.Training;

/// <summary>
/// A run interrupted at step k and resumed from its checkpoint file ends with every tensor (weights, BatchNorm running
/// statistics, optimizer moments) bit-identical to the uninterrupted run, and reports the same progress.
/// </summary>
public class ResumeTests
{
    private static readonly MlpConfig Config = new()
    {
        ContextLength = 3, VocabularySize = 9, EmbeddingWidth = 4, OutputWidth = 9, HiddenWidths = [16, 16],
        Residual = true, HiddenBias = true, OutputBatchNorm = true,
    };

    private static readonly string[] Symbols = [".", "a", "b", "c", "d", "e", "f", "g", "h"];

    internal static Dataset Data(int rows, ulong seed)
    {
        var rng = new Rng(seed);
        var ids = Enumerable.Range(0, rows * 3).Select(_ => rng.NextInt(9)).ToArray();
        var labels = Enumerable.Range(0, rows).Select(i => (ids[3 * i] + 2 * ids[3 * i + 2]) % 9).ToArray();
        return Dataset.FromContexts(ids, 3, labels);
    }

    internal static MlpNetwork Network(MlpConfig? config = null, ulong seed = 3)
    {
        var net = new MlpNetwork(config ?? Config);
        Initialization.Initialize(net, new InitOptions(), new Rng(seed));
        return net;
    }

    private static TrainingOptions Options(string optimizer, string sampling) => new()
    {
        Steps = 40, BatchSize = 24, Optimizer = Enum.Parse<OptimizerKind>(optimizer), Sampling = Enum.Parse<Sampling>(sampling),
        Momentum = 0.9f, WeightDecay = 1e-4f, LearningRate = new StepDecaySchedule(0.05), ProgressEvery = 1, ValidationEvery = 5,
        Seed = 77,
    };

    /// <summary>Every tensor's bits, and the optimizer's, by name.</summary>
    internal static Dictionary<string, int[]> Bits(MlpNetwork network, Optimizer? optimizer = null)
    {
        var bits = network.Tensors.ToDictionary(t => t.Name, t => t.Data.Select(BitConverter.SingleToInt32Bits).ToArray());
        foreach (var t in optimizer?.GetState() ?? []) bits.Add("optimizer." + t.Name, t.Data.Select(BitConverter.SingleToInt32Bits).ToArray());
        return bits;
    }

    private sealed class Recorder(Action<TrainingProgress>? onReport = null) : IProgress<TrainingProgress>
    {
        public List<TrainingProgress> Reports { get; } = [];
        public void Report(TrainingProgress value) { Reports.Add(value); onReport?.Invoke(value); }
    }

    // 100 rows in batches of 24: epochs of five batches (the last of 4 rows), so step 17 is mid-epoch (the 3rd batch of the 4th).
    [TestCase("Sgd", "WithReplacement")]
    [TestCase("Sgd", "ShuffledEpochs")]
    [TestCase("Adam", "WithReplacement")]
    [TestCase("Adam", "ShuffledEpochs")]
    public void CancelledAtAStep_ResumedFromTheFile_EndsBitIdentical(string optimizer, string sampling)
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "run.ckpt");
        var options = Options(optimizer, sampling);
        var data = Data(100, 1);
        var valid = Data(60, 2);

        var whole = Network();
        var wholeTrainer = new Trainer(whole, options, Symbols);
        var wholeProgress = new Recorder();
        var wholeResult = wholeTrainer.Train(data, valid, wholeProgress);

        using var cts = new CancellationTokenSource();
        var interrupted = new Trainer(Network(), options with { CheckpointPath = path, CheckpointEvery = 7 }, Symbols);
        Assert.Throws<OperationCanceledException>(() => interrupted.Train(data, valid, new Recorder(r => { if (r.Step == 17) cts.Cancel(); }), cts.Token));
        Assert.That(CheckpointFile.Load(path).State.CompletedSteps, Is.EqualTo(17), "a cancelled run saves where it stopped");

        var second = Network(seed: 99);   // other weights: the checkpoint must overwrite every tensor
        var resumed = new Trainer(second, options with { CheckpointPath = path, CheckpointEvery = 7 }, Symbols);
        var saved = resumed.Resume(path, data);
        Assert.That(saved.State.CompletedSteps, Is.EqualTo(17));
        var progress = new Recorder();
        var result = resumed.Train(data, valid, progress);

        Assert.That(result.Steps, Is.EqualTo(40));
        Assert.That(Bits(second, resumed.Optimizer), Is.EqualTo(Bits(whole, wholeTrainer.Optimizer)));
        Assert.That(result.ValidationLoss, Is.EqualTo(wholeResult.ValidationLoss));
        // Same losses, rates and validation cadence from step 18 on (validation at 20, 25, ...; step 18 still shows step 15's).
        Assert.That(progress.Reports.Select(r => (r.Step, r.Loss, r.LearningRate, r.ValidationLoss)),
            Is.EqualTo(wholeProgress.Reports.Skip(17).Select(r => (r.Step, r.Loss, r.LearningRate, r.ValidationLoss))));
    }

    // The regularizers' state: the dropout generator (its own stream) and the EMA of the weights are saved and restored;
    // the final weights are the average (recalibrated), so they match only if both came back exactly.
    [TestCase("AdamW", "ShuffledEpochs", 0.2f, 0.9f)]
    [TestCase("AdamW", "WithReplacement", 0f, 0.95f)]
    [TestCase("Adam", "ShuffledEpochs", 0.3f, 0f)]
    [TestCase("Sgd", "WithReplacement", 0.1f, 0.8f)]
    public void WithDropoutAndEma_CancelledAndResumedFromTheFile_EndsBitIdentical(string optimizer, string sampling, float dropout, float ema)
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "run.ckpt");
        var options = Options(optimizer, sampling) with { Dropout = dropout, EmaDecay = ema, Momentum = optimizer == "Sgd" ? 0.9f : 0 };
        var data = Data(100, 1);
        var valid = Data(60, 2);

        var whole = Network();
        var wholeTrainer = new Trainer(whole, options, Symbols);
        var wholeResult = wholeTrainer.Train(data, valid);

        using var cts = new CancellationTokenSource();
        var interrupted = new Trainer(Network(), options with { CheckpointPath = path, CheckpointEvery = 7 }, Symbols);
        Assert.Throws<OperationCanceledException>(() => interrupted.Train(data, valid, new Recorder(r => { if (r.Step == 17) cts.Cancel(); }), cts.Token));
        var saved = CheckpointFile.Load(path);
        Assert.That(saved.State.DropoutSampler is not null, Is.EqualTo(dropout > 0));
        Assert.That(saved.State.Ema, Has.Count.EqualTo(ema > 0 ? whole.Parameters.Count : 0));
        Assert.That(saved.Training.Dropout, Is.EqualTo(dropout));
        Assert.That(saved.Training.EmaDecay, Is.EqualTo(ema));

        var second = Network(seed: 99);
        var resumed = new Trainer(second, options with { CheckpointPath = path, CheckpointEvery = 7 }, Symbols);
        resumed.Resume(path, data);
        var result = resumed.Train(data, valid);
        Assert.That(Bits(second, resumed.Optimizer), Is.EqualTo(Bits(whole, wholeTrainer.Optimizer)));
        Assert.That(result.ValidationLoss, Is.EqualTo(wholeResult.ValidationLoss));
    }

    [TestCase("Sgd", "ShuffledEpochs")]
    [TestCase("Adam", "WithReplacement")]
    public void ResumedFromAPeriodicCheckpoint_EndsBitIdentical(string optimizer, string sampling)
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "run.ckpt");
        string copy = Path.Combine(temp.Path, "at14.ckpt");
        var options = Options(optimizer, sampling) with { CheckpointPath = path, CheckpointEvery = 7 };
        var data = Data(100, 1);

        // One run with checkpoints; the file as it stood at step 14 (progress is reported after the checkpoint is written).
        var whole = Network();
        var wholeTrainer = new Trainer(whole, options, Symbols);
        wholeTrainer.Train(data, null, new Recorder(r => { if (r.Step == 14) File.Copy(path, copy); }));
        Assert.That(CheckpointFile.Load(path).State.CompletedSteps, Is.EqualTo(40), "the last checkpoint follows the last step");

        var second = Network(seed: 5);
        var resumed = new Trainer(second, options with { CheckpointPath = Path.Combine(temp.Path, "other.ckpt") }, Symbols);
        Assert.That(resumed.Resume(copy, data).State.CompletedSteps, Is.EqualTo(14));
        resumed.Train(data);
        Assert.That(Bits(second, resumed.Optimizer), Is.EqualTo(Bits(whole, wholeTrainer.Optimizer)));
    }

    [Test]
    public void Resume_OnTwoThreads_EndsBitIdentical()
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "run.ckpt");
        var config = Config with { HiddenWidths = [64, 64] };
        var options = Options("Sgd", "ShuffledEpochs") with { Threads = 2, BatchSize = 64, Steps = 30 };
        var data = Data(500, 1);
        var whole = Network(config);
        new Trainer(whole, options, Symbols).Train(data);

        using var cts = new CancellationTokenSource();
        var first = new Trainer(Network(config), options with { CheckpointPath = path }, Symbols);
        Assert.Throws<OperationCanceledException>(() => first.Train(data, null, new Recorder(r => { if (r.Step == 11) cts.Cancel(); }), cts.Token));
        var second = Network(config, seed: 8);
        var resumed = new Trainer(second, options, Symbols);
        resumed.Resume(path, data);
        resumed.Train(data);
        Assert.That(Bits(second), Is.EqualTo(Bits(whole)));
    }

    [Test]
    public void ACheckpoint_HoldsTheRunsState()
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "run.ckpt");
        var data = Data(100, 1);
        var net = Network();
        var options = Options("Adam", "ShuffledEpochs") with { Steps = 12, CheckpointPath = path };
        var trainer = new Trainer(net, options, Symbols);
        trainer.Train(data, Data(30, 2));
        var saved = CheckpointFile.Load(path);
        var live = trainer.Checkpoint();

        Assert.That(saved.Config, Is.EqualTo(net.Config).Using<MlpConfig>((a, b) => MlpConfigJson(a) == MlpConfigJson(b)));
        Assert.That(saved.Vocabulary, Is.EqualTo(Symbols));
        Assert.That(saved.Training, Is.EqualTo(CheckpointFile.FixedOptions(options)));
        Assert.That(saved.Data, Is.EqualTo(new DataIdentity(100, DataFingerprint.Compute(data))));
        Assert.That(saved.State.CompletedSteps, Is.EqualTo(12));
        Assert.That(saved.State.OptimizerSteps, Is.EqualTo(12));
        Assert.That(saved.State.Sampler, Is.EqualTo(live.Sampler));
        Assert.That(saved.State.EpochStart, Is.EqualTo(live.EpochStart).And.Not.Null);
        Assert.That(saved.State.Cursor, Is.EqualTo(live.Cursor).And.EqualTo(48), "step 12 is the 3rd batch of the 3rd epoch: two batches of 24 taken");
        Assert.That(saved.State.LastLoss, Is.EqualTo(live.LastLoss));
        Assert.That(saved.State.LastValidationLoss, Is.EqualTo(live.LastValidationLoss).And.Not.Null);
        Assert.That(saved.State.Network.Select(t => t.Name), Is.EqualTo(net.Tensors.Select(t => t.Name)));
        Assert.That(saved.State.Network.Select(t => t.Data), Is.EqualTo(net.Tensors.Select(t => t.Data)));
        Assert.That(saved.State.Network.Select(t => t.Name), Does.Contain("hidden.1.norm.running_var"));
        Assert.That(saved.State.Optimizer.Select(t => t.Name), Is.EquivalentTo(trainer.Optimizer.GetState().Select(t => t.Name)));
        Assert.That(saved.State.Optimizer.Select(t => t.Name), Does.Contain("exp_avg_sq.embedding.weight"));
    }

    [Test]
    public void Divergence_NamesStepLayerAndRemedy_AndLeavesTheLastGoodCheckpoint()
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "run.ckpt");
        // ReLU without BatchNorm: nothing bounds the activations, so a huge rate compounds through the layers.
        var config = Config with { HiddenBatchNorm = false, OutputBatchNorm = false, Residual = false, Activation = Activation.Relu };
        // A sane rate for 6 steps, then one so large that the weights overflow.
        var options = new TrainingOptions { Steps = 100, BatchSize = 16, LearningRate = new StepDecaySchedule(0.1, 1e31, AtStep: 6), CheckpointPath = path, CheckpointEvery = 2 };
        var ex = Assert.Throws<NonFiniteLossException>(() => new Trainer(Network(config), options, Symbols).Train(Data(200, 1)));

        Assert.That(ex!.Step, Is.GreaterThanOrEqualTo(6));
        Assert.That(ex.Layer, Is.Not.Null);
        Assert.That(ex.Message, Does.StartWith($"Training diverged at step {ex.Step}:"));
        Assert.That(ex.Message, Does.Contain($"'{ex.Layer}'"));
        Assert.That(ex.Message, Does.EndWith("The learning rate was 1E+30: lower it (try 1E+29) or enable BatchNorm."));
        Assert.That(ex.SuggestedLearningRate, Is.EqualTo(1e29f));

        var saved = CheckpointFile.Load(path);   // loads: whole, finite, from before the blow-up
        Assert.That(saved.State.CompletedSteps, Is.LessThanOrEqualTo(ex.Step).And.GreaterThanOrEqualTo(6));
        Assert.That(saved.State.CompletedSteps % 2, Is.Zero);
        Assert.That(saved.State.Network.All(t => t.Data.All(float.IsFinite)), Is.True);
        var net = Network(config);
        StateDictionary.Load(net, saved.State.Network);
        Assert.That(double.IsFinite(net.Evaluate(Data(50, 3))), Is.True);
        Assert.That(Directory.GetFiles(temp.Path), Is.EqualTo(new[] { path }), "no temporary file left behind");
    }

    [Test]
    public void AnUpdateThatOverflows_IsNotCheckpointed()
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "run.ckpt");
        // Step 4's rate is infinite as a float: its loss is finite, its update is not.
        var options = new TrainingOptions { Steps = 10, BatchSize = 16, LearningRate = new StepDecaySchedule(0.1, 1e40, AtStep: 4), CheckpointPath = path, CheckpointEvery = 1 };
        var ex = Assert.Throws<NonFiniteLossException>(() => new Trainer(Network(), options, Symbols).Train(Data(200, 1)));
        Assert.That(ex!.Step, Is.EqualTo(4));
        Assert.That(ex.Message, Does.StartWith("Training diverged at step 4: its loss was ").And.Contain("but its update left tensor '"));
        Assert.That(ex.Message, Does.EndWith("Lower the learning rate or use a better-scaled initialization."), "an infinite rate has no tenth to suggest");
        Assert.That(CheckpointFile.Load(path).State.CompletedSteps, Is.EqualTo(4), "the checkpoint after step 3 (4 steps done) stays");
    }

    [Test]
    public void Restore_OfAnotherOptimizersState_ChangesNothing()
    {
        var sgd = new Trainer(Network(), Options("Sgd", "WithReplacement"), Symbols);
        sgd.Train(Data(100, 1));
        var checkpoint = sgd.Checkpoint();
        var net = Network(seed: 9);
        var adam = new Trainer(net, Options("Adam", "WithReplacement"), Symbols);
        var before = Bits(net, adam.Optimizer);
        var ex = Assert.Throws<InvalidDataException>(() => adam.Restore(checkpoint));
        Assert.That(ex!.Message, Does.StartWith("Cannot load the optimizer state: missing optimizer tensor 'exp_avg.embedding.weight'"));
        Assert.That(Bits(net, adam.Optimizer), Is.EqualTo(before));
        Assert.That(adam.CompletedSteps, Is.Zero);
    }

    [Test]
    public void StaleTemporaryFiles_OfAKilledWriter_AreRemoved()
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "run.ckpt");
        string stale = temp.Write($".run.ckpt.{Guid.NewGuid():N}.tmp", "half a checkpoint");
        string unrelated = temp.Write(".run.ckpt.mine.tmp", "not ours");
        new Trainer(Network(), new TrainingOptions { Steps = 3, BatchSize = 8, CheckpointPath = path }, Symbols).Train(Data(50, 1));
        Assert.That(File.Exists(stale), Is.False);
        Assert.That(File.Exists(unrelated), Is.True);
        Assert.That(File.Exists(path), Is.True);
    }

    private static string MlpConfigJson(MlpConfig c) => BatchNormMlp.Export.MlpConfigJson.Write(c);
}
