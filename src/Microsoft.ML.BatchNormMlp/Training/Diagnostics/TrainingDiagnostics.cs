using System.Collections.ObjectModel;

namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// What <see cref="BatchNormMlpTrainer.Options.Diagnostics"/> measured during a training run
/// (<see cref="TrainingSummary.Diagnostics"/>): every step's minibatch loss, and at every
/// <see cref="TrainingDiagnosticsOptions.Interval"/>-th step each hidden layer's activation, output and gradient
/// statistics, every parameter's update:data ratio and, when asked, histograms and the layers' outputs. Immutable.
/// </summary>
public sealed class TrainingDiagnostics
{
    internal TrainingDiagnostics(TrainingDiagnosticsOptions options, float[] losses, IList<DiagnosticsSnapshot> snapshots)
    {
        _options = options.Clone();
        Losses = Array.AsReadOnly(losses);
        Snapshots = new ReadOnlyCollection<DiagnosticsSnapshot>(snapshots);
    }

    private readonly TrainingDiagnosticsOptions _options;

    /// <summary>What was asked for (a copy: changing it changes nothing).</summary>
    public TrainingDiagnosticsOptions Options => _options.Clone();

    /// <summary>The minibatch cross-entropy of every step, in order (single precision: a long run keeps many).</summary>
    public IReadOnlyList<float> Losses { get; }

    /// <summary>The measured steps (0, <see cref="TrainingDiagnosticsOptions.Interval"/>, 2 × Interval, …), in order.</summary>
    public IReadOnlyList<DiagnosticsSnapshot> Snapshots { get; }

    /// <summary>The last measured step, or null when none was measured.</summary>
    public DiagnosticsSnapshot? Latest => Snapshots.Count == 0 ? null : Snapshots[^1];
}
