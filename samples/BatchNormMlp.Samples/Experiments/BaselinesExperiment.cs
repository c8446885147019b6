using BatchNormMlp.Samples.Baselines;
using BatchNormMlp.Samples.Reporting;

namespace BatchNormMlp.Samples.Experiments;

/// <summary>Sizes of the baseline comparison: contexts swept, SGD steps per model, and the deep residual model's shape.</summary>
internal sealed record BaselinesOptions(int Steps = 20_000, IReadOnlyList<int>? Contexts = null, int HiddenWidth = 200, int ResidualLayers = 4,
    string? DataPath = null, string? BaseDirectory = null, int Threads = 1)
{
    public const int FullSteps = 200_000;

    public IReadOnlyList<int> ContextLengths => Contexts ?? [3, 5, 8];
}

/// <summary>One row of the comparison table.</summary>
internal sealed record BaselineRow(string Model, int Context, double DevCrossEntropy, double? TestCrossEntropy, double? DevAccuracy, long? Parameters, double? TrainingSeconds, bool External);

/// <summary>
/// What a user would pick instead, on the seeds' split (0.8 / 0.1 / 0.1 of names.txt) at several context
/// lengths: a count n-gram with add-k smoothing (k chosen on dev), softmax regression (no hidden layer), the MLP
/// without and with BatchNorm, and a deep residual BatchNorm MLP; plus the issue's external scikit-learn figures.
/// </summary>
internal static class BaselinesExperiment
{
    /// <summary>Figures measured outside the project with scikit-learn on the same kind of split, quoted from issue 7.</summary>
    public static IReadOnlyList<BaselineRow> ExternalRows { get; } =
    [
        new("Gradient-boosted trees (scikit-learn HistGradientBoosting, 100 rounds; external)", 3, 2.06, null, null, null, null, true),
        new("Gradient-boosted trees (scikit-learn HistGradientBoosting, 100 rounds; external)", 8, 1.957, 1.953, null, null, null, true),
        new("Multinomial logistic regression (scikit-learn; external)", 3, 2.28, null, null, null, null, true),
        new("Multinomial logistic regression (scikit-learn; external)", 8, 2.19, null, null, null, null, true),
    ];

    /// <summary>The short name a chart's legend shows for a row.</summary>
    private static string ShortName(BaselineRow row) => row.Model switch
    {
        var m when m.StartsWith("Count", StringComparison.Ordinal) => "Count n-gram",
        var m when m.StartsWith("Softmax", StringComparison.Ordinal) => "Softmax regression",
        var m when m.StartsWith("Deep residual", StringComparison.Ordinal) => "Deep residual MLP",
        var m when m.StartsWith("MLP", StringComparison.Ordinal) => m.Contains("no BatchNorm", StringComparison.Ordinal) ? "MLP, no BatchNorm" : "MLP, BatchNorm",
        var m when m.StartsWith("Gradient-boosted", StringComparison.Ordinal) => "Boosted trees (external)",
        _ => row.Model,
    };

