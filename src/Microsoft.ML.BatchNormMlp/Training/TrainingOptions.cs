using Microsoft.ML.BatchNormMlp.Model;

namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>How minibatches are drawn from the training set.</summary>
internal enum Sampling
{
    /// <summary>Every row of every batch drawn uniformly with replacement (the makemore seeds' <c>torch.randint</c>).</summary>
    WithReplacement,
    /// <summary>A fresh permutation each epoch, cut into consecutive batches (DataLoader with shuffle=True); a last batch of one row is skipped (BatchNorm cannot train on it).</summary>
    ShuffledEpochs,
}

/// <summary>The optimizer: SGD (with optional momentum), Adam (L2 weight decay in the gradient) or AdamW (decoupled weight decay).</summary>
internal enum OptimizerKind { Sgd, Adam, AdamW }

/// <summary>Training hyperparameters. Internal; the public API wraps it.</summary>
internal sealed record TrainingOptions
{
    /// <summary>Optimizer steps to take.</summary>
    public int Steps { get; init; } = 1000;

    /// <summary>Rows per minibatch.</summary>
    public int BatchSize { get; init; } = 32;

    public Sampling Sampling { get; init; } = Sampling.WithReplacement;

    public LearningRateSchedule LearningRate { get; init; } = new ConstantSchedule(0.1);

    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Sgd;

    /// <summary>SGD momentum (0: plain SGD).</summary>
    public float Momentum { get; init; }

    /// <summary>Weight decay: L2 added to the gradient (SGD, Adam), or decoupled, shrinking the weights by lr·decay a step (AdamW), as PyTorch's optimizers do.</summary>
    public float WeightDecay { get; init; }

    public float AdamBeta1 { get; init; } = 0.9f;

    public float AdamBeta2 { get; init; } = 0.999f;

    public float AdamEpsilon { get; init; } = 1e-8f;

    /// <summary>
    /// Dropout rate on every hidden block during training, in [0, 1) (0: none, bit-identical to no dropout). Masks
    /// come from their own generator (seeded from <see cref="Seed"/>), so the minibatches are the same with and
    /// without it. See <see cref="MlpNetwork.Dropout"/> for where it sits.
    /// </summary>
    public float Dropout { get; init; }

    /// <summary>
    /// Decay of an exponential moving average of the parameters, in [0, 1) (0: none). With it the averaged weights
    /// replace the trained ones after the last step and BatchNorm is recalibrated on the training set for them
    /// (<see cref="ExponentialMovingAverage"/>); validation during training sees the live weights.
    /// </summary>
    public float EmaDecay { get; init; }

    /// <summary>
    /// With an <see cref="EmaDecay"/>: whether the run ends by swapping the average into the network and recalibrating
    /// BatchNorm for it (true, what every run does). False keeps updating the average but leaves the trained weights in
    /// place and recalibrates nothing for it: <see cref="StepBenchmark"/> times steps, and a recalibration over the whole
    /// training set after every timed call made <c>quality</c>'s step look twice as slow as it is.
    /// </summary>
    public bool FinishWithAverage { get; init; } = true;

    /// <summary>
    /// Members of an ensemble: 1 trains one network; K &gt; 1 trains K from seeds <see cref="Seed"/> + m and merges them
    /// into one network whose logits are their mean (<see cref="EnsembleTraining"/>). A <see cref="Trainer"/> trains
    /// one network and refuses K &gt; 1.
    /// </summary>
    public int EnsembleMembers { get; init; } = 1;

    /// <summary>
    /// The members' activations in turn: member m of an ensemble uses <c>EnsembleActivations[m % Count]</c> in place
    /// of the architecture's; null: every member the architecture's. Members of different activations are less alike
    /// than seeds alone make them, and merge into one network with <see cref="MlpConfig.ActivationGroups"/>.
    /// </summary>
    public IReadOnlyList<Activation>? EnsembleActivations { get; init; }

    /// <summary>Evaluate the validation set every this many steps (and after the last); 0 only after the last.</summary>
    public int ValidationEvery { get; init; }

    /// <summary>Rows per forward pass when evaluating.</summary>
    public int EvaluationChunk { get; init; } = 1024;

