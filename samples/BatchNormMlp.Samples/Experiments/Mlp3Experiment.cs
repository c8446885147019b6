using BatchNormMlp.Samples.Reporting;

namespace BatchNormMlp.Samples.Experiments;

/// <summary>Sizes of the mlp3 experiment; the defaults are the seed's (1000 steps, embedding 16, widths 256-512-1024-512-256).</summary>
internal sealed record Mlp3Options(int Steps = 1000, IReadOnlyList<int>? HiddenWidths = null, int DiagnosticsEvery = 100, string? DataPath = null, string? BaseDirectory = null, int Threads = 1);

/// <summary>
/// First seed, MLP3: five widening tanh layers without bias, SGD lr 0.01, batch 32, started three ways: naive N(0, 1)
/// weights, Kaiming normal (tanh gain), and Kaiming with BatchNorm (the mlp3 preset, torch_ref.py's mlp3).
/// Losses, per-layer gradient statistics and histograms.
/// </summary>
internal static class Mlp3Experiment
{
    public static ExperimentOutcome Run(Mlp3Options options)
    {
        var data = NamesSplit.Load(3, options.DataPath, options.BaseDirectory);
        BatchNormMlpTrainer.Options Mlp3(bool batchNorm, WeightInitialization? init = null) =>
            new() { Preset = "mlp3", Steps = options.Steps, HiddenWidths = options.HiddenWidths, BatchNorm = batchNorm, Initialization = init };
        var variants = new (string Label, BatchNormMlpTrainer.Options Options)[]
        {
            ("Naive N(0,1) init", Mlp3(batchNorm: false, WeightInitialization.NaiveNormal)),
            ("Kaiming init", Mlp3(batchNorm: false)),
            ("Kaiming + BatchNorm", Mlp3(batchNorm: true)),   // the mlp3 preset itself
        };
        var diagnostics = new TrainingDiagnosticsOptions { Interval = Math.Max(1, Math.Min(options.DiagnosticsEvery, options.Steps - 1)), HistogramBins = 30 };
        var runs = variants.Select(v => TrainedRun.Train(data.Ml, v.Label, v.Options, data.Train, data.Dev, diagnostics,
            validationEvery: Math.Max(1, options.Steps / 4), threads: options.Threads)).ToList();
        var config = runs[^1].Model.Configuration;

        var table = new ReportTable("Model", "Parameters", "Loss at step 1", "Dev CE", "Saturated at step 1", "Saturated at end", "Grad:weight std (layers)", "PyTorch dev", "Training time (s)")
        { Caption = $"Widths {string.Join("-", config.HiddenWidths)}, {options.Steps} steps of SGD lr 0.01; saturation is the share of |tanh| > 0.97 over all layers" };
        table.Format("Loss at step 1", "F2").Format("Dev CE", "F4").Format("Saturated at step 1", "P1").Format("Saturated at end", "P1")
            .Format("PyTorch dev", "F4").Format("Training time (s)", "F1");
        var findings = new List<string>();
        var torch = options.HiddenWidths is null ? ReferenceFigures.TorchRef("mlp3", options.Steps) : null;
        foreach (var run in runs)
        {
            // The dev loss the trainer computed after the last step: a wide network's pass over the 180k training rows costs more than its training.
            double dev = run.FinalValidationLoss;
            var first = run.Diagnostics.Snapshots[0];
            var last = run.Diagnostics.Latest!;
            double ratioMin = last.Layers.Min(l => l.GradientToWeight), ratioMax = last.Layers.Max(l => l.GradientToWeight);
            bool isPreset = ReferenceEquals(run, runs[^1]);
            table.AddRow(run.Label, run.ParameterCount, run.Diagnostics.Losses[0], dev,
                first.Layers.Average(l => l.Saturation), last.Layers.Average(l => l.Saturation), $"{ratioMin:0.0E+0} .. {ratioMax:0.0E+0}",
                isPreset ? torch?.Dev : null, run.TrainingTime.TotalSeconds);
            findings.Add($"{run.Label}: first minibatch loss {run.Diagnostics.Losses[0]:F2} (uniform guess: ln {data.VocabularySize} = {Math.Log(data.VocabularySize):F2}), dev {Comparison.F(dev, 4)}"
                + (isPreset && torch is { } t ? $"; against torch_ref.py mlp3 {options.Steps}: {Comparison.Against(dev, t.Dev, 4)}." : "."));
        }
        findings.Add("The seed prints no loss for these runs (its cells were not executed); the lesson reproduced is qualitative: "
            + "naive init saturates the tanh units and starts far above ln 27; Kaiming removes most of the saturation and BatchNorm most of the rest. "
            + "Which of the last two has the lower dev loss after this short run is in the table.");

        var report = new HtmlReport("Five widening layers: naive init, Kaiming, Kaiming + BatchNorm");
        report.Paragraph("The first seed's MLP3: context 3, embedding 16, hidden widths 256, 512, 1024, 512, 256, tanh, no hidden biases, SGD lr 0.01, batch 32. "
                + "Naive: every weight N(0, 1). Kaiming: kaiming_normal_(fan_in, tanh gain 5/3) hidden weights, nn.Linear's default output layer (torch_ref.py's mlp3). "
                + "Statistics are of the last measured minibatch in training mode.")
            .Code("dotnet run -c Release --project samples/BatchNormMlp.Samples -- mlp3")
            .Table(table)
            .Figure(ExperimentCharts.Losses("Loss", runs), "Minibatch loss (window means, solid) and dev loss (dashed), log scale.")
            .Table(ExperimentCharts.LayerTable("Per layer, at the last measured step", runs));
        foreach (var run in runs)
        {
            report.Heading(run.Label)
                .Figure(ExperimentCharts.LayerHistograms($"{run.Label}: weight gradients", "Gradient value", run, h => h.WeightGradient),
                    "Distribution of each hidden weight matrix's gradient (torch.histogram, 30 bins, density), as the seed's plot_gradients.")
                .Figure(ExperimentCharts.LayerHistograms($"{run.Label}: tanh outputs", "tanh output", run, h => h.Activation, "Count"),
                    "Distribution of each layer's tanh outputs; mass at ±1 means saturated units whose gradient vanishes.")
                .Figure(ExperimentCharts.UpdateRatios($"{run.Label}: update:data ratio", run), "log10 of lr·std(grad)/std(weight) per weight matrix over training.");
        }
        return new ExperimentOutcome("mlp3", "Five widening layers: naive init, Kaiming, Kaiming + BatchNorm (first seed, MLP3)", table, findings, report);
    }
}
