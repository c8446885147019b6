using BatchNormMlp.Samples.Baselines;
using BatchNormMlp.Samples.TrainerComparison;
using Microsoft.ML;

namespace BatchNormMlp.Samples.Experiments;

/// <summary>
/// names.txt split as the seeds split it (<c>SplitLikeSeeds</c>: Python's random.seed(42) shuffle, 0.8 / 0.1 / 0.1)
/// and cut into context windows of one length by the public featurizer, fitted on the whole corpus (the seeds' stoi);
/// each split's rows are cached, so every model reads them once featurized.
/// </summary>
internal sealed record NamesSplit(MLContext Ml, IDataView Train, IDataView Dev, IDataView Test, ContextWindowTransformer Featurizer, int ContextLength, string Source)
{
    public Vocabulary Vocabulary => Featurizer.Vocabulary;

    public int VocabularySize => Vocabulary.Count;

    /// <param name="contextLength">Symbols of context per row.</param>
    /// <param name="dataPath">names.txt or a directory holding it; null searches data/ then ../shared/data/ (see <see cref="SampleData"/>).</param>
    /// <param name="baseDirectory">Where the search starts; the current directory when null.</param>
    public static NamesSplit Load(int contextLength, string? dataPath = null, string? baseDirectory = null)
    {
        var ml = new MLContext(seed: 1);
        string path = SampleData.Find(SampleData.Names, dataPath, baseDirectory);
        var names = ml.Data.LoadNames(path);
        var split = ml.Data.SplitLikeSeeds(names);
        var featurizer = ml.Transforms.Text.FeaturizeContextWindows(contextLength: contextLength).Fit(names);
        IDataView Rows(IDataView part) => ml.Data.Cache(featurizer.Transform(part));
        return new NamesSplit(ml, Rows(split.TrainSet), Rows(split.DevSet), Rows(split.TestSet), featurizer, contextLength, path);
    }

    /// <summary>Rows (contexts) of a split.</summary>
    public static long Count(IDataView rows) => KeyColumns.Count(rows);

    /// <summary>The same rows in the form the count baseline reads (vocabulary ids, read back through ML.NET's cursors).</summary>
    public LabeledContexts AsLabeled(IDataView rows)
    {
        var (contexts, labels) = KeyColumns.Read(rows, ContextLength);
        return new LabeledContexts(contexts, labels);
    }
}
