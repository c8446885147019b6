using Microsoft.ML.BatchNormMlp.Layers;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.BatchNormMlp.Engines.TorchSharp;

/// <summary>
/// <see cref="ExponentialMovingAverage"/> on the TorchSharp engine's device: a shadow tensor per parameter, updated
/// in place after every optimizer step with torch's <c>ema.lerp_(p, 1 - d)</c> (<c>d</c> the same warmed-up decay,
/// <see cref="ExponentialMovingAverage.Amount"/>), outside autograd (the shadows read detached aliases of the
/// module's parameters), with no host synchronisation: the weight is a 0-dim device tensor filled each step.
/// <see cref="CopyTo"/> writes the average into the <see cref="MlpNetwork"/>'s parameters, the model of record, as the
/// managed average does; state names and strict loading are the managed one's.
/// </summary>
internal sealed class TorchWeightAverage : IWeightAverage, IDisposable
{
    private readonly IReadOnlyList<Parameter> _parameters;   // the network's: names, lengths, where CopyTo writes
    private readonly Tensor[] _live;                         // detached aliases of the module's parameters, same order
    private readonly Tensor[] _average;
    private readonly Tensor _weight;                         // 0-dim: this step's 1 - d
    private bool _started;

    /// <param name="parameters">The network's parameters, in the order of <paramref name="live"/>.</param>
    /// <param name="live">The module's parameters (torch tensors on the engine's device).</param>
    /// <param name="decay">The weight of the old average at each step, in (0, 1).</param>
    public TorchWeightAverage(IReadOnlyList<Parameter> parameters, IReadOnlyList<Tensor> live, float decay)
    {
        ArgumentNullException.ThrowIfNull(parameters); ArgumentNullException.ThrowIfNull(live);
        if (!(decay > 0 && decay < 1)) throw new ArgumentOutOfRangeException(nameof(decay), decay, "The EMA decay must be in (0, 1).");
        if (parameters.Count != live.Count) throw new ArgumentException($"{live.Count} tensors for {parameters.Count} parameters.", nameof(live));
        _parameters = parameters;
        Decay = decay;
        _live = live.Select(t => t.detach().DetachFromDisposeScope()).ToArray();
        _average = live.Select(t => zeros_like(t, requires_grad: false).DetachFromDisposeScope()).ToArray();
        _weight = zeros(Array.Empty<long>(), ScalarType.Float32, live[0].device).DetachFromDisposeScope();
    }

    public float Decay { get; }

    public void Update(int step)
    {
        if (!_started)
        {
            for (int i = 0; i < _live.Length; i++) _average[i].copy_(_live[i]);
            _started = true;
            return;
        }
        using (var amount = ExponentialMovingAverage.Amount(Decay, step).ToScalar()) _weight.fill_(amount);
        for (int i = 0; i < _live.Length; i++) _average[i].lerp_(_live[i], _weight);
    }

    public void CopyTo()
    {
        if (!_started) return;
        for (int i = 0; i < _parameters.Count; i++) TorchTensors.CopyOut(_average[i], _parameters[i].Data);
    }

    public IReadOnlyList<TensorValue> GetState()
    {
        if (!_started) return [];
        var list = new List<TensorValue>(_parameters.Count);
        for (int i = 0; i < _parameters.Count; i++)
        {
            var data = new float[_parameters[i].Data.Length];
            TorchTensors.CopyOut(_average[i], data);
            list.Add(new(_parameters[i].Name, (int[])_parameters[i].Shape.Clone(), data));
        }
        return list;
    }

    public void LoadState(IReadOnlyList<TensorValue> state)
    {
        var values = ExponentialMovingAverage.CheckState(state, _parameters);
        if (values is null) { _started = false; return; }
        for (int i = 0; i < _average.Length; i++) TorchTensors.CopyIn(_average[i], values[i]);
        _started = true;
    }

    public void Dispose()
    {
        foreach (var t in _live) t.Dispose();
        foreach (var t in _average) t.Dispose();
        _weight.Dispose();
    }
}
