using Microsoft.ML.BatchNormMlp.Export;
using Microsoft.ML.BatchNormMlp.MlNet;
using Microsoft.ML.BatchNormMlp.Model;

namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// A character model as trained: the network with its BatchNorm layers, which normalize with their running
/// statistics (evaluation mode). <see cref="Fold"/> turns it into a faster <see cref="FoldedCharacterModel"/> with
/// the same predictions up to rounding; <see cref="Calibrate"/> recomputes the statistics over a data set.
/// </summary>
public sealed class BatchNormCharacterModel : CharacterModel
{
    private readonly MlpNetwork _network;
    private readonly InferencePool _pool;
    private IReadOnlyList<BatchNormStatistics>? _statistics;

    internal BatchNormCharacterModel(MlpNetwork network, Vocabulary vocabulary, TrainingSummary? training)
        : base(vocabulary, network.Config)
    {
        _network = network;
        _pool = new InferencePool(network);
        Training = training;
    }

    internal static BatchNormCharacterModel FromState(ModelState state, Vocabulary vocabulary, TrainingSummary? training) =>
        new(NetworkFromState(state), vocabulary, training);

    /// <summary>A network holding a copy of an unfolded model state's tensors.</summary>
    internal static MlpNetwork NetworkFromState(ModelState state)
    {
        if (state.Folded) throw new ArgumentException("A folded model state has no network to rebuild; it runs as a FoldedMlp.", nameof(state));
        var network = new MlpNetwork(state.Config);
        StateDictionary.Load(network, state.Tensors.Select(p => new TensorValue(p.Key, Shape(state.Config, p.Key), p.Value)));
        return network;
    }

    private static int[] Shape(MlpConfig config, string name) =>
        TensorLayout.Expected(config).FirstOrDefault(s => s.Name == name)?.Shape ?? [];

    /// <summary>What the training run measured, when this instance was trained in this process; <see langword="null"/> after <see cref="CharacterModel.Load"/>.</summary>
    public TrainingSummary? Training { get; }

    /// <inheritdoc/>
    public override bool IsFolded => false;

    /// <summary>The engine's network (tests and the CLI); never trained further once wrapped.</summary>
    internal MlpNetwork Network => _network;

    /// <summary>
    /// The statistics every BatchNorm layer normalizes with, hidden layers first, then the one on the logits; empty
    /// without BatchNorm. Copies: the model stays immutable.
    /// </summary>
    public IReadOnlyList<BatchNormStatistics> BatchNormStatistics => _statistics ??= ReadStatistics(_network);

    internal static IReadOnlyList<BatchNormStatistics> ReadStatistics(MlpNetwork network)
    {
        var list = new List<BatchNormStatistics>();
        foreach (var norm in network.Norms.Append(network.OutputNorm))
        {
            if (norm is null) continue;
            string name = norm.RunningMean.Name[..^".running_mean".Length];
            list.Add(new BatchNormStatistics(name, Array.AsReadOnly((float[])norm.RunningMean.Data.Clone()), Array.AsReadOnly((float[])norm.RunningVar.Data.Clone())));
        }
        return list.AsReadOnly();
    }

    /// <summary>
    /// A copy of this model whose BatchNorm layers normalize with statistics measured over every row of
    /// <paramref name="data"/> (the second seed's calibration: each layer's full-set mean and unbiased variance, layer
    /// after layer, instead of the running estimates of the last minibatches). This model is unchanged; the copy keeps
    /// its <see cref="Training"/> summary. Calibrate on the training rows, as
    /// <see cref="BatchNormMlpTrainer.Options.CalibrateAfterTraining"/> does.
    /// </summary>
    /// <param name="data">Featurized rows (with the model's vocabulary and context length).</param>
    /// <param name="featureColumnName">The context column (a vector of keys).</param>
    /// <exception cref="ArgumentException">The column is missing, of the wrong type, or of another vocabulary or context length than the model's; or the data is empty.</exception>
    /// <exception cref="InvalidOperationException">The model has no BatchNorm layer.</exception>
    public BatchNormCharacterModel Calibrate(IDataView data, string featureColumnName = CharacterModelDefaults.ContextColumnName)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!Configuration.HiddenBatchNorm && !Configuration.OutputBatchNorm)
            throw new InvalidOperationException("The model has no BatchNorm layer: there are no statistics to calibrate.");
        var contexts = KeyRows.ReadContexts(data, featureColumnName, Vocabulary, ContextLength, "calibration");
        int rows = contexts.Length / ContextLength;
        if (rows == 0) throw new ArgumentException("Cannot calibrate on an empty data set.", nameof(data));
        var network = NetworkFromState(ToModelState());
        network.Calibrate(Dataset.FromContexts(contexts, ContextLength, new int[rows]));   // the labels are not read
        network.ReleaseWorkspaces();
        return new BatchNormCharacterModel(network, Vocabulary, Training);
    }

    /// <summary>
    /// Folds every BatchNorm into the Linear layer before it (or, for pre-activation blocks, into a per-feature
    /// scale and shift): <c>W' = W·γ/√(var+ε)</c>, <c>b' = (b − mean)·γ/√(var+ε) + β</c>. This model is unchanged.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model has no BatchNorm layer (nothing to fold).</exception>
    public FoldedCharacterModel Fold() => new(BatchNormFolding.Fold(ToModelState()), Vocabulary);

    /// <summary>
    /// One model whose logits are the mean of the <paramref name="members"/>' logits: an ensemble saved, folded,
    /// exported and scored like any model. The members sit side by side, each in its own slice of every layer (the
    /// hidden Linear layers are block-diagonal), so the merged model computes exactly what they compute, in float32
    /// rounding; scoring it costs the member count times what scoring the members apart would. Averaging logits is
    /// the members' geometric-mean probability, renormalized.
    /// </summary>
    /// <param name="members">Models of one architecture and vocabulary, e.g. the same preset trained from several seeds; their activations may differ (the merged model's <see cref="MlpConfig.ActivationGroups"/> keep each member's).</param>
    /// <exception cref="ArgumentException">No members, or members of different architectures or vocabularies, or an architecture that cannot be merged (an output BatchNorm, no hidden layer).</exception>
    public static BatchNormCharacterModel Merge(IReadOnlyList<BatchNormCharacterModel> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0) throw new ArgumentException("Merging needs at least one model.", nameof(members));
        var first = members[0];
        for (int m = 1; m < members.Count; m++)
        {
            if (!EnsembleMerge.Compatible(first.Configuration, members[m].Configuration))
                throw new ArgumentException($"Model {m} has another architecture than model 0; only models that differ at most in their activations (with as many activation groups) merge.", nameof(members));
            if (!members[m].Vocabulary.Symbols.SequenceEqual(first.Vocabulary.Symbols))
                throw new ArgumentException($"Model {m} has another vocabulary than model 0.", nameof(members));
        }
        return new BatchNormCharacterModel(EnsembleMerge.Merge(members.Select(m => m.Network).ToArray()), first.Vocabulary, training: null);
    }

    internal override ModelState ToModelState() => new(
        Configuration, Vocabulary.Symbols, false,
        _network.Tensors.ToDictionary(t => t.Name, t => t.Data, StringComparer.Ordinal))
    { LastSymbolIsUnknown = Vocabulary.UnknownId is not null };

    internal override void ComputeLogits(ReadOnlySpan<int> contexts, int rows, Span<float> logits) => _pool.ComputeLogits(contexts, rows, logits);
}
