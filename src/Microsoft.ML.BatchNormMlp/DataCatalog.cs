using Microsoft.ML.BatchNormMlp.Featurization;

namespace Microsoft.ML.BatchNormMlp;

/// <summary>Loading and splitting name corpora (<see cref="BatchNormMlpContext.Data"/>).</summary>
public sealed class DataCatalog
{
    internal DataCatalog() { }

    /// <summary>
    /// Reads a names file (one name per line, UTF-8): names are trimmed and blank lines skipped. Without a path,
    /// looks for <c>data/names.txt</c>, then <c>../shared/data/names.txt</c>, from the current directory.
    /// </summary>
    /// <param name="path">The file, a directory holding <c>names.txt</c>, or <see langword="null"/> to search.</param>
    /// <exception cref="FileNotFoundException">No file; the message lists every place looked at.</exception>
    /// <exception cref="InvalidDataException">Invalid UTF-8, a control character or no names; the message names the file and line.</exception>
    public IReadOnlyList<string> LoadNames(string? path = null) => NameCorpus.Load(DataPaths.Resolve(DataPaths.Names, path)).Names;

    /// <summary>
    /// Shuffles a copy of <paramref name="names"/> with Python's <c>random.shuffle</c> algorithm and cuts it into
    /// train, dev and test: seed 42 with 0.8 and 0.1 gives exactly the seeds' split of names.txt.
    /// </summary>
    /// <param name="names">The corpus.</param>
    /// <param name="seed">Seed of the shuffle.</param>
    /// <param name="trainFraction">Fraction for training, in [0, 1].</param>
    /// <param name="devFraction">Fraction for dev, in [0, 1 - <paramref name="trainFraction"/>]; test gets the rest.</param>
    /// <exception cref="ArgumentOutOfRangeException">A fraction is out of range.</exception>
    public NameSplit SplitNames(IReadOnlyList<string> names, int seed = CharacterModelDefaults.SplitSeed,
        double trainFraction = CharacterModelDefaults.TrainFraction, double devFraction = CharacterModelDefaults.DevFraction)
    {
        var split = CorpusSplit.Create(names, seed, trainFraction, devFraction);
        return new NameSplit(split.Train, split.Dev, split.Test);
    }
}
