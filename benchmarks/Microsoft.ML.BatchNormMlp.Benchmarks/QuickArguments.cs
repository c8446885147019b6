using Microsoft.ML.BatchNormMlp.Featurization;

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

    /// <summary>bn1 trained by the library's trainer on names.txt (the seeds' split), or the model in <c>--model</c>.</summary>
    public static (BatchNormCharacterModel Model, CorpusSplit Split, IReadOnlyList<string> Names, Func<IReadOnlyList<string>, CharacterDataset> Featurize) Bn1(string[] args, int defaultSteps)
    {
        var names = NameCorpus.Load(DataPaths.Resolve(DataPaths.Names, Get(args, "--data"))).Names;
        var split = CorpusSplit.Create(names);
        string? modelPath = Get(args, "--model");
        if (modelPath is not null)
        {
            var loaded = CharacterModel.Load(modelPath) as BatchNormCharacterModel
                ?? throw new ArgumentException($"'{modelPath}' is a folded model; give the unfolded one (it is folded here).");
            return (loaded, split, names, part => CharacterDataset.Featurize(part, loaded.Vocabulary, loaded.ContextLength));
        }
        var vocabulary = Vocabulary.FromCorpus(split.Train);
        CharacterDataset Featurize(IReadOnlyList<string> part) => CharacterDataset.Featurize(part, vocabulary, CharacterModelDefaults.ContextLength);
        int steps = GetInt(args, "--steps", defaultSteps), threads = GetInt(args, "--threads", 1);
        Console.WriteLine($"training bn1 for {steps} steps on {split.Train.Count} names ({threads} thread(s))...");
        var trainer = new BatchNormMlpTrainer(new BatchNormMlpTrainer.Options { Preset = "bn1", Steps = steps, Seed = GetInt(args, "--seed", CharacterModelDefaults.Seed), Threads = threads });
        var model = trainer.Train(Featurize(split.Train), Featurize(split.Dev));
        Console.WriteLine($"  {model.Training!.StepsPerSecond:F0} steps/s, {model.Training.Elapsed.TotalSeconds:F1} s");
        return (model, split, names, Featurize);
    }
}
