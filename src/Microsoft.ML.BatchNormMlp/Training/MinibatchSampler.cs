using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>
/// Draws the minibatches of a run from its seed (<see cref="Sampling"/>): rows with replacement, or shuffled epochs
/// cut into consecutive batches. Every engine trains on the batches this draws, so that the engines see the same data
/// in the same order. Its state (<see cref="State"/>, <see cref="EpochStart"/>, <see cref="Cursor"/>) is what a
/// checkpoint records; with shuffled epochs the permutation itself is rebuilt from the state before its shuffle.
/// </summary>
internal sealed class MinibatchSampler
{
    private readonly Sampling _sampling;
    private readonly Rng _rng;
    private int[] _order = [];       // ShuffledEpochs: this epoch's permutation of the rows
    private int _cursor;             // next position in _order
    private RngState? _epochStart;   // ShuffledEpochs: the generator's state before this epoch's shuffle, which rebuilds _order
    private bool _rebuildOrder;      // set by Restore: rebuild _order from _epochStart on the next Prepare

    public MinibatchSampler(Sampling sampling, ulong seed)
    {
        _sampling = sampling;
        _rng = new Rng(seed);
    }

    /// <summary>The generator's state.</summary>
    public RngState State => _rng.State;

    /// <summary>Shuffled epochs: the generator's state before the current epoch's shuffle; null before the first epoch and when sampling with replacement.</summary>
    public RngState? EpochStart => _epochStart;

    /// <summary>Shuffled epochs: the next position in the current epoch's permutation.</summary>
    public int Cursor => _cursor;

    /// <summary>Puts the sampler where a checkpoint found it; the permutation is rebuilt by the next <see cref="Prepare"/>.</summary>
    public void Restore(RngState state, RngState? epochStart, int cursor)
    {
        if (cursor < 0) throw new ArgumentException($"The checkpoint's epoch cursor {cursor} is negative.", nameof(cursor));
        _rng.State = state;
        _epochStart = epochStart;
        _order = [];
        _rebuildOrder = epochStart is not null;
        _cursor = cursor;
    }

    /// <summary>Before drawing from a training set of <paramref name="rows"/> rows (each <c>Train</c> call).</summary>
    public void Prepare(int rows)
    {
        if (_sampling == Sampling.ShuffledEpochs && _order.Length != rows)
        {
            _order = new int[rows];
            if (_rebuildOrder) RebuildOrder();
            else _cursor = _order.Length;   // forces a shuffle before the first batch
        }
        _rebuildOrder = false;
    }

    /// <summary>
    /// Copies the next batch of at most <paramref name="batch"/> rows into <paramref name="ids"/> or
    /// <paramref name="features"/> and <paramref name="labels"/>; returns its row count.
    /// </summary>
    public int Next(Dataset train, int batch, int[] ids, float[] features, int[] labels)
    {
        if (_sampling == Sampling.WithReplacement)
        {
            for (int r = 0; r < batch; r++) CopyRow(train, _rng.NextInt(train.Count), r, ids, features, labels);
            return batch;
        }
        if (_order.Length - _cursor < 2) { _epochStart = _rng.State; Shuffle(_order); _cursor = 0; }
        int rows = Math.Min(batch, _order.Length - _cursor);
        for (int r = 0; r < rows; r++) CopyRow(train, _order[_cursor + r], r, ids, features, labels);
        _cursor += rows;
        return rows;
    }

    // Restore kept only the generator's state before the epoch's shuffle; replaying that shuffle gives the permutation,
    // and must leave the generator exactly where the checkpoint found it (shuffled epochs draw nothing else).
    private void RebuildOrder()
    {
        var now = _rng.State;
        if (_cursor > _order.Length)
            throw new InvalidDataException($"The checkpoint's epoch cursor {_cursor} lies beyond the training set's {_order.Length} rows.");
        _rng.State = _epochStart!.Value;
        Shuffle(_order);
        if (_rng.State != now)
            throw new InvalidDataException($"The checkpoint's sampler state does not follow from its epoch's shuffle of {_order.Length} rows: it was written for other training data.");
    }

    private static void CopyRow(Dataset data, int row, int slot, int[] ids, float[] features, int[] labels)
    {
        int w = data.RowWidth;
        if (data.IsDense) data.Features.AsSpan(row * w, w).CopyTo(features.AsSpan(slot * w, w));
        else data.Contexts.AsSpan(row * w, w).CopyTo(ids.AsSpan(slot * w, w));
        labels[slot] = data.Labels[row];
    }

    private void Shuffle(int[] order)
    {
        for (int i = 0; i < order.Length; i++) order[i] = i;
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = _rng.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
    }
}
