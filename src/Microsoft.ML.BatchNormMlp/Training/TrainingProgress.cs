namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>A progress report: the step just taken (1-based count), its minibatch loss and throughput so far.</summary>
internal readonly record struct TrainingProgress(int Step, int TotalSteps, double Loss, float LearningRate, double StepsPerSecond, double? ValidationLoss);
