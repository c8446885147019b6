using Microsoft.ML.BatchNormMlp.Training;
using System.Diagnostics;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Benchmarks;

/// <summary>
/// `-- gemm [seconds-per-shape] [--csv] [--only MODEL]`: a quick table (no BenchmarkDotNet) of us/call, GFLOP/s and allocated bytes per
/// call for every model shape and orientation, with 1 and 2 threads. Each shape runs for a fixed time after a
/// warm-up; the figure is the median of 5 timed batches.
/// </summary>
internal static class GemmQuick
{
    public static void Run(double secondsPerShape, bool csv, string? onlyModel = null)
    {
        var rng = new Random(1);
        int maxThreads = Math.Min(2, Environment.ProcessorCount);
        string load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
        Console.Error.WriteLine($"SIMD {SimdLevels.Best}; load average before: {load}");
        if (csv) Console.WriteLine("orientation,model,m,n,k,threads,us,gflops,alloc_bytes_per_call,cpu_us");
        else Console.WriteLine($"{"op",-3} {"layer",-24} {"m",5} {"n",5} {"k",5} {"thr",3} {"us/call",9} {"GFLOP/s",8} {"B/call",7} {"cpu us",8} {"cpu GF/s",8}");
        // Tiered compilation re-jits hot methods about 100 ms after their 30th call: warm every path up first.
        for (int pass = 0; pass < 2; pass++)
        {
            foreach (var layer in GemmShapes.Layers)
                foreach (var o in new[] { "NT", "NN", "TN" })
                    for (int t = 1; t <= maxThreads; t++)
                        for (int i = 0; i < 40; i++) Call(o, layer, t, warm: true);
            Thread.Sleep(300);
        }
        foreach (var layer in GemmShapes.Layers)
            foreach (var o in new[] { "NT", "NN", "TN" })
            {
                if (onlyModel != null && layer.Model != onlyModel) continue;
                var (m, n, k) = GemmShapes.Dims(o, layer);
                float[] a = Fill(rng, m * k), b = Fill(rng, n * k), c = new float[m * n];
                for (int t = 1; t <= maxThreads; t++)
                {
                    int threads = t;
                    Action call = o switch
                    {
                        "NT" => () => Gemm.MultiplyNT(a, b, c, m, n, k, false, threads),
                        "NN" => () => Gemm.MultiplyNN(a, b, c, m, n, k, false, threads),
                        _ => () => Gemm.MultiplyTN(a, b, c, m, n, k, true, threads),
                    };
                    var (us, alloc, cpuUs) = Time(call, secondsPerShape);
                    double gflops = 2.0 * m * n * k / us / 1e3;
                    if (t > 1) cpuUs = double.NaN; // the caller's CPU time says nothing about the worker's share
                    if (csv) Console.WriteLine($"{o},{layer.Model},{m},{n},{k},{t},{us:F3},{gflops:F1},{alloc:G4},{cpuUs:F3}");
                    else Console.WriteLine($"{o,-3} {layer,-24} {m,5} {n,5} {k,5} {t,3} {us,9:F2} {gflops,8:F1} {alloc,7:G4} {cpuUs,8:F2} {2.0 * m * n * k / cpuUs / 1e3,8:F1}");
                }
            }
    }

    private static readonly Dictionary<(string, GemmShapes.Layer), (float[] A, float[] B, float[] C)> s_warm = new();

    private static void Call(string o, GemmShapes.Layer layer, int threads, bool warm)
    {
        var (m, n, k) = GemmShapes.Dims(o, layer);
        if (!s_warm.TryGetValue((o, layer), out var buffers))
            s_warm[(o, layer)] = buffers = (new float[m * k], new float[n * k], new float[m * n]);
        if (o == "NT") Gemm.MultiplyNT(buffers.A, buffers.B, buffers.C, m, n, k, false, threads);
        else if (o == "NN") Gemm.MultiplyNN(buffers.A, buffers.B, buffers.C, m, n, k, false, threads);
        else Gemm.MultiplyTN(buffers.A, buffers.B, buffers.C, m, n, k, warm, threads);
    }

    private static float[] Fill(Random rng, int count)
    {
        var x = new float[count];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    // Median wall us/call over 5 batches, bytes allocated by all threads per call over the timed batches, and the
    // median of the calling thread's CPU us/call (robust to other processes on a shared machine).
    private static (double Us, double AllocPerCall, double CpuUs) Time(Action call, double seconds)
    {
        for (int i = 0; i < 20; i++) call();
        var sw = Stopwatch.StartNew();
        long probe = 0;
        while (sw.Elapsed.TotalSeconds < seconds / 10) { call(); probe++; }
        long perBatch = Math.Max(1, (long)(probe * 10 / 5 * 0.8));
        var us = new double[5]; var cpu = new double[5];
        long calls = 0;
        long before = GC.GetTotalAllocatedBytes(precise: true);
        for (int batch = 0; batch < 5; batch++)
        {
            double c0 = ThreadCpuClock.NowMicroseconds();
            long t0 = Stopwatch.GetTimestamp();
            for (long i = 0; i < perBatch; i++) call();
            us[batch] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds / perBatch;
            cpu[batch] = (ThreadCpuClock.NowMicroseconds() - c0) / perBatch;
            calls += perBatch;
        }
        double alloc = (GC.GetTotalAllocatedBytes(precise: true) - before) / (double)calls; // a one-off would show as a fraction
        Array.Sort(us); Array.Sort(cpu);
        return (us[2], alloc, cpu[2]);
    }
}
