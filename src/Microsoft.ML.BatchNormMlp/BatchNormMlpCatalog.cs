using Microsoft.ML.BatchNormMlp;
using Microsoft.ML.BatchNormMlp.Featurization;
using Microsoft.ML.BatchNormMlp.MlNet;

namespace Microsoft.ML;

/// <summary>
/// The BatchNormMlp entry points on <see cref="MLContext"/>'s catalogs: the context-window featurizer and the
/// prefix mapping (<c>mlContext.Transforms.Text</c>), the trainer (<c>mlContext.MulticlassClassification.Trainers</c>)
/// and loading and splitting names (<c>mlContext.Data</c>). Defaults live in <see cref="CharacterModelDefaults"/>.
/// </summary>
public static class BatchNormMlpCatalog
{
    /// <summary>
    /// A featurizer that learns the vocabulary of a text column of names and turns each name of n symbols into
    /// n + 1 rows: the previous <paramref name="contextLength"/> symbols (a vector of keys, boundary-padded) and the
    /// symbol that follows (a key). Key value i + 1 is vocabulary id i.
    /// </summary>
    /// <param name="catalog">The text transforms catalog.</param>
    /// <param name="outputColumnName">The context column to write (a vector of keys).</param>
    /// <param name="inputColumnName">The text column of names to read.</param>
    /// <param name="contextLength">Previous symbols per context, 1 to <see cref="CharacterModelDefaults.MaxContextLength"/>.</param>
    /// <param name="labelColumnName">The label column to write (a key).</param>
    /// <exception cref="ArgumentException">An argument is out of range (the message names it and the range).</exception>
    public static ContextWindowEstimator FeaturizeContextWindows(this TransformsCatalog.TextTransforms catalog,
        string outputColumnName = CharacterModelDefaults.ContextColumnName, string inputColumnName = CharacterModelDefaults.NameColumnName,
        int contextLength = CharacterModelDefaults.ContextLength, string labelColumnName = CharacterModelDefaults.LabelColumnName) =>
        FeaturizeContextWindows(catalog, new ContextWindowEstimator.Options
        {
            OutputColumnName = outputColumnName, InputColumnName = inputColumnName, ContextLength = contextLength, LabelColumnName = labelColumnName,
        });

    /// <summary>The context-window featurizer with all its options (copied: later changes do not affect it).</summary>
    /// <exception cref="ArgumentException">An option is out of range (the message names the field and the range).</exception>
    public static ContextWindowEstimator FeaturizeContextWindows(this TransformsCatalog.TextTransforms catalog, ContextWindowEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new ContextWindowEstimator(options);
    }

