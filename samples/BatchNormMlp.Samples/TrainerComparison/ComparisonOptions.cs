using System.Globalization;

namespace BatchNormMlp.Samples.TrainerComparison;

/// <summary>One setting of a boosted-tree trainer: rounds (trees per class), leaves per tree, shrinkage.</summary>
internal sealed record TreeSetting(int Iterations, int Leaves, double LearningRate)
{
    public override string ToString() => $"{Iterations} rounds, {Leaves} leaves, lr {LearningRate:G3}";
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
    /// The measured run. Grids were cut to what fits in about half an hour on the 2-core machine after timing single
    /// fits (samples/README.md gives the times): one LightGbm round is 27 trees (one per class), one FastTree
    /// one-versus-all round is 27 binary trees too, each over 182k rows of 27 x context one-hot features.
    /// </summary>
    public static ComparisonOptions Full(string? dataPath, int threads) => new()
    {
        DataPath = dataPath, Threads = threads,
        LightGbmGrid = [new(100, 31, 0.1), new(100, 63, 0.15)],
        FastTreeGrid = [new(25, 15, 0.3), new(25, 31, 0.3)],
    };

    /// <summary>
    /// Overrides from the command line, to try other settings: <c>--contexts 3,8</c>, <c>--lightgbm 100:31:0.1,200:63:0.05</c>
    /// and <c>--fasttree ...</c> (rounds:leaves:learning rate; an empty list skips the trainer), <c>--mlp-steps N</c>.
    /// </summary>
    public ComparisonOptions WithArguments(IReadOnlyList<string> args)
    {
        string? Value(string name) => args.ToList().IndexOf(name) is int i and >= 0 && i + 1 < args.Count ? args[i + 1] : null;
        static IReadOnlyList<TreeSetting> Grid(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => s.Split(':') is [var r, var l, var lr]
                ? new TreeSetting(int.Parse(r, CultureInfo.InvariantCulture), int.Parse(l, CultureInfo.InvariantCulture), double.Parse(lr, CultureInfo.InvariantCulture))
                : throw new ArgumentException($"A tree setting is rounds:leaves:learningRate, such as 100:31:0.1; got '{s}'.")).ToArray();
        var o = this;
        if (Value("--contexts") is string c) o = o with { Contexts = c.Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray() };
        if (Value("--lightgbm") is string g) o = o with { LightGbmGrid = Grid(g) };
        if (Value("--fasttree") is string f) o = o with { FastTreeGrid = Grid(f) };
        if (Value("--mlp-steps") is string m) o = o with { MlpSteps = int.Parse(m, CultureInfo.InvariantCulture) };
        if (args.Contains("--trees-only")) o = o with { TreesOnly = true };
        return o;
    }

    /// <summary>Only the tree learners (to time or tune them).</summary>
    public bool TreesOnly { get; init; }

    /// <summary>A slice of the names, short runs, two settings per tree learner: the same table in well under a minute.</summary>
    public static ComparisonOptions Quick(string? dataPath, int threads) => new()
    {
        DataPath = dataPath, Threads = threads, IsQuick = true,
        TrainNames = 600, EvaluationNames = 150, MlpSteps = 200, LinearIterations = 10,
        LightGbmGrid = [new(10, 7, 0.2), new(20, 7, 0.2)],
        FastTreeGrid = [new(3, 7, 0.3), new(6, 7, 0.3)],
    };
}
