using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>
/// The machine's single-core float32 FMA peak: a register-only loop of independent Vector512 FMAs (12 chains, enough
/// to cover a 4-cycle latency on two pipes), so GEMM figures can be read as a fraction of it.
/// </summary>
internal static class PeakFlops
{
    public static double Measure()
    {
        Loop(1000);
        const long Iterations = 20_000_000;
        // Thread CPU time where available: wall time on a shared machine counts other processes' turns too.
        double cpu0 = ThreadCpuClock.NowMicroseconds();
        var sw = Stopwatch.StartNew();
        Loop(Iterations);
        double cpuSeconds = (ThreadCpuClock.NowMicroseconds() - cpu0) / 1e6;
        double seconds = double.IsNaN(cpuSeconds) ? sw.Elapsed.TotalSeconds : cpuSeconds;
        // 12 FMAs of 16 lanes, 2 FLOP each, per iteration.
        double flops = Iterations * 12.0 * 16 * 2;
        return flops / seconds / 1e9;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Loop(long iterations)
    {
        var m = Vector512.Create(0.999999f); var d = Vector512.Create(1e-7f);
        Vector512<float> a0 = Vector512.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0,
            a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, d); a1 = Vector512.FusedMultiplyAdd(a1, m, d);
            a2 = Vector512.FusedMultiplyAdd(a2, m, d); a3 = Vector512.FusedMultiplyAdd(a3, m, d);
            a4 = Vector512.FusedMultiplyAdd(a4, m, d); a5 = Vector512.FusedMultiplyAdd(a5, m, d);
            a6 = Vector512.FusedMultiplyAdd(a6, m, d); a7 = Vector512.FusedMultiplyAdd(a7, m, d);
            a8 = Vector512.FusedMultiplyAdd(a8, m, d); a9 = Vector512.FusedMultiplyAdd(a9, m, d);
            a10 = Vector512.FusedMultiplyAdd(a10, m, d); a11 = Vector512.FusedMultiplyAdd(a11, m, d);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }
}
