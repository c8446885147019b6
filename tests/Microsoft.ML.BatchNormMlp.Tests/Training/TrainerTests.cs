using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Training;

namespace Microsoft.ML.BatchNormMlp.Tests.Training;

public class TrainerTests
{
    private static readonly MlpConfig Config = new() { ContextLength = 3, VocabularySize = 9, EmbeddingWidth = 4, OutputWidth = 9, HiddenWidths = [16] };

    // A learnable task: the label is a function of the context.
    private static Dataset Data(int rows, ulong seed)
    {
        var rng = new Rng(seed);
        var ids = Enumerable.Range(0, rows * 3).Select(_ => rng.NextInt(9)).ToArray();
        var labels = Enumerable.Range(0, rows).Select(i => (ids[3 * i] + 2 * ids[3 * i + 2]) % 9).ToArray();
        return Dataset.FromContexts(ids, 3, labels);
    }

    private static MlpNetwork Network(MlpConfig? config = null, ulong seed = 3)
    {
        var net = new MlpNetwork(config ?? Config);
        Initialization.Initialize(net, new InitOptions(), new Rng(seed));
        return net;
    }

    private sealed class Recorder : IProgress<TrainingProgress>
    {
        public List<TrainingProgress> Reports { get; } = [];
        public Action<TrainingProgress>? OnReport { get; init; }
        public void Report(TrainingProgress value) { Reports.Add(value); OnReport?.Invoke(value); }
    }

    [Test]
    public void Train_LowersTheValidationLossAndReportsProgress()
    {
        var net = Network();
        var train = Data(2000, 1); var valid = Data(500, 2);
        double before = net.Evaluate(valid);
        var progress = new Recorder();
        var result = new Trainer(net, new TrainingOptions { Steps = 600, BatchSize = 32, LearningRate = new ConstantSchedule(0.2), ProgressEvery = 100, ValidationEvery = 300 })
            .Train(train, valid, progress);
        Assert.That(progress.Reports.Select(r => r.Step), Is.EqualTo(new[] { 100, 200, 300, 400, 500, 600 }));
        Assert.That(progress.Reports[2].ValidationLoss, Is.Not.Null);
        Assert.That(progress.Reports[1].ValidationLoss, Is.Null, "no validation before step 300");
        Assert.That(progress.Reports.All(r => r.StepsPerSecond > 0 && r.LearningRate == 0.2f), Is.True);
        Assert.That(result.ValidationLoss, Is.LessThan(before - 0.5), $"validation loss {before} -> {result.ValidationLoss}");
        Assert.That(result.ValidationLoss, Is.EqualTo(net.Evaluate(valid)).Within(1e-9));
    }

    [Test]
    public void Train_IsDeterministicForASeed()
    {
        double Run()
        {
            var net = Network();
            new Trainer(net, new TrainingOptions { Steps = 50, BatchSize = 16, Seed = 9 }).Train(Data(300, 1));
            return net.Evaluate(Data(100, 2));
        }
        Assert.That(Run(), Is.EqualTo(Run()));
    }

    [Test]
    public void Train_WithAdamAndWeightDecayLowersTheLoss()
    {
        var net = Network();
        var valid = Data(500, 2);
        double before = net.Evaluate(valid);
        var result = new Trainer(net, new TrainingOptions { Steps = 300, BatchSize = 32, Optimizer = OptimizerKind.Adam, WeightDecay = 1e-4f, LearningRate = new ConstantSchedule(0.01) })
            .Train(Data(2000, 1), valid);
        Assert.That(result.ValidationLoss, Is.LessThan(before - 0.5), $"{before} -> {result.ValidationLoss}");
    }

    [Test]
    public void Train_IsDeterministicForASeedWithTwoThreads()
    {
        float[] Run()
        {
            var net = Network(Config with { HiddenWidths = [64, 64], Residual = true });
            new Trainer(net, new TrainingOptions { Steps = 30, BatchSize = 64, Threads = 2, Seed = 5 }).Train(Data(500, 1));
            return net.Parameters.SelectMany(p => p.Data).ToArray();
        }
        Assert.That(Run(), Is.EqualTo(Run()));
    }

    [TestCase("Sgd")]
    [TestCase("Adam")]
    public void FusedOptimizerStep_IsBitIdenticalToASeparatePass(string optimizer)
    {
        var kind = Enum.Parse<OptimizerKind>(optimizer);
        float[] Run(bool fused)
        {
            var net = Network(Config with { HiddenWidths = [16, 16, 12], Residual = true, HiddenBias = true, OutputBatchNorm = true });
            var options = new TrainingOptions { Steps = 25, BatchSize = 16, Optimizer = kind, Momentum = 0.9f, WeightDecay = 1e-3f, LearningRate = new ConstantSchedule(0.05), FuseOptimizerStep = fused };
            new Trainer(net, options).Train(Data(300, 1));
            return net.Tensors.SelectMany(t => t.Data).ToArray();
        }
        Assert.That(Run(fused: true), Is.EqualTo(Run(fused: false)));
    }

