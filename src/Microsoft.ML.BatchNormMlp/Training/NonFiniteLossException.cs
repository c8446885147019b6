using System.Globalization;

namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>
/// Training stopped because it diverged: a minibatch loss was NaN or infinite, or an update left a tensor
/// non-finite. The message names the step, the first layer or tensor at fault and a remedy.
/// </summary>
internal sealed class NonFiniteLossException : Exception
{
    /// <param name="step">The step (0-based: the number of steps completed before it) whose loss was not finite.</param>
    /// <param name="loss">That loss.</param>
    /// <param name="layer">The first layer whose output was not finite, or null when only the loss overflowed.</param>
    /// <param name="learningRate">The rate of that step, for the remedy; NaN when unknown.</param>
    /// <param name="hasBatchNorm">Whether the network already normalizes its hidden layers (else enabling it is suggested).</param>
    public NonFiniteLossException(int step, double loss, string? layer, float learningRate = float.NaN, bool hasBatchNorm = true)
        : this(step, loss, layer, learningRate, hasBatchNorm, $"Training diverged at step {step}: the loss is {Text(loss)}. " + (layer is null
            ? "Every layer's output was finite; the loss itself overflowed."
            : $"The first layer whose output went non-finite is '{layer}'."))
    {
    }

    private NonFiniteLossException(int step, double loss, string? layer, float learningRate, bool hasBatchNorm, string diagnosis)
        : base(diagnosis + Remedy(learningRate, hasBatchNorm))
    {
        Step = step; Loss = loss; Layer = layer; LearningRate = learningRate; HasBatchNorm = hasBatchNorm; Diagnosis = diagnosis;
        SuggestedLearningRate = float.IsFinite(learningRate) && learningRate > 0 ? learningRate / 10 : null;
    }

    /// <summary>Step <paramref name="step"/>'s loss was finite, but its update left <paramref name="tensor"/> non-finite.</summary>
    public static NonFiniteLossException AfterUpdate(int step, double loss, string tensor, float learningRate, bool hasBatchNorm) =>
        new(step, loss, tensor, learningRate, hasBatchNorm,
            $"Training diverged at step {step}: its loss was {Text(loss)}, but its update left tensor '{tensor}' non-finite.");

    /// <summary>The message without its remedy: what went non-finite, and where.</summary>
    public string Diagnosis { get; }

    /// <summary>Whether the network normalizes its hidden layers (if not, the remedy suggests it).</summary>
    public bool HasBatchNorm { get; }

    /// <summary>The 0-based step at fault (also the number of steps completed before it).</summary>
    public int Step { get; }

    public double Loss { get; }

    /// <summary>The first non-finite layer (or tensor, for <see cref="AfterUpdate"/>), or null.</summary>
    public string? Layer { get; }

    /// <summary>The learning rate of the step at fault, NaN when unknown.</summary>
    public float LearningRate { get; }

    /// <summary>A tenth of <see cref="LearningRate"/>, the rate the message suggests; null when the rate is unknown.</summary>
    public float? SuggestedLearningRate { get; }

    private static string Remedy(float lr, bool hasBatchNorm)
    {
        string rate = float.IsFinite(lr) && lr > 0
            ? $" The learning rate was {Text(lr)}: lower it (try {Text(lr / 10)})"
            : " Lower the learning rate";
        return rate + (hasBatchNorm ? " or use a better-scaled initialization." : " or enable BatchNorm.");
    }

    private static string Text(double value) => value.ToString("G4", CultureInfo.InvariantCulture);
}
