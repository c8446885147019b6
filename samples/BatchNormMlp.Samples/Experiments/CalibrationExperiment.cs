using BatchNormMlp.Samples.Reporting;

namespace BatchNormMlp.Samples.Experiments;

/// <summary>Sizes of the calibration experiment; the seed trains 200k steps (<see cref="FullSteps"/>).</summary>
internal sealed record CalibrationOptions(int Steps = 20_000, IReadOnlyList<int>? HiddenWidths = null, string? DataPath = null, string? BaseDirectory = null, int Threads = 1)
{
    public const int FullSteps = 200_000;
}

/// <summary>
/// Second seed: the bn1 model evaluated with the running statistics kept during training, then with statistics
/// calibrated over the whole training set after training (the seed: train 2.07 / dev 2.11 after 200k steps).
/// </summary>
internal static class CalibrationExperiment
{
    public static ExperimentOutcome Run(CalibrationOptions options)
    {
        var data = NamesSplit.Load(3, options.DataPath, options.BaseDirectory);
        var preset = new BatchNormMlpTrainer.Options { Preset = "bn1", Steps = options.Steps, HiddenWidths = options.HiddenWidths };
        var run = TrainedRun.Train(data.Ml, "bn1", preset, data.Train, data.Dev,
            new TrainingDiagnosticsOptions { Interval = Math.Max(1, options.Steps / 100), Histograms = false }, validationEvery: Math.Max(1, options.Steps / 20), threads: options.Threads);
        var trained = (BatchNormCharacterModel)run.Character;
        Score rTrain = Evaluation.Of(trained, data.Train), rDev = Evaluation.Of(trained, data.Dev), rTest = Evaluation.Of(trained, data.Test);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var calibrated = trained.Calibrate(data.Train);   // a new model: the trained one keeps its running statistics
        clock.Stop();
        Score cTrain = Evaluation.Of(calibrated, data.Train), cDev = Evaluation.Of(calibrated, data.Dev), cTest = Evaluation.Of(calibrated, data.Test);
        var running = trained.BatchNormStatistics[0];
        var full = calibrated.BatchNormStatistics[0];
        double meanShift = 0, varRatio = 0;
        for (int j = 0; j < running.RunningMean.Count; j++)
        {
            meanShift = Math.Max(meanShift, Math.Abs(full.RunningMean[j] - running.RunningMean[j]) / Math.Sqrt(full.RunningVariance[j]));
            varRatio = Math.Max(varRatio, Math.Abs(Math.Log(full.RunningVariance[j] / running.RunningVariance[j])));
        }

        bool seedLength = options.Steps == CalibrationOptions.FullSteps && options.HiddenWidths is null;
        var table = new ReportTable("BatchNorm statistics", "Train CE", "Dev CE", "Test CE", "Dev accuracy", "Seed train", "Seed dev")
        { Caption = $"bn1 after {options.Steps} steps; the seed's figures are after 200000 steps, calibrated" };
        table.Format("Train CE", "F4").Format("Dev CE", "F4").Format("Test CE", "F4").Format("Dev accuracy", "P1").Format("Seed train", "F4").Format("Seed dev", "F4");
        table.AddRow("Running (momentum 0.1, kept during training)", rTrain.CrossEntropy, rDev.CrossEntropy, rTest.CrossEntropy, rDev.Accuracy, null, null);
        table.AddRow("Calibrated over the training set", cTrain.CrossEntropy, cDev.CrossEntropy, cTest.CrossEntropy, cDev.Accuracy,
            ReferenceFigures.SeedCalibratedTrain, ReferenceFigures.SeedCalibratedDev);
        var findings = new List<string>
        {
            $"Calibrated: train {Comparison.Against(cTrain.CrossEntropy, ReferenceFigures.SeedCalibratedTrain, 4)}, dev {Comparison.Against(cDev.CrossEntropy, ReferenceFigures.SeedCalibratedDev, 4)} against the seed"
                + (seedLength ? " (same length)." : $" (the seed trained 200000 steps, this run {options.Steps}: run with --full to compare like with like)."),
            $"Calibration changes dev by {cDev.CrossEntropy - rDev.CrossEntropy:+0.0000;-0.0000} nats (running -> calibrated); the largest mean shift is {meanShift:F3} standard deviations and the largest variance ratio e^{varRatio:F3}. "
                + $"Calibrating took {clock.Elapsed.TotalSeconds:F2} s over {NamesSplit.Count(data.Train)} rows.",
        };

        var report = new HtmlReport("Running statistics against calibrated statistics");
        report.Paragraph("The second seed (makemore part 3): after training, pass the whole training set through the network and use its mean and variance in every "
                + "BatchNorm instead of the running estimates kept during training. With PyTorch's momentum of 0.1 the running estimates follow the last few dozen "
                + "minibatches; the seed used 0.001 and calibrated anyway.")
            .Code($"dotnet run -c Release --project samples/BatchNormMlp.Samples -- calibration{(seedLength ? " --full" : "")}")
            .Table(table)
            .Figure(ExperimentCharts.Losses("Loss", [run]), "Minibatch loss (window means) and dev loss with running statistics, log scale.")
            .Figure(RunningVersusCalibrated(running.RunningMean, full.RunningMean), "Each hidden unit's BatchNorm mean: running estimate against the full-training-set mean.");
        return new ExperimentOutcome("calibration", "Running statistics against calibrated statistics (second seed)", table, findings, report);
    }

    private static LineChart RunningVersusCalibrated(IReadOnlyList<float> running, IReadOnlyList<float> calibrated)
    {
        var order = Enumerable.Range(0, calibrated.Count).OrderBy(j => calibrated[j]).ToArray();
        var x = order.Select((_, i) => (double)i).ToArray();
        // A short title: a long one is clipped at the chart's edges.
        return new LineChart { Title = "BatchNorm mean per hidden unit", XLabel = "Hidden unit, sorted by its calibrated mean", YLabel = "Mean of the pre-activation", Markers = true, Width = 1000, Height = 420 }
            .Add(new LineSeries("Running (training)", x, order.Select(j => (double)running[j]).ToArray()))
            .Add(new LineSeries("Calibrated (training set)", x, order.Select(j => (double)calibrated[j]).ToArray()));
    }
}
