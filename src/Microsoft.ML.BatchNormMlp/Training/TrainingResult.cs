namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>What a finished run measured.</summary>
internal sealed record TrainingResult(int Steps, double LastBatchLoss, double? ValidationLoss, double StepsPerSecond, TimeSpan Elapsed);
