using BatchNormMlp.Samples.Baselines;
using Microsoft.ML.BatchNormMlp.Featurization;
using Microsoft.ML.BatchNormMlp.Model;

namespace BatchNormMlp.Samples.Experiments;

/// <summary>
/// names.txt split as the seeds split it (Python's random.seed(42) shuffle, 0.8 / 0.1 / 0.1) and cut into
/// context windows of one length, ready for the engine.
/// </summary>
internal sealed record NamesSplit(Dataset Train, Dataset Dev, Dataset Test, Vocabulary Vocabulary, int ContextLength, string Source)
{
    public int VocabularySize => Vocabulary.Count;

    /// <param name="contextLength">Symbols of context per row.</param>
    /// <param name="dataPath">names.txt or a directory holding it; null searches data/ then ../shared/data/ (see <see cref="DataPaths"/>).</param>
    /// <param name="baseDirectory">Where the search starts; the current directory when null.</param>
    public static NamesSplit Load(int contextLength, string? dataPath = null, string? baseDirectory = null)
    {
        string path = DataPaths.Resolve(DataPaths.Names, dataPath, baseDirectory);
        var corpus = NameCorpus.Load(path);
        var vocabulary = Vocabulary.FromCorpus(corpus);
        var split = CorpusSplit.Create(corpus.Names);
        Dataset Windows(IReadOnlyList<string> names)
        {
            var w = ContextWindowFeaturizer.Featurize(names, vocabulary, contextLength);
            return Dataset.FromContexts(w.Contexts, contextLength, w.Targets);
        }
        return new NamesSplit(Windows(split.Train), Windows(split.Dev), Windows(split.Test), vocabulary, contextLength, path);
    }

    /// <summary>The same rows in the form the count baseline reads.</summary>
    public static LabeledContexts AsLabeled(Dataset data) => new(data.Contexts!, data.Labels);
}
