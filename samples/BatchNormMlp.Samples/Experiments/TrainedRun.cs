using System.Diagnostics;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Training;
using Microsoft.ML.BatchNormMlp.Training.Diagnostics;

namespace BatchNormMlp.Samples.Experiments;

/// <summary>One model trained for an experiment: the network, its per-step losses and diagnostics, its validation curve and its time.</summary>
internal sealed record TrainedRun(
    string Label,
    MlpNetwork Network,
    TrainingDiagnostics Diagnostics,
    IReadOnlyList<double> ValidationSteps,
    IReadOnlyList<double> ValidationLosses,
    TimeSpan TrainingTime)
{
    /// <summary>The validation loss after the last step (the trainer always evaluates then), NaN without a validation set.</summary>
    public double FinalValidationLoss => ValidationLosses.Count > 0 ? ValidationLosses[^1] : double.NaN;

    /// <summary>
    /// Initializes <paramref name="config"/> from <paramref name="initSeed"/> and trains it on <paramref name="train"/>,
    /// evaluating <paramref name="validation"/> every <paramref name="validationEvery"/> steps (0: only at the end)
    /// and measuring the layers as <paramref name="diagnostics"/> says.
    /// </summary>
    public static TrainedRun Train(string label, MlpConfig config, InitOptions init, TrainingOptions training, Dataset train, Dataset? validation,
        DiagnosticsOptions? diagnostics = null, ulong initSeed = 2147483647, int validationEvery = 0, int threads = 1)
    {
        var network = new MlpNetwork(config);
        Initialization.Initialize(network, init, new Rng(initSeed));
        var observer = new TrainingDiagnostics(diagnostics ?? new DiagnosticsOptions(Every: Math.Max(1, training.Steps / 50), Histograms: false));
        var trainer = new Trainer(network, training with { ValidationEvery = validationEvery, Threads = threads, ProgressEvery = Math.Max(1, validationEvery > 0 ? validationEvery : training.Steps) }) { Observer = observer };
        var curve = new ValidationCurve();
        var clock = Stopwatch.StartNew();
        trainer.Train(train, validation, validation is null ? null : curve);
        clock.Stop();
        return new TrainedRun(label, network, observer, curve.Steps, curve.Losses, clock.Elapsed);
    }

    /// <summary>Collects the validation losses the trainer reports, synchronously (no synchronization context).</summary>
    private sealed class ValidationCurve : IProgress<TrainingProgress>
    {
        public List<double> Steps { get; } = [];
        public List<double> Losses { get; } = [];

        public void Report(TrainingProgress value)
        {
            if (value.ValidationLoss is not double v || (Steps.Count > 0 && Steps[^1] == value.Step)) return;
            Steps.Add(value.Step);
            Losses.Add(v);
        }
    }
}
