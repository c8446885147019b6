using Microsoft.ML.BatchNormMlp.Model;

namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>
/// The part of a training step an engine computes: forward in training mode (with the network's dropout), the loss,
/// backward and the optimizer update, with the optimizer's state and the weights' moving average. Everything around it (sampling, schedule, validation, checkpoints, progress,
/// cancellation, divergence checks, calibration) is <see cref="Trainer"/>'s, the same for every engine.
/// The <see cref="MlpNetwork"/> is the model of record: <see cref="Begin"/> reads the weights from it and
/// <see cref="Synchronize"/> writes them back, so saving, folding, export and evaluation never see an engine.
/// </summary>
internal interface ITrainingEngine : IDisposable
{
    /// <summary>Which engine this is (never <see cref="TrainingEngine.Auto"/>).</summary>
    TrainingEngine Kind { get; }

    /// <summary>Whether every step's loss is read on the host (else only when <see cref="Forward"/> is asked to: no per-step device synchronisation).</summary>
    bool ReadsLossEveryStep { get; }

    /// <summary>Starts a run of batches of at most <paramref name="maxBatch"/> rows from the network's current tensors.</summary>
    void Begin(int maxBatch);

    /// <summary>
    /// Forward and loss of one batch in training mode (BatchNorm updates its running statistics); returns the mean
    /// cross-entropy, read on the host when <paramref name="readLoss"/> or <see cref="ReadsLossEveryStep"/>, else NaN.
    /// </summary>
    double Forward(NetworkInput input, ReadOnlySpan<int> labels, int rows, bool readLoss);

    /// <summary>After a non-finite loss: the first layer of the last forward whose output was not finite, or null.</summary>
    string? FirstNonFiniteActivation(NetworkInput input, int rows);

    /// <summary>Backward through the last <see cref="Forward"/> and the optimizer step at <paramref name="learningRate"/>.</summary>
    void BackwardAndUpdate(float learningRate, IBackwardObserver? observer);

    /// <summary>Writes the engine's weights and buffers into the network (a no-op where the network is the engine's own memory).</summary>
    void Synchronize();

    /// <summary>Optimizer steps taken (Adam's bias corrections and SGD's first momentum step depend on it).</summary>
    int OptimizerSteps { get; }

    /// <summary>A copy of the optimizer's state, named like the managed optimizers' (<see cref="Optimizer.GetState"/>).</summary>
    IReadOnlyList<TensorValue> GetOptimizerState();

    /// <summary>Loads <see cref="GetOptimizerState"/>'s output strictly (any engine's) and the step count.</summary>
    void LoadOptimizerState(IReadOnlyList<TensorValue> state, int optimizerSteps);

    /// <summary>
    /// The exponential moving average of the parameters (<see cref="TrainingOptions.EmaDecay"/> &gt; 0; else null),
    /// kept where the engine keeps the weights; <see cref="Trainer"/> updates it after every step and swaps it in after
    /// the last. Its state has the same names on every engine.
    /// </summary>
    IWeightAverage? Average { get; }
}
