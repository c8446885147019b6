using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Tests.Numerics;

/// <summary>
/// BatchNorm kernels against a double-precision reference: forward values and running statistics within 2e-5
/// (float32 rounding of O(1) values over batches of ≤ 64 rows stays near 1e-6), gradients against central finite
/// differences of the double-precision forward within 1e-4 relative (the FD step 1e-6 leaves ~1e-8 truncation
/// error). The Vector512 and scalar paths must agree bit for bit (same operation order per column).
/// </summary>
public class BatchNormKernelsTests
{
    private const float Eps = 1e-5f, Momentum = 0.1f;
    private static readonly (int B, int H)[] Shapes = [(2, 1), (5, 7), (8, 19), (3, 33), (32, 200), (64, 16)];

    [Test]
    public void ForwardTraining_MatchesReference_AndUpdatesRunningStatistics([Values("None", "Tanh", "Relu")] string name)
    {
        var activation = Enum.Parse<FusedActivation>(name);
        var rng = new Rng(11);
        foreach (var (b, h) in Shapes)
            foreach (var level in Levels())
            {
                float[] x = Shifted(rng, b * h), gamma = GemmTests.Random(rng, h), beta = GemmTests.Random(rng, h);
                float[] rm = GemmTests.Random(rng, h), rv = Positive(rng, h);
                double[] rm0 = rm.Select(v => (double)v).ToArray(), rv0 = rv.Select(v => (double)v).ToArray();
                var y = new float[b * h]; var mean = new float[h]; var inv = new float[h];
                BatchNormKernels.ForwardTraining(x, y, b, h, gamma, beta, mean, inv, rm, rv, Momentum, Eps, activation, level);

                double[] yRef = ReferenceForward(x, gamma, beta, b, h, activation, out double[] mu, out double[] variance);
                for (int i = 0; i < b * h; i++)
                    Assert.That(y[i], Is.EqualTo(yRef[i]).Within(2e-5 * (1 + Math.Abs(yRef[i]))), $"{level} {activation} B={b} H={h} y[{i}]");
                for (int j = 0; j < h; j++)
                {
                    Assert.That(mean[j], Is.EqualTo(mu[j]).Within(2e-5 * (1 + Math.Abs(mu[j]))), $"mean[{j}]");
                    Assert.That(inv[j], Is.EqualTo(1 / Math.Sqrt(variance[j] + Eps)).Within(2e-5 / Math.Sqrt(variance[j] + Eps)), $"invStd[{j}]");
                    double rmRef = 0.9 * rm0[j] + 0.1 * mu[j], rvRef = 0.9 * rv0[j] + 0.1 * variance[j] * b / (b - 1);
                    Assert.That(rm[j], Is.EqualTo(rmRef).Within(2e-5 * (1 + Math.Abs(rmRef))), $"running_mean[{j}]");
                    Assert.That(rv[j], Is.EqualTo(rvRef).Within(2e-5 * (1 + Math.Abs(rvRef))), $"running_var[{j}]");
                }
            }
    }

    [Test]
    public void BackwardTraining_MatchesFiniteDifferences([Values("None", "Tanh", "Relu")] string name, [Values] bool accumulate)
    {
        var activation = Enum.Parse<FusedActivation>(name);
        var rng = new Rng(12);
        foreach (var (b, h) in new[] { (2, 1), (5, 7), (8, 19), (3, 33) })
            foreach (var level in Levels())
            {
                float[] x = Shifted(rng, b * h), gamma = GemmTests.Random(rng, h), beta = GemmTests.Random(rng, h);
                float[] w = GemmTests.Random(rng, b * h); // L = Σ w·y, so dL/dy = w
                var y = new float[b * h]; var mean = new float[h]; var inv = new float[h];
                BatchNormKernels.ForwardTraining(x, y, b, h, gamma, beta, mean, inv, default, default, Momentum, Eps, activation, level);
                float[] dx0 = GemmTests.Random(rng, b * h);
                float[] dx = accumulate ? (float[])dx0.Clone() : new float[b * h];
                var dGamma = new float[h]; var dBeta = new float[h];
                BatchNormKernels.BackwardTraining(x, y, w, dx, b, h, gamma, mean, inv, dGamma, dBeta, activation, accumulate, level);

                double Loss(double[] xd, double[] gd, double[] bd)
                {
                    double[] yd = ReferenceForward(xd, gd, bd, b, h, activation, out _, out _);
                    double s = 0;
                    for (int i = 0; i < yd.Length; i++) s += w[i] * yd[i];
                    return s;
                }
                double[] xs = x.Select(v => (double)v).ToArray(), gs = gamma.Select(v => (double)v).ToArray(), bs = beta.Select(v => (double)v).ToArray();
                string where = $"{level} {activation} B={b} H={h}";
                for (int i = 0; i < xs.Length; i++)
                    AssertGradient(dx[i] - (accumulate ? dx0[i] : 0), FiniteDifference(xs, i, () => Loss(xs, gs, bs)), $"{where} dx[{i}]");
                for (int j = 0; j < h; j++)
                {
                    AssertGradient(dGamma[j], FiniteDifference(gs, j, () => Loss(xs, gs, bs)), $"{where} dGamma[{j}]");
                    AssertGradient(dBeta[j], FiniteDifference(bs, j, () => Loss(xs, gs, bs)), $"{where} dBeta[{j}]");
                }
            }
    }

