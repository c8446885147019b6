using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>
/// A training run's complete state between two steps (see <see cref="Trainer.Checkpoint"/>): the network's tensors,
/// the optimizer's moments by name (PyTorch's names: <c>momentum_buffer.{param}</c>, <c>exp_avg.{param}</c>,
/// <c>exp_avg_sq.{param}</c>) and the minibatch sampler's state. Writing it to a file is the model-file code's job.
/// </summary>
internal sealed record TrainingCheckpoint(
    int CompletedSteps, RngState Sampler, int[] Order, int Cursor,
    IReadOnlyList<TensorValue> Network, IReadOnlyList<TensorValue> Optimizer, int OptimizerSteps);
