using System.Numerics.Tensors;

namespace Microsoft.ML.BatchNormMlp.Layers;

/// <summary>
/// Softmax and cross-entropy fused (PyTorch's <c>F.cross_entropy</c>, mean over the batch): the loss is
/// log Σ exp(z - max) - (z_target - max), which never overflows, and its gradient is (softmax - onehot) / B.
/// </summary>
internal static class SoftmaxCrossEntropy
{
    /// <summary>
    /// Returns the mean loss; when <paramref name="dLogits"/> is non-empty writes ∂loss/∂logits there (and the
    /// exponentials go through one vectorized call over the whole batch, so pass it whenever a buffer is at hand).
    /// </summary>
    public static double Forward(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, Span<float> dLogits, int batch, int classes) // logits [B, K]
    {
        if (targets.Length < batch) throw new ArgumentException($"{targets.Length} targets for a batch of {batch}.", nameof(targets));
        for (int r = 0; r < batch; r++)
            if ((uint)targets[r] >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(targets), targets[r], $"Row {r}: target {targets[r]} is outside the {classes} classes.");
        return dLogits.IsEmpty ? LossOnly(logits, targets, batch, classes) : LossAndGradient(logits, targets, dLogits, batch, classes);
    }

    private static double LossAndGradient(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, Span<float> g, int batch, int classes)
    {
        int n = batch * classes;
        g = g[..n];
        for (int r = 0; r < batch; r++)   // g = z - max(row)
        {
            var z = logits.Slice(r * classes, classes);
            var gr = g.Slice(r * classes, classes);
            float max = RowMax(z);
            for (int k = 0; k < classes; k++) gr[k] = z[k] - max;
        }
        double total = 0;
        float invBatch = 1f / batch;
        int t0 = 0;
        for (int r = 0; r < batch; r++, t0 += classes) total -= g[t0 + targets[r]];   // -(z_t - max), before exp overwrites it
        TensorPrimitives.Exp(g, g);
        for (int r = 0; r < batch; r++)
        {
            var gr = g.Slice(r * classes, classes);
            double sum = 0;
            for (int k = 0; k < classes; k++) sum += gr[k];
            total += Math.Log(sum);
            float inv = (float)(1 / sum) * invBatch;
            for (int k = 0; k < classes; k++) gr[k] *= inv;
            gr[targets[r]] -= invBatch;
        }
        return total / batch;
    }

    private static double LossOnly(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, int batch, int classes)
    {
        double total = 0;
        for (int r = 0; r < batch; r++)
        {
            var z = logits.Slice(r * classes, classes);
            float max = RowMax(z);
            double sum = 0;
            for (int k = 0; k < classes; k++) sum += MathF.Exp(z[k] - max);
            total += Math.Log(sum) - (z[targets[r]] - max);
        }
        return total / batch;
    }

    private static float RowMax(ReadOnlySpan<float> z)
    {
        float max = float.NegativeInfinity;
        for (int k = 0; k < z.Length; k++) max = MathF.Max(max, z[k]);   // MathF.Max propagates NaN
        return max;
    }
}
