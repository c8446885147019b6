using Microsoft.ML.BatchNormMlp.Training;
using System.Diagnostics;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Benchmarks;

/// <summary>
/// `-- kernels`: us/call and allocated bytes per call of the fused BatchNorm and activation kernels on the presets'
/// [B, H] shapes (one thread).
/// </summary>
internal static class KernelQuick
{
    public static void Run(double secondsPerKernel)
    {
        Console.WriteLine($"{"kernel",-34} {"B",5} {"H",5} {"us/call",9} {"cpu us",8} {"cpu ns/elem",11} {"B/call",7}");
        foreach (var (b, h) in new[] { (32, 200), (32, 256), (32, 1024), (200, 100), (32, 27) })
        {
            var rng = new Rng(1);
            float[] x = Fill(rng, b * h), dy = Fill(rng, b * h), y = new float[b * h], dx = new float[b * h];
            float[] gamma = Fill(rng, h), beta = Fill(rng, h), mean = new float[h], inv = new float[h];
            float[] rm = new float[h], rv = Enumerable.Repeat(1f, h).ToArray(), dg = new float[h], db = new float[h];
            Report("BatchNorm forward (train) + tanh", b, h, secondsPerKernel, () =>
                BatchNormKernels.ForwardTraining(x, y, b, h, gamma, beta, mean, inv, rm, rv, activation: FusedActivation.Tanh));
            Report("BatchNorm forward (train)", b, h, secondsPerKernel, () =>
                BatchNormKernels.ForwardTraining(x, y, b, h, gamma, beta, mean, inv, rm, rv));
            Report("BatchNorm backward + tanh", b, h, secondsPerKernel, () =>
                BatchNormKernels.BackwardTraining(x, y, dy, dx, b, h, gamma, mean, inv, dg, db, FusedActivation.Tanh));
            Report("BatchNorm forward (eval) + tanh", b, h, secondsPerKernel, () =>
                BatchNormKernels.ForwardInference(x, y, b, h, gamma, beta, rm, rv, activation: FusedActivation.Tanh));
            Report("tanh forward", b, h, secondsPerKernel, () => Activations.Forward(FusedActivation.Tanh, x, y));
            Report("tanh forward (TensorPrimitives)", b, h, secondsPerKernel, () => System.Numerics.Tensors.TensorPrimitives.Tanh(x, y));
            Report("tanh backward", b, h, secondsPerKernel, () => Activations.Backward(FusedActivation.Tanh, y, dy, dx));
        }
    }

    private static void Report(string name, int b, int h, double seconds, Action call)
    {
        for (int i = 0; i < 200; i++) call();
        Thread.Sleep(150); // let tiered compilation finish re-jitting the hot loops
        for (int i = 0; i < 200; i++) call();
        long calls = 0, before = GC.GetAllocatedBytesForCurrentThread();
        double cpu0 = ThreadCpuClock.NowMicroseconds();
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < seconds) { for (int i = 0; i < 50; i++) call(); calls += 50; }
        double us = sw.Elapsed.TotalMicroseconds / calls, cpu = (ThreadCpuClock.NowMicroseconds() - cpu0) / calls;
        long alloc = (GC.GetAllocatedBytesForCurrentThread() - before) / calls;
        Console.WriteLine($"{name,-34} {b,5} {h,5} {us,9:F2} {cpu,8:F2} {cpu * 1000 / (b * h),11:F2} {alloc,7}");
    }

    private static float[] Fill(Rng rng, int count)
    {
        var v = new float[count];
        for (int i = 0; i < count; i++) v[i] = rng.NextFloat() * 2 - 1;
        return v;
    }
}