    /// <summary>Report progress every this many steps (and after the last).</summary>
    public int ProgressEvery { get; init; } = 1000;

    /// <summary>Threads handed to the GEMM.</summary>
    public int Threads { get; init; } = 1;

    /// <summary>Seed of the batch sampler (initialization has its own seed).</summary>
    public ulong Seed { get; init; } = 2147483647;

    /// <summary>
    /// Update each layer's parameters during backward, as soon as their gradients are final (bit-identical to a
    /// separate optimizer pass, with less memory traffic). Off: one pass over all parameters after backward.
    /// </summary>
    public bool FuseOptimizerStep { get; init; } = true;

    /// <summary>Recompute the BatchNorm statistics over the whole training set after the last step (the second seed).</summary>
    public bool CalibrateAfterTraining { get; init; }

    /// <summary>
    /// Where <see cref="Trainer"/> writes its checkpoint file (<see cref="CheckpointFile"/>, replaced atomically each
    /// time); null: no checkpoints.
    /// </summary>
    public string? CheckpointPath { get; init; }

    /// <summary>With a <see cref="CheckpointPath"/>: write a checkpoint every this many steps and after the last; 0: only after the last.</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>What computes the steps (<see cref="TrainingEngines"/> resolves <see cref="TrainingEngine.Auto"/>). Not part of a checkpoint: either engine resumes the other's.</summary>
    public TrainingEngine Engine { get; init; } = TrainingEngine.Auto;

    /// <summary>Where the steps run: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c> (<see cref="TrainingDevice"/>); CUDA needs the TorchSharp engine.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>The most members an ensemble may have (each one is a whole training run).</summary>
    public const int MaxEnsembleMembers = 64;

    public void Validate()
    {
        if (Steps < 0) throw new ArgumentOutOfRangeException(nameof(Steps), Steps, "Steps must not be negative.");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "BatchSize must be at least 1.");
        if (Threads < 1) throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "Threads must be at least 1.");
        if (ValidationEvery < 0) throw new ArgumentOutOfRangeException(nameof(ValidationEvery), ValidationEvery, "ValidationEvery must not be negative.");
        if (ProgressEvery < 1) throw new ArgumentOutOfRangeException(nameof(ProgressEvery), ProgressEvery, "ProgressEvery must be at least 1.");
        if (EvaluationChunk < 1) throw new ArgumentOutOfRangeException(nameof(EvaluationChunk), EvaluationChunk, "EvaluationChunk must be at least 1.");
        if (CheckpointEvery < 0) throw new ArgumentOutOfRangeException(nameof(CheckpointEvery), CheckpointEvery, "CheckpointEvery must not be negative.");
        if (CheckpointEvery > 0 && string.IsNullOrWhiteSpace(CheckpointPath))
            throw new ArgumentException("CheckpointEvery needs a CheckpointPath to write to.", nameof(CheckpointPath));
        if (!(Dropout >= 0 && Dropout < 1)) throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, "Dropout must be in [0, 1).");
        if (EnsembleMembers is < 1 or > MaxEnsembleMembers) throw new ArgumentOutOfRangeException(nameof(EnsembleMembers), EnsembleMembers, $"EnsembleMembers must be between 1 and {MaxEnsembleMembers}.");
        if (EnsembleActivations is { } activations && (activations.Count == 0 || activations.Any(a => !Enum.IsDefined(a))))
            throw new ArgumentException("EnsembleActivations must be null or hold at least one of Tanh and Relu.", nameof(EnsembleActivations));
        if (!(EmaDecay >= 0 && EmaDecay < 1)) throw new ArgumentOutOfRangeException(nameof(EmaDecay), EmaDecay, "EmaDecay must be in [0, 1).");
        ArgumentNullException.ThrowIfNull(LearningRate);
        if (!Enum.IsDefined(Engine)) throw new ArgumentOutOfRangeException(nameof(Engine), Engine, "Engine must be Auto, Managed or TorchSharp.");
        var device = TrainingDevice.Parse(Device, nameof(Device));
        if (device.IsCuda && Engine == TrainingEngine.Managed)
            throw new ArgumentException($"The managed engine runs on the CPU only; device \"{Device}\" needs Engine = TorchSharp (or Auto).", nameof(Device));
    }
}
