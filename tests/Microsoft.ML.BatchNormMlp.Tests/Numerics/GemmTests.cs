using Microsoft.ML.BatchNormMlp.Numerics;
using static Microsoft.ML.BatchNormMlp.Numerics.Gemm;

namespace Microsoft.ML.BatchNormMlp.Tests.Numerics;

/// <summary>
/// GEMM against a double-precision reference. Tolerance: each element may differ from the exact product by at most
/// 1e-5·√k·Σ_p|a·b| (+ 1e-6·|C₀| when accumulating). Float32 summation of k terms has a typical error of about
/// 6e-8·√k·Σ|a·b| (worst case 6e-8·k·Σ|a·b|), so this bound leaves a wide margin for rounding while any indexing,
/// packing or tail mistake (an error of the order of one whole term) fails it.
/// </summary>
public class GemmTests
{
    private static readonly Orientation[] Orientations = [Orientation.NT, Orientation.NN, Orientation.TN];

    // (batch, in, out) of the presets' Linear layers; each gives one product per orientation.
    private static readonly (int Batch, int In, int Out)[] ModelLayers =
    [
        (32, 30, 200), (32, 200, 27), (32, 48, 256), (32, 256, 512), (32, 512, 1024), (32, 1024, 512),
        (32, 512, 256), (32, 256, 27), (32, 256, 256), (200, 40, 100), (200, 100, 100), (200, 100, 10), (1000, 256, 27),
    ];

    [Test]
    public void HandComputedProduct_AllOrientations()
    {
        float[] a = [1, 2, 3, 4, 5, 6];     // A[2,3]
        float[] bt = [1, 0, -1, 2, 1, 0];   // B[2,3], used as Bᵀ
        var c = new float[4];
        Gemm.MultiplyNT(a, bt, c, 2, 2, 3);
        Assert.That(c, Is.EqualTo(new float[] { -2, 4, -2, 13 }));

        float[] b = [1, 2, 0, 1, -1, 0];    // B[3,2]
        Gemm.MultiplyNN(a, b, c, 2, 2, 3);
        Assert.That(c, Is.EqualTo(new float[] { -2, 4, -2, 13 }));

        float[] at = [1, 4, 2, 5, 3, 6];    // Aᵀ stored [3,2]
        Gemm.MultiplyTN(at, b, c, 2, 2, 3, accumulate: true);
        Assert.That(c, Is.EqualTo(new float[] { -4, 8, -4, 26 }));
    }

    [Test]
    public void OddSizesUpTo40_MatchReference_AndEveryPathIsBitIdentical()
    {
        var rng = new Rng(1);
        SimdLevel[] levels = SimdLevels.Supported();
        int checkedProducts = 0;
        for (int m = 1; m <= 40; m += 2)
            for (int n = 1; n <= 40; n += 2)
                for (int k = 1; k <= 40; k += 2)
                {
                    var orientation = Orientations[(m + n + k) / 2 % 3];
                    bool accumulate = (m * 7 + n * 3 + k) % 2 == 0;
                    var (a, b, c0) = Operands(rng, m, n, k);
                    float[] best = Run(orientation, a, b, c0, m, n, k, accumulate, 1, SimdLevels.Best);
                    AssertMatchesReference(orientation, a, b, c0, best, m, n, k, accumulate);
                    foreach (var level in levels)
                    {
                        if (level == SimdLevels.Best) continue;
                        float[] other = Run(orientation, a, b, c0, m, n, k, accumulate, 1, level);
                        Assert.That(other, Is.EqualTo(best), $"{level} differs from {SimdLevels.Best}: {orientation} m={m} n={n} k={k}");
                    }
                    checkedProducts++;
                }
        Assert.That(checkedProducts, Is.EqualTo(8000));
    }

