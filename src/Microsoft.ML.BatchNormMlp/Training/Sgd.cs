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

    public override void Step(float learningRate)
    {
        bool first = StepCount == 0;
        float mu = Momentum, wd = WeightDecay, keep = 1 - Dampening;
        for (int pi = 0; pi < Parameters.Count; pi++)
        {
            var p = Parameters[pi].Data.AsSpan();
            var grad = Parameters[pi].Grad.AsSpan();
            var v = _velocity[pi].AsSpan();
            for (int i = 0; i < p.Length; i++)
            {
                float g = wd != 0 ? grad[i] + wd * p[i] : grad[i];
                if (mu != 0)
                {
                    v[i] = first ? g : mu * v[i] + keep * g;
                    g = Nesterov ? g + mu * v[i] : v[i];
                }
                p[i] -= learningRate * g;
            }
        }
        StepCount++;
    }
}
