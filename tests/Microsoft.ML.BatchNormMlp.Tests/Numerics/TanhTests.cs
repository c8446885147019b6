using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Tests.Numerics;

public class TanhTests
{
    // Every float spacing step between -10 and 10 would be 2^31 values; a dense grid plus the small-argument range
    // and random values catches a wrong constant or a broken range reduction (errors far above a few ulp).
    private static float[] Arguments()
    {
        var values = new List<float>();
        for (int i = -120_000; i <= 120_000; i++) values.Add(i / 10_000f);          // [-12, 12] step 1e-4
        for (int e = -40; e <= 0; e++) { values.Add(MathF.Pow(2, e)); values.Add(-MathF.Pow(2, e) * 1.37f); }
        var rng = new Rng(21);
        for (int i = 0; i < 20_000; i++) values.Add((rng.NextFloat() * 2 - 1) * 20);
        return [.. values];
    }

    [Test]
    public void MatchesDoublePrecisionTanh_WithinFourUlp()
    {
        float[] x = Arguments();
        var y = new float[x.Length];
        Tanh.Apply(x, y, SimdLevels.Best);
        double worstUlps = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double exact = Math.Tanh(x[i]);
            double ulp = Math.Max(MathF.BitIncrement(MathF.Abs((float)exact)) - MathF.Abs((float)exact), float.Epsilon);
            double ulps = Math.Abs(y[i] - exact) / ulp;
            worstUlps = Math.Max(worstUlps, ulps);
            if (ulps > 4) Assert.Fail($"tanh({x[i]:R}) = {y[i]:R}, exact {exact:R}: {ulps:F1} ulp");
        }
        Assert.That(worstUlps, Is.GreaterThan(0), "the comparison saw no rounding at all, so it is not comparing");
    }

    [Test]
    public void ScalarAndVectorPaths_AreBitIdentical()
    {
        float[] x = Arguments();
        float[] scalar = new float[x.Length], vector = new float[x.Length];
        Tanh.Apply(x, scalar, SimdLevel.Scalar);
        Tanh.Apply(x, vector, SimdLevels.Best);
        Assert.That(vector, Is.EqualTo(scalar));
    }

    [Test]
    public void SpecialValues()
    {
        float[] x = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 1e-30f, 9f, -50f,
            float.NaN, 0, 0, 0, 0, 0, 0, 0, 0.5f]; // 17 values: the first 16 take the vector path, the last the scalar one
        var y = new float[x.Length];
        Tanh.Apply(x, y, SimdLevels.Best);
        Assert.That(float.IsNaN(y[0]) && float.IsNaN(y[8]), Is.True, "NaN must propagate (the engine's divergence check relies on it)");
        Assert.That(y[1], Is.EqualTo(1f));
        Assert.That(y[2], Is.EqualTo(-1f));
        Assert.That(BitConverter.SingleToInt32Bits(y[3]), Is.EqualTo(0));
        Assert.That(BitConverter.SingleToUInt32Bits(y[4]), Is.EqualTo(0x8000_0000u), "tanh(-0) is -0");
        Assert.That(y[5], Is.EqualTo(1e-30f));
        Assert.That(y[6], Is.EqualTo(1f).Within(1e-7));
        Assert.That(y[7], Is.EqualTo(-1f));
        Assert.That(y[16], Is.EqualTo((float)Math.Tanh(0.5)).Within(2e-7));
    }

    [Test]
    public void InPlace_And_TooShortOutput()
    {
        float[] x = [0.25f, -2f, 3f];
        Tanh.Apply(x, x, SimdLevels.Best);
        Assert.That(x, Is.EqualTo(new[] { (float)Math.Tanh(0.25), (float)Math.Tanh(-2), (float)Math.Tanh(3) }).Within(2e-7));
        var ex = Assert.Throws<ArgumentException>(() => Tanh.Apply(new float[3], new float[2], SimdLevels.Best));
        Assert.That(ex!.Message, Does.StartWith("Span 'y' holds 2 floats but needs 3."));
    }
}
