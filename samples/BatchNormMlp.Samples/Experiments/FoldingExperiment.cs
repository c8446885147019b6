using System.Diagnostics;
using BatchNormMlp.Samples.Reporting;
using Microsoft.ML;

namespace BatchNormMlp.Samples.Experiments;

/// <summary>Sizes of the folding experiment; the default is the seed's 1001 steps of lr 0.1.</summary>
internal sealed record FoldingOptions(int Steps = 1001, IReadOnlyList<int>? HiddenWidths = null, string? DataPath = null, string? BaseDirectory = null, int Threads = 1)
{
    public const int FullSteps = 200_000;
}

/// <summary>
/// Third seed: the seed002 network (two Linear+BatchNorm+tanh layers of 100 and a Linear+BatchNorm output) trained,
/// then every BatchNorm folded into the Linear before it; dev and test loss unfolded and folded, and the largest
/// logit difference between the two over both sets.
/// </summary>
internal static class FoldingExperiment
{
    public static ExperimentOutcome Run(FoldingOptions options)
    {
        var data = NamesSplit.Load(3, options.DataPath, options.BaseDirectory);
        // The seed: lr 0.1 (the preset's) until step 100000, then 0.01; its short run stops at step 1000, before the
        // decay (a decay at the last step is none).
        var preset = new BatchNormMlpTrainer.Options
        {
            Preset = "seed002", Steps = options.Steps, HiddenWidths = options.HiddenWidths, Decay = LearningRateDecay.Step, DecayStep = Math.Min(100_000, options.Steps),
        };
        var run = TrainedRun.Train(data.Ml, "seed002", preset, data.Train, data.Dev,
            new TrainingDiagnosticsOptions { Interval = Math.Max(1, options.Steps / 100), Histograms = false }, validationEvery: Math.Max(1, options.Steps / 10), threads: options.Threads);
        var unfolded = run.Character;
        var folded = run.Model.Fold().Model;

        var dev = Compare(unfolded, folded, data.Dev);
        var test = Compare(unfolded, folded, data.Test);
        bool seedLength = options.Steps == 1001 && options.HiddenWidths is null;
        var table = new ReportTable("Split", "Unfolded CE", "Folded CE", "Difference", "Largest |logit difference|", "Seed unfolded", "Seed folded", "Unfolded (ms)", "Folded (ms)")
        { Caption = $"seed002 after {options.Steps} steps; every BatchNorm (two hidden, one on the logits) folded into its Linear" };
        table.Format("Unfolded CE", "F7").Format("Folded CE", "F7").Format("Difference", "0.0E+0").Format("Largest |logit difference|", "0.00E+0")
            .Format("Seed unfolded", "F7").Format("Seed folded", "F7").Format("Unfolded (ms)", "F0").Format("Folded (ms)", "F0");
        // The seed's figures belong to its 1001-step run: shown beside a run of that length only.
        table.AddRow("Dev", dev.Unfolded, dev.Folded, dev.Folded - dev.Unfolded, dev.MaxLogitDifference, seedLength ? ReferenceFigures.SeedFoldingDev : null, seedLength ? ReferenceFigures.SeedFoldedDev : null, dev.UnfoldedMs, dev.FoldedMs);
        table.AddRow("Test", test.Unfolded, test.Folded, test.Folded - test.Unfolded, test.MaxLogitDifference, seedLength ? ReferenceFigures.SeedFoldingTest : null, seedLength ? ReferenceFigures.SeedFoldedTest : null, test.UnfoldedMs, test.FoldedMs);
        var findings = new List<string>
        {
            $"Dev unfolded {Comparison.Against(dev.Unfolded, ReferenceFigures.SeedFoldingDev, 4)}, test {Comparison.Against(test.Unfolded, ReferenceFigures.SeedFoldingTest, 4)} against the seed"
                + (seedLength ? " (same 1001 steps; the seed's own Linear/BatchNorm classes and initialization differ from nn.Linear's)." : $" (the seed trained 1001 steps, this run {options.Steps})."),
            $"Folding moves the loss by {dev.Folded - dev.Unfolded:0.0E+0} (dev) and {test.Folded - test.Unfolded:0.0E+0} (test); the seed saw {ReferenceFigures.SeedFoldedDev - ReferenceFigures.SeedFoldingDev:0.0E+0} and {ReferenceFigures.SeedFoldedTest - ReferenceFigures.SeedFoldingTest:0.0E+0}. "
                + $"Largest |logit difference| {Math.Max(dev.MaxLogitDifference, test.MaxLogitDifference):0.00E+0} over {dev.Rows + test.Rows} rows (the seed's printed logits agree to 1e-4).",
        };

        var report = new HtmlReport("Folding BatchNorm into the Linear layers");
        report.Paragraph("The third seed: W' = (γ/σ)·W and b' = (γ/σ)·(b − μ) + β with the running mean μ and σ = √(running_var + ε), so that inference needs no "
                + "BatchNorm. Folding is exact algebra; the differences are float32 rounding.")
            .Code($"dotnet run -c Release --project samples/BatchNormMlp.Samples -- folding{(options.Steps == FoldingOptions.FullSteps ? " --full" : "")}")
            .Table(table)
            .Figure(ExperimentCharts.Losses("Loss", [run]), "Minibatch loss (window means) and dev loss, log scale.")
            .Figure(ExperimentCharts.UpdateRatios("Update:data ratio", run), "log10 of lr·std(grad)/std(weight) per weight matrix, as the seed's ud.");
        return new ExperimentOutcome("folding", "Three BatchNorm layers, folded (third seed)", table, findings, report);
    }

    private sealed record FoldComparison(double Unfolded, double Folded, double MaxLogitDifference, double UnfoldedMs, double FoldedMs, int Rows);

    // Both models' logits for every row (timed) and their losses through the public API.
    private static FoldComparison Compare(CharacterModel unfolded, CharacterModel folded, IDataView rows)
    {
        var clock = Stopwatch.StartNew();
        var foldedLogits = folded.PredictLogits(rows);   // [N, K]
        double foldedMs = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        var unfoldedLogits = unfolded.PredictLogits(rows);
        double unfoldedMs = clock.Elapsed.TotalMilliseconds;
        double max = 0;
        for (int i = 0; i < unfoldedLogits.Length; i++) max = Math.Max(max, Math.Abs(unfoldedLogits[i] - foldedLogits[i]));
        var u = unfolded.Evaluate(rows);
        var f = folded.Evaluate(rows);
        return new FoldComparison(u.Loss, f.Loss, max, unfoldedMs, foldedMs, u.Count);
    }
}