    /// <summary>
    /// Row to row: a text column holding the start of a name ("" for the first symbol) becomes the context of the
    /// symbol that follows, with <paramref name="featurizer"/>'s vocabulary and context length, in the featurizer's
    /// context column. Put it before a trained model for a prediction engine.
    /// </summary>
    /// <param name="catalog">The text transforms catalog.</param>
    /// <param name="featurizer">The fitted featurizer the model was trained with.</param>
    /// <param name="inputColumnName">The text column of prefixes to read.</param>
    public static PrefixContextEstimator MapPrefixToContext(this TransformsCatalog.TextTransforms catalog, ContextWindowTransformer featurizer,
        string inputColumnName = CharacterModelDefaults.PrefixColumnName)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(featurizer);
        ArgumentException.ThrowIfNullOrWhiteSpace(inputColumnName);
        return new PrefixContextEstimator(new PrefixContextTransformer(featurizer.Vocabulary, featurizer.ContextLength, inputColumnName, featurizer.OutputColumnName));
    }

    /// <summary>
    /// Row to row, from a trained (or loaded) model alone: a text column of prefixes becomes the context column the
    /// model reads, with the model's vocabulary and context length.
    /// </summary>
    /// <param name="catalog">The text transforms catalog.</param>
    /// <param name="model">The trained model.</param>
    /// <param name="inputColumnName">The text column of prefixes to read.</param>
    public static PrefixContextEstimator MapPrefixToContext(this TransformsCatalog.TextTransforms catalog, BatchNormMlpTransformer model,
        string inputColumnName = CharacterModelDefaults.PrefixColumnName)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(inputColumnName);
        return new PrefixContextEstimator(new PrefixContextTransformer(model.Model.Vocabulary, model.Model.ContextLength, inputColumnName, model.FeatureColumnName));
    }

    /// <summary>
    /// The BatchNorm MLP trainer of a preset (<see cref="CharacterModelDefaults.Presets"/>), optionally with another
    /// number of steps or learning rate. It reads a context column (vector of keys) and a label column (key), or dense
    /// features (a known-size vector of Single, e.g. <c>Features</c>) and a key label, and its transformer writes
    /// <c>Score</c> and <c>PredictedLabel</c>.
    /// </summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="labelColumnName">The label column (a key of the next symbol, or of the class).</param>
    /// <param name="featureColumnName">The context column (a vector of keys), or a dense feature column (a known-size vector of Single).</param>
    /// <param name="preset">The preset to start from; <c>bn1</c> (the first seed's model and schedule) by default; for dense features also <see cref="CharacterModelDefaults.DenseInputPresets"/>.</param>
    /// <param name="steps">Optimizer steps; <see langword="null"/> for the preset's (bn1: 200,000).</param>
    /// <param name="learningRate">The initial learning rate; <see langword="null"/> for the preset's.</param>
    /// <exception cref="ArgumentException">An unknown preset or an out-of-range argument (the message names it and the range).</exception>
    public static BatchNormMlpTrainer BatchNormMlp(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = CharacterModelDefaults.LabelColumnName, string featureColumnName = CharacterModelDefaults.ContextColumnName,
        string preset = CharacterModelDefaults.Preset, int? steps = null, float? learningRate = null) =>
        BatchNormMlp(catalog, new BatchNormMlpTrainer.Options
        {
            LabelColumnName = labelColumnName, FeatureColumnName = featureColumnName, Preset = preset, Steps = steps, LearningRate = learningRate,
        });

    /// <summary>The BatchNorm MLP trainer with all its options (copied: later changes do not affect it).</summary>
    /// <exception cref="ArgumentException">An option is out of range or options contradict each other (the message names the field and the allowed values).</exception>
    public static BatchNormMlpTrainer BatchNormMlp(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, BatchNormMlpTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new BatchNormMlpTrainer(options);
    }

    /// <summary>
    /// Reads a names file (one name per line, UTF-8; names trimmed, blank lines skipped; invalid UTF-8 and control
    /// characters refused with the line) into an IDataView of one text column. Without a path, looks for
    /// <c>data/names.txt</c>, then <c>../shared/data/names.txt</c>, from the current directory.
    /// <c>mlContext.Data.LoadFromTextFile</c> of a one-column class reads the same file too.
    /// </summary>
    /// <param name="catalog">The data operations catalog.</param>
    /// <param name="path">The file, a directory holding <c>names.txt</c>, or <see langword="null"/> to search.</param>
    /// <param name="columnName">The text column to write.</param>
    /// <exception cref="FileNotFoundException">No file; the message lists every place looked at.</exception>
    /// <exception cref="InvalidDataException">Invalid UTF-8, a control character or no names; the message names the file and line.</exception>
    public static IDataView LoadNames(this DataOperationsCatalog catalog, string? path = null, string columnName = CharacterModelDefaults.NameColumnName)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrWhiteSpace(columnName);
        return NameRows.From(NameCorpus.Load(DataPaths.Resolve(DataPaths.Names, path)).Names, columnName);
    }

    /// <summary>
    /// The seeds' split: shuffles the names with Python's <c>random.seed(seed); random.shuffle(names)</c>
    /// (reproduced bit for bit) and cuts them 80/10/10, so that seed 42 gives exactly the seed notebooks' train, dev
    /// and test names of names.txt, in their order. Each part is an IDataView of the name column alone.
    /// (<c>mlContext.Data.TrainTestSplit</c> works on names too; it makes another split.)
    /// </summary>
    /// <param name="catalog">The data operations catalog.</param>
    /// <param name="names">The corpus.</param>
    /// <param name="nameColumnName">Its text column of names.</param>
    /// <param name="seed">Seed of the shuffle.</param>
    /// <param name="trainFraction">Fraction for training, in [0, 1].</param>
    /// <param name="devFraction">Fraction for dev, in [0, 1 - <paramref name="trainFraction"/>]; test gets the rest.</param>
    /// <exception cref="ArgumentException">The column is missing or not text.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A fraction is out of range.</exception>
    public static TrainDevTestData SplitLikeSeeds(this DataOperationsCatalog catalog, IDataView names, string nameColumnName = CharacterModelDefaults.NameColumnName,
        int seed = CharacterModelDefaults.SplitSeed, double trainFraction = CharacterModelDefaults.TrainFraction, double devFraction = CharacterModelDefaults.DevFraction)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(names);
        var column = TextColumns.Require(names.Schema, nameColumnName, "the names");
        var split = CorpusSplit.Create(TextColumns.ReadAll(names, column), seed, trainFraction, devFraction);
        return new TrainDevTestData(NameRows.From(split.Train, nameColumnName), NameRows.From(split.Dev, nameColumnName), NameRows.From(split.Test, nameColumnName));
    }
}
