using System.Diagnostics;
using Microsoft.ML.BatchNormMlp.Layers;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>
/// The training loop: draw a minibatch, forward in training mode, fused softmax cross-entropy, backward, optimizer
/// step at the scheduled rate. A step allocates nothing once the workspaces exist. Stops with
/// <see cref="NonFiniteLossException"/> on a NaN or infinite loss (or tensor) and with
/// <see cref="OperationCanceledException"/> on cancellation. With <see cref="TrainingOptions.CheckpointPath"/> it
/// writes a <see cref="CheckpointFile"/> every <see cref="TrainingOptions.CheckpointEvery"/> steps, after the last and
/// when cancelled, never one holding a non-finite tensor; <see cref="Resume"/> continues from one so that the final
/// tensors are bit-identical to an uninterrupted run's (same seed and thread count).
/// </summary>
internal sealed class Trainer
{
    private readonly MlpNetwork _network;
    private readonly TrainingOptions _options;
    private readonly Optimizer _optimizer;
    private readonly Rng _rng;
    private readonly Rng? _dropoutRng;                 // dropout masks: a stream of their own, so the sampler draws the same batches
    private readonly ExponentialMovingAverage? _ema;   // averaged weights, swapped in after the last step
    private int _completedSteps;
    private int[] _order = [];   // ShuffledEpochs: this epoch's permutation of the rows
    private int _cursor;         // next position in _order
    private RngState? _epochStart;   // ShuffledEpochs: the sampler's state before this epoch's shuffle, which rebuilds _order
    private bool _rebuildOrder;      // set by Restore: rebuild _order from _epochStart on the next Train
    private double _lastLoss = double.NaN;
    private double? _lastValidationLoss;
    private DataIdentity? _resumedData;   // the training set a resumed checkpoint was written for

