using System.Reflection;
using System.Runtime.Loader;
using Microsoft.ML.BatchNormMlp.Engines.TorchSharp;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Tests.Reliability;
using Microsoft.ML.BatchNormMlp.Tests.Training;
using Microsoft.ML.BatchNormMlp.Training;

namespace Microsoft.ML.BatchNormMlp.Tests.Engines;

/// <summary>
/// Same state, same files: a checkpoint written by either engine resumes on the other (with AdamW, an EMA of the
/// weights and dropout too); a model trained by the
/// TorchSharp engine is saved, loaded and evaluated by the common code; engine and device errors are clear; and a
/// process that trains with the managed engine never loads TorchSharp.
/// </summary>
[NonParallelizable]
public class EngineInteropTests
{
    private static readonly MlpConfig Config = new()
    {
        ContextLength = 3, VocabularySize = 9, EmbeddingWidth = 4, OutputWidth = 9, HiddenWidths = [16, 16],
        Residual = true, HiddenBias = true, OutputBatchNorm = true,
    };

    internal static readonly string[] Symbols = [".", "a", "b", "c", "d", "e", "f", "g", "h"];

    private static TrainingOptions Options(OptimizerKind optimizer, TrainingEngine engine) => new()
    {
        Steps = 40, BatchSize = 24, Optimizer = optimizer, Sampling = Sampling.ShuffledEpochs, Momentum = 0.9f, WeightDecay = 1e-4f,
        LearningRate = new StepDecaySchedule(optimizer == OptimizerKind.Adam ? 0.01 : 0.05), ProgressEvery = 1, Engine = engine, Seed = 9,
    };

    [TestCase("Sgd", "TorchSharp", "Managed")]
    [TestCase("Sgd", "Managed", "TorchSharp")]
    [TestCase("Adam", "TorchSharp", "Managed")]
    [TestCase("Adam", "Managed", "TorchSharp")]
    public void EitherEngineResumesTheOthersCheckpoint(string optimizerName, string firstName, string secondName)
    {
        var optimizer = Enum.Parse<OptimizerKind>(optimizerName);
        TrainingEngine first = Enum.Parse<TrainingEngine>(firstName), second = Enum.Parse<TrainingEngine>(secondName);
        var data = ResumeTests.Data(300, 4);
        string path = Path.Combine(Path.GetTempPath(), $"bnmlp-engines-{Guid.NewGuid():N}.checkpoint.safetensors");
        try
        {
            // The reference: one engine all the way.
            var whole = ResumeTests.Network(Config);
            using (var t = new Trainer(whole, Options(optimizer, second))) t.Train(data);

            // The first engine stops after step 20 (cancelled: it checkpoints that step), the second continues the file.
            var a = ResumeTests.Network(Config);
            using var cancel = new CancellationTokenSource();
            using (var t = new Trainer(a, Options(optimizer, first) with { CheckpointPath = path, CheckpointEvery = 100 }, Symbols))
                Assert.Throws<OperationCanceledException>(() => t.Train(data, progress: new OnStep(20, cancel.Cancel), cancellation: cancel.Token));
            var b = ResumeTests.Network(Config, seed: 99);   // other weights: the checkpoint must replace them
            var losses = new List<double>();
            using (var t = new Trainer(b, Options(optimizer, second) with { CheckpointPath = path }, Symbols))
            {
                Assert.That(t.Resume(path, data).State.CompletedSteps, Is.EqualTo(20));
                t.Train(data, progress: new OnStep(0, () => { }, losses));
            }
            Assert.That(losses, Has.Count.EqualTo(20), "the resumed run takes the remaining steps only");
            foreach (var t in whole.Tensors)
            {
                var resumed = StateDictionary.Find(b, t.Name).Data;
                double worst = t.Data.Zip(resumed, (x, y) => (double)MathF.Abs(x - y)).Max();
                Assert.That(worst, Is.LessThan(1e-3), $"{t.Name} after a {first} -> {second} resume differs from a {second} run by {worst:G3}");
            }
            // And the optimizer state the second engine wrote at the end carries the same names as the managed one's.
            var saved = CheckpointFile.Load(path);
            Assert.That(saved.State.CompletedSteps, Is.EqualTo(40));
            using var reference = new Trainer(ResumeTests.Network(Config), Options(optimizer, TrainingEngine.Managed));
            Assert.That(saved.State.Optimizer.Select(s => s.Name), Is.EquivalentTo(reference.Checkpoint().Optimizer.Select(s => s.Name)));
        }
        finally { File.Delete(path); }
    }

