using BatchNormMlp.Samples.Reporting;

namespace BatchNormMlp.Samples.Experiments;

/// <summary>Sizes of the deep50 experiment; the defaults are the seed's (1000 steps, 50 layers of 256).</summary>
internal sealed record Deep50Options(int Steps = 1000, int Layers = 50, int Width = 256, string? DataPath = null, string? BaseDirectory = null, int Threads = 1);

/// <summary>
/// First seed, part 2: 50 Linear-BatchNorm-tanh layers of 256 without (deep50) and with post-activation residual
/// streams (deep50-res), SGD lr 0.01 for 1000 steps; losses and each layer's output histogram on the last
/// training minibatch (the seed's get_activations, BatchNorm in training mode).
/// </summary>
internal static class Deep50Experiment
{
    public static ExperimentOutcome Run(Deep50Options options)
    {
        var data = NamesSplit.Load(3, options.DataPath, options.BaseDirectory);
        var widths = Enumerable.Repeat(options.Width, options.Layers).ToArray();
        var runs = new List<TrainedRun>();
        // Measured on the first and the last step only: the last minibatch's layers are the point, not their history;
        // the layers' outputs are kept to bin both models alike below.
        var diagnostics = new TrainingDiagnosticsOptions { Interval = Math.Max(1, options.Steps - 1), Histograms = false, LayerOutputs = true };
        foreach (var (name, label) in new[] { ("deep50", "No residual"), ("deep50-res", "Residual") })
        {
            var preset = new BatchNormMlpTrainer.Options { Preset = name, Steps = options.Steps, HiddenWidths = widths };
            runs.Add(TrainedRun.Train(data.Ml, label, preset, data.Train, data.Dev, diagnostics,
                validationEvery: 0, threads: options.Threads));   // dev once, at the end: each pass is 22k rows through 50 layers
        }

        bool seedSize = options.Layers == 50 && options.Width == 256;
        var table = new ReportTable("Model", "Parameters", "Dev CE", "PyTorch dev", "Output std, layer 1", $"Output std, layer {options.Layers}", "Saturated (all layers)", "Training time (s)")
        { Caption = $"{options.Layers} layers of {options.Width}, {options.Steps} steps of SGD lr 0.01; output statistics on the last training minibatch" };
        table.Format("Dev CE", "F4").Format("PyTorch dev", "F4").Format("Output std, layer 1", "F3")
            .Format($"Output std, layer {options.Layers}", "F3").Format("Saturated (all layers)", "P1").Format("Training time (s)", "F1");
        var findings = new List<string>();
        string[] models = ["deep50", "deep50res"];
        for (int i = 0; i < runs.Count; i++)
        {
            var run = runs[i];
            // The dev loss the trainer computed after the last step: 50 layers over the 180k training rows would cost more than the training.
            double dev = run.FinalValidationLoss;
            var last = run.Diagnostics.Latest!;
            var torch = seedSize ? ReferenceFigures.TorchRef(models[i], options.Steps) : null;
            table.AddRow(run.Label, run.ParameterCount, dev, torch?.Dev,
                Math.Sqrt(last.Layers[0].OutputVariance), Math.Sqrt(last.Layers[^1].OutputVariance), last.Layers.Average(l => l.Saturation), run.TrainingTime.TotalSeconds);
            findings.Add($"{run.Label}: dev {Comparison.F(dev, 4)}" + (torch is { } t ? $", against torch_ref.py {models[i]} {options.Steps}: {Comparison.Against(dev, t.Dev, 4)}." : "."));
        }
        findings.Add("Without residual streams every layer's output is a fresh tanh in [-1, 1]; with them the stream accumulates 49 tanh outputs and its spread grows with depth, as in the seed's histograms.");

        var grid = new SmallMultiples { Title = "Layer outputs after training: no residual vs residual", XLabel = "Activation value", YLabel = "Frequency", Columns = 5 };
        // Each layer's outputs on the last training minibatch (the last snapshot), as the seed's get_activations returns them.
        var outputs = (Plain: runs[0].Diagnostics.Latest!.LayerOutputs!, Residual: runs[1].Diagnostics.Latest!.LayerOutputs!);
        for (int l = 0; l < options.Layers; l++)
        {
            // Re-bin both on a shared range so that the two distributions are comparable in one panel.
            var a = outputs.Plain[l].Span;
            var b = outputs.Residual[l].Span;
            var (min, max) = SharedRange(a, b);
            grid.Add(new HistogramChart { Title = $"Layer {l + 1}" }
                .Add(HistogramSeries.Compute("No residual", a, 50, min, max))
                .Add(HistogramSeries.Compute("Residual", b, 50, min, max)));
        }

        var report = new HtmlReport("50 layers without and with residual streams");
        report.Paragraph("The first seed's DeepMLP: context 3, embedding 16, 50 layers of Linear (with bias), BatchNorm1d and tanh, width 256; "
                + "with residual streams each layer after the first adds its input back (h = h + tanh(bn(linear(h)))). SGD lr 0.01, batch 32.")
            .Code("dotnet run -c Release --project samples/BatchNormMlp.Samples -- deep50")
            .Table(table)
            .Figure(ExperimentCharts.Losses("Loss", runs), "Minibatch loss (window means), log scale; the dev loss is measured once, after the last step (the table).")
            .Figure(grid, "Each panel: one layer's outputs on the last training minibatch (BatchNorm in training mode, as the seed's get_activations), both models binned alike.");
        return new ExperimentOutcome("deep50", "50 layers without and with residual streams (first seed, part 2)", table, findings, report);
    }

    /// <summary>The smallest and largest finite value of two sets of values (a unit range around a constant, [0, 1] when none is finite).</summary>
    private static (double Min, double Max) SharedRange(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (float v in a) if (float.IsFinite(v)) { min = Math.Min(min, v); max = Math.Max(max, v); }
        foreach (float v in b) if (float.IsFinite(v)) { min = Math.Min(min, v); max = Math.Max(max, v); }
        if (min > max) return (0, 1);
        return min == max ? (min - 0.5, max + 0.5) : (min, max);
    }
}
