using System.Diagnostics;
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
/// The step itself is an <see cref="ITrainingEngine"/>'s (<see cref="TrainingOptions.Engine"/>, chosen by
/// <see cref="TrainingEngines"/>); everything else here is the same for every engine, and checkpoints name the
/// optimizer state alike, so either engine resumes the other's. Dispose it to release an engine's native memory.
/// </summary>
internal sealed class Trainer : IDisposable
{
    private readonly MlpNetwork _network;
    private readonly TrainingOptions _options;
    private readonly ITrainingEngine _engine;
    private readonly bool _ownsEngine;
    private readonly MinibatchSampler _sampler;
    private readonly Rng? _dropoutRng;                 // dropout masks: a stream of their own, so the sampler draws the same batches
    private readonly IWeightAverage? _ema;            // the engine's average of the weights, swapped in after the last step
    private int _completedSteps;
    private double _lastLoss = double.NaN;
    private double? _lastValidationLoss;
    private DataIdentity? _resumedData;   // the training set a resumed checkpoint was written for

    /// <param name="network">The network to train, initialized.</param>
    /// <param name="options">The run's options; with a <see cref="TrainingOptions.CheckpointPath"/>, checkpoints are written there.</param>
    /// <param name="vocabulary">The symbols (id order) of a character model, recorded in checkpoints so that a resume can check them; null for dense models.</param>
    public Trainer(MlpNetwork network, TrainingOptions options, IReadOnlyList<string>? vocabulary = null)
        : this(network, options, vocabulary, engine: null)
    {
    }

