using Microsoft.ML.BatchNormMlp.Layers;
using Microsoft.ML.BatchNormMlp.Model;

namespace Microsoft.ML.BatchNormMlp.Experiments;

/// <summary>Mean cross-entropy (nats) and share of rows whose most likely class is the label.</summary>
internal readonly record struct Score(double CrossEntropy, double Accuracy);

internal static class Evaluation
{
    /// <summary>Scores a whole set in evaluation mode (running BatchNorm statistics), in chunks.</summary>
    public static Score Of(MlpNetwork network, Dataset data, int chunk = 1024)
    {
        network.CheckDataset(data, "evaluation");
        int k = network.Config.OutputWidth;
        double total = 0;
        long correct = 0;
        for (int start = 0; start < data.Count; start += chunk)
        {
            int n = Math.Min(chunk, data.Count - start);
            var logits = network.Forward(data.Rows(start, n), n, training: false);
            var labels = data.Labels.AsSpan(start, n);
            for (int r = 0; r < n; r++)
            {
                var row = logits.Slice(r * k, k);
                int best = 0;
                for (int j = 1; j < k; j++) if (row[j] > row[best]) best = j;
                if (best == labels[r]) correct++;
            }
            total += SoftmaxCrossEntropy.Forward(logits, labels, network.GetWorkspace(n, forwardOnly: true).DLogits, n, k) * n;
        }
        return new Score(total / data.Count, (double)correct / data.Count);
    }
}