    [Test]
    // h = 203: the vector path walks column blocks down the rows; 512 and 1024 (rows 2 and 4 KiB apart): row by row.
    public void VectorAndScalarPaths_AreBitIdentical([Values("None", "Tanh", "Relu")] string name, [Values(203, 512, 1024)] int h)
    {
        var activation = Enum.Parse<FusedActivation>(name);
        var rng = new Rng(13);
        const int b = 32;
        float[] x = Shifted(rng, b * h), gamma = GemmTests.Random(rng, h), beta = GemmTests.Random(rng, h), dy = GemmTests.Random(rng, b * h);
        float[][] outputs = new float[2][];
        for (int path = 0; path < 2; path++)
        {
            var level = path == 0 ? SimdLevel.Scalar : Levels()[^1]; // Vector512 where AVX-512 exists
            float[] rm = new float[h], rv = Enumerable.Repeat(1f, h).ToArray(), y = new float[b * h], mean = new float[h], inv = new float[h];
            float[] dx = new float[b * h], dg = new float[h], db = new float[h], yEval = new float[b * h];
            BatchNormKernels.ForwardTraining(x, y, b, h, gamma, beta, mean, inv, rm, rv, Momentum, Eps, activation, level);
            BatchNormKernels.BackwardTraining(x, y, dy, dx, b, h, gamma, mean, inv, dg, db, activation, false, level);
            BatchNormKernels.ForwardInference(x, yEval, b, h, gamma, beta, rm, rv, Eps, activation, level);
            outputs[path] = [.. y, .. mean, .. inv, .. rm, .. rv, .. dx, .. dg, .. db, .. yEval];
        }
        Assert.That(outputs[1], Is.EqualTo(outputs[0]));
    }

    [Test]
    public void ForwardInference_UsesRunningStatistics([Values("None", "Tanh", "Relu")] string name)
    {
        var activation = Enum.Parse<FusedActivation>(name);
        var rng = new Rng(14);
        foreach (var level in Levels())
        {
            const int b = 7, h = 21;
            float[] x = Shifted(rng, b * h), gamma = GemmTests.Random(rng, h), beta = GemmTests.Random(rng, h);
            float[] rm = GemmTests.Random(rng, h), rv = Positive(rng, h), y = new float[b * h];
            BatchNormKernels.ForwardInference(x, y, b, h, gamma, beta, rm, rv, Eps, activation, level);
            for (int i = 0; i < b; i++)
                for (int j = 0; j < h; j++)
                {
                    double z = gamma[j] * (x[i * h + j] - (double)rm[j]) / Math.Sqrt(rv[j] + (double)Eps) + beta[j];
                    double expected = Apply(activation, z);
                    Assert.That(y[i * h + j], Is.EqualTo(expected).Within(2e-5 * (1 + Math.Abs(expected))), $"{level} y[{i},{j}]");
                }
        }
    }

    [Test]
    public void TrainingWithOneRow_ThrowsNamingTheProblem()
    {
        var ex = Assert.Throws<ArgumentException>(() => BatchNormKernels.ForwardTraining(new float[3], new float[3], 1, 3,
            new float[3], new float[3], new float[3], new float[3], default, default));
        Assert.That(ex!.Message, Does.StartWith("BatchNorm in training needs more than 1 row per batch to estimate a variance, got 1."));
        Assert.That(ex.ParamName, Is.EqualTo("batch"));
    }

    [Test]
    public void TooShortSpan_ThrowsNamingIt()
    {
        var ex = Assert.Throws<ArgumentException>(() => BatchNormKernels.ForwardTraining(new float[6], new float[6], 2, 3,
            new float[3], new float[2], new float[3], new float[3], default, default));
        Assert.That(ex!.ParamName, Is.EqualTo("beta"));
        Assert.That(ex.Message, Does.StartWith("Span 'beta' holds 2 floats but the batch needs 3."));
        ex = Assert.Throws<ArgumentException>(() => BatchNormKernels.BackwardTraining(new float[6], [], new float[6], new float[6], 2, 3,
            new float[3], new float[3], new float[3], new float[3], new float[3], FusedActivation.Tanh));
        Assert.That(ex!.ParamName, Is.EqualTo("y"));
    }