    [Test]
    public void EveryOrientation_EveryPath_SmallSweep([Values("NT", "NN", "TN")] string name, [Values] bool accumulate)
    {
        var orientation = Enum.Parse<Orientation>(name);
        var rng = new Rng(2);
        int[] sizes = [1, 2, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 33, 47, 48, 49, 64, 97];
        foreach (var level in SimdLevels.Supported())
            foreach (int m in new[] { 1, 8, 13 })
                foreach (int n in sizes)
                    foreach (int k in new[] { 1, 5, 16, 19, 40 })
                    {
                        var (a, b, c0) = Operands(rng, m, n, k);
                        float[] c = Run(orientation, a, b, c0, m, n, k, accumulate, 1, level);
                        AssertMatchesReference(orientation, a, b, c0, c, m, n, k, accumulate, $"{level} ");
                    }
    }

    [Test]
    public void ModelShapes_MatchReference_AndTwoThreadsAreBitIdenticalToOne([Values("NT", "NN", "TN")] string name, [Values] bool accumulate)
    {
        var orientation = Enum.Parse<Orientation>(name);
        var rng = new Rng(3);
        foreach (var (batch, input, output) in ModelLayers)
        {
            var (m, n, k) = orientation switch
            {
                Orientation.NT => (batch, output, input),
                Orientation.NN => (batch, input, output),
                _ => (output, input, batch),
            };
            var (a, b, c0) = Operands(rng, m, n, k);
            float[] one = Run(orientation, a, b, c0, m, n, k, accumulate, 1, SimdLevels.Best);
            float[] two = Run(orientation, a, b, c0, m, n, k, accumulate, 2, SimdLevels.Best);
            AssertMatchesReference(orientation, a, b, c0, one, m, n, k, accumulate);
            Assert.That(two, Is.EqualTo(one), $"threads 2 vs 1: {orientation} m={m} n={n} k={k}");
        }
    }

    [Test]
    public void NarrowPaths_ModelShapes_BitIdenticalToBest()
    {
        var rng = new Rng(4);
        foreach (var level in SimdLevels.Supported())
            foreach (var (m, n, k) in new[] { (32, 200, 30), (32, 27, 200), (256, 48, 32), (200, 100, 100) })
                foreach (var orientation in Orientations)
                {
                    var (a, b, c0) = Operands(rng, m, n, k);
                    float[] best = Run(orientation, a, b, c0, m, n, k, false, 2, SimdLevels.Best);
                    float[] c = Run(orientation, a, b, c0, m, n, k, false, 1, level);
                    Assert.That(c, Is.EqualTo(best), $"{level}: {orientation} m={m} n={n} k={k}");
                }
    }

