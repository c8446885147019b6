using Microsoft.ML.BatchNormMlp.Layers;

namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>Updates parameters from the gradients the last backward pass wrote. State (moments) is allocated up front.</summary>
internal abstract class Optimizer
{
    protected Optimizer(IReadOnlyList<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters;
    }

    protected IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>Number of steps taken so far.</summary>
    public int StepCount { get; protected set; }

    public abstract void Step(float learningRate);
}
