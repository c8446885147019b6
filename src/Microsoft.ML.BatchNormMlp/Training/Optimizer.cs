using Microsoft.ML.BatchNormMlp.Layers;
using Microsoft.ML.BatchNormMlp.Model;

namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>
/// Updates parameters from the gradients the last backward pass wrote. State (moments) is allocated up front.
/// A step is <see cref="BeginStep"/>, updates of every parameter (all at once through <see cref="Step"/>, or layer by
/// layer during backward as an <see cref="IGradientSink"/>), then <see cref="EndStep"/>. Each parameter's update
/// reads only its own gradient and state, so both ways give bit-identical results.
/// </summary>
internal abstract class Optimizer : IGradientSink
{
    private bool _inStep;
    private int _updated;

    protected Optimizer(IReadOnlyList<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters;
    }

    protected IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>Number of completed steps.</summary>
    public int StepCount { get; private set; }

    /// <summary>The rate of the step under way.</summary>
    protected float LearningRate { get; private set; }

    /// <summary>Updates every parameter at <paramref name="learningRate"/>.</summary>
    public void Step(float learningRate)
    {
        BeginStep(learningRate);
        GradientsReady(0, Parameters.Count);
        EndStep();
    }

    public void BeginStep(float learningRate)
    {
        if (_inStep) throw new InvalidOperationException("BeginStep called twice without EndStep.");
        _inStep = true;
        _updated = 0;
        LearningRate = learningRate;
        OnBeginStep();
    }

    public void GradientsReady(int first, int count)
    {
        if (!_inStep) throw new InvalidOperationException("Parameters can only be updated between BeginStep and EndStep.");
        for (int i = first; i < first + count; i++) Update(i);
        _updated += count;
    }

    public void EndStep()
    {
        if (!_inStep) throw new InvalidOperationException("EndStep called without BeginStep.");
        if (_updated != Parameters.Count)
            throw new InvalidOperationException($"The step updated {_updated} parameter tensors, not the {Parameters.Count} the optimizer holds.");
        _inStep = false;
        StepCount++;
    }

    /// <summary>Per-step constants (Adam's bias corrections); <see cref="StepCount"/> is still the count before this step.</summary>
    protected virtual void OnBeginStep() { }

    /// <summary>Updates <c>Parameters[index]</c> from its gradient.</summary>
    protected abstract void Update(int index);
}
