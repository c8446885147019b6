namespace BatchNormMlp.Samples.Experiments;

/// <summary>How a sample was asked to run: default (minutes) or the seed's full length, and where the data is.</summary>
internal sealed record ExperimentSettings(bool Full = false, string? DataPath = null, string? BaseDirectory = null, int Threads = 1, bool Quick = false, Action<string>? Log = null, IReadOnlyList<string>? Args = null);

/// <summary>A sample: its command name, what it reproduces, how it runs, and the options it reads.</summary>
internal sealed record ExperimentEntry(string Name, string Description, Func<ExperimentSettings, ExperimentOutcome> Run, IReadOnlyList<string> Options)
{
    /// <summary>
    /// Why the arguments after the sample's name cannot run it: an option it does not read, which would otherwise be
    /// ignored (a misspelt --full runs the short version, `mlp3 --full` the only one there is); null when they can.
    /// </summary>
    public string? Problem(IReadOnlyList<string> args)
    {
        foreach (string a in args.Skip(1))
            if (a.StartsWith("--", StringComparison.Ordinal) && !Options.Contains(a))
                return $"{Name} does not know the option '{a}'. It reads {string.Join(", ", Options)}.";
        return null;
    }
}

/// <summary>The seed experiments the samples run, by command name.</summary>
internal static class ExperimentCatalog
{
    // Every sample reads where the data is and how many threads to use; some have a --full length.
    private static readonly string[] Common = ["--data", "--threads"];
    private static readonly string[] WithFull = [.. Common, "--full"];

    public static IReadOnlyList<ExperimentEntry> All { get; } =
    [
        new("bn-vs-plain", "One hidden layer without and with BatchNorm (first seed, part 1)",
            s => BnVsPlainExperiment.Run(new BnVsPlainOptions(s.Full ? BnVsPlainOptions.FullSteps : 20_000, null, s.DataPath, s.BaseDirectory, s.Threads)), WithFull),
        new("mlp3", "Five widening layers: naive init, Kaiming, Kaiming + BatchNorm (first seed, MLP3; 1000 steps is the seed's length)",
            s => Mlp3Experiment.Run(new Mlp3Options(1000, null, 100, s.DataPath, s.BaseDirectory, s.Threads)), Common),
        new("deep50", "50 layers without and with residual streams (first seed, part 2; 1000 steps is the seed's length)",
            s => Deep50Experiment.Run(new Deep50Options(1000, 50, 256, s.DataPath, s.BaseDirectory, s.Threads)), Common),
        new("calibration", "Running against calibrated BatchNorm statistics (second seed; --full: 200k steps)",
            s => CalibrationExperiment.Run(new CalibrationOptions(s.Full ? CalibrationOptions.FullSteps : 20_000, null, s.DataPath, s.BaseDirectory, s.Threads)), WithFull),
        new("folding", "Three BatchNorm layers folded into their Linears (third seed; default 1001 steps as the seed, --full: 200k)",
            s => FoldingExperiment.Run(new FoldingOptions(s.Full ? FoldingOptions.FullSteps : 1001, null, s.DataPath, s.BaseDirectory, s.Threads)), WithFull),
        new("mnist1d", "MNIST-1D residual network: variance per block, then test accuracy (fourth seed; --full: 10000 steps)",
            s => Mnist1dExperiment.Run(new Mnist1dOptions(s.Full ? Mnist1dOptions.FullSteps : 2000, 100, s.DataPath, s.BaseDirectory, s.Threads)), WithFull),
        new("baselines", "Count n-gram, softmax regression, MLPs and external rows at context 3, 5, 8 (--full: 200k steps per model)",
            s => BaselinesExperiment.Run(new BaselinesOptions(s.Full ? BaselinesOptions.FullSteps : 20_000, null, 200, 4, s.DataPath, s.BaseDirectory, s.Threads)), WithFull),
        new("compare", "BatchNormMlp presets against LightGbm, OneVersusAll(FastTree), SdcaMaximumEntropy, LbfgsMaximumEntropy and the count n-gram at context 3 and 8 (--quick: a slice, for CI)",
            s => TrainerComparison.ComparisonSample.Run((s.Quick ? TrainerComparison.ComparisonOptions.Quick(s.DataPath, s.Threads) : TrainerComparison.ComparisonOptions.Full(s.DataPath, s.Threads)).WithArguments(s.Args ?? []), s.Log).Outcome, TrainerComparison.ComparisonOptions.KnownOptions),
    ];

    public static ExperimentEntry? Find(string name) => All.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase));
}
