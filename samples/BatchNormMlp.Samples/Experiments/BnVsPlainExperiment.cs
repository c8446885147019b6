using BatchNormMlp.Samples.Reporting;

namespace BatchNormMlp.Samples.Experiments;

/// <summary>Sizes of the bn-vs-plain experiment (tests shrink them).</summary>
internal sealed record BnVsPlainOptions(int Steps = 20_000, IReadOnlyList<int>? HiddenWidths = null, string? DataPath = null, string? BaseDirectory = null, int Threads = 1)
{
    public const int FullSteps = 200_000;
}

/// <summary>
/// First seed, part 1: one hidden layer of 200 tanh units without (preset plain1) and with BatchNorm (bn1), SGD
/// lr 0.1 decayed tenfold at half-time, batch 32. Figures against torch_ref.py run for the same number of steps.
/// </summary>
internal static class BnVsPlainExperiment
{
    public static ExperimentOutcome Run(BnVsPlainOptions options)
    {
        var data = NamesSplit.Load(3, options.DataPath, options.BaseDirectory);
        var runs = new List<TrainedRun>();
        foreach (var (name, label) in new[] { ("plain1", "plain1, no BatchNorm"), ("bn1", "bn1, BatchNorm") })
        {
            var preset = new BatchNormMlpTrainer.Options { Preset = name, Steps = options.Steps, HiddenWidths = options.HiddenWidths };
            runs.Add(TrainedRun.Train(data.Ml, label, preset, data.Train, data.Dev,
                new TrainingDiagnosticsOptions { Interval = Math.Max(1, options.Steps / 100), Histograms = true }, validationEvery: Math.Max(1, options.Steps / 10), threads: options.Threads));
        }

        var table = new ReportTable("Model", "Parameters", "Train CE", "Dev CE", "Test CE", "Dev accuracy", "PyTorch train", "PyTorch dev", "Training time (s)")
        { Caption = $"One hidden layer of {runs[0].Model.Configuration.HiddenWidths[0]}, {options.Steps} steps, evaluation mode (running statistics)" };
        table.Format("Train CE", "F4").Format("Dev CE", "F4").Format("Test CE", "F4").Format("Dev accuracy", "P1")
            .Format("PyTorch train", "F4").Format("PyTorch dev", "F4").Format("Training time (s)", "F1");
        var findings = new List<string>();
        string[] models = ["plain1", "bn1"];
        for (int i = 0; i < runs.Count; i++)
        {
            var run = runs[i];
            var train = Evaluation.Of(run.Character, data.Train);
            var dev = Evaluation.Of(run.Character, data.Dev);
            var test = Evaluation.Of(run.Character, data.Test);
            var torch = options.HiddenWidths is null ? ReferenceFigures.TorchRef(models[i], options.Steps) : null;
            table.AddRow(run.Label, run.ParameterCount, train.CrossEntropy, dev.CrossEntropy, test.CrossEntropy, dev.Accuracy,
                torch?.Train, torch?.Dev, run.TrainingTime.TotalSeconds);
            findings.Add(torch is { } t
                ? $"{run.Label}: dev {Comparison.Against(dev.CrossEntropy, t.Dev, 4)} against torch_ref.py {models[i]} {options.Steps}; train {Comparison.Against(train.CrossEntropy, t.Train, 4)}."
                : $"{run.Label}: dev {Comparison.F(dev.CrossEntropy, 4)}; no PyTorch figure was measured at {options.Steps} steps (torch_ref.py {models[i]} {options.Steps} gives one).");
        }
        var initial = runs.Select(r => r.Diagnostics.Snapshots[0].Layers[0].Saturation).ToArray();
        findings.Add($"Saturated tanh units at step 0: {initial[0]:P1} without BatchNorm, {initial[1]:P1} with it; at the end {runs[0].Diagnostics.Latest!.Layers[0].Saturation:P1} and {runs[1].Diagnostics.Latest!.Layers[0].Saturation:P1}.");

        var report = new HtmlReport("One hidden layer without and with BatchNorm");
        report.Paragraph("The first seed's part 1: the makemore MLP (context 3, embedding 10, 200 tanh units) trained with and without a BatchNorm before the tanh. "
                + "PyTorch figures come from ../shared/reference/torch_ref.py with the same split, initialization and schedule, run for the same number of steps.")
            .Code($"dotnet run -c Release --project samples/BatchNormMlp.Samples -- bn-vs-plain{(options.Steps == BnVsPlainOptions.FullSteps ? " --full" : "")}")
            .Table(table)
            .Figure(ExperimentCharts.Losses("Loss", runs), "Minibatch loss (window means, solid) and dev loss (dashed), log scale.")
            .Heading("Hidden layer")
            .Table(ExperimentCharts.LayerTable("The hidden layer at the last measured step", runs));
        report.Figure(ExperimentCharts.CompareRuns("Hidden tanh outputs at step 1", "tanh output", runs, 0, h => h.Activation, atStart: true),
                "Distribution of the hidden tanh outputs on the first minibatch, before any update (the seeds' saturation check: mass near ±1 means vanishing gradients).")
            .Figure(ExperimentCharts.CompareRuns("Hidden tanh outputs after training", "tanh output", runs, 0, h => h.Activation),
                "The same on the last measured minibatch.");
        report.Figure(ExperimentCharts.UpdateRatios("Update:data ratio, BatchNorm model (bn1)", runs[1]), "log10 of lr·std(grad)/std(weight) per weight matrix; about -3 is the seeds' rule of thumb.");
        return new ExperimentOutcome("bn-vs-plain", "One hidden layer without and with BatchNorm (first seed, part 1)", table, findings, report);
    }
}
