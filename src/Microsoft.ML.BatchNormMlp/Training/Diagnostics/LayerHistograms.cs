namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// One hidden layer's histograms at one measured step (<see cref="DiagnosticsSnapshot.Histograms"/>), each over the
/// tensor's own range; <see langword="null"/> where the layer has no such tensor.
/// </summary>
/// <param name="Layer">The hidden layer, 0-based.</param>
/// <param name="Activation">The activations (counts); null for a pre-activation stem.</param>
/// <param name="Output">The layer's outputs (counts).</param>
/// <param name="OutputGradient">∂loss/∂output (density).</param>
/// <param name="WeightGradient">The Linear weight's gradient (density, as the first seed's plot_gradients).</param>
public sealed record LayerHistograms(int Layer, HistogramSeries? Activation, HistogramSeries Output, HistogramSeries? OutputGradient, HistogramSeries? WeightGradient);
