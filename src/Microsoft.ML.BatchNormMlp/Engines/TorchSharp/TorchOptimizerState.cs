using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using TorchAdam = TorchSharp.Modules.Adam;
using TorchAdamW = TorchSharp.Modules.AdamW;
using TorchSgd = TorchSharp.Modules.SGD;

namespace Microsoft.ML.BatchNormMlp.Engines.TorchSharp;

/// <summary>
/// torch.optim's per-parameter state under the managed optimizers' names (<see cref="Optimizer.GetState"/>):
/// SGD with momentum <c>momentum_buffer.{parameter}</c>, Adam and AdamW <c>exp_avg.{parameter}</c> and
/// <c>exp_avg_sq.{parameter}</c>, so that a checkpoint of either engine resumes on the other. TorchSharp keeps the
/// states in the order the parameters were handed to the optimizer, which is <see cref="MlpNetwork.Parameters"/>'.
/// </summary>
internal static class TorchOptimizerState
{
    /// <summary>The state slots an optimizer of <paramref name="options"/> keeps (empty for plain SGD).</summary>
    public static string[] Slots(TrainingOptions options) =>
        options.Optimizer is OptimizerKind.Adam or OptimizerKind.AdamW ? ["exp_avg", "exp_avg_sq"] : options.Momentum != 0 ? ["momentum_buffer"] : [];

    public static List<TensorValue> Get(optim.Optimizer optimizer, IReadOnlyList<(string Name, int[] Shape)> parameters, TrainingOptions options)
    {
        var list = new List<TensorValue>();
        var states = States(optimizer, parameters.Count);
        foreach (string slot in Slots(options))
            for (int i = 0; i < parameters.Count; i++)
            {
                var (name, shape) = parameters[i];
                Tensor? t = states[i] switch
                {
                    TorchSgd.State s => s.momentum_buffer,   // null before the first step: the managed optimizer's zeros
                    TorchAdam.State a => slot == "exp_avg" ? a.exp_avg : a.exp_avg_sq,
                    TorchAdamW.State w => slot == "exp_avg" ? w.exp_avg : w.exp_avg_sq,
                    _ => throw new InvalidOperationException($"Unexpected optimizer state {states[i].GetType().Name}."),
                };
                var data = new float[shape.Aggregate(1, (a, b) => a * b)];
                if (t is not null) TorchTensors.CopyOut(t, data);
                list.Add(new TensorValue($"{slot}.{name}", (int[])shape.Clone(), data));
            }
        return list;
    }

    /// <summary>Loads <paramref name="state"/> strictly (every name, right sizes, nothing else), like <see cref="Optimizer.LoadState"/>.</summary>
    public static void Load(optim.Optimizer optimizer, IReadOnlyList<(string Name, int[] Shape)> parameters, TrainingOptions options,
        IReadOnlyList<TensorValue> state, int steps, Device device)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (steps < 0) throw new ArgumentOutOfRangeException(nameof(steps), steps, "The step count must not be negative.");
        var byName = state.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var problems = new List<string>();
        var found = new Dictionary<(string, int), float[]>();
        foreach (string slot in Slots(options))
            for (int i = 0; i < parameters.Count; i++)
            {
                var (name, shape) = parameters[i];
                string key = $"{slot}.{name}";
                int count = shape.Aggregate(1, (a, b) => a * b);
                if (!byName.Remove(key, out var value)) problems.Add($"missing optimizer tensor '{key}'");
                else if (value.Data.Length != count) problems.Add($"optimizer tensor '{key}' holds {value.Data.Length} values, not {count}");
                else found[(slot, i)] = value.Data;
            }
        foreach (var name in byName.Keys) problems.Add($"unexpected optimizer tensor '{name}'");
        if (problems.Count > 0) throw new InvalidDataException("Cannot load the optimizer state: " + string.Join("; ", problems) + ".");

        var states = States(optimizer, parameters.Count);
        for (int i = 0; i < parameters.Count; i++)
        {
            long[] shape = parameters[i].Shape.Select(d => (long)d).ToArray();
            switch (states[i])
            {
                case TorchSgd.State s when options.Momentum != 0:
                    s.momentum_buffer?.Dispose();
                    // Before the first step torch's buffer does not exist yet (the first step sets it to the gradient).
                    s.momentum_buffer = steps == 0 ? null! : TorchTensors.FromHost(found[("momentum_buffer", i)], shape, device).DetachFromDisposeScope();
                    break;
                case TorchAdam.State a:
                    a.step = steps;
                    TorchTensors.CopyIn(a.exp_avg, found[("exp_avg", i)]);
                    TorchTensors.CopyIn(a.exp_avg_sq, found[("exp_avg_sq", i)]);
                    break;
                case TorchAdamW.State w:
                    w.step = steps;
                    TorchTensors.CopyIn(w.exp_avg, found[("exp_avg", i)]);
                    TorchTensors.CopyIn(w.exp_avg_sq, found[("exp_avg_sq", i)]);
                    break;
            }
        }
    }

    // TorchSharp's state objects are live (not copies) and in parameter order; the sizes are checked against that order.
    private static List<OptimizerState> States(optim.Optimizer optimizer, int parameters)
    {
        var states = ((OptimizerHelper)optimizer).state_dict().State;
        if (states.Count != parameters)
            throw new InvalidOperationException($"The optimizer holds {states.Count} parameter states, not the network's {parameters}.");
        return states;
    }
}
