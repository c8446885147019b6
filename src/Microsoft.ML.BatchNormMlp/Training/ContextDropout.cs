using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>
/// A regularizer for long contexts: during training, each context symbol is replaced by the boundary symbol with
/// probability p, so the model also learns to predict from the nearer symbols alone (a back-off, as an n-gram model
/// does) instead of memorizing whole 8-symbol windows. It rewrites the batch's input ids before the forward pass,
/// so there is nothing to differentiate and nothing changes at inference.
/// </summary>
internal static class ContextDropout
{
    /// <summary>Drops symbols of <paramref name="ids"/> in place ([B, ctx]); the draws depend only on the seed and step, so a resumed run repeats them.</summary>
    public static void Apply(Span<int> ids, float probability, ulong seed, int step)
    {
        var rng = new Rng(seed ^ (0x9E3779B97F4A7C15UL * (ulong)(step + 1)));
        for (int i = 0; i < ids.Length; i++)
            if (rng.NextFloat() < probability) ids[i] = 0;
    }
}
