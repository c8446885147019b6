using BatchNormMlp.Samples.Experiments;
using BatchNormMlp.Samples.Reporting;

namespace BatchNormMlp.Samples.TrainerComparison;

/// <summary>The comparison's table, its findings (who wins where, by how much, at what cost) and the HTML report.</summary>
internal static class ComparisonReport
{
    public static ExperimentOutcome Build(ComparisonOptions options, IReadOnlyList<ComparisonRow> rows, IReadOnlyList<GridRow> grid, IReadOnlyList<SplitSizes> sizes)
    {
        var ordered = rows.OrderBy(r => r.Context).ThenBy(r => r.DevLogLoss).ToList();
        var table = new ReportTable("Trainer", "Context", "Setting", "Dev LogLoss", "Test LogLoss", "Dev accuracy", "Test accuracy", "Training CPU time (s)", "Parameters", "Model file (KB)")
        {
            Caption = $"names.txt, the seeds' split{(options.IsQuick ? $" (quick: first {options.TrainNames} train, {options.EvaluationNames} dev and test names)" : "")}; "
                + $"{string.Join("; ", sizes.Select(s => $"context {s.Context}: {s.TrainRows:N0} / {s.DevRows:N0} / {s.TestRows:N0} train / dev / test rows"))}; "
                + $"{options.Threads} thread(s) each; sorted by dev LogLoss per context",
        };
        table.Format("Dev LogLoss", "F4").Format("Test LogLoss", "F4").Format("Dev accuracy", "P1").Format("Test accuracy", "P1")
            .Format("Training CPU time (s)", "F1").Format("Parameters", "N0").Format("Model file (KB)", "N0");
        foreach (var r in ordered)
            table.AddRow(r.Trainer, r.Context, r.Setting, r.DevLogLoss, r.TestLogLoss, r.DevAccuracy, r.TestAccuracy, r.TrainingSeconds, r.Parameters,
                r.FileBytes is long b ? (b + 512) / 1024 : null);

        var gridTable = new ReportTable("Trainer", "Context", "Setting", "Dev LogLoss", "Training CPU time (s)", "Chosen")
        { Caption = "The tree learners' grid: every setting fitted on train and scored on dev; the lowest dev LogLoss is kept (test is not looked at)" };
        gridTable.Format("Dev LogLoss", "F4").Format("Training CPU time (s)", "F1");
        foreach (var g in grid) gridTable.AddRow(g.Trainer, g.Context, g.Setting, g.DevLogLoss, g.TrainingSeconds, g.Chosen ? "yes" : "");

        var findings = new List<string>();
        foreach (int context in options.Contexts)
        {
            var here = ordered.Where(r => r.Context == context).ToList();
            if (here.Count == 0) continue;
            var winner = here[0];
            var ours = here.Where(r => r.Trainer.StartsWith("BatchNormMlp", StringComparison.Ordinal)).MinBy(r => r.DevLogLoss);
            var builtIn = here.Where(r => r.MlNetTrainer).MinBy(r => r.DevLogLoss);
            string line = $"Context {context}: {winner.Trainer} has the lowest dev LogLoss ({winner.DevLogLoss:F4}, test {winner.TestLogLoss:F4}, {winner.TrainingSeconds:F0} s of CPU).";
            if (ours is not null && builtIn is not null)
                line += $" Best BatchNormMlp ({ours.Trainer}) against the best ML.NET trainer ({builtIn.Trainer}): dev {ours.DevLogLoss - builtIn.DevLogLoss:+0.0000;-0.0000}, "
                    + $"test {ours.TestLogLoss - builtIn.TestLogLoss:+0.0000;-0.0000}, training CPU time {ours.TrainingSeconds:F0} s against {builtIn.TrainingSeconds:F0} s.";
            findings.Add(line);
        }
        findings.Add("Every LogLoss is ML.NET's MulticlassClassification.Evaluate on the trainer's Score column (natural log, as the seeds' cross-entropy).");

        // Log scale frames the 1.9-2.6 band instead of starting at 0, where the differences vanish.
        string[] trainers = ordered.Select(r => r.Trainer).Distinct().ToArray();
        string[] categories = options.Contexts.Select(c => $"Context {c}").ToArray();
        var losses = new BarChart(categories) { Title = "Dev LogLoss by trainer", YLabel = "Dev LogLoss (nats)", LogY = true, ShowValues = true, ValueFormat = "0.000", Width = 1100, Height = 480 };
        var times = new BarChart(categories) { Title = "Training CPU time by trainer", YLabel = "CPU seconds (log scale)", LogY = true, ShowValues = true, ValueFormat = "0", Width = 1100, Height = 480 };
        foreach (string trainer in trainers)
        {
            double Value(int c, Func<ComparisonRow, double> f) => ordered.FirstOrDefault(r => r.Context == c && r.Trainer == trainer) is { } r ? f(r) : double.NaN;
            losses.Add(new BarSeries(trainer, options.Contexts.Select(c => Value(c, r => r.DevLogLoss)).ToArray()));
            times.Add(new BarSeries(trainer, options.Contexts.Select(c => Value(c, r => Math.Max(r.TrainingSeconds, 0.1))).ToArray()));
        }

        var report = new HtmlReport("BatchNormMlp against ML.NET's built-in trainers");
        report.Paragraph("Every trainer gets the same rows: names.txt split as the seeds split it (SplitLikeSeeds), featurized by FeaturizeContextWindows. "
                + "ML.NET's trainers read the context one-hot (MapKeyToVector: one indicator per position and symbol); BatchNormMlp reads the keys and learns "
                + "embeddings. The tree learners' rounds, leaves and learning rate are chosen on dev from the grid below; the count model's smoothing k too. "
                + "Test is reported, never used to choose.")
            .Code($"dotnet run -c Release --project samples/BatchNormMlp.Samples -- compare{(options.IsQuick ? " --quick" : "")}")
            .Table(table)
            .Figure(losses, "Dev LogLoss of each trainer at each context length (lower is better).")
            .Figure(times, "Training CPU time of each trainer's kept setting, one thread (log scale).")
            .Heading("Tuning on dev")
            .Table(gridTable);
        return new ExperimentOutcome("compare", "BatchNormMlp against ML.NET's built-in multiclass trainers", table, findings, report) { Extra = gridTable };
    }
}
