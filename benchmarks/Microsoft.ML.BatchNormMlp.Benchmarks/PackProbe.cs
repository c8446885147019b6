using System.Diagnostics;
using Microsoft.ML.BatchNormMlp.Numerics;
namespace Microsoft.ML.BatchNormMlp.Benchmarks;
internal static unsafe class PackProbe
{
    public static void Run()
    {
        foreach (var (n, k) in new[] { (512, 1024), (1024, 512), (256, 256), (256, 512) })
        {
            var w = new float[n * k]; var dst = new float[k * 48];
            fixed (float* pw = w, pd = dst)
            {
                for (int rep = 0; rep < 3; rep++)
                {
                    long t0 = Stopwatch.GetTimestamp(); int iters = 200;
                    for (int it = 0; it < iters; it++)
                        for (int j0 = 0; j0 + 48 <= n; j0 += 48)
                            GemmPacking.TransposeRows(pw + j0 * k, k, 48, 48, k, pd, SimdLevel.Vector512);
                    double us = Stopwatch.GetElapsedTime(t0).TotalMicroseconds / iters;
                    Console.WriteLine($"transpose-pack W[{n},{k}] (all full panels): {us:F1} us, {us * 1000 / ((n / 48) * 48.0 * k):F3} ns/elem");
                }
            }
        }
    }
}
