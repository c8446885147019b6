namespace Microsoft.ML.BatchNormMlp.Tests.Api;

/// <summary>
/// The README's library example, verbatim between the region markers (<see cref="ReadmeTests"/> checks that the
/// README's code block is exactly this region, so the two cannot drift apart, and runs it).
/// </summary>
internal static class ReadmeExample
{
    public static (BatchNormCharacterModel Model, FoldedCharacterModel Folded, CharacterModel Loaded, CharacterModelMetrics Metrics, string Path) Run()
    {
        #region readme
        var context = new BatchNormMlpContext(seed: 1);

        // names.txt from data/ or ../shared/data/, split as the seeds do (Python's shuffle with seed 42, 80/10/10).
        NameSplit split = context.Data.SplitNames(context.Data.LoadNames());

        // The featurizer learns the vocabulary; the trainer starts from the bn1 preset (a short run here).
        var featurizer = context.CharacterModels.Featurizer(contextLength: 3).Fit(split.Train);
        CharacterDataset train = featurizer.Transform(split.Train), dev = featurizer.Transform(split.Dev);
        var trainer = context.CharacterModels.Trainer(new CharacterModelTrainerOptions { Preset = "bn1", Steps = 2000 });
        BatchNormCharacterModel model = trainer.Fit(train, dev);

        CharacterModelMetrics metrics = model.Evaluate(dev);
        Console.WriteLine($"dev loss {metrics.Loss:F4}, perplexity {metrics.Perplexity:F2}, top-1 {metrics.Top1Accuracy:P1}");
        foreach (string name in model.Sample(count: 5, seed: 7, temperature: 0.8f))
            Console.WriteLine(name);
        Console.WriteLine($"how name-like is 'emma'? perplexity {model.Score("emma").Perplexity:F2}");

        // Fold the BatchNorm layers away for faster inference; save and load like any model.
        FoldedCharacterModel folded = model.Fold();
        string path = Path.Combine(Path.GetTempPath(), "names-bn1.safetensors");
        folded.Save(path);
        CharacterModel loaded = CharacterModel.Load(path);
        #endregion
        return (model, folded, loaded, metrics, path);
    }
}