    // Without biases (the hidden ones and the output's): each sits right before a BatchNorm, so its gradient is exactly zero and each engine
    // computes rounding noise for it, which AdamW (unlike Adam's L2, whose decay term dominates the noise) turns into
    // steps of the learning rate's size: the bias and the running mean carrying it wander apart (by 0.07 in this 40-step run)
    // while the network computes the same function. The presets that train with AdamW have no such biases.
    private static readonly MlpConfig RegularizedConfig = Config with { HiddenBias = false, OutputBias = false };

    private static TrainingOptions Regularized(TrainingEngine engine) => Options(OptimizerKind.AdamW, engine) with
    {
        Momentum = 0, WeightDecay = 0.05f, Dropout = 0.3f, EmaDecay = 0.9f, LearningRate = new StepDecaySchedule(0.01), ValidationEvery = 10,
    };

    /// <summary>
    /// AdamW, an EMA of the weights and dropout, on the same masks (the TorchSharp engine draws the managed engine's,
    /// <see cref="TorchSharpEngine.ManagedDropoutMasks"/>): the checkpoint of either engine (optimizer moments, the
    /// average, the dropout stream) continues on the other like a run of that engine from the start; the final weights
    /// are the average with BatchNorm recalibrated, so they agree only if all of it came across.
    /// </summary>
    [TestCase("TorchSharp", "Managed")]
    [TestCase("Managed", "TorchSharp")]
    public void EitherEngineResumesTheOthersCheckpoint_WithAdamWEmaAndDropout(string firstName, string secondName)
    {
        TrainingEngine first = Enum.Parse<TrainingEngine>(firstName), second = Enum.Parse<TrainingEngine>(secondName);
        var data = ResumeTests.Data(300, 4);
        var valid = ResumeTests.Data(90, 5);
        string path = Path.Combine(Path.GetTempPath(), $"bnmlp-engines-{Guid.NewGuid():N}.checkpoint.safetensors");
        try
        {
            var whole = ResumeTests.Network(RegularizedConfig);
            var wholeLosses = new List<double>();
            var (reference, referenceEngine) = EngineParityTests.SameMasksTrainer(whole, Regularized(second), Symbols);
            using (referenceEngine) using (reference) reference.Train(data, valid, new OnStep(0, () => { }, wholeLosses));

            var a = ResumeTests.Network(RegularizedConfig);
            using var cancel = new CancellationTokenSource();
            var (interrupted, interruptedEngine) = EngineParityTests.SameMasksTrainer(a, Regularized(first) with { CheckpointPath = path, CheckpointEvery = 100 }, Symbols);
            using (interruptedEngine) using (interrupted)
                Assert.Throws<OperationCanceledException>(() => interrupted.Train(data, valid, new OnStep(20, cancel.Cancel), cancel.Token));
            var saved = CheckpointFile.Load(path);
            Assert.That(saved.State.CompletedSteps, Is.EqualTo(20));
            Assert.That(saved.State.DropoutSampler, Is.Not.Null, "the dropout stream is saved");
            Assert.That(saved.State.Ema.Select(t => t.Name), Is.EquivalentTo(a.Parameters.Select(p => p.Name)), "the average is saved under the parameters' names");
            Assert.That(saved.State.Optimizer.Select(t => t.Name), Is.EquivalentTo(
                a.Parameters.SelectMany(p => new[] { "exp_avg." + p.Name, "exp_avg_sq." + p.Name })), "AdamW's moments under torch's names");

            var b = ResumeTests.Network(RegularizedConfig, seed: 99);
            var losses = new List<double>();
            var (resumed, resumedEngine) = EngineParityTests.SameMasksTrainer(b, Regularized(second) with { CheckpointPath = path }, Symbols);
            using (resumedEngine) using (resumed)
            {
                Assert.That(resumed.Resume(path, data).State.CompletedSteps, Is.EqualTo(20));
                resumed.Train(data, valid, new OnStep(0, () => { }, losses));
            }
            Assert.That(losses, Has.Count.EqualTo(20));
            for (int i = 0; i < losses.Count; i++)
                Assert.That(losses[i], Is.EqualTo(wholeLosses[20 + i]).Within(1e-4), $"step {21 + i}'s loss after a {first} -> {second} resume");
            foreach (var t in whole.Tensors)
            {
                var mine = StateDictionary.Find(b, t.Name).Data;
                double worst = t.Data.Zip(mine, (x, y) => (double)MathF.Abs(x - y)).Max();
                Assert.That(worst, Is.LessThan(1e-3), $"{t.Name} after a {first} -> {second} resume differs from a {second} run by {worst:G3}");
            }
        }
        finally { File.Delete(path); }
    }

