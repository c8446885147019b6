namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// Opt-in training diagnostics (<see cref="BatchNormMlpTrainer.Options.Diagnostics"/>): what to measure and how
/// often. Measuring reads the step's activations and gradients after the optimizer step and never changes the
/// training trajectory: a run with diagnostics reaches the same weights as one without. Managed engine only.
/// The trainer copies the options, so later changes do not affect it.
/// </summary>
public sealed class TrainingDiagnosticsOptions
{
    /// <summary>Measure the layers on steps 0, Interval, 2 × Interval, … (0-based), 1 to <see cref="CharacterModelDefaults.MaxSteps"/>. Every step's loss is kept regardless.</summary>
    public int Interval { get; set; } = CharacterModelDefaults.DiagnosticsInterval;

    /// <summary>Whether each measured step keeps histograms of every hidden layer's activations, outputs and gradients (<see cref="DiagnosticsSnapshot.Histograms"/>).</summary>
    public bool Histograms { get; set; } = true;

    /// <summary>Bins of each histogram, 1 to <see cref="CharacterModelDefaults.MaxHistogramBins"/>.</summary>
    public int HistogramBins { get; set; } = CharacterModelDefaults.HistogramBins;

    /// <summary>
    /// Whether each measured step keeps a copy of every hidden layer's outputs on its minibatch
    /// (<see cref="DiagnosticsSnapshot.LayerOutputs"/>): batch size × the sum of the hidden widths floats per
    /// measured step, so measure rarely with it (e.g. <see cref="Interval"/> = steps - 1: the first and last step).
    /// </summary>
    public bool LayerOutputs { get; set; }

    /// <summary>A copy of these options.</summary>
    public TrainingDiagnosticsOptions Clone() => (TrainingDiagnosticsOptions)MemberwiseClone();

    /// <summary>Throws when a field is out of range, naming the field and the range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A field is out of range (the parameter name is the field's).</exception>
    public void Validate()
    {
        if (Interval is < 1 or > CharacterModelDefaults.MaxSteps)
            throw new ArgumentOutOfRangeException(nameof(Interval), Interval, $"{nameof(TrainingDiagnosticsOptions)}.{nameof(Interval)} must be between 1 and {CharacterModelDefaults.MaxSteps} steps; got {Interval}.");
        if (HistogramBins is < 1 or > CharacterModelDefaults.MaxHistogramBins)
            throw new ArgumentOutOfRangeException(nameof(HistogramBins), HistogramBins, $"{nameof(TrainingDiagnosticsOptions)}.{nameof(HistogramBins)} must be between 1 and {CharacterModelDefaults.MaxHistogramBins}; got {HistogramBins}.");
    }
}
