using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Tests.Layers;

/// <summary>
/// Central finite differences in float32, done with care: the losses are summed in double, the step is large enough
/// (1e-2) that float32 rounding of the loss (~1e-7 relative) stays far below the difference, and small enough that
/// the O(h²) truncation of smooth tanh/BatchNorm functions is ~1e-4 of the gradient. The check is against the
/// largest analytic gradient of the tensor (ReLU paths use a 1e-3 step so that the step rarely straddles the kink): max |numeric - analytic| ≤ 1e-2 · max |analytic| + 1e-4.
/// </summary>
internal static class GradientCheck
{
    public const float Step = 1e-2f;

    public static void Check(string what, float[] values, ReadOnlySpan<float> analytic, Func<double> loss, int samples = 24, ulong seed = 1, float step = Step, bool allowZero = false)
    {
        var grad = analytic.ToArray();
        Assert.That(grad, Has.Length.EqualTo(values.Length), what + ": gradient length");
        var rng = new Rng(seed);
        float scale = 0;
        foreach (float g in grad) scale = MathF.Max(scale, MathF.Abs(g));
        double worst = 0;
        int worstIndex = -1;
        int count = Math.Min(samples, values.Length);
        for (int s = 0; s < count; s++)
        {
            int i = values.Length <= samples ? s : rng.NextInt(values.Length);
            float keep = values[i];
            values[i] = keep + step; double up = loss();
            values[i] = keep - step; double down = loss();
            values[i] = keep;
            double numeric = (up - down) / (2 * step);
            double diff = Math.Abs(numeric - grad[i]);
            if (diff > worst) { worst = diff; worstIndex = i; }
        }
        if (allowZero && scale < 1e-5f)
        {
            // A gradient that is zero in exact arithmetic (a bias whose shift a later BatchNorm removes): the
            // differences must agree, up to the float32 noise of the loss (~1e-6) divided by the step.
            Assert.That(worst, Is.LessThanOrEqualTo(1e-3), $"{what}: zero analytic gradient, but the finite difference at element {worstIndex} is {worst}");
            return;
        }
        Assert.That(scale, Is.GreaterThan(0), what + ": the analytic gradient is identically zero, so the check would prove nothing");
        Assert.That(worst, Is.LessThanOrEqualTo(1e-2 * scale + 1e-4), $"{what}: element {worstIndex} differs by {worst} (gradient scale {scale})");
    }

    /// <summary>Σ y·r in double: a loss whose gradient with respect to y is r.</summary>
    public static double Dot(ReadOnlySpan<float> y, ReadOnlySpan<float> r)
    {
        double s = 0;
        for (int i = 0; i < r.Length; i++) s += (double)y[i] * r[i];
        return s;
    }

    public static float[] Random(int n, Rng rng, float scale = 1)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = rng.NextGaussian() * scale;
        return a;
    }
}
