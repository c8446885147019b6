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

    public static Candidate LightGbm(MLContext ml, TreeSetting s, int threads) => new("LightGbm (multiclass)", s.ToString(),
        (train, _) => FittedCandidate.Of(OneHot(ml).Append(ml.MulticlassClassification.Trainers.LightGbm(new LightGbmMulticlassTrainer.Options
        {
            LabelColumnName = LabelColumn, FeatureColumnName = FeatureColumn,
            NumberOfIterations = s.Iterations, NumberOfLeaves = s.Leaves, LearningRate = s.LearningRate,
            NumberOfThreads = threads, Seed = 1, Verbose = false, Silent = true,
        })).Fit(train),
        model => new ModelSize(null, SavedBytes(ml, model))));

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