    /// <summary>A trainer driving <paramref name="engine"/> (made by <see cref="TrainingEngines.Create"/> for this network and
    /// optimizer), which it does not dispose: one engine serves several runs (the step benchmark's repeats). Null: its own.</summary>
    public Trainer(MlpNetwork network, TrainingOptions options, IReadOnlyList<string>? vocabulary, ITrainingEngine? engine)
    {
        ArgumentNullException.ThrowIfNull(network); ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.EnsembleMembers != 1)
            throw new ArgumentException($"A Trainer trains one network; {options.EnsembleMembers} ensemble members train through EnsembleTraining.", nameof(options));
        if (vocabulary is not null && vocabulary.Count != network.Config.VocabularySize)
            throw new ArgumentException($"The vocabulary holds {vocabulary.Count} symbols but the network's vocabulary size is {network.Config.VocabularySize}.", nameof(vocabulary));
        _network = network;
        _options = options;
        Vocabulary = vocabulary;
        _sampler = new MinibatchSampler(options.Sampling, options.Seed);
        _ownsEngine = engine is null;
        _engine = engine ?? TrainingEngines.Create(network, options);
        // Both engines take dropout from the network (its rate and this stream) and keep the average themselves.
        if (options.Dropout > 0) _dropoutRng = new Rng(options.Seed ^ DropoutStream);
        network.SetDropout(options.Dropout, _dropoutRng);
        _ema = _engine.Average;
        if ((_ema is not null) != (options.EmaDecay > 0) || (_ema is not null && _ema.Decay != options.EmaDecay))
            throw new ArgumentException($"The engine handed in keeps {(_ema is null ? "no average" : $"an average of decay {_ema.Decay}")}, but the run asks for EMA decay {options.EmaDecay}.", nameof(engine));
        _ema?.LoadState([]);   // this run's average starts at its first step (an engine handed in may have served another run)
    }

    // Seeds the dropout generator from the run's seed: any fixed odd constant gives an unrelated SplitMix64 stream.
    private const ulong DropoutStream = 0xD1B54A32D192ED03UL;

    /// <summary>
    /// Whether the network is calibrated after the last step: asked for, or needed because the averaged weights replace
    /// the ones whose batches the running statistics followed.
    /// </summary>
    private bool Calibrates => _options.CalibrateAfterTraining || SwapsInAverage;

    private bool SwapsInAverage => _ema is not null && _options.FinishWithAverage;

    /// <summary>The engine computing the steps.</summary>
    public TrainingEngine Engine => _engine.Kind;

    /// <summary>The managed engine's optimizer (the TorchSharp engine's is torch.optim's: see <see cref="Checkpoint"/> for its state).</summary>
    public Optimizer Optimizer => (_engine as ManagedEngine)?.Optimizer
        ?? throw new InvalidOperationException($"The {_engine.Kind} engine's optimizer is not a managed Optimizer; its state is in Checkpoint().Optimizer.");

    /// <summary>Sees every step of <see cref="Train"/> (diagnostics, loss curves); null: nothing is observed. Managed engine only.</summary>
    public ITrainingObserver? Observer { get; set; }

    /// <summary>Steps taken so far; <see cref="Train"/> continues from here up to <see cref="TrainingOptions.Steps"/>.</summary>
    public int CompletedSteps => _completedSteps;

    public IReadOnlyList<string>? Vocabulary { get; }

    /// <summary>The step of the last checkpoint this trainer wrote or resumed from; null if none.</summary>
    public int? LastCheckpointStep { get; private set; }

    /// <summary>Everything needed to continue this run bit-identically: weights, buffers, optimizer moments, sampler state.</summary>
    public TrainingCheckpoint Checkpoint()
    {
        _engine.Synchronize();
        return new(_completedSteps, _sampler.State, _sampler.EpochStart, _sampler.Cursor,
            StateDictionary.Get(_network), _engine.GetOptimizerState(), _engine.OptimizerSteps, _lastLoss, _lastValidationLoss,
            _dropoutRng?.State, _ema?.GetState() ?? []);
    }

    /// <summary>Restores a <see cref="Checkpoint"/> taken from a trainer (of either engine) of the same architecture and optimizer.</summary>
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
        // The network is the model of record: the engine reads it at the start of the next Train.
        var before = StateDictionary.Get(_network);
        StateDictionary.Load(_network, checkpoint.Network);
        var emaBefore = _ema?.GetState();
        try
        {
            _engine.LoadOptimizerState(checkpoint.Optimizer, checkpoint.OptimizerSteps);
            _ema?.LoadState(checkpoint.Ema);
        }
        catch
        {
            StateDictionary.Load(_network, before);
            if (emaBefore is not null) _ema!.LoadState(emaBefore);
            throw;
        }
        if (checkpoint.DropoutSampler is { } dropoutState) _dropoutRng!.State = dropoutState;
        _sampler.Restore(checkpoint.Sampler, checkpoint.EpochStart, checkpoint.Cursor);
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
        if (Observer is not null && _engine.Kind != TrainingEngine.Managed)
            throw new NotSupportedException($"Training diagnostics (an ITrainingObserver) read the managed engine's activations and gradients; the {_engine.Kind} engine cannot run them. Use Engine = Managed.");
        int batch = Math.Min(o.BatchSize, train.Count), width = train.RowWidth;

        var ids = train.IsDense ? [] : new int[batch * width];        // [B, ctx]
        var features = train.IsDense ? new float[batch * width] : []; // [B, F]
        var labels = new int[batch];
        _sampler.Prepare(train.Count);

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
        int first = _completedSteps;
        var engine = _engine;
        net.Threads = o.Threads;   // validation, calibration and divergence diagnosis run on the network, whatever the engine
        engine.Begin(batch);
        bool everyStep = engine.ReadsLossEveryStep;
        var clock = Stopwatch.StartNew();
        try
        {
            for (int step = first; step < o.Steps; step++)
            {
                if (cancellation.IsCancellationRequested)
                {
                    // Keep the work done so far: a cancelled run can be resumed from exactly here.
                    if (data is not null && step > first) SaveCheckpoint(o.CheckpointPath!, data, step - 1, loss, lr);
                    cancellation.ThrowIfCancellationRequested();
                }
                int rows = _sampler.Next(train, batch, ids, features, labels);
                int done = step + 1;
                bool lastStep = done == o.Steps;
                bool validate = validation is not null && ((o.ValidationEvery > 0 && done % o.ValidationEvery == 0) || lastStep);
                bool checkpoint = data is not null && (lastStep || (o.CheckpointEvery > 0 && done % o.CheckpointEvery == 0));
                bool report = progress is not null && (done % o.ProgressEvery == 0 || lastStep);
                bool readLoss = everyStep || lastStep || validate || checkpoint || report;

                var input = train.IsDense ? NetworkInput.Dense(features.AsSpan(0, rows * width)) : NetworkInput.Ids(ids.AsSpan(0, rows * width));
                double stepLoss = engine.Forward(input, labels, rows, readLoss);
                lr = o.LearningRate.At(step, o.Steps);
                if (readLoss)
                {
                    loss = stepLoss;
                    if (!double.IsFinite(loss)) throw new NonFiniteLossException(step, loss, engine.FirstNonFiniteActivation(input, rows), lr, c.HiddenBatchNorm);
                }
                var observer = Observer;
                var layerGradients = observer?.BeforeBackward(step);
                engine.BackwardAndUpdate(lr, layerGradients);
                _ema?.Update(step + 1);
                observer?.StepCompleted(step, net, loss, lr);

                _completedSteps = done;
                _lastLoss = loss;
                if (validate)
                {
                    engine.Synchronize();
                    _lastValidationLoss = validationLoss = net.Evaluate(validation!, o.EvaluationChunk);
                }
                if (checkpoint) SaveCheckpoint(o.CheckpointPath!, data!, step, loss, lr);
                if (report)
                    progress!.Report(new TrainingProgress(done, o.Steps, loss, lr, (done - first) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), validationLoss));
            }
        }
        finally
        {
            // Whatever stopped the run, the network holds the weights it reached (a diverged run's, for diagnosis).
            engine.Synchronize();
        }
        clock.Stop();
        if (_completedSteps > first && FirstNonFiniteTensor() is { } broken)
            throw NonFiniteLossException.AfterUpdate(_completedSteps - 1, loss, broken, lr, c.HiddenBatchNorm);

        if (SwapsInAverage) _ema!.CopyTo();   // the model is the average from here on
        if (Calibrates)
        {
            net.Calibrate(train);
            if (validation is not null) validationLoss = net.Evaluate(validation, o.EvaluationChunk);
        }
        return new TrainingResult(_completedSteps, loss, validationLoss, (o.Steps - first) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), clock.Elapsed);
    }

    /// <summary>Releases the engine's resources (native tensors for TorchSharp) unless it was handed in.</summary>
    public void Dispose()
    {
        if (_ownsEngine) _engine.Dispose();
    }

    // The checkpoint written after step `step` (0-based). Never one with a non-finite tensor: the last good one stays.
    private void SaveCheckpoint(string path, DataIdentity data, int step, double loss, float lr)
    {
        _engine.Synchronize();
        if (FirstNonFiniteTensor() is { } broken)
            throw NonFiniteLossException.AfterUpdate(step, loss, broken, lr, _network.Config.HiddenBatchNorm);
        CheckpointFile.Save(path, new SavedCheckpoint(_network.Config, Vocabulary, CheckpointFile.FixedOptions(_options), data, Checkpoint()));
        LastCheckpointStep = _completedSteps;
    }

    // Reads the network as it is: callers synchronize the engine first.
    private string? FirstNonFiniteTensor()
    {
        foreach (var t in _network.Tensors)
            if (!IsFinite(t.Data)) return t.Name;
        foreach (var t in _engine.GetOptimizerState())
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
}
