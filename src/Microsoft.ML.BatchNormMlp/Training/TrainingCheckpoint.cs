using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>
/// A training run's complete state between two steps (see <see cref="Trainer.Checkpoint"/>): the network's tensors,
/// the optimizer's moments by name (PyTorch's names: <c>momentum_buffer.{param}</c>, <c>exp_avg.{param}</c>,
/// <c>exp_avg_sq.{param}</c>) and step count, and the minibatch sampler's state. With shuffled epochs the epoch's
/// permutation is not stored: <see cref="EpochStart"/> (the sampler's state before the epoch's shuffle) rebuilds it,
/// and <see cref="Cursor"/> is the next position in it. <see cref="CheckpointFile"/> writes it to disk.
/// </summary>
/// <param name="CompletedSteps">Steps taken; also the learning-rate schedule's position and the validation cadence's.</param>
/// <param name="Sampler">The minibatch sampler's generator state.</param>
/// <param name="EpochStart">Shuffled epochs: the sampler's state before the current epoch's shuffle; null before the first epoch and when sampling with replacement.</param>
/// <param name="Cursor">Shuffled epochs: the next position in the current epoch's permutation.</param>
/// <param name="Network">The network's tensors (weights and BatchNorm running statistics) by name.</param>
/// <param name="Optimizer">The optimizer's state tensors by name.</param>
/// <param name="OptimizerSteps">The optimizer's step count (Adam's bias corrections depend on it).</param>
/// <param name="LastLoss">The last step's minibatch loss (NaN before the first step).</param>
/// <param name="LastValidationLoss">The last validation loss measured, if any.</param>
/// <param name="DropoutSampler">With dropout: the mask generator's state; null without dropout.</param>
/// <param name="EmaAverage">With an EMA of the weights: the average by parameter name; empty without one (or before the first step).</param>
internal sealed record TrainingCheckpoint(
    int CompletedSteps, RngState Sampler, RngState? EpochStart, int Cursor,
    IReadOnlyList<TensorValue> Network, IReadOnlyList<TensorValue> Optimizer, int OptimizerSteps,
    double LastLoss = double.NaN, double? LastValidationLoss = null, RngState? DropoutSampler = null, IReadOnlyList<TensorValue>? EmaAverage = null)
{
    /// <summary>The EMA tensors (never null).</summary>
    public IReadOnlyList<TensorValue> Ema => EmaAverage ?? [];
}
