using Microsoft.ML.BatchNormMlp.Model;

namespace Microsoft.ML.BatchNormMlp.Training.Diagnostics;

/// <summary>
/// Records per-layer training diagnostics, attached as <see cref="Trainer.Observer"/>: the loss of every step and,
/// every <see cref="TrainingDiagnosticsOptions.Interval"/> steps, each hidden layer's activation mean, std and
/// saturation, its output variance (the fourth seed's print_variance), the mean and std of its output gradient, its
/// weight gradient's std against the weight's (the first seed's gradient:weight ratio), every parameter's
/// update:data ratio (the third seed's <c>ud</c>), histograms and, when asked, copies of the layers' outputs.
/// Measuring reads the workspace after the optimizer step and does not change the training trajectory. Not
/// attached, it costs nothing. <see cref="ToResult"/> is the public, immutable <see cref="TrainingDiagnostics"/>.
/// </summary>
internal sealed class DiagnosticsRecorder : ITrainingObserver, IBackwardObserver
{
    private readonly List<float> _losses = [];
    private readonly List<DiagnosticsSnapshot> _snapshots = [];
    private double[] _gradientMean = [], _gradientStd = [];
    private HistogramSeries?[] _gradientHistograms = [];

    /// <param name="options">What to measure (copied); null: the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public DiagnosticsRecorder(TrainingDiagnosticsOptions? options = null)
    {
        Options = options?.Clone() ?? new TrainingDiagnosticsOptions();
        Options.Validate();
    }

    public TrainingDiagnosticsOptions Options { get; }

    /// <summary>The minibatch loss of every step observed so far, in order.</summary>
    public IReadOnlyList<float> Losses => _losses;

    /// <summary>The measured steps, in order.</summary>
    public IReadOnlyList<DiagnosticsSnapshot> Snapshots => _snapshots;

    /// <summary>The last measured step, or null before the first.</summary>
    public DiagnosticsSnapshot? Latest => _snapshots.Count == 0 ? null : _snapshots[^1];

    /// <summary>What was recorded so far, as the public immutable result (a copy: recording on does not change it).</summary>
    public TrainingDiagnostics ToResult() => new(Options, [.. _losses], [.. _snapshots]);

    private bool Measures(int step) => step % Options.Interval == 0;

    public IBackwardObserver? BeforeBackward(int step) => Measures(step) ? this : null;

    public void LayerOutputGradient(int layer, ReadOnlySpan<float> gradient)
    {
        if (layer >= _gradientMean.Length)
        {
            Array.Resize(ref _gradientMean, layer + 1);
            Array.Resize(ref _gradientStd, layer + 1);
            Array.Resize(ref _gradientHistograms, layer + 1);
        }
        _gradientMean[layer] = SpanStatistics.Mean(gradient);
        _gradientStd[layer] = SpanStatistics.Std(gradient);
        _gradientHistograms[layer] = Options.Histograms
            ? HistogramSeries.Compute($"hidden.{layer} output gradient", gradient, Options.HistogramBins, HistogramScale.Density) : null;
    }

