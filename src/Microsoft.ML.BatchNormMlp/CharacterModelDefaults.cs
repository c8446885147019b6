namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// The defaults and allowed ranges of the public API in one place: options classes, catalog overloads and
/// validation messages all read them from here.
/// </summary>
public static class CharacterModelDefaults
{
    /// <summary>The text column of names the featurizer reads.</summary>
    public const string NameColumnName = "Name";

    /// <summary>The text column of name prefixes that <c>MapPrefixToContext</c> reads.</summary>
    public const string PrefixColumnName = "Prefix";

    /// <summary>The context column (a vector of keys) the featurizer writes and the trainer reads.</summary>
    public const string ContextColumnName = "Context";

    /// <summary>The label column (a key: the next symbol) the featurizer writes and the trainer reads.</summary>
    public const string LabelColumnName = "Label";

    /// <summary>ML.NET's score column: the probability of each symbol id.</summary>
    public const string ScoreColumnName = "Score";

    /// <summary>ML.NET's predicted-label column: the key of the most probable symbol.</summary>
    public const string PredictedLabelColumnName = "PredictedLabel";

    /// <summary>The presets a trainer can start from, e.g. <c>bn1</c> (the default), <c>plain1</c>, <c>seed002</c>, <c>mlp3</c>, <c>deep50</c>, <c>deep50-res</c>, <c>quality</c>.</summary>
    public static IReadOnlyList<string> Presets => Training.Presets.CharacterNames;

    /// <summary>
    /// The presets for dense feature vectors only: <c>mnist1d-res</c> and <c>mnist1d-res-bn</c> (the fourth seed's
    /// MNIST-1D residual networks). A trainer whose feature column is a known-size vector of Single accepts these as
    /// well as every one of <see cref="Presets"/>; one whose feature column is a context of keys accepts only <see cref="Presets"/>.
    /// </summary>
    public static IReadOnlyList<string> DenseInputPresets => Training.Presets.DenseNames;

    /// <summary>A one-line description of a preset's architecture and origin.</summary>
    /// <exception cref="ArgumentException">Unknown preset (the message lists the known ones).</exception>
    public static string DescribePreset(string preset)
    {
        if (preset is null || !Training.Presets.Names.Contains(preset))
            throw new ArgumentException($"Unknown preset '{preset}'. Known presets: {string.Join(", ", Training.Presets.Names)}.", nameof(preset));
        return Training.Presets.Get(preset).Description;
    }

    /// <summary>The preset a trainer starts from: <c>bn1</c>, one hidden layer of 200 with BatchNorm (the first seed).</summary>
    public const string Preset = "bn1";

    /// <summary>Previous symbols in each context (the seeds use 3).</summary>
    public const int ContextLength = 3;

    /// <summary>Largest context length accepted.</summary>
    public const int MaxContextLength = 1024;

    /// <summary>The boundary symbol (id 0) that pads contexts and ends names.</summary>
    public const string BoundarySymbol = Vocabulary.DefaultBoundarySymbol;

    /// <summary>Seed of weight initialization and minibatch sampling when neither the options nor the context set one (torch_ref.py's).</summary>
    public const int Seed = 2147483647;

    /// <summary>Seed of the train/dev/test shuffle: 42 reproduces the seeds' split of names.txt.</summary>
    public const int SplitSeed = 42;

    /// <summary>Fraction of the names in the training split.</summary>
    public const double TrainFraction = 0.8;

    /// <summary>Fraction of the names in the dev split (the test split gets the rest).</summary>
    public const double DevFraction = 0.1;

    /// <summary>Threads the matrix products use during training.</summary>
    public const int Threads = 1;

    /// <summary>Largest thread count accepted.</summary>
    public const int MaxThreads = 256;

    /// <summary>Largest width of an embedding or hidden layer accepted.</summary>
    public const int MaxWidth = 65536;

    /// <summary>Largest number of hidden layers accepted.</summary>
    public const int MaxHiddenLayers = 1000;

    /// <summary>Largest number of training steps accepted.</summary>
    public const int MaxSteps = 100_000_000;

    /// <summary>Largest minibatch accepted.</summary>
    public const int MaxBatchSize = 1 << 20;

    /// <summary>Training diagnostics measure the layers every this many steps (<see cref="TrainingDiagnosticsOptions.Interval"/>).</summary>
    public const int DiagnosticsInterval = 100;

    /// <summary>Bins of each diagnostics histogram (<see cref="TrainingDiagnosticsOptions.HistogramBins"/>).</summary>
    public const int HistogramBins = 50;

    /// <summary>Largest number of histogram bins accepted.</summary>
    public const int MaxHistogramBins = 10_000;

    /// <summary>Sampling temperature: 1 samples from the model's distribution.</summary>
    public const float Temperature = 1f;

    /// <summary>Largest sampling temperature accepted.</summary>
    public const float MaxTemperature = 100f;

    /// <summary>Top-k cut-off when sampling; 0 keeps every symbol.</summary>
    public const int TopK = 0;

    /// <summary>Longest generated name, in symbols, unless asked otherwise.</summary>
    public const int MaxNameLength = 50;

    /// <summary>Largest maximum name length accepted.</summary>
    public const int MaxNameLengthLimit = 10_000;

    /// <summary>Most names one <c>Sample</c> call generates.</summary>
    public const int MaxSampleCount = 1_000_000;
}
