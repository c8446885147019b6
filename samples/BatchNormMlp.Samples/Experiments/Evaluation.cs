using Microsoft.ML.BatchNormMlp.Model;

namespace BatchNormMlp.Samples.Experiments;

/// <summary>Mean cross-entropy (nats) and share of rows whose most likely class is the label.</summary>
internal readonly record struct Score(double CrossEntropy, double Accuracy);

internal static class Evaluation
{
    /// <summary>Scores a whole set in evaluation mode (running BatchNorm statistics), in chunks.</summary>
    public static Score Of(MlpNetwork network, Dataset data, int chunk = 1024)
    {
        var (loss, accuracy) = network.Score(data, chunk);
        return new Score(loss, accuracy);
    }
}
