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

    /// <summary>Named per-parameter state arrays (one per parameter, empty where unused), e.g. SGD's momentum buffers.</summary>
    protected abstract IEnumerable<(string Name, float[][] PerParameter)> StateSlots { get; }

    /// <summary>A copy of the optimizer's state, named <c>{slot}.{parameter name}</c>.</summary>
    public IReadOnlyList<TensorValue> GetState()
    {
        var list = new List<TensorValue>();
        foreach (var (name, arrays) in StateSlots)
            for (int i = 0; i < Parameters.Count; i++)
                if (arrays[i].Length > 0) list.Add(new($"{name}.{Parameters[i].Name}", (int[])Parameters[i].Shape.Clone(), (float[])arrays[i].Clone()));
        return list;
    }

    /// <summary>Loads <see cref="GetState"/>'s output strictly (every name, right shapes, nothing else) and the step count.</summary>
    public void LoadState(IReadOnlyList<TensorValue> state, int stepCount)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (stepCount < 0) throw new ArgumentOutOfRangeException(nameof(stepCount), stepCount, "The step count must not be negative.");
        var byName = state.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var problems = new List<string>();
        var targets = new List<(float[] Target, float[] Source)>();
        foreach (var (name, arrays) in StateSlots)
            for (int i = 0; i < Parameters.Count; i++)
            {
                if (arrays[i].Length == 0) continue;
                string key = $"{name}.{Parameters[i].Name}";
                if (!byName.Remove(key, out var value)) problems.Add($"missing optimizer tensor '{key}'");
                else if (value.Data.Length != arrays[i].Length) problems.Add($"optimizer tensor '{key}' holds {value.Data.Length} values, not {arrays[i].Length}");
                else targets.Add((arrays[i], value.Data));
            }
        foreach (var name in byName.Keys) problems.Add($"unexpected optimizer tensor '{name}'");
        if (problems.Count > 0) throw new InvalidDataException("Cannot load the optimizer state: " + string.Join("; ", problems) + ".");
        foreach (var (target, source) in targets) source.CopyTo(target, 0);
        StepCount = stepCount;
    }

    /// <summary>Per-step constants (Adam's bias corrections); <see cref="StepCount"/> is still the count before this step.</summary>
    protected virtual void OnBeginStep() { }

    /// <summary>Updates <c>Parameters[index]</c> from its gradient.</summary>
    protected abstract void Update(int index);
}