    /// <param name="network">The network to train, initialized.</param>
    /// <param name="options">The run's options; with a <see cref="TrainingOptions.CheckpointPath"/>, checkpoints are written there.</param>
    /// <param name="vocabulary">The symbols (id order) of a character model, recorded in checkpoints so that a resume can check them; null for dense models.</param>
    public Trainer(MlpNetwork network, TrainingOptions options, IReadOnlyList<string>? vocabulary = null)
    {
        ArgumentNullException.ThrowIfNull(network); ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (vocabulary is not null && vocabulary.Count != network.Config.VocabularySize)
            throw new ArgumentException($"The vocabulary holds {vocabulary.Count} symbols but the network's vocabulary size is {network.Config.VocabularySize}.", nameof(vocabulary));
        _network = network;
        _options = options;
        Vocabulary = vocabulary;
        _rng = new Rng(options.Seed);
        _optimizer = options.Optimizer switch
        {
            OptimizerKind.Sgd => new Sgd(network.Parameters, options.Momentum, options.WeightDecay),
            OptimizerKind.Adam => new Adam(network.Parameters, options.AdamBeta1, options.AdamBeta2, options.AdamEpsilon, options.WeightDecay),
            OptimizerKind.AdamW => new Adam(network.Parameters, options.AdamBeta1, options.AdamBeta2, options.AdamEpsilon, options.WeightDecay, decoupled: true),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Optimizer, "Unknown optimizer."),
        };
        if (options.Dropout > 0) _dropoutRng = new Rng(options.Seed ^ DropoutStream);
        network.SetDropout(options.Dropout, _dropoutRng);
        if (options.EmaDecay > 0) _ema = new ExponentialMovingAverage(network.Parameters, options.EmaDecay);
    }

    // Seeds the dropout generator from the run's seed: any fixed odd constant gives an unrelated SplitMix64 stream.
    private const ulong DropoutStream = 0xD1B54A32D192ED03UL;

    /// <summary>
    /// Whether the network is calibrated after the last step: asked for, or needed because the averaged weights replace
    /// the ones whose batches the running statistics followed.
    /// </summary>
    private bool Calibrates => _options.CalibrateAfterTraining || _ema is not null;

    public Optimizer Optimizer => _optimizer;

    /// <summary>Sees every step of <see cref="Train"/> (diagnostics, loss curves); null: nothing is observed.</summary>
    public ITrainingObserver? Observer { get; set; }

    /// <summary>Steps taken so far; <see cref="Train"/> continues from here up to <see cref="TrainingOptions.Steps"/>.</summary>
    public int CompletedSteps => _completedSteps;

    public IReadOnlyList<string>? Vocabulary { get; }

    /// <summary>The step of the last checkpoint this trainer wrote or resumed from; null if none.</summary>
    public int? LastCheckpointStep { get; private set; }

    /// <summary>Everything needed to continue this run bit-identically: weights, buffers, optimizer moments, sampler state.</summary>
    public TrainingCheckpoint Checkpoint() => new(
        _completedSteps, _rng.State, _epochStart, _cursor,
        StateDictionary.Get(_network), _optimizer.GetState(), _optimizer.StepCount, _lastLoss, _lastValidationLoss,
        _dropoutRng?.State, _ema?.GetState() ?? []);

    /// <summary>Restores a <see cref="Checkpoint"/> taken from a trainer of the same architecture and optimizer.</summary>
    public void Restore(TrainingCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (checkpoint.CompletedSteps < 0 || checkpoint.CompletedSteps > _options.Steps)
            throw new ArgumentException($"The checkpoint is at step {checkpoint.CompletedSteps}, outside this run's {_options.Steps} steps.", nameof(checkpoint));
        if (checkpoint.Cursor < 0) throw new ArgumentException($"The checkpoint's epoch cursor {checkpoint.Cursor} is negative.", nameof(checkpoint));
        if ((checkpoint.DropoutSampler is null) != (_dropoutRng is null))
            throw new ArgumentException(_dropoutRng is null ? "The checkpoint holds a dropout generator but this run has no dropout." : "The checkpoint holds no dropout generator but this run has dropout.", nameof(checkpoint));
        if (_ema is null && checkpoint.Ema.Count > 0) throw new ArgumentException("The checkpoint holds averaged (EMA) weights but this run keeps no average.", nameof(checkpoint));
        if (_ema is not null && checkpoint.Ema.Count == 0 && checkpoint.CompletedSteps > 0)
            throw new ArgumentException("The checkpoint holds no averaged (EMA) weights but this run keeps an average.", nameof(checkpoint));
        // Each load checks everything before changing anything; a refused optimizer state puts the network back too.
        var before = StateDictionary.Get(_network);
        StateDictionary.Load(_network, checkpoint.Network);
        var emaBefore = _ema?.GetState();
        try
        {
            _optimizer.LoadState(checkpoint.Optimizer, checkpoint.OptimizerSteps);
            _ema?.LoadState(checkpoint.Ema);
        }
        catch
        {
            StateDictionary.Load(_network, before);
            if (emaBefore is not null) _ema!.LoadState(emaBefore);
            throw;
        }
        if (checkpoint.DropoutSampler is { } dropoutState) _dropoutRng!.State = dropoutState;
        _rng.State = checkpoint.Sampler;
        _epochStart = checkpoint.EpochStart;
        _order = [];
        _rebuildOrder = checkpoint.EpochStart is not null;
        _cursor = checkpoint.Cursor;
        _completedSteps = checkpoint.CompletedSteps;
        _lastLoss = checkpoint.LastLoss;
        _lastValidationLoss = checkpoint.LastValidationLoss;
    }

    /// <summary>
    /// Continues the run saved in the checkpoint file at <paramref name="path"/>: refuses it (an
    /// <see cref="InvalidDataException"/> naming every difference) unless its architecture, vocabulary, fixed training
    /// options (<see cref="CheckpointFile.FixedOptions"/>) and training data are this run's, then restores it.
    /// A corrupt file is a <see cref="ModelFormatException"/>.
    /// </summary>
    public SavedCheckpoint Resume(string path, Dataset train)
    {
        ArgumentException.ThrowIfNullOrEmpty(path); ArgumentNullException.ThrowIfNull(train);
        var saved = CheckpointFile.Load(path);
        var data = new DataIdentity(train.Count, DataFingerprint.Compute(train));
        var differences = CheckpointFile.Differences(saved, _network.Config, Vocabulary, _options, data);
        if (differences.Count > 0)
            throw new InvalidDataException($"Cannot resume from '{path}': {string.Join("; ", differences)}.");
        Restore(saved.State);
        _resumedData = data;
        LastCheckpointStep = saved.State.CompletedSteps;
        return saved;
    }

    public TrainingResult Train(Dataset train, Dataset? validation = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        var o = _options;
        var net = _network;
        var c = net.Config;
        net.CheckDataset(train, "training");
        if (validation is not null) net.CheckDataset(validation, "validation");
        if (train.Count < 2) throw new ArgumentException($"The training set has {train.Count} rows; at least 2 are needed.", nameof(train));
        int batch = Math.Min(o.BatchSize, train.Count), width = train.RowWidth;
        net.Threads = o.Threads;

        var ids = train.IsDense ? [] : new int[batch * width];        // [B, ctx]
        var features = train.IsDense ? new float[batch * width] : []; // [B, F]
        var labels = new int[batch];
        if (o.Sampling == Sampling.ShuffledEpochs && _order.Length != train.Count)
        {
            _order = new int[train.Count];
            if (_rebuildOrder) RebuildOrder();
            else _cursor = _order.Length;   // forces a shuffle before the first batch
        }
        _rebuildOrder = false;

        DataIdentity? data = null;
        if (o.CheckpointPath is not null)
        {
            data = new DataIdentity(train.Count, DataFingerprint.Compute(train));
            if (_resumedData is not null && data != _resumedData)
                throw new InvalidDataException($"This run resumed a checkpoint written for a training set of {_resumedData.Rows} rows (SHA-256 {_resumedData.Sha256[..12]}...), but trains on {data.Rows} rows (SHA-256 {data.Sha256[..12]}...).");
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(o.CheckpointPath))!);   // fail now, not at the first checkpoint
            CheckpointFile.DeleteStaleTemporaryFiles(o.CheckpointPath);
        }

        double loss = _lastLoss;
        double? validationLoss = _lastValidationLoss;
        float lr = float.NaN;
        var clock = Stopwatch.StartNew();
        int first = _completedSteps;
        for (int step = first; step < o.Steps; step++)
        {
            if (cancellation.IsCancellationRequested)
            {
                // Keep the work done so far: a cancelled run can be resumed from exactly here.
                if (data is not null && step > first) SaveCheckpoint(o.CheckpointPath!, data, step - 1, loss, lr);
                cancellation.ThrowIfCancellationRequested();
            }
            int rows = batch;
            if (o.Sampling == Sampling.WithReplacement)
            {
                for (int r = 0; r < rows; r++) CopyRow(train, _rng.NextInt(train.Count), r, ids, features, labels);
            }
            else
            {
                if (_order.Length - _cursor < 2) { _epochStart = _rng.State; Shuffle(_order); _cursor = 0; }
                rows = Math.Min(batch, _order.Length - _cursor);
                for (int r = 0; r < rows; r++) CopyRow(train, _order[_cursor + r], r, ids, features, labels);
                _cursor += rows;
            }

            var input = train.IsDense ? NetworkInput.Dense(features.AsSpan(0, rows * width)) : NetworkInput.Ids(ids.AsSpan(0, rows * width));
            var logits = net.Forward(input, rows, training: true);
            var ws = net.GetWorkspace(rows);
            loss = SoftmaxCrossEntropy.Forward(logits, labels.AsSpan(0, rows), ws.DLogits, rows, c.OutputWidth);
            lr = o.LearningRate.At(step, o.Steps);
            if (!double.IsFinite(loss)) throw new NonFiniteLossException(step, loss, net.FirstNonFiniteActivation(), lr, c.HiddenBatchNorm);
            _optimizer.BeginStep(lr);
            var observer = Observer;
            var layerGradients = observer?.BeforeBackward(step);
            net.Backward(ws.DLogits, o.FuseOptimizerStep ? _optimizer : null, layerGradients);   // fused: each layer is updated while its gradient is in cache
            if (!o.FuseOptimizerStep) _optimizer.GradientsReady(0, net.Parameters.Count);
            _optimizer.EndStep();
            _ema?.Update(step + 1);
            observer?.StepCompleted(step, net, loss, lr);

            int done = step + 1;
            _completedSteps = done;
            _lastLoss = loss;
            bool lastStep = done == o.Steps;
            if (validation is not null && ((o.ValidationEvery > 0 && done % o.ValidationEvery == 0) || lastStep))
                _lastValidationLoss = validationLoss = net.Evaluate(validation, o.EvaluationChunk);
            if (data is not null && (lastStep || (o.CheckpointEvery > 0 && done % o.CheckpointEvery == 0)))
                SaveCheckpoint(o.CheckpointPath!, data, step, loss, lr);
            if (progress is not null && (done % o.ProgressEvery == 0 || lastStep))
                progress.Report(new TrainingProgress(done, o.Steps, loss, lr, (done - first) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), validationLoss));
        }
        clock.Stop();
        if (_completedSteps > first && FirstNonFiniteTensor() is { } broken)
            throw NonFiniteLossException.AfterUpdate(_completedSteps - 1, loss, broken, lr, c.HiddenBatchNorm);

        if (_ema is not null) _ema.CopyTo();   // the model is the average from here on
        if (Calibrates)
        {
            net.Calibrate(train);
            if (validation is not null) validationLoss = net.Evaluate(validation, o.EvaluationChunk);
        }
        return new TrainingResult(_completedSteps, loss, validationLoss, (o.Steps - first) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), clock.Elapsed);
    }

    // The checkpoint written after step `step` (0-based). Never one with a non-finite tensor: the last good one stays.
    private void SaveCheckpoint(string path, DataIdentity data, int step, double loss, float lr)
    {
        if (FirstNonFiniteTensor() is { } broken)
            throw NonFiniteLossException.AfterUpdate(step, loss, broken, lr, _network.Config.HiddenBatchNorm);
        CheckpointFile.Save(path, new SavedCheckpoint(_network.Config, Vocabulary, CheckpointFile.FixedOptions(_options), data, Checkpoint()));
        LastCheckpointStep = _completedSteps;
    }

    private string? FirstNonFiniteTensor()
    {
        foreach (var t in _network.Tensors)
            if (!IsFinite(t.Data)) return t.Name;
        foreach (var t in _optimizer.GetState())
            if (!IsFinite(t.Data)) return "optimizer." + t.Name;
        if (_ema is not null)
            foreach (var t in _ema.GetState())
                if (!IsFinite(t.Data)) return "ema." + t.Name;
        return null;
    }

    private static bool IsFinite(ReadOnlySpan<float> values)
    {
        foreach (float v in values) if (!float.IsFinite(v)) return false;
        return true;
    }

    // Restore kept only the sampler's state before the epoch's shuffle; replaying that shuffle gives the permutation,
    // and must leave the sampler exactly where the checkpoint found it (shuffled epochs draw nothing else).
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