    [TestCase("Sgd", "ShuffledEpochs")]
    [TestCase("Adam", "WithReplacement")]
    public void Checkpoint_ResumesAnInterruptedRunBitIdentically(string optimizer, string sampling)
    {
        var config = Config with { HiddenWidths = [16, 16], Residual = true, HiddenBias = true, OutputBatchNorm = true };
        var options = new TrainingOptions
        {
            Steps = 40, BatchSize = 24, Optimizer = Enum.Parse<OptimizerKind>(optimizer), Sampling = Enum.Parse<Sampling>(sampling),
            Momentum = 0.9f, LearningRate = new StepDecaySchedule(0.05), ProgressEvery = 1,
        };
        var data = Data(100, 1);   // 100 rows in batches of 24: epochs end mid-run, with a partial batch

        var whole = Network(config);
        new Trainer(whole, options).Train(data);

        var first = Network(config);
        var interrupted = new Trainer(first, options);
        using var cts = new CancellationTokenSource();
        var stopAt17 = new Recorder { OnReport = r => { if (r.Step == 17) cts.Cancel(); } };
        Assert.Throws<OperationCanceledException>(() => interrupted.Train(data, null, stopAt17, cts.Token));
        var checkpoint = interrupted.Checkpoint();
        Assert.That(checkpoint.CompletedSteps, Is.EqualTo(17));

        var second = Network(config, seed: 99);   // different weights: the checkpoint must overwrite everything
        var resumed = new Trainer(second, options);
        resumed.Restore(checkpoint);
        var result = resumed.Train(data);
        Assert.That(result.Steps, Is.EqualTo(40));
        Assert.That(second.Tensors.SelectMany(t => t.Data).ToArray(), Is.EqualTo(whole.Tensors.SelectMany(t => t.Data).ToArray()));
    }

    [Test]
    public void OptimizerState_LoadIsStrictAndNamesTheTensor()
    {
        var net = Network();
        var sgd = new Sgd(net.Parameters, momentum: 0.9f);
        var state = sgd.GetState();
        Assert.That(state.Select(t => t.Name), Does.Contain("momentum_buffer.hidden.0.linear.weight"));
        var ex = Assert.Throws<InvalidDataException>(() => sgd.LoadState(state.Skip(1).Append(new TensorValue("momentum_buffer.nope", [1], [0])).ToList(), 3));
        Assert.That(ex!.Message, Does.Contain($"missing optimizer tensor '{state[0].Name}'").And.Contain("unexpected optimizer tensor 'momentum_buffer.nope'"));
    }

    [Test]
    public void Optimizer_RefusesToEndAStepThatMissedAParameter()
    {
        var net = Network();
        var sgd = new Sgd(net.Parameters);
        sgd.BeginStep(0.1f);
        sgd.GradientsReady(0, 1);
        var ex = Assert.Throws<InvalidOperationException>(sgd.EndStep);
        Assert.That(ex!.Message, Does.Contain($"updated 1 parameter tensors, not the {net.Parameters.Count}"));
    }

    [Test]
    public void Train_StopsOnANonFiniteLossNamingTheStepAndTheFirstBadLayer()
    {
        var net = Network(Config with { HiddenWidths = [16, 16] });
        // Step 0 is fine; the learning rate then explodes the weights until something overflows.
        var options = new TrainingOptions { Steps = 100, BatchSize = 8, LearningRate = new StepDecaySchedule(0.1, 1e30, AtStep: 1) };
        var ex = Assert.Throws<NonFiniteLossException>(() => new Trainer(net, options).Train(Data(200, 1)));
        Assert.That(ex!.Step, Is.GreaterThan(0));
        Assert.That(ex.Message, Does.StartWith($"Training diverged at step {ex.Step}: the loss is"));
        Assert.That(ex.Layer, Is.Not.Null);
        Assert.That(ex.Message, Does.Contain($"The first layer whose output went non-finite is '{ex.Layer}'"));
    }

    [Test]
    public void Train_NamesTheLayerWhoseWeightsHoldAnInfinity()
    {
        var net = Network(Config with { HiddenWidths = [16, 16] });
        net.Hidden[1].Weight.Data[0] = float.PositiveInfinity;
        var ex = Assert.Throws<NonFiniteLossException>(() => new Trainer(net, new TrainingOptions { Steps = 5, BatchSize = 8 }).Train(Data(100, 1)));
        Assert.That(ex!.Message, Does.Contain("step 0").And.Contain("'hidden.1.linear'"));
    }

