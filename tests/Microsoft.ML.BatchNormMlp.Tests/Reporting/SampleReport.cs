using Microsoft.ML.BatchNormMlp.Numerics;
using BatchNormMlp.Samples.Reporting;
using Microsoft.ML.BatchNormMlp.Training.Diagnostics;

namespace Microsoft.ML.BatchNormMlp.Tests.Reporting;

/// <summary>
/// A report shaped like the seeds' figures, from synthetic data: loss curves, per-layer histograms, update
/// ratios, variance per block, 50 layers side by side. The tests check its structure; the same page is what was
/// looked at in a headless browser to tune the layout.
/// </summary>
internal static class SampleReport
{
    public static LineChart LossCurves()
    {
        var rng = new Rng(1);
        int steps = 3000;
        var train = new double[steps];
        for (int i = 0; i < steps; i++) train[i] = 2.0 + 1.3 * Math.Exp(-i / 400.0) + 0.15 * rng.NextGaussian();
        var valSteps = Enumerable.Range(0, 31).Select(i => i * 100.0).ToArray();
        var val = valSteps.Select(s => 2.1 + 1.2 * Math.Exp(-s / 450.0)).ToArray();
        return new LineChart { Title = "Loss", XLabel = "Step", YLabel = "Cross-entropy", LogY = true }
            .Add(LineSeries.FromValues("Train", train))
            .Add(new LineSeries("Validation", valSteps, val));
    }

    public static float[] Activations(int layer, int count, bool residual, ulong seed)
    {
        var rng = new Rng(seed);
        var values = new float[count];
        double scale = residual ? Math.Sqrt(layer + 1) * 0.6 : Math.Pow(0.8, layer);
        for (int i = 0; i < count; i++)
            values[i] = residual ? (float)(scale * rng.NextGaussian()) : (float)Math.Tanh(scale * 1.5 * rng.NextGaussian());
        return values;
    }

    public static HistogramChart LayerHistograms()
    {
        var chart = new HistogramChart { Title = "Activation distribution per layer", XLabel = "Activation value", YLabel = "Density", Style = HistogramStyle.Line };
        var layers = Enumerable.Range(0, 5).Select(l => Activations(l, 4000, false, (ulong)(10 + l))).ToArray();
        var (min, max) = Histogram.Range(layers);
        for (int l = 0; l < layers.Length; l++)
            chart.Add(HistogramSeries.Compute($"Layer {l + 1} (tanh)", layers[l], 30, min, max, HistogramScale.Density));
        return chart;
    }

    public static LineChart UpdateRatios()
    {
        var rng = new Rng(2);
        var chart = new LineChart { Title = "Update:data ratio (log10)", XLabel = "Step", YLabel = "log10(update std / data std)", Colors = ColorScheme.Sequential };
        for (int l = 0; l < 6; l++)
        {
            var y = Enumerable.Range(0, 1000).Select(i => -3 - 0.15 * l + 0.6 * Math.Exp(-i / 200.0) + 0.05 * rng.NextGaussian()).ToArray();
            chart.Add(LineSeries.FromValues($"Layer {l + 1}", y));
        }
        var target = LineSeries.FromValues("Target 1e-3", [-3.0, -3.0], 0, 999);
        target.Color = "#000000";
        target.Dash = "6 4";
        chart.Add(target);
        return chart;
    }

    public static BarChart VariancePerBlock() =>
        new BarChart(Enumerable.Range(1, 6).Select(i => $"Block {i}").ToArray())
        {
            Title = "Variance after each residual block at initialization",
            YLabel = "Variance",
            LogY = true,
            ShowValues = true,
        }
        .Add(new BarSeries("Without BatchNorm", [1.9, 3.4, 5.6, 9.1, 15.2, 27.5]))
        .Add(new BarSeries("BatchNorm in the branch", [1.4, 1.5, 1.5, 1.6, 1.6, 1.7]));

    public static SmallMultiples DeepHistograms(int layers = 50)
    {
        var grid = new SmallMultiples { Title = "Activations of a 50-layer MLP: no residual vs residual", XLabel = "Activation value", YLabel = "Frequency", Columns = 5 };
        for (int l = 0; l < layers; l++)
        {
            var plain = Activations(l, 2000, false, (ulong)(100 + l));
            var residual = Activations(l, 2000, true, (ulong)(200 + l));
            var (min, max) = Histogram.Range(plain, residual);
            grid.Add(new HistogramChart { Title = $"Layer {l + 1}" }
                .Add(HistogramSeries.Compute("No residual", plain, 50, min, max))
                .Add(HistogramSeries.Compute("Residual", residual, 50, min, max)));
        }
        return grid;
    }

    public static ReportTable Figures() =>
        new ReportTable("Model", "Context", "Dev CE", "Test CE", "Accuracy", "Parameters", "Training time (s)")
        { Caption = "Baselines and models on the names split (sample figures)" }
            .Format("Dev CE", "F3").Format("Test CE", "F3").Format("Accuracy", "P1").Format("Training time (s)", "F1")
            .AddRow("n-gram, add-k <smoothed>", 3, 2.1034, 2.1101, 0.2981, null, 0.4)
            .AddRow("MLP + BatchNorm", 3, 2.1051, 2.1102, 0.3012, 12297, 95.26)
            .AddRow("Boosted trees (external, scikit-learn)", 8, 1.957, 1.953, double.NaN, null, null);

    public static HtmlReport Build()
    {
        var report = new HtmlReport("Sample report: BatchNorm MLP diagnostics");
        report.Paragraph("Synthetic data shaped like the seeds' figures; it exercises every chart type & the table.")
            .Heading("Training")
            .Figure(LossCurves(), "Train and validation loss, log scale.")
            .Figure(UpdateRatios(), "Update:data ratio per layer; about -3 is healthy.")
            .Heading("Distributions")
            .Figure(LayerHistograms(), "Activation histograms per layer.")
            .Figure(VariancePerBlock(), "Variance after each block (log scale).")
            .Figure(DeepHistograms(), "Each panel: one layer's activations, without and with residual streams.")
            .Heading("Figures")
            .Table(Figures())
            .Code("bnmlp train --preset quality");
        return report;
    }
}
