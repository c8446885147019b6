namespace BatchNormMlp.Samples.Baselines;

/// <summary>Rows of one split: contexts [rows, context] flattened and targets [rows].</summary>
internal sealed record LabeledContexts(int[] Contexts, int[] Targets)
{
    public int Rows => Targets.Length;
}

/// <summary>What the count model scores on each split with the k chosen on dev.</summary>
internal sealed record NGramBaselineResult(
    int ContextLength,
    SmoothingChoice Smoothing,
    NGramEvaluation Train,
    NGramEvaluation Dev,
    NGramEvaluation Test,
    int DistinctPairs,
    TimeSpan FitTime);

/// <summary>
/// The count-based n-gram baseline end to end: count on train, choose k on dev, report train, dev and test.
/// </summary>
internal static class NGramBaseline
{
    public static NGramBaselineResult Run(LabeledContexts train, LabeledContexts dev, LabeledContexts test,
        int contextLength, int vocabularySize, IReadOnlyList<double>? grid = null)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        var model = NGramModel.Fit(train.Contexts, train.Targets, contextLength, vocabularySize);
        var devRows = model.Collect(dev.Contexts, dev.Targets, "dev");
        var choice = SmoothingSearch.Choose(devRows, grid);
        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(start);
        return new NGramBaselineResult(
            contextLength,
            choice,
            model.Collect(train.Contexts, train.Targets, "train").Evaluate(choice.K),
            devRows.Evaluate(choice.K),
            model.Collect(test.Contexts, test.Targets, "test").Evaluate(choice.K),
            model.DistinctPairs,
            elapsed);
    }
}
