namespace Microsoft.ML.BatchNormMlp;

/// <summary>What a finished training run measured (<see cref="BatchNormMlpTransformer.Training"/>, <see cref="BatchNormCharacterModel.Training"/>).</summary>
/// <param name="Preset">The preset the run started from.</param>
/// <param name="Steps">Steps taken.</param>
/// <param name="LastBatchLoss">Cross-entropy of the last minibatch (nats).</param>
/// <param name="ValidationLoss">Cross-entropy on the validation set after the run (after calibration when asked), when one was given.</param>
/// <param name="StepsPerSecond">Training throughput.</param>
/// <param name="Elapsed">Time spent in the training loop.</param>
public sealed record TrainingSummary(string Preset, int Steps, double LastBatchLoss, double? ValidationLoss, double StepsPerSecond, TimeSpan Elapsed)
{
    /// <summary>The layers measured during training, when <see cref="BatchNormMlpTrainer.Options.Diagnostics"/> asked for it; else <see langword="null"/>.</summary>
    public TrainingDiagnostics? Diagnostics { get; init; }
}