    public static ExperimentOutcome Run(BaselinesOptions options)
    {
        var rows = new List<BaselineRow>();
        var curves = new List<TrainedRun>();
        foreach (int context in options.ContextLengths)
        {
            var data = NamesSplit.Load(context, options.DataPath, options.BaseDirectory);
            var ngram = NGramBaseline.Run(data.AsLabeled(data.Train), data.AsLabeled(data.Dev), data.AsLabeled(data.Test), context, data.VocabularySize);
            rows.Add(new BaselineRow($"Count n-gram, add-k (k = {ngram.Smoothing.K:G3} chosen on dev; parameters = distinct counts)", context,
                ngram.Dev.CrossEntropy, ngram.Test.CrossEntropy, ngram.Dev.Accuracy, ngram.DistinctPairs, ngram.FitTime.TotalSeconds, false));

            // plain1 and bn1 share their schedule (SGD lr 0.1, a tenth after half the steps, batch 32); the context length comes from the rows.
            var models = new (string Label, BatchNormMlpTrainer.Options Options)[]
            {
                // An embedding as wide as the vocabulary makes embedding·output a full-rank linear map of the one-hot context: softmax regression.
                ("Softmax regression (no hidden layer)", new() { Preset = "plain1", EmbeddingWidth = data.VocabularySize, HiddenWidths = [] }),
                ($"MLP, {options.HiddenWidth} tanh, no BatchNorm", new() { Preset = "plain1", HiddenWidths = [options.HiddenWidth] }),
                ($"MLP, {options.HiddenWidth} tanh, BatchNorm", new() { Preset = "bn1", HiddenWidths = [options.HiddenWidth] }),
                ($"Deep residual MLP, {options.ResidualLayers} x {options.HiddenWidth}, BatchNorm",
                    new() { Preset = "bn1", HiddenWidths = Enumerable.Repeat(options.HiddenWidth, options.ResidualLayers).ToArray(), Residual = true }),
            };
            foreach (var (label, model) in models)
            {
                model.Steps = options.Steps;
                var run = TrainedRun.Train(data.Ml, $"{label}, context {context}", model, data.Train, data.Dev,
                    new TrainingDiagnosticsOptions { Interval = Math.Max(1, options.Steps / 10), Histograms = false }, validationEvery: Math.Max(1, options.Steps / 10), threads: options.Threads);
                var dev = Evaluation.Of(run.Character, data.Dev);
                var test = Evaluation.Of(run.Character, data.Test);
                rows.Add(new BaselineRow(label, context, dev.CrossEntropy, test.CrossEntropy, dev.Accuracy, run.ParameterCount, run.TrainingTime.TotalSeconds, false));
                if (label.StartsWith("MLP", StringComparison.Ordinal) && !label.Contains("no BatchNorm", StringComparison.Ordinal))
                    curves.Add(run with { Label = $"Context {context}" });   // one model, one curve per context
            }
        }
        rows.AddRange(ExternalRows.Where(r => options.ContextLengths.Contains(r.Context)));
        var ordered = rows.OrderBy(r => r.Context).ThenBy(r => r.External).ThenBy(r => r.DevCrossEntropy).ToList();

        var table = new ReportTable("Model", "Context", "Dev CE", "Test CE", "Dev accuracy", "Parameters", "Training time (s)")
        { Caption = $"names.txt, the seeds' split (0.8 / 0.1 / 0.1, seed 42); MLPs: {options.Steps} SGD steps, batch 32, lr 0.1 then 0.01; sorted by dev cross-entropy per context" };
        table.Format("Dev CE", "F3").Format("Test CE", "F3").Format("Dev accuracy", "P1").Format("Training time (s)", "F2");
        foreach (var r in ordered) table.AddRow(r.Model, r.Context, r.DevCrossEntropy, r.TestCrossEntropy, r.DevAccuracy, r.Parameters, r.TrainingSeconds);

        var findings = new List<string>();
        foreach (int context in options.ContextLengths)
        {
            var best = ordered.Where(r => r.Context == context && !r.External).MinBy(r => r.DevCrossEntropy)!;
            var ngram = ordered.First(r => r.Context == context && r.Model.StartsWith("Count", StringComparison.Ordinal));
            string external = ExternalRows.Where(r => r.Context == context && r.Model.StartsWith("Gradient", StringComparison.Ordinal)).Select(r => $"; boosted trees (external) {r.DevCrossEntropy:F3}").FirstOrDefault() ?? "";
            findings.Add($"Context {context}: best here {best.Model} at dev {best.DevCrossEntropy:F3}; count n-gram {ngram.DevCrossEntropy:F3}{external}.");
        }
        findings.Add("External rows were measured outside this project with scikit-learn on the same kind of split (issue 7); they are quoted, not rerun.");

        // Log scale: the axis then frames the 1.9-2.6 band tightly instead of starting at 0, where the differences vanish.
        var byContext = new BarChart(options.ContextLengths.Select(c => $"Context {c}").ToArray())
        { Title = "Dev cross-entropy by context length", YLabel = "Dev cross-entropy (nats)", LogY = true, ShowValues = true, ValueFormat = "0.00", Width = 1000, Height = 460 };
        string[] kinds = ["Count n-gram", "Softmax regression", "MLP, no BatchNorm", "MLP, BatchNorm", "Deep residual MLP", "Boosted trees (external)"];
        foreach (string kind in kinds)
        {
            var values = options.ContextLengths.Select(c => ordered.FirstOrDefault(r => r.Context == c && ShortName(r) == kind)?.DevCrossEntropy ?? double.NaN).ToArray();
            if (values.Any(double.IsFinite)) byContext.Add(new BarSeries(kind, values));
        }

        var report = new HtmlReport("Baselines: what a user would pick instead");
        report.Paragraph("Each model is trained on the same split and scored on the same dev and test rows. Softmax regression is the trainer with no hidden "
                + "layer (embedding as wide as the vocabulary, so it is a full multinomial logistic regression on the one-hot context): the analog of ML.NET's "
                + "maximum-entropy trainers. The gradient-boosted trees stand for FastTree/LightGBM; they cannot be restored here and were measured outside the project.")
            .Code($"dotnet run -c Release --project samples/BatchNormMlp.Samples -- baselines{(options.Steps == BaselinesOptions.FullSteps ? " --full" : "")}")
            .Table(table)
            .Figure(byContext, "Dev cross-entropy of each model at each context length (lower is better).")
            .Figure(ExperimentCharts.Losses("BatchNorm MLP loss by context", curves), "Minibatch loss (window means, solid) and dev loss (dashed).");
        return new ExperimentOutcome("baselines", "Baselines on the seeds' split at context 3, 5 and 8", table, findings, report);
    }
}
