using System.Numerics.Tensors;
using System.Numerics;
using System.Runtime.InteropServices;
using Microsoft.ML.BatchNormMlp.Layers;

namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>
/// torch.optim.SGD: g = grad + weight_decay·p; with momentum the buffer starts as g and then is
/// momentum·buf + (1 - dampening)·g; p -= lr·buf (Nesterov: p -= lr·(g + momentum·buf)).
/// </summary>
internal sealed class Sgd : Optimizer
{
    private readonly float[][] _velocity;

    public Sgd(IReadOnlyList<Parameter> parameters, float momentum = 0, float weightDecay = 0, float dampening = 0, bool nesterov = false) : base(parameters)
    {
        if (momentum < 0 || weightDecay < 0 || dampening < 0) throw new ArgumentOutOfRangeException(nameof(momentum), "Momentum, weight decay and dampening must not be negative.");
        if (nesterov && (momentum == 0 || dampening != 0)) throw new ArgumentException("Nesterov momentum needs a momentum and zero dampening.", nameof(nesterov));
        Momentum = momentum; WeightDecay = weightDecay; Dampening = dampening; Nesterov = nesterov;
        _velocity = new float[parameters.Count][];
        for (int i = 0; i < parameters.Count; i++) _velocity[i] = momentum != 0 ? new float[parameters[i].Data.Length] : [];
    }

    public float Momentum { get; }

    public float WeightDecay { get; }

    public float Dampening { get; }

    public bool Nesterov { get; }

    protected override IEnumerable<(string Name, float[][] PerParameter)> StateSlots => [("momentum_buffer", _velocity)];

    protected override void Update(int index) =>
        Update(Parameters[index].Data, Parameters[index].Grad, _velocity[index], LearningRate, StepCount == 0);

    private void Update(Span<float> p, ReadOnlySpan<float> grad, Span<float> v, float lr, bool first)
    {
        float mu = Momentum, wd = WeightDecay, keep = first ? 1 : 1 - Dampening, decay = first ? 0 : mu;
        if (mu == 0 && wd == 0)
        {
            TensorPrimitives.MultiplyAdd(grad, -lr, p, p);   // the seeds' plain SGD: p += (-lr)·g
            return;
        }
        bool momentum = mu != 0, nesterov = Nesterov;
        int n = p.Length, i = 0;
        ref float pp = ref MemoryMarshal.GetReference(p);
        ref float pg = ref MemoryMarshal.GetReference(grad);
        ref float pv = ref MemoryMarshal.GetReference(v);
        for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
        {
            var u = (nuint)i;
            var w = Vector.LoadUnsafe(ref pp, u);
            var g = Vector.LoadUnsafe(ref pg, u) + w * wd;
            if (momentum)
            {
                // First step: buf = g (decay 0, keep 1); later: buf = mu·buf + (1 - dampening)·g.
                var b = Vector.LoadUnsafe(ref pv, u) * decay + g * keep;
                b.StoreUnsafe(ref pv, u);
                g = nesterov ? g + b * mu : b;
            }
            (w - g * lr).StoreUnsafe(ref pp, u);
        }
        for (; i < n; i++)
        {
            float g = grad[i] + wd * p[i];
            if (momentum)
            {
                v[i] = decay * v[i] + keep * g;
                g = nesterov ? g + mu * v[i] : v[i];
            }
            p[i] -= lr * g;
        }
    }
}
