using System.Diagnostics;
using BatchNormMlp.Samples.Experiments;
using BatchNormMlp.Samples.Reporting;
using Microsoft.ML;

namespace BatchNormMlp.Samples.TrainerComparison;

/// <summary>One trainer's line of the table: dev and test from <c>MulticlassClassification.Evaluate</c>.</summary>
internal sealed record ComparisonRow(string Trainer, int Context, string Setting, double DevLogLoss, double TestLogLoss,
    double DevAccuracy, double TestAccuracy, double TrainingSeconds, long? Parameters, long? FileBytes, bool MlNetTrainer);

/// <summary>One setting a tree learner tried on dev; <see cref="Chosen"/> marks the one kept.</summary>
internal sealed record GridRow(string Trainer, int Context, string Setting, double DevLogLoss, double TrainingSeconds, bool Chosen);

/// <summary>Rows (contexts) of each split at one context length: one row per symbol of a name plus its end.</summary>
internal sealed record SplitSizes(int Context, long TrainRows, long DevRows, long TestRows, int Classes);

internal sealed record ComparisonResult(IReadOnlyList<ComparisonRow> Rows, IReadOnlyList<GridRow> Grid, IReadOnlyList<SplitSizes> Sizes, ExperimentOutcome Outcome);

/// <summary>
/// BatchNormMlp against ML.NET's built-in multiclass trainers on the same rows, through the public API only: names
/// loaded and split as the seeds did, featurized at each context length by <c>FeaturizeContextWindows</c>, every
/// trainer fitted on the training rows and scored by <c>MulticlassClassification.Evaluate</c> on dev and test.
/// Settings are chosen on dev; test is only reported.
/// </summary>
internal static class ComparisonSample
{
    public static ComparisonResult Run(ComparisonOptions options, Action<string>? log = null)
    {
        log ??= _ => { };
        var ml = new MLContext(seed: 1);
        var split = ml.Data.SplitLikeSeeds(ml.Data.LoadNames(options.DataPath));
        IDataView Take(IDataView names, int? count) => count is int n ? ml.Data.TakeRows(names, n) : names;
        var trainNames = Take(split.TrainSet, options.TrainNames);
        var devNames = Take(split.DevSet, options.EvaluationNames);
        var testNames = Take(split.TestSet, options.EvaluationNames);

        var rows = new List<ComparisonRow>();
        var grid = new List<GridRow>();
        var sizes = new List<SplitSizes>();
        var results = options.ResultsPath is string path ? ComparisonResults.Open(path, options.Refit) : ComparisonResults.None;
        foreach (int context in options.Contexts)
        {
            var featurizer = ml.Transforms.Text.FeaturizeContextWindows(contextLength: context).Fit(trainNames);
            int classes = featurizer.Vocabulary.Count;
            // Featurized once and cached: every trainer reads the same rows, and featurizing is not in its time.
            var train = ml.Data.Cache(featurizer.Transform(trainNames));
            var dev = ml.Data.Cache(featurizer.Transform(devNames));
            var test = ml.Data.Cache(featurizer.Transform(testNames));
            sizes.Add(new SplitSizes(context, KeyColumns.Count(train), KeyColumns.Count(dev), KeyColumns.Count(test), classes));
            log($"context {context}: {sizes[^1].TrainRows} train, {sizes[^1].DevRows} dev, {sizes[^1].TestRows} test rows, {classes} classes");

            var single = new List<(Candidate Candidate, bool MlNet)> { (CountNGramCandidate.Create(ml, context, classes), false) };
            single.AddRange(ComparedPresets.For(context).Select(p => (BatchNormMlpCandidate.Create(ml, p, options.MlpSteps, options.Threads), false)));
            single.Add((BuiltInTrainers.SdcaMaximumEntropy(ml, context, classes, options.Threads, options.LinearIterations), true));
            single.Add((BuiltInTrainers.LbfgsMaximumEntropy(ml, context, classes, options.Threads, options.LinearIterations), true));
            bool Skipped(Candidate c) => options.Skip.Any(t => c.Trainer.Contains(t, StringComparison.OrdinalIgnoreCase));
            foreach (var (candidate, mlNet) in options.TreesOnly ? [] : single.Where(c => !Skipped(c.Candidate)))
                rows.Add(FitOrReuse(ml, candidate, train, dev, test, sizes[^1], mlNet, results, log));

            var tuned = new (string Trainer, IEnumerable<Candidate> Settings)[]
            {
                ("LightGbm", options.LightGbmGrid.Select(s => BuiltInTrainers.LightGbm(ml, s, options.Threads))),
                ("FastTree", options.FastTreeGrid.Select(s => BuiltInTrainers.OneVersusAllFastTree(ml, s, options.Threads))),
            };
            foreach (var (_, settings) in tuned)
            {
                // Every setting is scored on dev and test as it is fitted (so that the results file holds whole rows);
                // only dev chooses.
                var tried = settings.Where(c => !Skipped(c)).Select(candidate => FitOrReuse(ml, candidate, train, dev, test, sizes[^1], mlNet: true, results, log)).ToList();
                if (tried.Count == 0) continue;
                var best = tried.MinBy(t => t.DevLogLoss)!;
                foreach (var t in tried) grid.Add(new GridRow(t.Trainer, context, t.Setting, t.DevLogLoss, t.TrainingSeconds, ReferenceEquals(t, best)));
                rows.Add(best with { Setting = $"{best.Setting} (best of {tried.Count} on dev)" });
            }
        }
        return new ComparisonResult(rows, grid, sizes, ComparisonReport.Build(options, rows, grid, sizes));
    }

