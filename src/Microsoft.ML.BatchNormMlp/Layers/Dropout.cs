using System.Numerics.Tensors;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Layers;

/// <summary>
/// Inverted dropout (training only): each element is kept with probability 1 - p and scaled by 1/(1 - p), so that
/// evaluation is the identity and needs no rescaling. The mask is drawn as multipliers (0 or the scale) and kept for
/// the backward pass, which multiplies the incoming gradient by the same mask.
/// <para>
/// One 64-bit draw gives four 16-bit uniforms, so p acts as a multiple of 2⁻¹⁶ (<see cref="Threshold"/>); the scale
/// is the reciprocal of that quantized keep probability, so the expectation of a kept-and-scaled value is exact.
/// Drawing a quarter as many words keeps the mask's cost small next to the GEMMs (about 0.05 ns an element).
/// </para>
/// </summary>
internal sealed class Dropout
{
    private const int Resolution = 1 << 16;
    private readonly uint _threshold;   // an element is dropped when its 16-bit uniform is below this
    private readonly float _scale;      // 1 / (quantized keep probability)

    /// <param name="rate">The probability p of dropping an element, in [0, 1).</param>
    public Dropout(float rate)
    {
        if (!(rate >= 0 && rate < 1)) throw new ArgumentOutOfRangeException(nameof(rate), rate, "The dropout rate must be in [0, 1).");
        Rate = rate;
        _threshold = (uint)Math.Round(rate * (double)Resolution);
        if (_threshold >= Resolution) _threshold = Resolution - 1;
        _scale = (float)(Resolution / (double)(Resolution - _threshold));
    }

    /// <summary>The rate asked for.</summary>
    public float Rate { get; }

    /// <summary>The drop threshold out of 2¹⁶: the rate actually applied is <c>Threshold / 65536</c>.</summary>
    public int Threshold => (int)_threshold;

    /// <summary>The multiplier of a kept element.</summary>
    public float Scale => _scale;

    /// <summary>True when nothing is ever dropped (rate 0, or below half of 2⁻¹⁶): callers skip the layer entirely.</summary>
    public bool IsIdentity => _threshold == 0;

    /// <summary>Fills <paramref name="mask"/> with 0 (dropped) or <see cref="Scale"/> (kept) from <paramref name="rng"/>.</summary>
    public void DrawMask(Rng rng, Span<float> mask)
    {
        ArgumentNullException.ThrowIfNull(rng);
        uint threshold = _threshold;
        float scale = _scale;
        int n = mask.Length, i = 0;
        for (; i + 4 <= n; i += 4)
        {
            ulong bits = rng.NextUInt64();
            mask[i] = (uint)(bits & 0xFFFF) < threshold ? 0f : scale;
            mask[i + 1] = (uint)((bits >> 16) & 0xFFFF) < threshold ? 0f : scale;
            mask[i + 2] = (uint)((bits >> 32) & 0xFFFF) < threshold ? 0f : scale;
            mask[i + 3] = (uint)(bits >> 48) < threshold ? 0f : scale;
        }
        if (i < n)
        {
            ulong bits = rng.NextUInt64();
            for (; i < n; i++, bits >>= 16) mask[i] = (uint)(bits & 0xFFFF) < threshold ? 0f : scale;
        }
    }

    /// <summary>Forward: <c>y = x ⊙ mask</c> (y may be x).</summary>
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> mask, Span<float> y) => TensorPrimitives.Multiply(x, mask, y);

    /// <summary>Forward into a residual stream: <c>stream = h + x ⊙ mask</c>.</summary>
    public static void ApplyAndAdd(ReadOnlySpan<float> x, ReadOnlySpan<float> mask, ReadOnlySpan<float> h, Span<float> stream) =>
        TensorPrimitives.MultiplyAdd(x, mask, h, stream);

    /// <summary>Backward: <c>dx = dy ⊙ mask</c> (dx may be dy); the mask is this layer's Jacobian.</summary>
    public static void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> mask, Span<float> dx) => TensorPrimitives.Multiply(dy, mask, dx);
}
