namespace Microsoft.ML.BatchNormMlp.Benchmarks;

/// <summary>The few <c>--name value</c> options of the quick modes.</summary>
internal static class QuickArguments
{
    public static string? Get(string[] args, string name)
    {
        int at = Array.IndexOf(args, name);
        if (at < 0) return null;
        if (at + 1 >= args.Length) throw new ArgumentException($"{name} needs a value.");
        return args[at + 1];
    }

    public static int GetInt(string[] args, string name, int fallback)
    {
        string? text = Get(args, name);
        if (text is null) return fallback;
        return int.TryParse(text, out int value) && value > 0 ? value : throw new ArgumentException($"{name} must be a positive integer; got '{text}'.");
    }

    /// <summary>bn1 trained through the public API on names.txt (the seeds' split), or the model in <c>--model</c>.</summary>
    public static (BatchNormCharacterModel Model, NameSplit Split, IReadOnlyList<string> Names, CharacterFeaturizerTransformer Featurizer) Bn1(string[] args, int defaultSteps)
    {
        var context = new BatchNormMlpContext(seed: QuickArguments.GetInt(args, "--seed", CharacterModelDefaults.Seed), threads: GetInt(args, "--threads", 1));
        var names = context.Data.LoadNames(Get(args, "--data"));
        var split = context.Data.SplitNames(names);
        string? modelPath = Get(args, "--model");
        if (modelPath is not null)
        {
            var loaded = CharacterModel.Load(modelPath) as BatchNormCharacterModel
                ?? throw new ArgumentException($"'{modelPath}' is a folded model; give the unfolded one (it is folded here).");
            return (loaded, split, names, new CharacterFeaturizerTransformer(loaded.Vocabulary, loaded.ContextLength));
        }
        var featurizer = context.CharacterModels.Featurizer().Fit(split.Train);
        int steps = GetInt(args, "--steps", defaultSteps);
        Console.WriteLine($"training bn1 for {steps} steps on {split.Train.Count} names ({context.Threads} thread(s))...");
        var model = context.CharacterModels.Trainer("bn1", steps: steps).Fit(featurizer.Transform(split.Train), featurizer.Transform(split.Dev));
        Console.WriteLine($"  {model.Training!.StepsPerSecond:F0} steps/s, {model.Training.Elapsed.TotalSeconds:F1} s");
        return (model, split, names, featurizer);
    }
}
