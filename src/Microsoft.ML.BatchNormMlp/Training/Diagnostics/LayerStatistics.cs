namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// One hidden layer at one measured training step (<see cref="DiagnosticsSnapshot.Layers"/>). The activation is the
/// nonlinearity's output (tanh or ReLU; for a pre-activation block the branch's <c>act(bn(h))</c>, none for its
/// Linear stem); the output is what the layer hands on (the residual stream after it when it adds one, else the
/// activation). Forward figures are of the step's minibatch before its update (step 0: the network as
/// initialized); gradient figures are of ∂loss/∂output in that step's backward pass, the weight figures of the
/// layer's Linear weight gradient. Standard deviations are PyTorch's (n - 1); NaN marks what a layer does not have.
/// </summary>
/// <param name="Layer">The hidden layer, 0-based.</param>
/// <param name="Name">Its tensor prefix, <c>hidden.{Layer}</c>.</param>
/// <param name="ActivationMean">Mean of the activations.</param>
/// <param name="ActivationStd">Standard deviation of the activations.</param>
/// <param name="Saturation">Share of activations with |value| above 0.97, where tanh's gradient 1 - y² is below 6% (the seeds' saturation).</param>
/// <param name="OutputVariance">Each output unit's variance over the minibatch (n denominator), averaged over the units (the fourth seed's print_variance).</param>
/// <param name="GradientMean">Mean of ∂loss/∂output.</param>
/// <param name="GradientStd">Standard deviation of ∂loss/∂output.</param>
/// <param name="WeightGradientMean">Mean of the Linear weight's gradient.</param>
/// <param name="WeightGradientStd">Standard deviation of the Linear weight's gradient.</param>
/// <param name="GradientToWeight">The weight gradient's standard deviation over the weight's (the first seed's gradient:data ratio).</param>
public sealed record LayerStatistics(
    int Layer,
    string Name,
    double ActivationMean,
    double ActivationStd,
    double Saturation,
    double OutputVariance,
    double GradientMean,
    double GradientStd,
    double WeightGradientMean,
    double WeightGradientStd,
    double GradientToWeight);
