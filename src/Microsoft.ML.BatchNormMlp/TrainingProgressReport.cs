namespace Microsoft.ML.BatchNormMlp;

/// <summary>A progress report of <see cref="BatchNormMlpTrainer"/> (<see cref="BatchNormMlpTrainer.Options.Progress"/>).</summary>
/// <param name="Step">Steps completed (1-based count).</param>
/// <param name="TotalSteps">Steps of the whole run.</param>
/// <param name="Loss">Cross-entropy of the last minibatch (nats).</param>
/// <param name="LearningRate">The rate of the last step.</param>
/// <param name="StepsPerSecond">Throughput since the run started.</param>
/// <param name="ValidationLoss">The latest validation loss, when a validation set was given and evaluated.</param>
public readonly record struct TrainingProgressReport(int Step, int TotalSteps, double Loss, float LearningRate, double StepsPerSecond, double? ValidationLoss)
{
    /// <summary>Estimated time to the last step at the current throughput.</summary>
    public TimeSpan Remaining => StepsPerSecond > 0 ? TimeSpan.FromSeconds((TotalSteps - Step) / StepsPerSecond) : TimeSpan.Zero;
}
