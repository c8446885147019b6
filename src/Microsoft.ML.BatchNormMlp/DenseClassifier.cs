using Microsoft.ML.BatchNormMlp.Export;
using Microsoft.ML.BatchNormMlp.Model;

namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// A trained classifier of dense feature vectors (the MNIST-1D presets, or any preset trained on a known-size
/// vector of Single): the network as trained (BatchNorm in evaluation mode) or folded. The dense counterpart of
/// <see cref="CharacterModel"/> behind <see cref="BatchNormMlpTransformer"/>; immutable and safe from many threads.
/// </summary>
internal sealed class DenseClassifier
{
    private readonly InferencePool? _pool;   // as trained
    private readonly FoldedMlp? _folded;     // folded

    private DenseClassifier(MlpConfig configuration, InferencePool? pool, FoldedMlp? folded)
    {
        if (!configuration.IsDense) throw new ArgumentException("A dense classifier needs a dense-input configuration.", nameof(configuration));
        Configuration = configuration;
        _pool = pool;
        _folded = folded;
    }

    internal static DenseClassifier FromNetwork(MlpNetwork network) => new(network.Config, new InferencePool(network), null);

    /// <exception cref="InvalidDataException">The state disagrees with its configuration.</exception>
    internal static DenseClassifier FromState(ModelState state) => state.Folded
        ? new(state.Config, null, new FoldedMlp(state))
        : FromNetwork(BatchNormCharacterModel.NetworkFromState(state));

    public MlpConfig Configuration { get; }

    public bool IsFolded => _folded is not null;

    public int FeatureCount => Configuration.DenseInputWidth;

    public int ClassCount => Configuration.OutputWidth;

    public bool HasBatchNorm => Configuration.HiddenBatchNorm || Configuration.OutputBatchNorm;

    /// <summary>The trained weights (the BatchNorm running statistics are not counted), as <see cref="CharacterModel.ParameterCount"/>.</summary>
    public int ParameterCount => CharacterModel.CountParameters(ToModelState());

    /// <summary>Logits [rows, classes] of feature rows [rows, features]. Thread-safe.</summary>
    public void ComputeLogits(ReadOnlySpan<float> features, int rows, Span<float> logits)
    {
        if (_folded is not null) _folded.ForwardDense(features, rows, logits);
        else _pool!.ComputeLogits(features, rows, logits);
    }

    /// <summary>Mean cross-entropy (double precision, unclipped), perplexity and top-1 accuracy over labelled rows.</summary>
    /// <exception cref="ArgumentException">The data is empty.</exception>
    public CharacterModelMetrics Evaluate(Dataset data)
    {
        if (data.Count == 0) throw new ArgumentException("Cannot evaluate an empty data set.", nameof(data));
        const int block = 4096;
        int f = FeatureCount, k = ClassCount;
        var logits = new float[Math.Min(block, data.Count) * k];
        var logProbs = new double[Math.Min(block, data.Count)];
        var correct = new bool[logProbs.Length];
        double loss = 0;
        long hits = 0;
        for (int start = 0; start < data.Count; start += block)
        {
            int rows = Math.Min(block, data.Count - start);
            ComputeLogits(data.Features.AsSpan(start * f, rows * f), rows, logits.AsSpan(0, rows * k));
            CharacterModel.LogProbabilities(logits.AsSpan(0, rows * k), k, data.Labels.AsSpan(start, rows), logProbs.AsSpan(0, rows), correct);
            for (int r = 0; r < rows; r++) { loss -= logProbs[r]; if (correct[r]) hits++; }
        }
        double mean = loss / data.Count;
        return new CharacterModelMetrics(mean, Math.Exp(mean), (double)hits / data.Count, data.Count);
    }

    /// <summary>The model file's content (tensors may be shared: do not modify).</summary>
    public ModelState ToModelState() => _folded?.Model ?? new ModelState(Configuration, null, false,
        _pool!.Network.Tensors.ToDictionary(t => t.Name, t => t.Data, StringComparer.Ordinal));

    /// <summary>The BatchNorm layers folded into the Linear layers before them (itself when already folded).</summary>
    /// <exception cref="InvalidOperationException">The model has no BatchNorm layer.</exception>
    public DenseClassifier Fold() => IsFolded ? this : new(Configuration, null, new FoldedMlp(BatchNormFolding.Fold(ToModelState())));
}
