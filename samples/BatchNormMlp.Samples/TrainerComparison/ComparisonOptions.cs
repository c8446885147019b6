using System.Globalization;

namespace BatchNormMlp.Samples.TrainerComparison;

/// <summary>One setting of a boosted-tree trainer: rounds (trees per class), leaves per tree, shrinkage.</summary>
/// <summary>
/// One setting of a boosted-tree trainer: rounds (trees per class), leaves per tree, shrinkage, and for LightGbm an
/// optional early stop on dev (<see cref="EarlyStoppingRounds"/> rounds without a better dev LogLoss: the rounds
/// are then chosen on dev, as a careful user would, and <see cref="Iterations"/> is the cap) and the fewest
/// training rows a leaf may hold (<see cref="MinimumExampleCountPerLeaf"/>; null: the trainer's default).
/// </summary>
internal sealed record TreeSetting(int Iterations, int Leaves, double LearningRate, int? EarlyStoppingRounds = null, int? MinimumExampleCountPerLeaf = null)
{
    public override string ToString() =>
        (EarlyStoppingRounds is int e
            ? $"up to {Iterations} rounds (early stop on dev after {e}), {Leaves} leaves, lr {LearningRate:G3}"
            : $"{Iterations} rounds, {Leaves} leaves, lr {LearningRate:G3}")
        + (MinimumExampleCountPerLeaf is int m ? $", min {m} rows per leaf" : "");
}

/// <summary>
/// Sizes of the comparison. <see cref="Full"/> is what the READMEs quote; <see cref="Quick"/> runs the same
/// program on a slice of the names in CI time (a test checks its table's shape and sanity).
/// </summary>
internal sealed record ComparisonOptions
{
    /// <summary>Context lengths to featurize at: the seeds' 3 and the <c>quality</c> preset's 8.</summary>
    public IReadOnlyList<int> Contexts { get; init; } = [3, 8];

    /// <summary>Names taken from the start of each split (null: all); the split itself is always the seeds'.</summary>
    public int? TrainNames { get; init; }

    public int? EvaluationNames { get; init; }

    /// <summary>Steps of the BatchNormMlp presets (null: each preset's own length).</summary>
    public int? MlpSteps { get; init; }

    /// <summary>LightGbm settings tried on dev; the one with the lowest dev LogLoss is kept.</summary>
    public IReadOnlyList<TreeSetting> LightGbmGrid { get; init; } = [];

    /// <summary>FastTree settings (each binary model of the one-versus-all) tried on dev.</summary>
    public IReadOnlyList<TreeSetting> FastTreeGrid { get; init; } = [];

    /// <summary>Threads of every trainer: one, as the BatchNormMlp figures of the READMEs (the machine has two cores).</summary>
    public int Threads { get; init; } = 1;

    /// <summary>Passes of the linear trainers (null: the trainers' defaults, to convergence); --quick caps them.</summary>
    public int? LinearIterations { get; init; }

    public string? DataPath { get; init; }

    public bool IsQuick { get; init; }

    /// <summary>
    /// The measured run. Grids were cut to what fits in a couple of hours of the 2-core machine after timing single
    /// fits (samples/README.md gives the times): one LightGbm round is 27 trees (one per class), one FastTree
    /// one-versus-all round is 27 binary trees too, each over 182k rows of 27 x context one-hot features. LightGbm
    /// chooses its rounds on dev by early stopping; FastTree (inside OneVersusAll, which passes no validation set)
    /// gets two lengths.
    /// </summary>
    public static ComparisonOptions Full(string? dataPath, int threads) => new()
    {
        DataPath = dataPath, Threads = threads,
        // ML.NET's own minimum rows per leaf for these sizes scored exactly the same at context 3 (dev 2.0520 and
        // 2.0536: leaves of 63-leaf trees over 182k rows hold far more than 50), so only these two are in the run.
        LightGbmGrid = [new(300, 63, 0.2, EarlyStoppingRounds: 20, MinimumExampleCountPerLeaf: 50), new(800, 31, 0.1, EarlyStoppingRounds: 20, MinimumExampleCountPerLeaf: 50)],
        FastTreeGrid = [new(40, 31, 0.3), new(100, 31, 0.2)],
    };