    [Test]
    public void Train_RejectsDataOfAnotherContextLengthByName()
    {
        var net = Network();
        var four = Dataset.FromContexts(new int[40], 4, new int[10]);
        var ex = Assert.Throws<ArgumentException>(() => new Trainer(net, new TrainingOptions { Steps = 1 }).Train(Data(100, 1), four));
        Assert.That(ex!.Message, Does.Contain("The validation set's rows hold 4 ids but the network reads 3"));
    }

    [Test]
    public void Train_StopsWhenCancelled()
    {
        var net = Network();
        using var cts = new CancellationTokenSource();
        var progress = new Recorder { OnReport = r => { if (r.Step == 30) cts.Cancel(); } };
        var options = new TrainingOptions { Steps = 1000, BatchSize = 8, ProgressEvery = 10 };
        Assert.Throws<OperationCanceledException>(() => new Trainer(net, options).Train(Data(100, 1), null, progress, cts.Token));
        Assert.That(progress.Reports.Last().Step, Is.EqualTo(30));
    }

    [Test]
    public void ShuffledEpochs_VisitEveryRowOncePerEpoch()
    {
        // With a learning rate of 0 nothing changes except the running statistics, whose update count we can see:
        // 100 rows in batches of 30 are 4 batches per epoch (30, 30, 30, 10).
        var net = Network();
        var progress = new Recorder();
        new Trainer(net, new TrainingOptions { Steps = 8, BatchSize = 30, Sampling = Sampling.ShuffledEpochs, LearningRate = new ConstantSchedule(0), ProgressEvery = 1 })
            .Train(Data(100, 1), null, progress);
        Assert.That(progress.Reports, Has.Count.EqualTo(8));
        Assert.That(net.GetWorkspace(10), Is.Not.Null);
        Assert.That(net.Norms[0]!.RunningMean.Data.Any(v => v != 0), Is.True);
    }

    [Test]
    public void TrainingSteps_AllocateNothingAfterWarmUp()
    {
        var net = Network(Config with { HiddenWidths = [32, 32], Residual = true, OutputBatchNorm = true });
        var data = Data(500, 1);
        ExtraStepsAllocateNothing(net, data, new TrainingOptions { Steps = 20, BatchSize = 32, Momentum = 0.9f });
    }

    [Test]
    public void TrainingSteps_WithDropoutAndEma_AllocateNothingAfterWarmUp()
    {
        var net = Network(Config with { HiddenWidths = [32, 32], Residual = true, OutputBatchNorm = true });
        var data = Data(500, 1);
        ExtraStepsAllocateNothing(net, data, new TrainingOptions
        {
            Steps = 20, BatchSize = 32, Optimizer = OptimizerKind.AdamW, WeightDecay = 0.01f, Dropout = 0.2f, EmaDecay = 0.99f, LearningRate = new ConstantSchedule(0.01),
        });
    }

    /// <summary>
    /// A run of 1020 steps allocates exactly what a run of 20 does: the 1000 extra steps allocate nothing. Each
    /// Trainer's own set-up cancels out between the two.
    /// </summary>
    private static void ExtraStepsAllocateNothing(MlpNetwork net, Dataset data, TrainingOptions options)
    {
        new Trainer(net, options).Train(data);   // warm-up: workspaces, JIT
        // Past tiered compilation too: methods are promoted after ~30 calls and the new code lands ~100 ms later,
        // which can allocate on this thread; the long run below must not be the one that sees it.
        new Trainer(net, options with { Steps = 2000 }).Train(data);
        Thread.Sleep(200);
        var shortRun = new Trainer(net, options);
        var longRun = new Trainer(net, options with { Steps = 1020 });
        long a = GC.GetAllocatedBytesForCurrentThread();
        shortRun.Train(data);
        long b = GC.GetAllocatedBytesForCurrentThread();
        longRun.Train(data);
        long c = GC.GetAllocatedBytesForCurrentThread();
        Assert.That((c - b) - (b - a), Is.EqualTo(0), $"1000 extra steps allocated {(c - b) - (b - a)} bytes");
    }

