namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// The statistics one BatchNorm layer normalizes with in evaluation mode (<see cref="BatchNormCharacterModel.BatchNormStatistics"/>):
/// the running estimates kept during training, or those of <see cref="BatchNormCharacterModel.Calibrate"/>. Immutable.
/// </summary>
/// <param name="Layer">The layer's tensor prefix: <c>hidden.{i}.norm</c>, or <c>output_norm</c> for the BatchNorm on the logits.</param>
/// <param name="RunningMean">The mean of each unit (PyTorch's <c>running_mean</c>).</param>
/// <param name="RunningVariance">The unbiased variance of each unit (PyTorch's <c>running_var</c>).</param>
public sealed record BatchNormStatistics(string Layer, IReadOnlyList<float> RunningMean, IReadOnlyList<float> RunningVariance);
