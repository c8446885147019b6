using BatchNormMlp.Samples.Baselines;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace BatchNormMlp.Samples.TrainerComparison;

/// <summary>
/// The count n-gram with add-k smoothing, k chosen on dev: P(y | context) = (count(context, y) + k) /
/// (count(context) + 27k). Its probabilities go into an IDataView of Label, Score and PredictedLabel so that ML.NET's
/// <c>MulticlassClassification.Evaluate</c> scores it like every other row.
/// </summary>
internal static class CountNGramCandidate
{
    public static Candidate Create(MLContext ml, int context, int classes) => new("Count n-gram, add-k", "k chosen on dev", (train, dev) =>
    {
        var (trainContexts, trainLabels) = KeyColumns.Read(train, context);
        var model = NGramModel.Fit(trainContexts, trainLabels, context, classes);
        var (devContexts, devLabels) = KeyColumns.Read(dev, context);
        var choice = SmoothingSearch.Choose(model.Collect(devContexts, devLabels, "dev"));
        var k = choice.K;
        return new FittedCandidate(rows => Score(ml, model, k, rows, context, classes), () => new ModelSize(model.DistinctPairs, null), $"k = {k:G3} chosen on dev");
    });

    private static IDataView Score(MLContext ml, NGramModel model, double k, IDataView rows, int context, int classes)
    {
        var (contexts, labels) = KeyColumns.Read(rows, context);
        var scored = new ScoredRow[labels.Length];
        var p = new double[classes];
        for (int r = 0; r < labels.Length; r++)
        {
            model.Probabilities(contexts.AsSpan(r * context, context), k, p);
            int best = 0;
            for (int j = 1; j < classes; j++) if (p[j] > p[best]) best = j;
            scored[r] = new ScoredRow { Label = (uint)labels[r], Score = p.Select(v => (float)v).ToArray(), PredictedLabel = (uint)best };
        }
        // Keys of the vocabulary's size, as the featurizer's Label: Evaluate needs the label's class count.
        var schema = SchemaDefinition.Create(typeof(ScoredRow));
        var key = new KeyDataViewType(typeof(uint), classes);
        schema[nameof(ScoredRow.Label)].ColumnType = key;
        schema[nameof(ScoredRow.PredictedLabel)].ColumnType = key;
        schema[nameof(ScoredRow.Score)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, classes);
        return ml.Data.LoadFromEnumerable(scored, schema);
    }

    // A uint property declared a key column holds the zero-based index: LoadFromEnumerable stores index + 1
    // (checked: passing key values instead shifted every label by one and Evaluate reported 4.1 nats for 2.5).
    private sealed class ScoredRow
    {
        public uint Label { get; set; }
        public float[] Score { get; set; } = [];
        public uint PredictedLabel { get; set; }
    }
}
