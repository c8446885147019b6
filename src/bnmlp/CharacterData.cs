using Microsoft.ML.BatchNormMlp;
using Microsoft.ML.BatchNormMlp.Featurization;

namespace BatchNormMlp.Cli;

/// <summary>
/// The names corpus as the commands see it: found, loaded, split the way <c>bnmlp train</c> splits it (Python's
/// shuffle with seed 42, then 80/10/10: the seeds' split), and featurized with a model's vocabulary. Train, eval
/// and fold share this, so a model is always evaluated on the split it was trained beside.
/// </summary>
internal static class CharacterData
{
    /// <summary>The split names of one corpus file.</summary>
    public sealed record Corpus(string Path, NameCorpus Names, CorpusSplit Split)
    {
        public IReadOnlyList<string> Part(string name) => name switch
        {
            "train" => Split.Train,
            "dev" => Split.Dev,
            "test" => Split.Test,
            _ => Names.Names,
        };
    }

    public static readonly string[] SplitNames = ["train", "dev", "test", "all"];

    public static Corpus Load(string? path, long splitSeed = CorpusSplit.DefaultSeed)
    {
        string file = DataPaths.Resolve(DataPaths.Names, path);
        NameCorpus corpus = NameCorpus.Load(file);
        return new Corpus(file, corpus, CorpusSplit.Create(corpus.Names, splitSeed));
    }

    /// <summary>Context rows of <paramref name="names"/> in the model's vocabulary; a symbol the model does not know is a user error naming the file.</summary>
    public static CharacterDataset Featurize(IReadOnlyList<string> names, Vocabulary vocabulary, int contextLength, string file)
    {
        try
        {
            return new CharacterDataset(vocabulary, ContextWindowFeaturizer.Featurize(names, vocabulary, contextLength), names.Count);
        }
        catch (ArgumentException e)
        {
            throw new UserErrorException($"'{file}' does not fit the model: {e.Message}");
        }
    }

    /// <summary>Loads a character model; a missing, corrupt or dense (MNIST-1D) file is a one-line user error.</summary>
    public static CharacterModel LoadModel(string path)
    {
        if (Directory.Exists(path)) throw new UserErrorException($"'{path}' is a directory; --model needs a model file (.safetensors).");
        if (!File.Exists(path)) throw new UserErrorException($"Model file '{path}' not found.");
        return CharacterModel.Load(path);
    }
}