    [Test]
    public void Bias_IsAddedAfterTheProduct([Values] bool accumulate)
    {
        var rng = new Rng(5);
        foreach (var level in SimdLevels.Supported())
            foreach (var (m, n, k) in new[] { (32, 200, 30), (5, 27, 9), (16, 48, 16), (40, 100, 40) })
            {
                var (a, b, c0) = Operands(rng, m, n, k);
                float[] bias = Random(rng, n);
                float[] plain = Run(Orientation.NT, a, b, c0, m, n, k, accumulate, 1, level);
                float[] withBias = (float[])c0.Clone();
                Multiply(Orientation.NT, a, b, withBias, m, n, k, accumulate, 2, bias, level);
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++)
                        Assert.That(withBias[i * n + j], Is.EqualTo(plain[i * n + j] + bias[j]), $"{level} m={m} n={n} k={k} at [{i},{j}]");
            }
    }

    [Test]
    public void SpansLongerThanNeeded_AreUsedOnlyUpToTheProduct([Values("NT", "NN", "TN")] string name)
    {
        var orientation = Enum.Parse<Orientation>(name);
        var rng = new Rng(6);
        const int m = 9, n = 50, k = 17, extra = 37;
        float[] a = Random(rng, m * k + extra), b = Random(rng, n * k + extra);
        var c = new float[m * n + extra];
        Array.Fill(c, 123f);
        Multiply(orientation, a, b, c, m, n, k, false, 1, default, SimdLevels.Best);
        Assert.That(c[(m * n)..], Is.All.EqualTo(123f), "elements past m·n were written");
        AssertMatchesReference(orientation, a[..(m * k)], b[..(n * k)], new float[m * n], c[..(m * n)], m, n, k, false);
    }

    [Test]
    public void EmptyK_WritesZeroOrKeepsC()
    {
        float[] c = [1, 2, 3, 4];
        Gemm.MultiplyNN([], [], c, 2, 2, 0, accumulate: true);
        Assert.That(c, Is.EqualTo(new float[] { 1, 2, 3, 4 }));
        Gemm.MultiplyNT([], [], c, 2, 2, 0, bias: [10, 20]);
        Assert.That(c, Is.EqualTo(new float[] { 10, 20, 10, 20 }));
        Gemm.MultiplyTN([], [], c, 2, 2, 0);
        Assert.That(c, Is.EqualTo(new float[] { 0, 0, 0, 0 }));
    }

    [TestCase("a")]
    [TestCase("b")]
    [TestCase("c")]
    [TestCase("bias")]
    public void TooShortSpan_ThrowsNamingIt(string shortName)
    {
        const int m = 4, n = 5, k = 6;
        var a = new float[shortName == "a" ? m * k - 1 : m * k];
        var b = new float[shortName == "b" ? n * k - 1 : n * k];
        var c = new float[shortName == "c" ? m * n - 1 : m * n];
        var bias = new float[shortName == "bias" ? n - 1 : n];
        var ex = Assert.Throws<ArgumentException>(() => Gemm.MultiplyNT(a, b, c, m, n, k, bias: bias));
        int required = shortName switch { "a" => m * k, "b" => n * k, "c" => m * n, _ => n };
        Assert.That(ex!.ParamName, Is.EqualTo(shortName));
        Assert.That(ex.Message, Does.StartWith($"Span '{shortName}' holds {required - 1} floats but the product needs {required}."));
    }

    [Test]
    public void BadDimensionsOrThreads_Throw()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MultiplyNN(new float[4], new float[4], new float[4], 2, 2, 2, threads: 0));
        Assert.That(ex!.ParamName, Is.EqualTo("threads"));
        ex = Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MultiplyTN(new float[4], new float[4], new float[4], -1, 2, 2));
        Assert.That(ex!.ParamName, Is.EqualTo("m"));
    }

    [Test]
    public void SteadyState_AllocatesNothing([Values(1, 2)] int threads)
    {
        var rng = new Rng(7);
        const int batch = 32, input = 512, output = 1024;
        float[] x = Random(rng, batch * input), w = Random(rng, output * input), y = new float[batch * output];
        float[] dy = Random(rng, batch * output), dx = new float[batch * input], dw = new float[output * input];
        float[] bias = Random(rng, output);
        void Step()
        {
            Gemm.MultiplyNT(x, w, y, batch, output, input, threads: threads, bias: bias);
            Gemm.MultiplyNN(dy, w, dx, batch, input, output, threads: threads);
            Gemm.MultiplyTN(dy, x, dw, output, input, batch, accumulate: true, threads: threads);
            Gemm.MultiplyNT(x, w, y, 27, 200, 30, threads: threads); // a smaller shape after a larger one
        }
        // Warm up past tiered compilation (methods are re-jitted in the background about 100 ms after their 30th
        // call), so the windows below see steady state only.
        var warm = System.Diagnostics.Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 400) Step();
        Thread.Sleep(200);
        for (int i = 0; i < 5; i++) Step();

        // Counted on exactly the threads that run GEMM code: the caller, and the pool's workers (each publishes its
        // own counter when it leaves a job). Not GC.GetTotalAllocatedBytes: under `dotnet test` on Linux the test host
        // watches its parent process, which for a non-child means a Task.Delay(100) poll loop on the thread pool that
        // allocates 168 B every 100 ms, so every window longer than that counted 168·n bytes that no GEMM allocated.
        // Every window must be clean; with threads > 1 they continue (up to 10 s) until the workers have joined jobs in
        // one of them, so that the workers' count is not vacuously zero.
        var pool = WorkerPool.Shared;
        long joined = 0;
        var patience = System.Diagnostics.Stopwatch.StartNew();
        for (int window = 0; window == 0 || (threads > 1 && joined == 0 && patience.Elapsed.TotalSeconds < 10); window++)
        {
            long caller = GC.GetAllocatedBytesForCurrentThread();
            var workers = pool.WorkerAllocations;
            for (int i = 0; i < 50; i++) Step();
            caller = GC.GetAllocatedBytesForCurrentThread() - caller;
            var after = pool.WorkerAllocations;
            Assert.That(caller, Is.Zero, $"window {window}: the calling thread allocated");
            Assert.That(after.Bytes - workers.Bytes, Is.Zero, $"window {window}: the pool's workers allocated (in {after.Joins - workers.Joins} joins)");
            joined = after.Joins - workers.Joins;
        }
        if (threads > 1) Assert.That(joined, Is.GreaterThan(0), "no worker joined a job in 10 s: the workers' allocations went unchecked");
    }

    [Test]
    public void ConcurrentCallers_GetCorrectResults()
    {
        // Two threads share the one worker pool: whoever finds it busy runs its parts inline, with the same results.
        var rng = new Rng(8);
        const int m = 32, n = 512, k = 256;
        var (a, b, c0) = Operands(rng, m, n, k);
        float[] expected = Run(Orientation.NT, a, b, c0, m, n, k, false, 1, SimdLevels.Best);
        var failures = 0;
        var threads = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            var c = new float[m * n];
            for (int i = 0; i < 200; i++)
            {
                Gemm.MultiplyNT(a, b, c, m, n, k, threads: 2);
                if (!c.AsSpan().SequenceEqual(expected)) Interlocked.Increment(ref failures);
            }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.That(failures, Is.Zero);
    }

    internal static float[] Random(Rng rng, int count)
    {
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = rng.NextFloat() * 2 - 1;
        return x;
    }

    private static (float[] A, float[] B, float[] C0) Operands(Rng rng, int m, int n, int k)
        => (Random(rng, m * k), Random(rng, n * k), Random(rng, m * n));

    private static float[] Run(Orientation orientation, float[] a, float[] b, float[] c0, int m, int n, int k, bool accumulate, int threads, SimdLevel level)
    {
        var c = (float[])c0.Clone();
        Multiply(orientation, a, b, c, m, n, k, accumulate, threads, default, level);
        return c;
    }

    private static void AssertMatchesReference(Orientation orientation, float[] a, float[] b, float[] c0, float[] c, int m, int n, int k, bool accumulate, string label = "")
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0, magnitude = 0;
                for (int p = 0; p < k; p++)
                {
                    double av = orientation == Orientation.TN ? a[p * m + i] : a[i * k + p];
                    double bv = orientation == Orientation.NT ? b[j * k + p] : b[p * n + j];
                    sum += av * bv;
                    magnitude += Math.Abs(av * bv);
                }
                double tolerance = 1e-5 * Math.Sqrt(k) * magnitude + 1e-30;
                if (accumulate) { sum += c0[i * n + j]; tolerance += 1e-6 * Math.Abs(c0[i * n + j]); }
                double error = Math.Abs(c[i * n + j] - sum);
                if (!(error <= tolerance))
                    Assert.Fail($"{label}{orientation} m={m} n={n} k={k} accumulate={accumulate}: C[{i},{j}] = {c[i * n + j]}, reference {sum} (error {error:E2} > {tolerance:E2})");
            }
    }
}