    public void StepCompleted(int step, MlpNetwork network, double loss, float learningRate)
    {
        _losses.Add((float)loss);
        if (!Measures(step)) return;
        int layers = network.Hidden.Length;
        var stats = new LayerStatistics[layers];
        var histograms = Options.Histograms ? new LayerHistograms[layers] : null;
        var forward = Measure(network, Options.Histograms ? Options.HistogramBins : 0);
        for (int i = 0; i < layers; i++)
        {
            var w = network.Hidden[i].Weight;
            double gStd = SpanStatistics.Std(w.Grad), wStd = SpanStatistics.Std(w.Data);
            bool seen = i < _gradientMean.Length;
            stats[i] = forward.Layers[i] with
            {
                GradientMean = seen ? _gradientMean[i] : double.NaN,
                GradientStd = seen ? _gradientStd[i] : double.NaN,
                WeightGradientMean = SpanStatistics.Mean(w.Grad),
                WeightGradientStd = gStd,
                GradientToWeight = gStd / (wStd + 1e-8),   // the first seed's plot_gradients
            };
            if (histograms is not null)
                histograms[i] = forward.Histograms![i] with
                {
                    OutputGradient = seen ? _gradientHistograms[i] : null,
                    WeightGradient = HistogramSeries.Compute($"{w.Name} gradient", w.Grad, Options.HistogramBins, HistogramScale.Density),
                };
        }
        var ratios = new UpdateRatio[network.Parameters.Count];
        for (int p = 0; p < ratios.Length; p++)
        {
            var parameter = network.Parameters[p];
            double update = learningRate * SpanStatistics.Std(parameter.Grad), data = SpanStatistics.Std(parameter.Data) + 1e-5;
            ratios[p] = new UpdateRatio(parameter.Name, parameter.Shape.Length, Math.Log10(update / data));
        }
        _snapshots.Add(new DiagnosticsSnapshot(step, loss, learningRate, Array.AsReadOnly(stats), Array.AsReadOnly(ratios),
            histograms is null ? null : Array.AsReadOnly(histograms), Options.LayerOutputs ? LayerOutputs(network) : null));
    }

    // Copies of every hidden layer's outputs [B, width] in the last training-mode forward.
    private static IReadOnlyList<ReadOnlyMemory<float>> LayerOutputs(MlpNetwork network)
    {
        var ws = network.LastWorkspace!;
        var outputs = new ReadOnlyMemory<float>[network.Hidden.Length];
        for (int i = 0; i < outputs.Length; i++)
            outputs[i] = ws.Stream[i].AsSpan(0, ws.Batch * network.Config.HiddenWidths[i]).ToArray();
        return Array.AsReadOnly(outputs);
    }

    /// <summary>
    /// The forward-pass figures (activations, output variance, their histograms when <paramref name="histogramBins"/>
    /// is positive) of the network's last training-mode forward; gradient figures are NaN. For a look at a network
    /// without training it.
    /// </summary>
    public static (IReadOnlyList<LayerStatistics> Layers, IReadOnlyList<LayerHistograms>? Histograms) Measure(MlpNetwork network, int histogramBins = 0)
    {
        ArgumentNullException.ThrowIfNull(network);
        var ws = network.LastWorkspace ?? throw new InvalidOperationException("Diagnostics need a forward pass first.");
        if (ws.ForwardOnly) throw new InvalidOperationException("Diagnostics need every layer's activations: run the forward pass in training mode or with keepActivations.");
        var c = network.Config;
        int b = ws.Batch, layers = network.Hidden.Length;
        var stats = new LayerStatistics[layers];
        var histograms = histogramBins > 0 ? new LayerHistograms[layers] : null;
        bool pre = c.BlockStyle == BlockStyle.PreActivation;
        for (int i = 0; i < layers; i++)
        {
            int o = c.HiddenWidths[i];
            int activationWidth = pre ? network.LayerInputWidth(i) : o;
            var activation = ws.Activated[i].Length == 0 ? ReadOnlySpan<float>.Empty : ws.Activated[i].AsSpan(0, b * activationWidth);
            var output = ws.Stream[i].AsSpan(0, b * o);
            string name = $"hidden.{i}";
            stats[i] = new LayerStatistics(i, name,
                SpanStatistics.Mean(activation), SpanStatistics.Std(activation), SpanStatistics.Saturation(activation),
                SpanStatistics.NeuronVarianceMean(output, b, o),
                double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
            if (histograms is not null)
                histograms[i] = new LayerHistograms(i,
                    activation.IsEmpty ? null : HistogramSeries.Compute($"{name} activation", activation, histogramBins),
                    HistogramSeries.Compute($"{name} output", output, histogramBins), null, null);
        }
        return (stats, histograms);
    }
}
