using Microsoft.ML;

namespace BatchNormMlp.Samples.TrainerComparison;

/// <summary>
/// A trainer entered in the comparison with one setting: how to fit it on featurized training rows (Context,
/// Label). The dev rows are passed for trainers that choose a setting on them (the count model's smoothing); the
/// test rows never reach a candidate.
/// </summary>
internal sealed record Candidate(string Trainer, string Setting, Func<IDataView, IDataView, FittedCandidate> Fit);

/// <summary>
/// A fitted candidate: <see cref="Score"/> adds <c>Score</c> and <c>PredictedLabel</c> to featurized rows (for
/// <c>MulticlassClassification.Evaluate</c>); <see cref="Size"/> measures the model (after the timed fit).
/// </summary>
internal sealed record FittedCandidate(Func<IDataView, IDataView> Score, Func<ModelSize> Size, string? Chosen = null)
{
    public static FittedCandidate Of(ITransformer model, Func<ITransformer, ModelSize> size) => new(model.Transform, () => size(model));
}

/// <summary>Parameters where the model has a natural count (weights, counts), and the bytes of its saved file.</summary>
internal readonly record struct ModelSize(long? Parameters, long? FileBytes);
