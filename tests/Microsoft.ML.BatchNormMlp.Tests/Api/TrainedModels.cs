using Microsoft.ML.BatchNormMlp.Tests.Featurization;

namespace Microsoft.ML.BatchNormMlp.Tests.Api;

/// <summary>
/// One small bn1 model trained once per test run through the public API on names.txt with the seeds' split, shared
/// by the API tests (training is the slow part; every test only reads the model).
/// </summary>
internal static class TrainedModels
{
    public const int Steps = 1000;

    private static readonly Lazy<Trained> Bn1 = new(() =>
    {
        var context = new BatchNormMlpContext(seed: 5);
        var names = context.Data.LoadNames(TestData.NamesPath);
        var split = context.Data.SplitNames(names);
        var featurizer = context.CharacterModels.Featurizer().Fit(split.Train);
        var train = featurizer.Transform(split.Train);
        var dev = featurizer.Transform(split.Dev);
        var model = context.CharacterModels.Trainer("bn1", steps: Steps).Fit(train, dev);
        return new Trained(names, split, featurizer, train, dev, model);
    });

    public static Trained Get() => Bn1.Value;

    public sealed record Trained(IReadOnlyList<string> Names, NameSplit Split, CharacterFeaturizerTransformer Featurizer,
        CharacterDataset Train, CharacterDataset Dev, BatchNormCharacterModel Model);
}

/// <summary>Tiny models on a handful of names, for tests that need many models or an unknown symbol (trained in milliseconds).</summary>
internal static class TinyModels
{
    public static readonly string[] Corpus = ["anna", "bob", "carla", "dave", "emma", "frank", "greta", "hanna", "ida", "jonas", "karl", "lena", "mona", "nils", "otto", "paula"];

    public static CharacterModelTrainerOptions Options(int steps = 60) => new()
    {
        Preset = "bn1", EmbeddingWidth = 4, HiddenWidths = [16], Steps = steps, BatchSize = 16, LearningRate = 0.2f,
    };

    public static (CharacterFeaturizerTransformer Featurizer, BatchNormCharacterModel Model) Train(
        string? unknownSymbol = null, CharacterModelTrainerOptions? options = null, int? seed = 3, int contextLength = 3)
    {
        var context = new BatchNormMlpContext(seed: seed);
        var featurizer = context.CharacterModels.Featurizer(contextLength, unknownSymbol: unknownSymbol).Fit(Corpus);
        var model = context.CharacterModels.Trainer(options ?? Options()).Fit(featurizer.Transform(Corpus));
        return (featurizer, model);
    }
}
