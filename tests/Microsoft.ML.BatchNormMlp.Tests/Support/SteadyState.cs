namespace Microsoft.ML.BatchNormMlp.Tests.Support;

/// <summary>
/// Bytes a call allocates on the calling thread once the process is in steady state. Tiered compilation promotes a
/// method after about 30 calls and installs the new code ~100 ms later; the runtime may allocate a little on the
/// calling thread while that happens (seen: 1,608 B once, at load average 24). So: warm up for at least 400 ms and
/// 100 calls, let the background compiler finish, then measure several windows and keep the smallest. A real
/// per-call allocation is in every window, so the smallest is still above zero and the test still fails.
/// </summary>
internal static class SteadyState
{
    public static long CallingThreadBytes(Action call, int callsPerWindow = 100, int windows = 5)
    {
        var warm = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 100 || warm.ElapsedMilliseconds < 400; i++) call();
        Thread.Sleep(200);
        long fewest = long.MaxValue;
        for (int w = 0; w < windows; w++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < callsPerWindow; i++) call();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return fewest;
    }
}
