using System.Diagnostics;
using Microsoft.ML.BatchNormMlp.Layers;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>
/// The training loop: draw a minibatch, forward in training mode, fused softmax cross-entropy, backward, optimizer
/// step at the scheduled rate. A step allocates nothing once the workspaces exist. Stops with
/// <see cref="NonFiniteLossException"/> on a NaN or infinite loss and with <see cref="OperationCanceledException"/>
/// on cancellation.
/// </summary>
internal sealed class Trainer
{
    private readonly MlpNetwork _network;
    private readonly TrainingOptions _options;
    private readonly Optimizer _optimizer;
    private readonly Rng _rng;
    private int _completedSteps;
    private int[] _order = [];   // ShuffledEpochs: this epoch's permutation of the rows
    private int _cursor;         // next position in _order

    public Trainer(MlpNetwork network, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(network); ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _network = network;
        _options = options;
        _rng = new Rng(options.Seed);
        _optimizer = options.Optimizer switch
        {
            OptimizerKind.Sgd => new Sgd(network.Parameters, options.Momentum, options.WeightDecay),
            OptimizerKind.Adam => new Adam(network.Parameters, options.AdamBeta1, options.AdamBeta2, options.AdamEpsilon, options.WeightDecay),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Optimizer, "Unknown optimizer."),
        };
    }

    public Optimizer Optimizer => _optimizer;

    /// <summary>Sees every step of <see cref="Train"/> (diagnostics, loss curves); null: nothing is observed.</summary>
    public ITrainingObserver? Observer { get; set; }

    /// <summary>Steps taken so far; <see cref="Train"/> continues from here up to <see cref="TrainingOptions.Steps"/>.</summary>
    public int CompletedSteps => _completedSteps;

    /// <summary>Everything needed to continue this run bit-identically: weights, buffers, optimizer moments, sampler state.</summary>
    public TrainingCheckpoint Checkpoint() => new(
        _completedSteps, _rng.State, (int[])_order.Clone(), _cursor,
        StateDictionary.Get(_network), _optimizer.GetState(), _optimizer.StepCount);

    /// <summary>Restores a <see cref="Checkpoint"/> taken from a trainer of the same architecture and optimizer.</summary>
    public void Restore(TrainingCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (checkpoint.CompletedSteps < 0 || checkpoint.CompletedSteps > _options.Steps)
            throw new ArgumentException($"The checkpoint is at step {checkpoint.CompletedSteps}, outside this run's {_options.Steps} steps.", nameof(checkpoint));
        StateDictionary.Load(_network, checkpoint.Network);
        _optimizer.LoadState(checkpoint.Optimizer, checkpoint.OptimizerSteps);
        _rng.State = checkpoint.Sampler;
        _order = (int[])checkpoint.Order.Clone();
        _cursor = checkpoint.Cursor;
        _completedSteps = checkpoint.CompletedSteps;
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
            _cursor = _order.Length;   // forces a shuffle before the first batch
        }

        double loss = double.NaN;
        double? validationLoss = null;
        var clock = Stopwatch.StartNew();
        int first = _completedSteps;
        for (int step = first; step < o.Steps; step++)
        {
            cancellation.ThrowIfCancellationRequested();
            int rows = batch;
            if (o.Sampling == Sampling.WithReplacement)
            {
                for (int r = 0; r < rows; r++) CopyRow(train, _rng.NextInt(train.Count), r, ids, features, labels);
            }
            else
            {
                if (_order.Length - _cursor < 2) { Shuffle(_order); _cursor = 0; }
                rows = Math.Min(batch, _order.Length - _cursor);
                for (int r = 0; r < rows; r++) CopyRow(train, _order[_cursor + r], r, ids, features, labels);
                _cursor += rows;
            }

            var input = train.IsDense ? NetworkInput.Dense(features.AsSpan(0, rows * width)) : NetworkInput.Ids(ids.AsSpan(0, rows * width));
            var logits = net.Forward(input, rows, training: true);
            var ws = net.GetWorkspace(rows);
            loss = SoftmaxCrossEntropy.Forward(logits, labels.AsSpan(0, rows), ws.DLogits, rows, c.OutputWidth);
            if (!double.IsFinite(loss)) throw new NonFiniteLossException(step, loss, net.FirstNonFiniteActivation());
            float lr = o.LearningRate.At(step, o.Steps);
            _optimizer.BeginStep(lr);
            var observer = Observer;
            var layerGradients = observer?.BeforeBackward(step);
            net.Backward(ws.DLogits, o.FuseOptimizerStep ? _optimizer : null, layerGradients);   // fused: each layer is updated while its gradient is in cache
            if (!o.FuseOptimizerStep) _optimizer.GradientsReady(0, net.Parameters.Count);
            _optimizer.EndStep();
            observer?.StepCompleted(step, net, loss, lr);

            int done = step + 1;
            _completedSteps = done;
            bool lastStep = done == o.Steps;
            if (validation is not null && ((o.ValidationEvery > 0 && done % o.ValidationEvery == 0) || lastStep))
                validationLoss = net.Evaluate(validation, o.EvaluationChunk);
            if (progress is not null && (done % o.ProgressEvery == 0 || lastStep))
                progress.Report(new TrainingProgress(done, o.Steps, loss, lr, (done - first) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), validationLoss));
        }
        clock.Stop();

        if (o.CalibrateAfterTraining)
        {
            net.Calibrate(train);
            if (validation is not null) validationLoss = net.Evaluate(validation, o.EvaluationChunk);
        }
        return new TrainingResult(_completedSteps, loss, validationLoss, (o.Steps - first) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), clock.Elapsed);
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
