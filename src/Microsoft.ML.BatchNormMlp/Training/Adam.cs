using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Microsoft.ML.BatchNormMlp.Layers;

namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>
/// torch.optim.Adam (L2 weight decay added to the gradient, no AMSGrad), in PyTorch's arithmetic:
/// m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²; p -= (lr / (1-β1ᵗ)) · m / (√v / √(1-β2ᵗ) + eps).
/// With <c>decoupled</c> it is torch.optim.AdamW: the decay leaves the gradient (and so the moments) alone and shrinks
/// the weights first, p *= 1 - lr·weight_decay, before the same update. L2 decay through Adam is divided by √v, so it
/// barely touches the weights with large gradients; the decoupled one shrinks every weight by the same fraction.
/// </summary>
internal sealed class Adam : Optimizer
{
    private readonly float[][] _m, _v;

    public Adam(IReadOnlyList<Parameter> parameters, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0, bool decoupled = false) : base(parameters)
    {
        if (beta1 is < 0 or >= 1 || beta2 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta1), "Adam's betas must lie in [0, 1).");
        if (epsilon <= 0 || weightDecay < 0) throw new ArgumentOutOfRangeException(nameof(epsilon), "Adam's epsilon must be positive and its weight decay not negative.");
        Beta1 = beta1; Beta2 = beta2; Epsilon = epsilon; WeightDecay = weightDecay; Decoupled = decoupled;
        _m = new float[parameters.Count][];
        _v = new float[parameters.Count][];
        for (int i = 0; i < parameters.Count; i++) { _m[i] = new float[parameters[i].Data.Length]; _v[i] = new float[parameters[i].Data.Length]; }
    }

    public float Beta1 { get; }

    public float Beta2 { get; }

    public float Epsilon { get; }

    public float WeightDecay { get; }

    /// <summary>AdamW: the weight decay shrinks the weights instead of joining the gradient.</summary>
    public bool Decoupled { get; }

    private float _stepSize, _sqrtCorrection2, _shrink;

    protected override IEnumerable<(string Name, float[][] PerParameter)> StateSlots => [("exp_avg", _m), ("exp_avg_sq", _v)];

    protected override void OnBeginStep()
    {
        int t = StepCount + 1;
        _stepSize = (float)(LearningRate / (1 - Math.Pow(Beta1, t)));
        _sqrtCorrection2 = (float)Math.Sqrt(1 - Math.Pow(Beta2, t));
        _shrink = (float)(1 - LearningRate * (double)WeightDecay);   // torch: param.mul_(1 - lr * weight_decay), the factor in float32
    }

    protected override void Update(int index) =>
        Update(Parameters[index].Data, Parameters[index].Grad, _m[index], _v[index], _stepSize, _sqrtCorrection2);

    private void Update(Span<float> p, ReadOnlySpan<float> grad, Span<float> m, Span<float> v, float stepSize, float sqrtCorrection2)
    {
        float b1 = Beta1, b2 = Beta2, eps = Epsilon, wd = Decoupled ? 0 : WeightDecay;
        if (Decoupled && WeightDecay != 0) TensorPrimitives.Multiply(p, _shrink, p);
        int n = p.Length, i = 0;
        ref float pp = ref MemoryMarshal.GetReference(p); ref float pg = ref MemoryMarshal.GetReference(grad);
        ref float pm = ref MemoryMarshal.GetReference(m); ref float pv = ref MemoryMarshal.GetReference(v);
        for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
        {
            var u = (nuint)i;
            var w = Vector.LoadUnsafe(ref pp, u);
            var g = Vector.LoadUnsafe(ref pg, u) + w * wd;
            var mi = Vector.LoadUnsafe(ref pm, u) * b1 + g * (1 - b1);
            var vi = Vector.LoadUnsafe(ref pv, u) * b2 + g * g * (1 - b2);
            mi.StoreUnsafe(ref pm, u); vi.StoreUnsafe(ref pv, u);
            (w - mi / (Vector.SquareRoot(vi) / new Vector<float>(sqrtCorrection2) + new Vector<float>(eps)) * stepSize).StoreUnsafe(ref pp, u);
        }
        for (; i < n; i++)
        {
            float g = grad[i] + wd * p[i];
            m[i] = m[i] * b1 + (1 - b1) * g;
            v[i] = v[i] * b2 + (1 - b2) * g * g;
            p[i] -= stepSize * (m[i] / (MathF.Sqrt(v[i]) / sqrtCorrection2 + eps));
        }
    }
}
