namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>Training stopped because a minibatch loss was NaN or infinite.</summary>
internal sealed class NonFiniteLossException : Exception
{
    public NonFiniteLossException(int step, double loss, string? layer)
        : base($"Training diverged at step {step}: the loss is {loss}. " + (layer is null
            ? "Every layer's output was finite; the loss itself overflowed."
            : $"The first layer whose output went non-finite is '{layer}'.") + " Lower the learning rate or use a better-scaled initialization.")
    {
        Step = step; Loss = loss; Layer = layer;
    }

    public int Step { get; }

    public double Loss { get; }

    public string? Layer { get; }
}
