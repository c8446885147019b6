using BatchNormMlp.Samples.Reporting;

namespace BatchNormMlp.Samples.Experiments;

/// <summary>The charts several experiments share, built from <see cref="TrainedRun"/>s.</summary>
internal static class ExperimentCharts
{
    /// <summary>At most this many points per training curve: longer runs are averaged over windows, as the seeds do with lossi.view(-1, 1000).mean(1).</summary>
    public const int CurvePoints = 200;

    /// <summary>Minibatch loss (window means) and validation loss (named <paramref name="validationName"/>) of each run, log scale.</summary>
    public static LineChart Losses(string title, IReadOnlyList<TrainedRun> runs, string validationName = "dev")
    {
        // Wide, so that the legend's "model: train" names fit beside the plot.
        var chart = new LineChart { Title = title, XLabel = "Step", YLabel = "Cross-entropy (nats)", LogY = true, Width = 1000, Height = 460 };
        for (int r = 0; r < runs.Count; r++)
        {
            var run = runs[r];
            var (x, y) = WindowMeans(run.Diagnostics.Losses);
            var train = new LineSeries($"{run.Label}: train", x, y) { Color = Palette.Categorical(r) };
            chart.Add(train);
            if (run.ValidationSteps.Count > 1)   // a single end-of-run figure is in the table; as a lone dot it would only clutter the legend
                chart.Add(new LineSeries($"{run.Label}: {validationName}", run.ValidationSteps, run.ValidationLosses) { Color = Palette.Categorical(r), Dash = "6 3" });
        }
        return chart;
    }

    /// <summary>Means over consecutive windows so that at most <see cref="CurvePoints"/> remain; x is each window's last step (1-based).</summary>
    public static (double[] X, double[] Y) WindowMeans(IReadOnlyList<float> values)
    {
        int window = Math.Max(1, (values.Count + CurvePoints - 1) / CurvePoints);
        int count = (values.Count + window - 1) / window;
        var x = new double[count];
        var y = new double[count];
        for (int w = 0; w < count; w++)
        {
            int start = w * window, end = Math.Min(values.Count, start + window);
            double s = 0;
            for (int i = start; i < end; i++) s += values[i];
            x[w] = end;
            y[w] = s / (end - start);
        }
        return (x, y);
    }

    /// <summary>log10 update:data ratio of each two-dimensional weight over the measured steps, with the seeds' 1e-3 guide line.</summary>
    public static LineChart UpdateRatios(string title, TrainedRun run)
    {
        var chart = new LineChart { Title = title, XLabel = "Step", YLabel = "log10(lr·grad std / data std)", Colors = ColorScheme.Categorical };
        var snapshots = run.Diagnostics.Snapshots;
        if (snapshots.Count == 0) return chart;
        var steps = snapshots.Select(s => (double)s.Step).ToArray();
        var first = snapshots[0].UpdateRatios;
        for (int p = 0; p < first.Count; p++)
        {
            if (first[p].Dimensions != 2) continue;
            chart.Add(new LineSeries(first[p].Parameter, steps, snapshots.Select(s => s.UpdateRatios[p].Log10).ToArray()));
        }
        double last = Math.Max(1, steps[^1]);
        chart.Add(new LineSeries("1e-3 (rule of thumb)", [0, last], [-3, -3]) { Color = "#000000", Dash = "6 4" });
        return chart;
    }

    /// <summary>One line per layer: the histogram <paramref name="pick"/> chooses from the last measured step.</summary>
    public static HistogramChart LayerHistograms(string title, string xLabel, TrainedRun run, Func<LayerHistograms, HistogramSeries?> pick, string yLabel = "Density")
    {
        // Categorical colours: a sequential ramp ends in a pale yellow that vanishes on white.
        var chart = new HistogramChart { Title = title, XLabel = xLabel, YLabel = yLabel, Style = HistogramStyle.Line, Colors = ColorScheme.Categorical };
        var histograms = run.Diagnostics.Snapshots.LastOrDefault(s => s.Histograms is not null)?.Histograms;
        if (histograms is null) return chart;
        foreach (var h in histograms)
            if (pick(h) is { } series) chart.Add(new HistogramSeries($"Layer {h.Layer + 1}", series.Edges, series.Heights, series.Scale));
        return chart;
    }

    /// <summary>
    /// One layer's histogram (chosen by <paramref name="pick"/>) of several runs overlaid, each with its own bins; from
    /// the first measured step (step 0, the initialization) when <paramref name="atStart"/>, else the last.
    /// </summary>
    public static HistogramChart CompareRuns(string title, string xLabel, IReadOnlyList<TrainedRun> runs, int layer, Func<LayerHistograms, HistogramSeries?> pick, bool atStart = false, string yLabel = "Count")
    {
        var chart = new HistogramChart { Title = title, XLabel = xLabel, YLabel = yLabel, Width = 1000, Height = 380 };
        foreach (var run in runs)
        {
            var withHistograms = run.Diagnostics.Snapshots.Where(s => s.Histograms is not null);
            var snapshot = atStart ? withHistograms.FirstOrDefault() : withHistograms.LastOrDefault();
            if (snapshot?.Histograms is { } h && pick(h[layer]) is { } series)
                chart.Add(new HistogramSeries(run.Label, series.Edges, series.Heights, series.Scale));
        }
        return chart;
    }

    /// <summary>Per-layer figures of the last measured step, for the report's tables.</summary>
    public static ReportTable LayerTable(string caption, IReadOnlyList<TrainedRun> runs)
    {
        var table = new ReportTable("Model", "Layer", "Activation mean", "Activation std", "Saturated (|tanh|>0.97)", "Output gradient std", "Weight grad:weight std")
        { Caption = caption };
        table.Format("Activation mean", "F3").Format("Activation std", "F3").Format("Saturated (|tanh|>0.97)", "P1")
            .Format("Output gradient std", "0.00E+0").Format("Weight grad:weight std", "0.00E+0");
        foreach (var run in runs)
        {
            if (run.Diagnostics.Latest is not { } s) continue;
            foreach (var l in s.Layers)
                table.AddRow(run.Label, l.Layer + 1, l.ActivationMean, l.ActivationStd, l.Saturation, l.GradientStd, l.GradientToWeight);
        }
        return table;
    }
}