    [Test]
    public void SteadyState_AllocatesNothing()
    {
        var rng = new Rng(15);
        const int b = 32, h = 200;
        float[] x = Shifted(rng, b * h), gamma = GemmTests.Random(rng, h), beta = GemmTests.Random(rng, h), dy = GemmTests.Random(rng, b * h);
        float[] y = new float[b * h], mean = new float[h], inv = new float[h], rm = new float[h], rv = new float[h];
        float[] dx = new float[b * h], dg = new float[h], db = new float[h];
        void Step()
        {
            BatchNormKernels.ForwardTraining(x, y, b, h, gamma, beta, mean, inv, rm, rv, activation: FusedActivation.Tanh);
            BatchNormKernels.BackwardTraining(x, y, dy, dx, b, h, gamma, mean, inv, dg, db, FusedActivation.Tanh);
            BatchNormKernels.ForwardInference(x, y, b, h, gamma, beta, rm, rv, activation: FusedActivation.Relu);
            Activations.Backward(FusedActivation.Tanh, y, dy, dx, accumulate: true);
        }
        Assert.That(Support.SteadyState.CallingThreadBytes(Step), Is.Zero, "bytes allocated by 100 steady-state steps (the fewest of 5 windows)");
    }

    [Test]
    public void ActivationBackward_MatchesDerivative_OnEveryPath([Values("None", "Tanh", "Relu")] string name, [Values] bool accumulate)
    {
        var activation = Enum.Parse<FusedActivation>(name);
        var rng = new Rng(16);
        foreach (var level in new[] { SimdLevel.Scalar, SimdLevels.Best })
            foreach (int n in new[] { 0, 1, 15, 16, 17, 100, 203 })
            {
                float[] z = GemmTests.Random(rng, n).Select(v => 3 * v).ToArray(), y = new float[n], dy = GemmTests.Random(rng, n);
                Activations.Forward(activation, z, y);
                float[] dx0 = GemmTests.Random(rng, n), dx = accumulate ? (float[])dx0.Clone() : new float[n];
                Activations.Backward(activation, y, dy, dx, accumulate, level);
                for (int i = 0; i < n; i++)
                {
                    Assert.That(y[i], Is.EqualTo(Apply(activation, z[i])).Within(1e-6), $"forward {activation} [{i}]");
                    double derivative = activation switch { FusedActivation.Tanh => 1 - Math.Pow(Math.Tanh(z[i]), 2), FusedActivation.Relu => z[i] > 0 ? 1 : 0, _ => 1 };
                    double expected = dy[i] * derivative + (accumulate ? dx0[i] : 0);
                    Assert.That(dx[i], Is.EqualTo(expected).Within(1e-5), $"{level} backward {activation} n={n} [{i}]");
                }
            }
    }

    private static SimdLevel[] Levels() =>
        System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? [SimdLevel.Scalar, SimdLevel.Vector512] : [SimdLevel.Scalar];

    // Values with a nonzero mean and unequal scales per column, as pre-activations have.
    private static float[] Shifted(Rng rng, int count) => GemmTests.Random(rng, count).Select((v, i) => 0.5f + (1 + i % 3) * v).ToArray();

    private static float[] Positive(Rng rng, int count) => GemmTests.Random(rng, count).Select(v => 0.5f + Math.Abs(v)).ToArray();

    private static double Apply(FusedActivation activation, double z) =>
        activation switch { FusedActivation.Tanh => Math.Tanh(z), FusedActivation.Relu => Math.Max(0, z), _ => z };

    private static double[] ReferenceForward(IReadOnlyList<float> x, IReadOnlyList<float> gamma, IReadOnlyList<float> beta, int b, int h, FusedActivation activation, out double[] mean, out double[] variance)
        => ReferenceForward(x.Select(v => (double)v).ToArray(), gamma.Select(v => (double)v).ToArray(), beta.Select(v => (double)v).ToArray(), b, h, activation, out mean, out variance);

    private static double[] ReferenceForward(double[] x, double[] gamma, double[] beta, int b, int h, FusedActivation activation, out double[] mean, out double[] variance)
    {
        mean = new double[h]; variance = new double[h];
        var y = new double[b * h];
        for (int j = 0; j < h; j++)
        {
            for (int i = 0; i < b; i++) mean[j] += x[i * h + j] / b;
            for (int i = 0; i < b; i++) variance[j] += Math.Pow(x[i * h + j] - mean[j], 2) / b;
            for (int i = 0; i < b; i++)
                y[i * h + j] = Apply(activation, gamma[j] * (x[i * h + j] - mean[j]) / Math.Sqrt(variance[j] + Eps) + beta[j]);
        }
        return y;
    }

    private static double FiniteDifference(double[] values, int index, Func<double> loss)
    {
        const double step = 1e-6;
        double saved = values[index];
        values[index] = saved + step; double up = loss();
        values[index] = saved - step; double down = loss();
        values[index] = saved;
        return (up - down) / (2 * step);
    }

    private static void AssertGradient(double actual, double expected, string what)
        => Assert.That(actual, Is.EqualTo(expected).Within(1e-4 * (1 + Math.Abs(expected))), what);
}
