using BenchmarkDotNet.Attributes;

namespace Microsoft.ML.BatchNormMlp.Benchmarks;

/// <summary>
/// BenchmarkDotNet form of <see cref="InferenceThroughput"/>: scoring 2,000 names of names.txt, folded against
/// unfolded, in one batch and one name per call (<c>-- --filter *InferenceBenchmarks*</c>). The weights come from a
/// short bn1 run; throughput does not depend on their values.
/// </summary>
[MemoryDiagnoser]
public class InferenceBenchmarks
{
    private BatchNormCharacterModel _model = null!;
    private FoldedCharacterModel _folded = null!;
    private string[] _names = [];

    [GlobalSetup]
    public void Setup()
    {
        var names = Featurization.NameCorpus.Load(NamesFile()).Names;
        var vocabulary = Vocabulary.FromCorpus(names);
        _model = new BatchNormMlpTrainer(new BatchNormMlpTrainer.Options { Preset = "bn1", Steps = 100, Seed = 1 })
            .Train(CharacterDataset.Featurize(names, vocabulary, CharacterModelDefaults.ContextLength), null);
        _folded = _model.Fold();
        _names = [.. names.Take(2000)];
    }

    // BenchmarkDotNet runs from a generated directory: look for the data from the repository root instead.
    private static string NamesFile()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "BatchNormMlp.sln")))
                return Featurization.DataPaths.Resolve(Featurization.DataPaths.Names, baseDirectory: dir.FullName);
        return Featurization.DataPaths.Resolve(Featurization.DataPaths.Names);
    }

    [Benchmark(Baseline = true)]
    public NameScore[] BatchUnfolded() => _model.ScoreBatch(_names);

    [Benchmark]
    public NameScore[] BatchFolded() => _folded.ScoreBatch(_names);

    [Benchmark]
    public double OnePerCallUnfolded()
    {
        double sum = 0;
        foreach (var name in _names) sum += _model.Score(name).LogLikelihood;
        return sum;
    }

    [Benchmark]
    public double OnePerCallFolded()
    {
        double sum = 0;
        foreach (var name in _names) sum += _folded.Score(name).LogLikelihood;
        return sum;
    }
}
