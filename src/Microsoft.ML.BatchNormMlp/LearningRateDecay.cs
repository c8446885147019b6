namespace Microsoft.ML.BatchNormMlp;

/// <summary>How the learning rate changes over a run.</summary>
public enum LearningRateDecay
{
    /// <summary>The same rate at every step.</summary>
    Constant,
    /// <summary>The rate until a step (half-way unless set), then the rate times a factor (the seeds: 0.1 → 0.01).</summary>
    Step,
}
