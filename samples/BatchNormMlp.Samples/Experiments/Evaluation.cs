using Microsoft.ML;

namespace BatchNormMlp.Samples.Experiments;

/// <summary>Mean cross-entropy (nats) and share of rows whose most likely class is the label.</summary>
internal readonly record struct Score(double CrossEntropy, double Accuracy);

internal static class Evaluation
{
    /// <summary>A character model over featurized rows in evaluation mode (running BatchNorm statistics): <see cref="CharacterModel.Evaluate"/>.</summary>
    public static Score Of(CharacterModel model, IDataView rows)
    {
        var m = model.Evaluate(rows);
        return new Score(m.Loss, m.Top1Accuracy);
    }

    /// <summary>
    /// A fitted transformer (e.g. a dense MNIST-1D classifier) over labelled rows: <see cref="BatchNormMlpTransformer.Evaluate"/>,
    /// the cross-entropy from the logits. (ML.NET's MulticlassClassification.Evaluate gives the same accuracy, but its
    /// LogLoss clips every probability at 1e-15: an overconfident model's test loss would read lower than the seeds'.)
    /// </summary>
    public static Score Of(BatchNormMlpTransformer model, IDataView rows)
    {
        var m = model.Evaluate(rows);
        return new Score(m.Loss, m.Top1Accuracy);
    }
}
