namespace BatchNormMlp.Samples.Experiments;

/// <summary>A train / validation cross-entropy pair measured by PyTorch.</summary>
internal readonly record struct TorchFigure(double Train, double Dev);

/// <summary>
/// The figures the samples reproduce: those printed in the seeds' notebooks (../shared/seeds) and those of
/// ../shared/reference/torch_ref.py (same split, architecture, initialization and schedule as the presets), run
/// on this 2-core machine with <c>/usr/bin/python3 ../shared/reference/torch_ref.py MODEL STEPS 1</c>
/// (torch 1.13, CPU, one thread). They are quoted, not recomputed: CI has no Python.
/// </summary>
internal static class ReferenceFigures
{
    /// <summary>Second seed (makemore part 3 with calibrated statistics), 200k steps: train and dev cross-entropy.</summary>
    public const double SeedCalibratedTrain = 2.0677990913391113, SeedCalibratedDev = 2.105621099472046;

    /// <summary>Third seed (three Linear + BatchNorm layers, 1001 steps of lr 0.1): dev and test, unfolded and folded.</summary>
    public const double SeedFoldingDev = 2.4326910972595215, SeedFoldingTest = 2.4375462532043457;
    public const double SeedFoldedDev = 2.432690143585205, SeedFoldedTest = 2.4375455379486084;

    /// <summary>Fourth seed: print_variance at initialization (He init, first batch of 200): input, stem, then after each of five residual blocks.</summary>
    public static IReadOnlyList<double> SeedVarianceWithoutBatchNorm { get; } = [1.016311, 1.912032, 3.384397, 5.635843, 9.055282, 15.182500, 27.545427];

    /// <summary>The same with BatchNorm in the notebook's form (the stream itself normalized by a fresh BatchNorm before each block).</summary>
    public static IReadOnlyList<double> SeedVarianceWithBatchNorm { get; } = [1.000050, 1.860212, 1.747567, 1.670213, 1.716545, 1.681681, 1.748113];

    /// <summary>torch_ref.py runs (model, steps) -&gt; train / dev cross-entropy in evaluation mode.</summary>
    private static readonly Dictionary<(string Model, int Steps), TorchFigure> Torch = new()
    {
        [("bn1", 20_000)] = new(2.1665, 2.1796),
        [("plain1", 20_000)] = new(2.1910, 2.1990),
        [("bn1", 200_000)] = new(2.0609, 2.1091),
        [("plain1", 200_000)] = new(2.0525, 2.1106),
        [("seed002", 1000)] = new(2.4166, 2.4142),
        [("mlp3", 1000)] = new(2.4632, 2.4613),
        [("deep50", 1000)] = new(2.6511, 2.6425),
        [("deep50res", 1000)] = new(2.4428, 2.4592),
    };

    /// <summary>The PyTorch figure of a preset trained for exactly <paramref name="steps"/>, when one was measured.</summary>
    public static TorchFigure? TorchRef(string model, int steps) => Torch.TryGetValue((model, steps), out var f) ? f : null;
}
