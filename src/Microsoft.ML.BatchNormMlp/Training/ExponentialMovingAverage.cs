using System.Numerics.Tensors;
using Microsoft.ML.BatchNormMlp.Layers;
using Microsoft.ML.BatchNormMlp.Model;

namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>
/// An exponential moving average of the parameters, kept by the engine beside the weights it trains
/// (<see cref="ITrainingEngine.Average"/>): the managed engine's <see cref="ExponentialMovingAverage"/>, the
/// TorchSharp engine's on its device. The same update, state names and strict loading in both, so a checkpoint's
/// average resumes on either engine.
/// </summary>
internal interface IWeightAverage
{
    /// <summary>The weight of the old average at each step, in (0, 1).</summary>
    float Decay { get; }

    /// <summary>Folds the current weights into the average (the first call copies them); <paramref name="step"/> is the optimizer steps completed, 1 after the first.</summary>
    void Update(int step);

    /// <summary>Writes the average into the network's parameters, the model of record (before any update: leaves them as they are).</summary>
    void CopyTo();

    /// <summary>A copy of the average, named <c>{parameter}</c>; empty before the first update.</summary>
    IReadOnlyList<TensorValue> GetState();

    /// <summary>Loads <see cref="GetState"/>'s output strictly: empty (not started), or every parameter with its length and nothing else.</summary>
    void LoadState(IReadOnlyList<TensorValue> state);
}

/// <summary>
/// An exponential moving average of the parameters, updated after every optimizer step:
/// <c>ema = ema + (1 - d)·(p - ema)</c> (torch's <c>ema.lerp_(p, 1 - d)</c>, as in
/// <c>torch.optim.swa_utils.get_ema_multi_avg_fn</c>) with <c>d = min(decay, (1 + t) / (10 + t))</c> after update t
/// (TensorFlow's <c>num_updates</c> warm-up): a fixed 0.999 would still weigh the first, untrained weights in a run of
/// a few hundred steps (a 150-step quality run scored 2.93 on dev with it, not 2.4). It starts as a copy of the
/// weights at the first update. The
/// average of the late, noisy iterates generalizes better than the last one; <see cref="CopyTo"/> swaps it in at the
/// end of training. BatchNorm's running statistics are buffers, not parameters: they were gathered with the live
/// weights, so the trainer recalibrates them for the averaged ones.
/// </summary>
internal sealed class ExponentialMovingAverage : IWeightAverage
{
    private readonly IReadOnlyList<Parameter> _parameters;
    private readonly float[][] _average;
    private bool _started;

    /// <param name="parameters">The parameters to average (the network's, in layout order).</param>
    /// <param name="decay">The weight of the old average at each step, in (0, 1).</param>
    public ExponentialMovingAverage(IReadOnlyList<Parameter> parameters, float decay)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(decay > 0 && decay < 1)) throw new ArgumentOutOfRangeException(nameof(decay), decay, "The EMA decay must be in (0, 1).");
        _parameters = parameters;
        Decay = decay;
        _average = new float[parameters.Count][];
        for (int i = 0; i < parameters.Count; i++) _average[i] = new float[parameters[i].Data.Length];
    }

    public float Decay { get; }

    /// <summary>Folds the current weights into the average (the first call copies them).</summary>
    /// <param name="step">Optimizer steps completed, 1 after the first: sets the warm-up decay.</param>
    public void Update(int step)
    {
        float amount = Amount(Decay, step);
        for (int i = 0; i < _parameters.Count; i++)
        {
            var p = _parameters[i].Data;
            if (!_started) p.CopyTo(_average[i], 0);
            else TensorPrimitives.Lerp(_average[i], p, amount, _average[i]);
        }
        _started = true;
    }

    /// <summary>Writes the average into the parameters (before any update: leaves them as they are).</summary>
    public void CopyTo()
    {
        if (!_started) return;
        for (int i = 0; i < _parameters.Count; i++) _average[i].CopyTo(_parameters[i].Data, 0);
    }

    /// <summary>A copy of the average, named <c>{parameter}</c>; empty before the first update.</summary>
    public IReadOnlyList<TensorValue> GetState()
    {
        if (!_started) return [];
        var list = new List<TensorValue>(_parameters.Count);
        for (int i = 0; i < _parameters.Count; i++)
            list.Add(new(_parameters[i].Name, (int[])_parameters[i].Shape.Clone(), (float[])_average[i].Clone()));
        return list;
    }

    /// <summary>Loads <see cref="GetState"/>'s output strictly: empty (not started), or every parameter with its length and nothing else.</summary>
    public void LoadState(IReadOnlyList<TensorValue> state)
    {
        var values = CheckState(state, _parameters);
        if (values is null) { _started = false; return; }
        for (int i = 0; i < _parameters.Count; i++) values[i].CopyTo(_average[i], 0);
        _started = true;
    }

    /// <summary>
    /// The interpolation weight of update <paramref name="step"/>: <c>1 - min(decay, (1 + step) / (10 + step))</c>, in
    /// float32 (what both engines pass to their lerp).
    /// </summary>
    public static float Amount(float decay, int step) => 1 - (float)Math.Min(decay, (1.0 + step) / (10.0 + step));

    /// <summary>
    /// Checks an average's state against <paramref name="parameters"/> (every name, its length, nothing else) and
    /// returns its arrays in parameter order; null for the empty state (not started). Throws, changing nothing, otherwise.
    /// </summary>
    public static float[][]? CheckState(IReadOnlyList<TensorValue> state, IReadOnlyList<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Count == 0) return null;
        var byName = state.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var problems = new List<string>();
        var values = new float[parameters.Count][];
        for (int i = 0; i < parameters.Count; i++)
        {
            if (!byName.Remove(parameters[i].Name, out var value)) problems.Add($"missing EMA tensor '{parameters[i].Name}'");
            else if (value.Data.Length != parameters[i].Data.Length) problems.Add($"EMA tensor '{parameters[i].Name}' holds {value.Data.Length} values, not {parameters[i].Data.Length}");
            else values[i] = value.Data;
        }
        foreach (var name in byName.Keys) problems.Add($"unexpected EMA tensor '{name}'");
        if (problems.Count > 0) throw new InvalidDataException("Cannot load the EMA state: " + string.Join("; ", problems) + ".");
        return values;
    }
}
