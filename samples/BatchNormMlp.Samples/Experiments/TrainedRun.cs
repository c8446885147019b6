using Microsoft.ML;

namespace BatchNormMlp.Samples.Experiments;

/// <summary>
/// One model trained for an experiment through the public trainer: the fitted transformer, the diagnostics it
/// recorded, its validation curve and its training time.
/// </summary>
internal sealed record TrainedRun(
    string Label,
    BatchNormMlpTransformer Model,
    TrainingDiagnostics Diagnostics,
    IReadOnlyList<double> ValidationSteps,
    IReadOnlyList<double> ValidationLosses,
    TimeSpan TrainingTime)
{
    /// <summary>
    /// The seed of the minibatch draws: torch_ref.py seeds its one generator with it, and the figures the samples
    /// reproduce (README, ReferenceFigures) were measured with initialization and sampling both seeded from it.
    /// </summary>
    public const int ReferenceSeed = 2147483647;

    /// <summary>The validation loss after the last step (the trainer always evaluates then), NaN without a validation set.</summary>
    public double FinalValidationLoss => ValidationLosses.Count > 0 ? ValidationLosses[^1] : double.NaN;

    /// <summary>The trained character model (not for dense-input runs).</summary>
    public CharacterModel Character => Model.Model;

    /// <summary>The trained weights.</summary>
    public int ParameterCount => Model.ParameterCount;

    /// <summary>
    /// Trains <paramref name="options"/> (a preset and its overrides; <c>Steps</c> set) on <paramref name="train"/>,
    /// evaluating <paramref name="validation"/> every <paramref name="validationEvery"/> steps (0: only at the end)
    /// and measuring the layers as <paramref name="diagnostics"/> says. Initialization is seeded by
    /// <c>options.Seed</c> (default: <see cref="ReferenceSeed"/>), the minibatches by <see cref="ReferenceSeed"/>.
    /// </summary>
    public static TrainedRun Train(MLContext ml, string label, BatchNormMlpTrainer.Options options, IDataView train, IDataView? validation,
        TrainingDiagnosticsOptions diagnostics, int validationEvery = 0, int threads = 1)
    {
        int steps = options.Steps ?? throw new ArgumentException("The experiments set Steps.", nameof(options));
        var curve = new ValidationCurve();
        var run = options.Clone();
        run.DataSeed = ReferenceSeed;
        run.Diagnostics = diagnostics;
        run.ValidationInterval = validationEvery;
        run.ProgressInterval = Math.Max(1, validationEvery > 0 ? validationEvery : steps);
        run.Progress = validation is null ? null : curve;
        run.Threads = threads;
        var model = ml.MulticlassClassification.Trainers.BatchNormMlp(run).Fit(train, validation);
        var summary = model.Training!;
        return new TrainedRun(label, model, summary.Diagnostics!, curve.Steps, curve.Losses, summary.Elapsed);
    }

    /// <summary>Collects the validation losses the trainer reports, synchronously (no synchronization context).</summary>
    private sealed class ValidationCurve : IProgress<TrainingProgressReport>
    {
        public List<double> Steps { get; } = [];
        public List<double> Losses { get; } = [];

        public void Report(TrainingProgressReport value)
        {
            if (value.ValidationLoss is not double v || (Steps.Count > 0 && Steps[^1] == value.Step)) return;
            Steps.Add(value.Step);
            Losses.Add(v);
        }
    }
}
