using Microsoft.ML.BatchNormMlp.Model;

namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>
/// Watches a <see cref="Trainer"/> run step by step (diagnostics, loss curves). The trainer calls it only when one
/// is attached, so an unobserved run pays a single null check per step.
/// </summary>
internal interface ITrainingObserver
{
    /// <summary>
    /// Called before the backward pass of step <paramref name="step"/> (0-based); returns who should see the
    /// layers' output gradients during it, or null (the usual answer on steps that are not sampled).
    /// </summary>
    IBackwardObserver? BeforeBackward(int step);

    /// <summary>
    /// Called after the optimizer step. The last forward's activations are still in <see cref="MlpNetwork.LastWorkspace"/>
    /// and every parameter's gradient in <see cref="Layers.Parameter.Grad"/>; the weights are the updated ones.
    /// </summary>
    void StepCompleted(int step, MlpNetwork network, double loss, float learningRate);
}