    [Test]
    public void Dropout_DrawsItsOwnStream_SoTheBatchesAreTheSame()
    {
        var options = new TrainingOptions { Steps = 30, BatchSize = 16, Sampling = Sampling.ShuffledEpochs, LearningRate = new ConstantSchedule(0.05) };
        var plain = new Trainer(Network(), options);
        var dropped = new Trainer(Network(), options with { Dropout = 0.5f });
        var data = Data(200, 1);
        plain.Train(data);
        dropped.Train(data);
        var p = plain.Checkpoint();
        var d = dropped.Checkpoint();
        Assert.That((d.Sampler, d.EpochStart, d.Cursor), Is.EqualTo((p.Sampler, p.EpochStart, p.Cursor)));
        Assert.That(d.DropoutSampler, Is.Not.Null);
        Assert.That(d.Network.First(t => t.Name == "hidden.0.linear.weight").Data, Is.Not.EqualTo(p.Network.First(t => t.Name == "hidden.0.linear.weight").Data), "the masks changed the updates");
    }

    [Test]
    public void Dropout_IsDeterministicForASeed()
    {
        float[] Run()
        {
            var net = Network(Config with { HiddenWidths = [16, 16], Residual = true });
            new Trainer(net, new TrainingOptions { Steps = 50, BatchSize = 16, Dropout = 0.3f, LearningRate = new ConstantSchedule(0.05) }).Train(Data(200, 1));
            return net.Tensors.SelectMany(t => t.Data).ToArray();
        }
        Assert.That(Run(), Is.EqualTo(Run()));
    }

    [Test]
    public void Ema_BecomesTheWeights_WithBatchNormCalibratedForThem()
    {
        var data = Data(300, 1);
        var options = new TrainingOptions { Steps = 60, BatchSize = 16, Optimizer = OptimizerKind.Adam, EmaDecay = 0.9f, LearningRate = new ConstantSchedule(0.01) };
        var averaged = Network();
        var trainer = new Trainer(averaged, options);
        trainer.Train(data);
        var live = Network();
        new Trainer(live, options with { EmaDecay = 0 }).Train(data);   // the same trajectory: the average does not feed back
        var ema = trainer.Checkpoint().Ema.ToDictionary(t => t.Name, t => t.Data);
        foreach (var p in averaged.Parameters)
            Assert.That(p.Data, Is.EqualTo(ema[p.Name]), $"{p.Name} is the average");
        Assert.That(averaged.Parameters[1].Data, Is.Not.EqualTo(live.Parameters[1].Data));
        // BatchNorm's running statistics are the whole training set's for the averaged weights: calibrating again changes nothing.
        var mean = averaged.Norms[0]!.RunningMean.Data.ToArray();
        averaged.Calibrate(data);
        Assert.That(averaged.Norms[0]!.RunningMean.Data, Is.EqualTo(mean));
    }

    [Test]
    public void WithoutFinishWithAverage_TheAverageIsKeptApart_AndTheNetworkHoldsTheTrainedWeights()
    {
        var data = Data(300, 1);
        var options = new TrainingOptions { Steps = 60, BatchSize = 16, Optimizer = OptimizerKind.Adam, EmaDecay = 0.9f, LearningRate = new ConstantSchedule(0.01) };
        var kept = Network();
        var trainer = new Trainer(kept, options with { FinishWithAverage = false });
        trainer.Train(data);
        var live = Network();
        new Trainer(live, options with { EmaDecay = 0 }).Train(data);
        for (int i = 0; i < live.Tensors.Count; i++)
            Assert.That(kept.Tensors[i].Data, Is.EqualTo(live.Tensors[i].Data), $"{live.Tensors[i].Name}: the trained weights and running statistics, not recalibrated");
        var ema = trainer.Checkpoint().Ema.ToDictionary(t => t.Name, t => t.Data);
        Assert.That(ema[kept.Parameters[1].Name], Is.Not.EqualTo(kept.Parameters[1].Data), "the average was updated apart");
    }

    [Test]
    public void Mnist1dResBn_TrainsOnDenseRowsWithMomentum()
    {
        var preset = Presets.Get("mnist1d-res-bn");
        var net = new MlpNetwork(preset.Config with { HiddenWidths = [24, 24, 24] });
        Initialization.Initialize(net, preset.Init, new Rng(1));
        var rng = new Rng(4);
        int rows = 400;
        var x = new float[rows * 40];
        var y = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            y[r] = rng.NextInt(10);
            for (int j = 0; j < 40; j++) x[r * 40 + j] = 0.5f * rng.NextGaussian() + (j % 10 == y[r] ? 1.5f : 0);
        }
        var data = Dataset.FromDense(x, 40, y);
        double before = net.Evaluate(data);
        var result = new Trainer(net, preset.Training with { Steps = 40 }).Train(data, data);
        Assert.That(result.ValidationLoss, Is.LessThan(0.5 * before), $"{before} -> {result.ValidationLoss}");
    }
}
