namespace Microsoft.ML.BatchNormMlp;

/// <summary>Everything measured at one training step (<see cref="TrainingDiagnostics.Snapshots"/>).</summary>
/// <param name="Step">The step, 0-based (step 0's forward figures are the network as initialized).</param>
/// <param name="Loss">The step's minibatch cross-entropy (nats).</param>
/// <param name="LearningRate">The step's learning rate.</param>
/// <param name="Layers">Each hidden layer's statistics, first to last.</param>
/// <param name="UpdateRatios">Each parameter's update:data ratio after the step, in the model file's tensor order.</param>
/// <param name="Histograms">Each hidden layer's histograms, when <see cref="TrainingDiagnosticsOptions.Histograms"/> asked for them; else null.</param>
/// <param name="LayerOutputs">
/// A copy of each hidden layer's outputs on the step's minibatch, row-major [rows, that layer's width] (what a PyTorch
/// forward hook captures), when <see cref="TrainingDiagnosticsOptions.LayerOutputs"/> asked for them; else null.
/// </param>
public sealed record DiagnosticsSnapshot(
    int Step,
    double Loss,
    float LearningRate,
    IReadOnlyList<LayerStatistics> Layers,
    IReadOnlyList<UpdateRatio> UpdateRatios,
    IReadOnlyList<LayerHistograms>? Histograms,
    IReadOnlyList<ReadOnlyMemory<float>>? LayerOutputs = null);
