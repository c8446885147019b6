using System.Buffers;
using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Microsoft.ML.BatchNormMlp.Model;

/// <summary>
/// Evaluation-mode logits of a trained network from any number of threads at once: chunks of at most
/// <see cref="ChunkRows"/> rows run at a power-of-two size (extra rows are zero padding: the boundary id, or zero
/// features) so that a few pooled forward-only workspaces serve every call. The network is never trained further
/// once pooled; <see cref="MlpNetwork.Infer"/> writes no state of it.
/// </summary>
internal sealed class InferencePool
{
    private const int ChunkRows = 256;
    private const int Buckets = 9;   // workspaces of 1, 2, 4, ..., 256 rows

    private readonly ConcurrentBag<Workspace>[] _workspaces;

    public InferencePool(MlpNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        Network = network;
        _workspaces = new ConcurrentBag<Workspace>[Buckets];
        for (int i = 0; i < Buckets; i++) _workspaces[i] = [];
    }

    public MlpNetwork Network { get; }

    /// <summary>Logits [rows, OutputWidth] of symbol contexts [rows, ContextLength] of valid ids.</summary>
    public void ComputeLogits(ReadOnlySpan<int> contexts, int rows, Span<float> logits)
    {
        if (Network.Config.IsDense) throw new InvalidOperationException("This network reads dense feature rows, not symbol ids.");
        Compute(contexts, Network.Config.ContextLength, rows, logits);
    }

    /// <summary>Logits [rows, OutputWidth] of dense feature rows [rows, DenseInputWidth].</summary>
    public void ComputeLogits(ReadOnlySpan<float> features, int rows, Span<float> logits)
    {
        if (!Network.Config.IsDense) throw new InvalidOperationException("This network reads symbol ids, not dense feature rows.");
        Compute(features, Network.Config.DenseInputWidth, rows, logits);
    }

    private void Compute<T>(ReadOnlySpan<T> rowsIn, int n, int rows, Span<float> logits) where T : unmanaged
    {
        int k = Network.Config.OutputWidth;
        if (rowsIn.Length != rows * n || logits.Length < rows * k)
            throw new ArgumentException($"{rows} rows need {rows * n} inputs and {rows * k} logits; got {rowsIn.Length} and {logits.Length}.");
        T[]? padded = null;
        try
        {
            for (int start = 0; start < rows; start += ChunkRows)
            {
                int count = Math.Min(ChunkRows, rows - start);
                int size = (int)BitOperations.RoundUpToPowerOf2((uint)count);
                int bucket = BitOperations.Log2((uint)size);
                var input = rowsIn.Slice(start * n, count * n);
                if (size != count)
                {
                    padded ??= ArrayPool<T>.Shared.Rent(ChunkRows * n);
                    input.CopyTo(padded);
                    padded.AsSpan(count * n, (size - count) * n).Clear();
                    input = padded.AsSpan(0, size * n);
                }
                if (!_workspaces[bucket].TryTake(out var ws)) ws = new Workspace(Network, size, forwardOnly: true);
                try
                {
                    var networkInput = typeof(T) == typeof(int)
                        ? NetworkInput.Ids(MemoryMarshal.Cast<T, int>(input))
                        : NetworkInput.Dense(MemoryMarshal.Cast<T, float>(input));
                    Network.Infer(networkInput, size, ws)[..(count * k)].CopyTo(logits.Slice(start * k, count * k));
                }
                finally { _workspaces[bucket].Add(ws); }
            }
        }
        finally { if (padded is not null) ArrayPool<T>.Shared.Return(padded); }
    }
}
