
namespace Microsoft.ML.BatchNormMlp.Training.Diagnostics;

/// <summary>
/// One hidden layer at one observed step. The activation is the nonlinearity's output (tanh or ReLU; for a
/// pre-activation block the branch's <c>act(bn(h))</c>, none for its Linear stem); the output is what the layer
/// hands on (the residual stream after it when it adds one, else the activation).
/// Gradient figures are of ∂loss/∂output; the weight figures are of the layer's Linear weight.
/// Standard deviations are PyTorch's (n - 1); NaN marks what a layer does not have or a forward-only snapshot.
/// </summary>
internal sealed record LayerStatistics(
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

/// <summary>log10(lr · grad.std() / (data.std() + 1e-5)) of one parameter: the third seed's <c>ud</c> entry.</summary>
internal readonly record struct UpdateRatio(string Parameter, int Dimensions, double Log10);

/// <summary>One hidden layer's histograms at one observed step (null where the layer has no such tensor).</summary>
internal sealed record LayerHistograms(int Layer, HistogramSeries? Activation, HistogramSeries Output, HistogramSeries? OutputGradient, HistogramSeries? WeightGradient);

/// <summary>Everything measured at one observed step.</summary>
internal sealed record DiagnosticsSnapshot(
    int Step,
    double Loss,
    float LearningRate,
    IReadOnlyList<LayerStatistics> Layers,
    IReadOnlyList<UpdateRatio> UpdateRatios,
    IReadOnlyList<LayerHistograms>? Histograms);