    /// <summary>
    /// The TorchSharp engine's own (libtorch) dropout masks are seeded from the run's dropout stream each step, which
    /// the checkpoint saves: a TorchSharp run with dropout, AdamW and an EMA, cancelled and resumed from its file, ends
    /// bit-identical to the uninterrupted run.
    /// </summary>
    [Test]
    public void ATorchSharpRunWithDropoutAndEmaResumesBitIdentically()
    {
        var data = ResumeTests.Data(300, 4);
        string path = Path.Combine(Path.GetTempPath(), $"bnmlp-engines-{Guid.NewGuid():N}.checkpoint.safetensors");
        try
        {
            var options = Regularized(TrainingEngine.TorchSharp);
            var whole = ResumeTests.Network(RegularizedConfig);
            using (var t = new Trainer(whole, options)) t.Train(data);
            using var cancel = new CancellationTokenSource();
            using (var t = new Trainer(ResumeTests.Network(RegularizedConfig), options with { CheckpointPath = path, CheckpointEvery = 100 }, Symbols))
                Assert.Throws<OperationCanceledException>(() => t.Train(data, progress: new OnStep(17, cancel.Cancel), cancellation: cancel.Token));
            var b = ResumeTests.Network(RegularizedConfig, seed: 99);
            using (var t = new Trainer(b, options with { CheckpointPath = path }, Symbols))
            {
                t.Resume(path, data);
                t.Train(data);
            }
            Assert.That(ResumeTests.Bits(b), Is.EqualTo(ResumeTests.Bits(whole)));
        }
        finally { File.Delete(path); }
    }

    [Test]
    public void AnEngineHandedInMustKeepTheAverageTheRunAsksFor()
    {
        var net = ResumeTests.Network(RegularizedConfig);
        var options = Regularized(TrainingEngine.TorchSharp);
        using var engine = new TorchSharpEngine(net, options with { EmaDecay = 0 });
        var e = Assert.Throws<ArgumentException>(() => new Trainer(net, options, null, engine));
        Assert.That(e!.Message, Does.Contain("keeps no average").And.Contain("EMA decay 0.9"));
    }

    [Test]
    public void TheCliTrainsWithTorchSharpDropoutEmaAndAdamW()
    {
        TrainsWithTorchSharpAndEvalReadsTheDevLoss(["--dropout", "0.2", "--ema", "0.999", "--optimizer", "adamw", "--learning-rate", "0.003",
            "--weight-decay", "0.01", "--steps", "300", "--samples", "0"], "300 AdamW steps of bn1, averaged, learn something");
    }

    [Test]
    public void TheCliTrainsWithTorchSharpAndTheModelFileLoadsAndEvaluates()
    {
        TrainsWithTorchSharpAndEvalReadsTheDevLoss(["--steps", "300", "--samples", "3"], "300 SGD steps of bn1 learn something");
    }

