using System.Buffers;
using System.Collections.Concurrent;
using System.Numerics;
using Microsoft.ML.BatchNormMlp.Export;
using Microsoft.ML.BatchNormMlp.Model;

namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// A character model as trained: the network with its BatchNorm layers, which normalize with their running
/// statistics (evaluation mode). <see cref="Fold"/> turns it into a faster <see cref="FoldedCharacterModel"/> with
/// the same predictions up to rounding.
/// </summary>
public sealed class BatchNormCharacterModel : CharacterModel
{
    private const int ChunkRows = 256;
    private const int Buckets = 9;   // workspaces of 1, 2, 4, ..., 256 rows

    private readonly MlpNetwork _network;
    private readonly ConcurrentBag<Workspace>[] _workspaces;

    internal BatchNormCharacterModel(MlpNetwork network, Vocabulary vocabulary, TrainingSummary? training)
        : base(vocabulary, network.Config)
    {
        _network = network;
        Training = training;
        _workspaces = new ConcurrentBag<Workspace>[Buckets];
        for (int i = 0; i < Buckets; i++) _workspaces[i] = [];
    }

    internal static BatchNormCharacterModel FromState(ModelState state, Vocabulary vocabulary, TrainingSummary? training)
    {
        if (state.Folded) throw new ArgumentException("A folded model state makes a FoldedCharacterModel.", nameof(state));
        var network = new MlpNetwork(state.Config);
        StateDictionary.Load(network, state.Tensors.Select(p => new TensorValue(p.Key, Shape(state.Config, p.Key), p.Value)));
        return new BatchNormCharacterModel(network, vocabulary, training);
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
    /// Folds every BatchNorm into the Linear layer before it (or, for pre-activation blocks, into a per-feature
    /// scale and shift): <c>W' = W·γ/√(var+ε)</c>, <c>b' = (b − mean)·γ/√(var+ε) + β</c>. This model is unchanged.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model has no BatchNorm layer (nothing to fold).</exception>
    public FoldedCharacterModel Fold() => new(BatchNormFolding.Fold(ToModelState()), Vocabulary);

    internal override ModelState ToModelState() => new(
        Configuration, Vocabulary.Symbols, false,
        _network.Tensors.ToDictionary(t => t.Name, t => t.Data, StringComparer.Ordinal))
    { LastSymbolIsUnknown = Vocabulary.UnknownId is not null };

    internal override void ComputeLogits(ReadOnlySpan<int> contexts, int rows, Span<float> logits)
    {
        int n = ContextLength, k = Vocabulary.Count;
        if (contexts.Length != rows * n || logits.Length < rows * k)
            throw new ArgumentException($"{rows} rows need {rows * n} context ids and {rows * k} logits; got {contexts.Length} and {logits.Length}.");
        int[]? padded = null;
        try
        {
            for (int start = 0; start < rows; start += ChunkRows)
            {
                int count = Math.Min(ChunkRows, rows - start);
                // Chunks run at a power-of-two size so that a few pooled workspaces serve every call; extra rows are boundary padding.
                int size = (int)BitOperations.RoundUpToPowerOf2((uint)count);
                int bucket = BitOperations.Log2((uint)size);
                var input = contexts.Slice(start * n, count * n);
                if (size != count)
                {
                    padded ??= ArrayPool<int>.Shared.Rent(ChunkRows * n);
                    input.CopyTo(padded);
                    padded.AsSpan(count * n, (size - count) * n).Clear();
                    input = padded.AsSpan(0, size * n);
                }
                if (!_workspaces[bucket].TryTake(out var ws)) ws = new Workspace(_network, size, forwardOnly: true);
                try
                {
                    _network.Infer(NetworkInput.Ids(input), size, ws)[..(count * k)].CopyTo(logits.Slice(start * k, count * k));
                }
                finally { _workspaces[bucket].Add(ws); }
            }
        }
        finally { if (padded is not null) ArrayPool<int>.Shared.Return(padded); }
    }
}
