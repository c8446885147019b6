namespace Microsoft.ML.BatchNormMlp.Featurization;

/// <summary>
/// The train, dev and test names of a corpus: a seeded shuffle, then consecutive slices, exactly as the seeds do
/// (<c>random.seed(42); random.shuffle(words); n1 = int(0.8*n); n2 = int(0.9*n)</c>).
/// </summary>
internal sealed record CorpusSplit(IReadOnlyList<string> Train, IReadOnlyList<string> Dev, IReadOnlyList<string> Test)
{
    public const long DefaultSeed = 42;
    public const double DefaultTrainFraction = 0.8, DefaultDevFraction = 0.1;

    /// <summary>
    /// Shuffles a copy of <paramref name="names"/> with <see cref="PythonRandom"/> (so seed 42 gives the seeds' and
    /// torch_ref.py's split) and cuts it at <c>(int)(train*n)</c> and <c>(int)((train+dev)*n)</c>; the test split
    /// gets the rest.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A fraction is outside [0, 1] or they sum to more than 1.</exception>
    public static CorpusSplit Create(IReadOnlyList<string> names, long seed = DefaultSeed,
        double trainFraction = DefaultTrainFraction, double devFraction = DefaultDevFraction)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (!(trainFraction >= 0 && trainFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(trainFraction), trainFraction, "The train fraction must be between 0 and 1.");
        // A little slack so that fractions summing to 1 in decimal (0.9 + 0.1) are not refused for rounding.
        if (!(devFraction >= 0 && trainFraction + devFraction <= 1 + 1e-9))
            throw new ArgumentOutOfRangeException(nameof(devFraction), devFraction,
                $"The dev fraction must be at least 0, and the train and dev fractions must sum to at most 1; got train {trainFraction} and dev {devFraction}.");

        string[] shuffled = [.. names];
        new PythonRandom(seed).Shuffle(shuffled);
        int n = shuffled.Length;
        // Same double arithmetic and truncation as Python's int(0.8*len(words)); 0.8 + 0.1 == 0.9 exactly in binary64.
        int n1 = (int)(trainFraction * n);
        int n2 = Math.Min(n, (int)((trainFraction + devFraction) * n));
        return new CorpusSplit(shuffled[..n1], shuffled[n1..n2], shuffled[n2..]);
    }
}