    /// <summary>
    /// Overrides from the command line, to try other settings: <c>--contexts 3,8</c>, <c>--lightgbm 100:31:0.1,200:63:0.05</c>
    /// and <c>--fasttree ...</c> (rounds:leaves:learning rate; an empty list skips the trainer), <c>--mlp-steps N</c>.
    /// </summary>
    public ComparisonOptions WithArguments(IReadOnlyList<string> args)
    {
        string? Value(string name) => args.ToList().IndexOf(name) is int i and >= 0 && i + 1 < args.Count ? args[i + 1] : null;
        static IReadOnlyList<TreeSetting> Grid(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => s.Split(':') switch
            {
                [var r, var l, var lr] => new TreeSetting(Int(r), Int(l), double.Parse(lr, CultureInfo.InvariantCulture)),
                [var r, var l, var lr, var e] => new TreeSetting(Int(r), Int(l), double.Parse(lr, CultureInfo.InvariantCulture), Int(e)),
                [var r, var l, var lr, var e, var m] => new TreeSetting(Int(r), Int(l), double.Parse(lr, CultureInfo.InvariantCulture), e.Length == 0 ? null : Int(e), Int(m)),
                _ => throw new ArgumentException($"A tree setting is rounds:leaves:learningRate[:earlyStoppingRounds[:minRowsPerLeaf]], such as 100:31:0.1, 300:63:0.2:20 or 300:63:0.2:20:50; got '{s}'."),
            }).ToArray();
        static int Int(string text) => int.Parse(text, CultureInfo.InvariantCulture);
        // An option it does not know is an error, not ignored: a misspelt --results would refit hours of trainers.
        foreach (string a in args)
            if (a.StartsWith("--", StringComparison.Ordinal) && !KnownOptions.Contains(a))
                throw new ArgumentException($"compare does not know the option '{a}'. It reads {string.Join(", ", KnownOptions)}.");
        var o = this;
        if (Value("--contexts") is string c) o = o with { Contexts = c.Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray() };
        if (Value("--lightgbm") is string g) o = o with { LightGbmGrid = Grid(g) };
        if (Value("--fasttree") is string f) o = o with { FastTreeGrid = Grid(f) };
        if (Value("--mlp-steps") is string m) o = o with { MlpSteps = int.Parse(m, CultureInfo.InvariantCulture) };
        if (args.Contains("--trees-only")) o = o with { TreesOnly = true };
        if (Value("--results") is string p) o = o with { ResultsPath = p };
        if (Value("--skip") is string k) o = o with { Skip = k.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) };
        if (Value("--refit") is string t) o = o with { Refit = t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) };
        return o;
    }

    /// <summary>The options <see cref="WithArguments"/> reads, and the ones every sample takes (Program.cs).</summary>
    public static readonly IReadOnlyList<string> KnownOptions =
        ["--contexts", "--lightgbm", "--fasttree", "--mlp-steps", "--trees-only", "--results", "--skip", "--refit", "--full", "--quick", "--data", "--threads"];

    /// <summary>A JSON-lines file of finished fits, reused by the next run with the same rows (<see cref="ComparisonResults"/>).</summary>
    public string? ResultsPath { get; init; }

    /// <summary>Trainer names (substrings) fitted again even when the results file has them.</summary>
    public IReadOnlyList<string> Refit { get; init; } = [];

    /// <summary>Trainer names (substrings) left out of this run (their rows can come from the results file later).</summary>
    public IReadOnlyList<string> Skip { get; init; } = [];

    /// <summary>Only the tree learners (to time or tune them).</summary>
    public bool TreesOnly { get; init; }

    /// <summary>A slice of the names, short runs, two settings per tree learner: the same table in well under a minute.</summary>
    public static ComparisonOptions Quick(string? dataPath, int threads) => new()
    {
        DataPath = dataPath, Threads = threads, IsQuick = true,
        TrainNames = 600, EvaluationNames = 150, MlpSteps = 200, LinearIterations = 10,
        LightGbmGrid = [new(10, 7, 0.2), new(40, 7, 0.2, EarlyStoppingRounds: 3)],
        FastTreeGrid = [new(3, 7, 0.3), new(6, 7, 0.3)],
    };
}
