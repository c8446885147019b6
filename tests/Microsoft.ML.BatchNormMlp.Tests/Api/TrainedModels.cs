using Microsoft.ML.BatchNormMlp.Featurization;
using Microsoft.ML.BatchNormMlp.MlNet;
using Microsoft.ML.BatchNormMlp.Tests.Featurization;

namespace Microsoft.ML.BatchNormMlp.Tests.Api;

/// <summary>
/// One small bn1 model trained once per test run through the public ML.NET API on names.txt with the seeds' split,
/// shared by the API tests (training is the slow part; every test only reads the model).
/// </summary>
internal static class TrainedModels
{
    public const int Steps = 1000;

    private static readonly Lazy<Trained> Bn1 = new(() =>
    {
        var ml = new MLContext(seed: 5);
        var names = ml.Data.LoadNames(TestData.NamesPath);
        var split = ml.Data.SplitLikeSeeds(names);
        var featurizer = ml.Transforms.Text.FeaturizeContextWindows().Fit(split.TrainSet);
        var trainView = featurizer.Transform(split.TrainSet);
        var devView = featurizer.Transform(split.DevSet);
        var transformer = ml.MulticlassClassification.Trainers.BatchNormMlp(new BatchNormMlpTrainer.Options { Preset = "bn1", Steps = Steps, Seed = 5 })
            .Fit(trainView, devView);
        var list = NameCorpus.Load(TestData.NamesPath).Names;
        var corpusSplit = CorpusSplit.Create(list);
        return new Trained(list, corpusSplit, featurizer, featurizer.Transform(corpusSplit.Train), featurizer.Transform(corpusSplit.Dev),
            (BatchNormCharacterModel)transformer.Model, transformer, ml, split, trainView, devView);
    });

    public static Trained Get() => Bn1.Value;

    public sealed record Trained(IReadOnlyList<string> Names, CorpusSplit Split, ContextWindowTransformer Featurizer,
        CharacterDataset Train, CharacterDataset Dev, BatchNormCharacterModel Model,
        BatchNormMlpTransformer Transformer, MLContext Ml, TrainDevTestData Views, IDataView TrainView, IDataView DevView);
}

/// <summary>Tiny models on a handful of names, for tests that need many models or an unknown symbol (trained in milliseconds).</summary>
internal static class TinyModels
{
    public static readonly string[] Corpus = ["anna", "bob", "carla", "dave", "emma", "frank", "greta", "hanna", "ida", "jonas", "karl", "lena", "mona", "nils", "otto", "paula"];

    public static BatchNormMlpTrainer.Options Options(int steps = 60) => new()
    {
        Preset = "bn1", EmbeddingWidth = 4, HiddenWidths = [16], Steps = steps, BatchSize = 16, LearningRate = 0.2f,
    };

    public static (ContextWindowTransformer Featurizer, BatchNormCharacterModel Model) Train(
        string? unknownSymbol = null, BatchNormMlpTrainer.Options? options = null, int? seed = 3, int contextLength = 3)
    {
        var featurizer = Featurizers.Fit(Corpus, contextLength, unknownSymbol);
        options = (options ?? Options()).Clone();
        options.Seed ??= seed;
        var model = new BatchNormMlpTrainer(options).Fit(featurizer.Transform(Corpus));
        return (featurizer, model);
    }
}

/// <summary>The public featurizer fitted on lists of names, and the engine's rows of a list, for tests.</summary>
internal static class Featurizers
{
    public static ContextWindowTransformer Fit(IReadOnlyList<string> names, int contextLength = CharacterModelDefaults.ContextLength, string? unknownSymbol = null) =>
        new MLContext(seed: 1).Transforms.Text.FeaturizeContextWindows(new ContextWindowEstimator.Options { ContextLength = contextLength, UnknownSymbol = unknownSymbol })
            .Fit(View(names));

    /// <summary>A one-column IDataView of names.</summary>
    public static IDataView View(IReadOnlyList<string> names, string column = CharacterModelDefaults.NameColumnName) => NameRows.From(names, column);

    /// <summary>The context rows of <paramref name="names"/> as the trainer reads them.</summary>
    public static CharacterDataset Transform(this ContextWindowTransformer featurizer, IEnumerable<string> names) =>
        CharacterDataset.Featurize(names as IReadOnlyList<string> ?? [.. names], featurizer.Vocabulary, featurizer.ContextLength);

    /// <summary>The engine's training run on rows already read (what <see cref="BatchNormMlpTrainer.Fit(IDataView, IDataView?)"/> does after reading them).</summary>
    public static BatchNormCharacterModel Fit(this BatchNormMlpTrainer trainer, CharacterDataset train, CharacterDataset? validation = null) =>
        trainer.Train(train, validation);
}
