namespace Microsoft.ML.BatchNormMlp.Layers;

/// <summary>
/// Softmax and cross-entropy fused (PyTorch's <c>F.cross_entropy</c>, mean over the batch): the loss is
/// log Σ exp(z - max) - (z_target - max), which never overflows, and its gradient is (softmax - onehot) / B.
/// </summary>
internal static class SoftmaxCrossEntropy
{
    /// <summary>Returns the mean loss; when <paramref name="dLogits"/> is non-empty writes ∂loss/∂logits there.</summary>
    public static double Forward(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, Span<float> dLogits, int batch, int classes) // logits [B, K]
    {
        if (targets.Length < batch) throw new ArgumentException($"{targets.Length} targets for a batch of {batch}.", nameof(targets));
        double total = 0;
        float invBatch = 1f / batch;
        for (int r = 0; r < batch; r++)
        {
            var z = logits.Slice(r * classes, classes);
            int t = targets[r];
            if ((uint)t >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(targets), t, $"Row {r}: target {t} is outside the {classes} classes.");
            float max = float.NegativeInfinity;
            for (int k = 0; k < classes; k++) max = MathF.Max(max, z[k]);
            double sum = 0;
            if (dLogits.IsEmpty)
            {
                for (int k = 0; k < classes; k++) sum += MathF.Exp(z[k] - max);
                total += Math.Log(sum) - (z[t] - max);
                continue;
            }
            var g = dLogits.Slice(r * classes, classes);
            for (int k = 0; k < classes; k++) sum += g[k] = MathF.Exp(z[k] - max);
            total += Math.Log(sum) - (z[t] - max);
            float inv = (float)(1 / sum) * invBatch;
            for (int k = 0; k < classes; k++) g[k] *= inv;
            g[t] -= invBatch;
        }
        return total / batch;
    }
}
