using System.Text.RegularExpressions;
using Microsoft.ML;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;

namespace BatchNormMlp.Samples.TrainerComparison;

/// <summary>
/// ML.NET's own multiclass trainers on the featurizer's rows. They read a float vector, so the context (a vector
/// of keys) becomes one-hot with ML.NET's <c>MapKeyToVector</c>: one indicator per position and symbol
/// (context x 27 features), which is what a user would hand them. No normalization: the indicators are already 0/1.
/// </summary>
internal static class BuiltInTrainers
{
    public const string FeatureColumn = "Features";

    private static IEstimator<ITransformer> OneHot(MLContext ml) =>
        ml.Transforms.Conversion.MapKeyToVector(FeatureColumn, ContextColumn);

    private const string ContextColumn = "Context", LabelColumn = "Label";

    /// <summary>
    /// LightGbm's multiclass trainer (softmax over one tree per class and round). With an early stop, dev is its
    /// validation set, the metric is multiclass LogLoss, and the round LightGbm stopped at is read from ML.NET's log
    /// and shown in the row's setting.
    /// </summary>
    public static Candidate LightGbm(MLContext ml, TreeSetting s, int threads) => new("LightGbm (multiclass)", s.ToString(), (train, dev) =>
    {
        var oneHot = OneHot(ml).Fit(train);
        var trainer = ml.MulticlassClassification.Trainers.LightGbm(new LightGbmMulticlassTrainer.Options
        {
            LabelColumnName = LabelColumn, FeatureColumnName = FeatureColumn,
            NumberOfIterations = s.Iterations, NumberOfLeaves = s.Leaves, LearningRate = s.LearningRate,
            MinimumExampleCountPerLeaf = s.MinimumExampleCountPerLeaf,
            EarlyStoppingRound = s.EarlyStoppingRounds ?? 0, EvaluationMetric = LightGbmMulticlassTrainer.Options.EvaluateMetricType.LogLoss,
            NumberOfThreads = threads, Seed = 1, Verbose = false, Silent = true,
        });
        int? stoppedAt = null;
        void Listen(object? sender, LoggingEventArgs e)
        {
            if (EarlyStop.Match(e.Message) is { Success: true } m) stoppedAt = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        }
        ml.Log += Listen;
        ITransformer model;
        try { model = s.EarlyStoppingRounds is null ? trainer.Fit(oneHot.Transform(train)) : trainer.Fit(oneHot.Transform(train), oneHot.Transform(dev)); }
        finally { ml.Log -= Listen; }
        var chain = oneHot.Append(model);
        string? chosen = s.EarlyStoppingRounds is null ? null
            : stoppedAt is int round ? $"{s}; stopped at round {round}" : $"{s}; no early stop (ran all {s.Iterations} rounds)";
        return new FittedCandidate(chain.Transform, () => new ModelSize(null, SavedBytes(ml, chain)), chosen);
    });

    private static readonly Regex EarlyStop = new(@"Met early stopping, best iteration: (\d+)", RegexOptions.CultureInvariant);

    public static Candidate OneVersusAllFastTree(MLContext ml, TreeSetting s, int threads) => new("OneVersusAll(FastTree)", s.ToString(),
        (train, _) => FittedCandidate.Of(OneHot(ml).Append(ml.MulticlassClassification.Trainers.OneVersusAll(
            ml.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
            {
                FeatureColumnName = FeatureColumn,
                NumberOfTrees = s.Iterations, NumberOfLeaves = s.Leaves, LearningRate = s.LearningRate,
                NumberOfThreads = threads,
            }), labelColumnName: LabelColumn)).Fit(train),
        model => new ModelSize(null, SavedBytes(ml, model))));

    /// <summary>The trainer's defaults (L2 chosen by the trainer, iterations until convergence): what a user starts with.</summary>
    public static Candidate SdcaMaximumEntropy(MLContext ml, int context, int classes, int threads, int? iterations = null) => new("SdcaMaximumEntropy", iterations is int i ? $"defaults, {i} passes" : "defaults",
        (train, _) => FittedCandidate.Of(OneHot(ml).Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(new SdcaMaximumEntropyMulticlassTrainer.Options
        {
            LabelColumnName = LabelColumn, FeatureColumnName = FeatureColumn, NumberOfThreads = threads, MaximumNumberOfIterations = iterations,
        })).Fit(train),
        model => new ModelSize(LinearParameters(context, classes), SavedBytes(ml, model))));

    /// <summary>The trainer's defaults (L1 = L2 = 1, a small penalty against 182k rows).</summary>
    public static Candidate LbfgsMaximumEntropy(MLContext ml, int context, int classes, int threads, int? iterations = null) => new("LbfgsMaximumEntropy", iterations is int i ? $"defaults, {i} iterations" : "defaults",
        (train, _) =>
        {
            var options = new LbfgsMaximumEntropyMulticlassTrainer.Options { LabelColumnName = LabelColumn, FeatureColumnName = FeatureColumn, NumberOfThreads = threads };
            if (iterations is int n) options.MaximumNumberOfIterations = n;
            return FittedCandidate.Of(OneHot(ml).Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(options)).Fit(train),
                model => new ModelSize(LinearParameters(context, classes), SavedBytes(ml, model)));
        });

    // A weight per class and one-hot feature, plus a bias per class.
    private static long LinearParameters(int context, int classes) => (long)classes * (context * classes + 1);

    /// <summary>The size of ML.NET's model zip of the fitted pipeline.</summary>
    private static long SavedBytes(MLContext ml, ITransformer model)
    {
        using var stream = new MemoryStream();
        ml.Model.Save(model, null, stream);
        return stream.Length;
    }
}