    /// <summary>
    /// <c>bnmlp train --engine torchsharp</c> with <paramref name="trainArguments"/> learns, and <c>bnmlp eval</c> on the
    /// file it wrote (for an averaged run: the average, with BatchNorm recalibrated for it) reads the dev loss train
    /// reported: the common evaluation code on the TorchSharp engine's output.
    /// </summary>
    private static void TrainsWithTorchSharpAndEvalReadsTheDevLoss(string[] trainArguments, string learned)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"bnmlp-engines-{Guid.NewGuid():N}");
        try
        {
            string model = Path.Combine(dir, "torch.safetensors");
            var (exit, output, error) = Cli.Run(["train", "--data", NamesData.FindNamesFile(), "--engine", "torchsharp", .. trainArguments, "--out", model, "--json"]);
            Assert.That(exit, Is.EqualTo(0), output + error);
            Assert.That(output, Does.Contain("engine TorchSharp on cpu"));
            var figures = System.Text.Json.JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;
            Assert.That(figures.GetProperty("engine").GetString(), Is.EqualTo("torchsharp"));
            double dev = figures.GetProperty("devLoss").GetDouble();
            Assert.That(dev, Is.LessThan(2.8), learned);
            var (evalExit, evalOut, evalErr) = Cli.Run("eval", "--model", model, "--data", NamesData.FindNamesFile(), "--json");
            Assert.That(evalExit, Is.EqualTo(0), evalOut + evalErr);
            double evaluated = System.Text.Json.JsonDocument.Parse(evalOut.Trim().Split('\n')[^1]).RootElement.GetProperty("loss").GetDouble();
            Assert.That(evaluated, Is.EqualTo(dev).Within(1e-6), "bnmlp eval reads the dev loss train reported");
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
    }

    [Test]
    public void CudaWithoutACudaLibtorchIsAClearError()
    {
        var net = ResumeTests.Network(Config);
        foreach (var (engine, device) in new[] { (TrainingEngine.TorchSharp, "cuda"), (TrainingEngine.Auto, "cuda:1") })
        {
            var e = Assert.Throws<EngineUnavailableException>(() => new Trainer(net, Options(OptimizerKind.Sgd, engine) with { Device = device }).Dispose());
            Assert.That(e!.Message, Does.Contain("TorchSharp-cuda-linux").And.Contain("TorchSharp-cuda-windows").And.Contain(device));
        }
        var managed = Assert.Throws<ArgumentException>(() => new Trainer(net, Options(OptimizerKind.Sgd, TrainingEngine.Managed) with { Device = "cuda" }));
        Assert.That(managed!.Message, Does.Contain("managed engine runs on the CPU only"));
        Assert.Throws<ArgumentException>(() => new Trainer(net, Options(OptimizerKind.Sgd, TrainingEngine.TorchSharp) with { Device = "gpu" }));
        Cli.AssertUserError(["train", "--data", NamesData.FindNamesFile(), "--engine", "torchsharp", "--device", "cuda", "--steps", "1"], "TorchSharp-cuda-linux");
        Cli.AssertUserError(["train", "--data", NamesData.FindNamesFile(), "--engine", "managed", "--device", "cuda:0", "--steps", "1"], "CPU only");
    }

    [Test]
    public void ADivergingTorchSharpRunStopsLikeAManagedOne()
    {
        var data = ResumeTests.Data(200, 5);
        var options = Options(OptimizerKind.Sgd, TrainingEngine.Managed) with { LearningRate = new ConstantSchedule(1e30), Momentum = 0, WeightDecay = 0 };
        using var managed = new Trainer(ResumeTests.Network(Config), options);
        var expected = Assert.Throws<NonFiniteLossException>(() => managed.Train(data))!;
        using var torch = new Trainer(ResumeTests.Network(Config), options with { Engine = TrainingEngine.TorchSharp });
        var actual = Assert.Throws<NonFiniteLossException>(() => torch.Train(data))!;
        Assert.That(actual.Step, Is.EqualTo(expected.Step), "the same step diverges");
        Assert.That(actual.Layer, Is.EqualTo(expected.Layer), "and the same layer is named");
    }

    [Test]
    public void DeviceSyntaxIsPyTorchs()
    {
        Assert.That(TrainingDevice.Parse("cpu"), Is.EqualTo(TrainingDevice.Cpu));
        Assert.That(TrainingDevice.Parse("cuda"), Is.EqualTo(new TrainingDevice(true, 0)));
        Assert.That(TrainingDevice.Parse("cuda:3"), Is.EqualTo(new TrainingDevice(true, 3)));
        foreach (string bad in new[] { "", "gpu", "CUDA", "cuda:", "cuda:-1", "cuda:01", "cuda: 1", "cuda:1.0", "cuda:99999" })
            Assert.That(TrainingDevice.TryParse(bad, out _), Is.False, bad);
    }

    [Test]
    public void AutoIsManagedOnTheCpuAndDiagnosticsNeedTheManagedEngine()
    {
        Assert.That(TrainingEngines.Resolve(new TrainingOptions()), Is.EqualTo(TrainingEngine.Managed));
        Assert.That(TrainingEngines.Resolve(new TrainingOptions { Device = "cuda:2" }), Is.EqualTo(TrainingEngine.TorchSharp));
        using var trainer = new Trainer(ResumeTests.Network(Config), Options(OptimizerKind.Sgd, TrainingEngine.TorchSharp));
        Assert.That(trainer.Engine, Is.EqualTo(TrainingEngine.TorchSharp));
        trainer.Observer = new Microsoft.ML.BatchNormMlp.Training.Diagnostics.DiagnosticsRecorder();
        Assert.That(() => trainer.Train(ResumeTests.Data(100, 1)), Throws.TypeOf<NotSupportedException>().With.Message.Contains("managed engine"));
    }

    [Test]
    public void ManagedTrainingNeverLoadsTorchSharp()
    {
        // A fresh load context holding its own copies of the library and of this test assembly: every assembly the
        // managed run needs is requested from it, so it sees whether TorchSharp is ever asked for.
        string dir = Path.GetDirectoryName(typeof(EngineInteropTests).Assembly.Location)!;
        var context = new RecordingContext(dir);
        try
        {
            var copy = context.LoadFromAssemblyPath(Path.Combine(dir, Path.GetFileName(typeof(EngineInteropTests).Assembly.Location)));
            var run = copy.GetType(typeof(ManagedOnlyRun).FullName!)!.GetMethod(nameof(ManagedOnlyRun.Run))!;
            double loss = (double)run.Invoke(null, null)!;
            Assert.That(loss, Is.GreaterThan(0).And.LessThan(10), "the managed run trained");
            Assert.That(context.Requested, Does.Contain("Microsoft.ML.BatchNormMlp"), "the library came from the recording context");
            Assert.That(context.Requested, Does.Not.Contain("TorchSharp"));
            Assert.That(context.Assemblies.Select(a => a.GetName().Name), Does.Not.Contain("TorchSharp"));
        }
        finally { context.Unload(); }
    }

    private sealed class RecordingContext(string directory) : AssemblyLoadContext("managed-only", isCollectible: true)
    {
        public List<string> Requested { get; } = [];

        protected override Assembly? Load(AssemblyName name)
        {
            Requested.Add(name.Name!);
            string path = Path.Combine(directory, name.Name + ".dll");
            // Framework assemblies come from the default context; the application's own from here.
            return File.Exists(path) && !name.Name!.StartsWith("System", StringComparison.Ordinal) && name.Name != "netstandard" ? LoadFromAssemblyPath(path) : null;
        }
    }

    private sealed class OnStep(int step, Action action, List<double>? losses = null) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            losses?.Add(value.Loss);
            if (value.Step == step) action();
        }
    }
}

/// <summary>A managed-engine run with no NUnit in it: <see cref="EngineInteropTests.ManagedTrainingNeverLoadsTorchSharp"/> runs it in a fresh load context.</summary>
public static class ManagedOnlyRun
{
    public static double Run()
    {
        var net = ResumeTests.Network();
        using var trainer = new Trainer(net, new TrainingOptions { Steps = 30, BatchSize = 16, Engine = TrainingEngine.Auto });
        var result = trainer.Train(ResumeTests.Data(200, 2));
        string path = Path.Combine(Path.GetTempPath(), $"bnmlp-managed-only-{Guid.NewGuid():N}.safetensors");
        try
        {
            Microsoft.ML.BatchNormMlp.Export.ModelFile.Save(path, new Microsoft.ML.BatchNormMlp.Export.ModelState(net.Config, EngineInteropTests.Symbols, false, net.Tensors.ToDictionary(t => t.Name, t => t.Data)));
            return result.LastBatchLoss;
        }
        finally { File.Delete(path); }
    }
}