    /// <summary>The candidate's row from the results file when an earlier run finished it, else fitted, scored and recorded.</summary>
    private static ComparisonRow FitOrReuse(MLContext ml, Candidate candidate, IDataView train, IDataView dev, IDataView test, SplitSizes sizes, bool mlNet,
        ComparisonResults results, Action<string> log)
    {
        string key = ComparisonResults.Key(candidate.Trainer, candidate.Setting, sizes);
        if (results.TryGet(key, candidate.Trainer, out var kept))
        {
            log($"  {candidate.Trainer} ({candidate.Setting}) at context {sizes.Context}: from the results file (dev LogLoss {kept.DevLogLoss:F4})");
            return kept;
        }
        var (fitted, seconds) = Fit(candidate, train, dev, log, sizes.Context);
        var row = Report(ml, candidate, fitted, fitted.Chosen ?? candidate.Setting, sizes.Context, seconds, dev, test, mlNet);
        log($"  dev LogLoss {row.DevLogLoss:F4}");
        results.Add(key, row);
        return row;
    }

    private static (FittedCandidate Fitted, double Seconds) Fit(Candidate candidate, IDataView train, IDataView dev, Action<string> log, int context)
    {
        log($"  fitting {candidate.Trainer} ({candidate.Setting}) at context {context}");
        // CPU time of the process, not wall time: every trainer runs on one thread, so on a loaded shared machine
        // CPU seconds are what the fit costs and wall seconds mostly measure the neighbours.
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var fitted = candidate.Fit(train, dev);
        clock.Stop();
        process.Refresh();
        double seconds = (process.TotalProcessorTime - cpu).TotalSeconds;
        log($"  fitted in {seconds:F1} s of CPU ({clock.Elapsed.TotalSeconds:F1} s wall)");
        return (fitted, seconds);
    }

    private static ComparisonRow Report(MLContext ml, Candidate candidate, FittedCandidate fitted, string setting, int context, double seconds,
        IDataView dev, IDataView test, bool mlNet)
    {
        var d = Evaluate(ml, fitted.Score(dev));
        var t = Evaluate(ml, fitted.Score(test));
        var size = fitted.Size();
        return new ComparisonRow(candidate.Trainer, context, setting, d.LogLoss, t.LogLoss, d.MicroAccuracy, t.MicroAccuracy, seconds, size.Parameters, size.FileBytes, mlNet);
    }

    private static Microsoft.ML.Data.MulticlassClassificationMetrics Evaluate(MLContext ml, IDataView scored) =>
        ml.MulticlassClassification.Evaluate(scored, labelColumnName: "Label", scoreColumnName: "Score", predictedLabelColumnName: "PredictedLabel");
}
