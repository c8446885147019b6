using System.Diagnostics;

namespace Microsoft.ML.BatchNormMlp.Numerics;

/// <summary>
/// A persistent pool that runs one job as <c>parts</c> statically numbered pieces: the caller runs part 0 and worker
/// w runs part w + 1. No delegates, tasks or closures: the job is a function pointer plus a pointer to the caller's
/// state (which stays alive because <see cref="Run"/> returns only when every part is done), so a call allocates
/// nothing. Workers spin briefly between jobs (back-to-back GEMMs in a training step arrive microseconds apart),
/// then sleep on an event. Which part runs where never changes the arithmetic, so results do not depend on timing.
/// </summary>
internal sealed unsafe class WorkerPool
{
    private static readonly object s_createLock = new();
    private static WorkerPool? s_shared;

    // How long an idle worker spins before sleeping: a little longer than the gap between two GEMMs of a step.
    private static readonly long s_spinTicks = Stopwatch.Frequency / 5000; // 200 us

    private readonly Worker[] _workers;
    private delegate*<void*, int, int, void> _body;
    private void* _state;
    private int _parts;
    private int _generation;
    private int _pending;
    private int _busy;

    private WorkerPool(int workers)
    {
        _workers = new Worker[workers];
        for (int w = 0; w < workers; w++)
        {
            var worker = new Worker(this, w);
            _workers[w] = worker;
            var thread = new Thread(worker.Loop) { IsBackground = true, Name = $"BatchNormMlp GEMM worker {w + 1}" };
            thread.Start();
        }
    }

    /// <summary>Most parts a job can usefully run in parallel here: one per processor.</summary>
    public static int MaxParts => Environment.ProcessorCount;

    /// <summary>The process-wide pool with <see cref="MaxParts"/> - 1 workers, created on first use.</summary>
    public static WorkerPool Shared
    {
        get
        {
            if (s_shared is { } pool) return pool;
            lock (s_createLock) return s_shared ??= new WorkerPool(Math.Max(0, MaxParts - 1));
        }
    }

    /// <summary>
    /// Runs <c>body(state, part, parts)</c> for part = 0..parts-1 and returns when all are done. When another caller
    /// holds the pool, or parts exceeds the workers + 1, the parts run one after another on the calling thread
    /// (same results, less parallelism).
    /// </summary>
    public void Run(int parts, delegate*<void*, int, int, void> body, void* state)
    {
        if (parts <= 1 || parts > _workers.Length + 1 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            for (int part = 0; part < parts; part++) body(state, part, parts);
            return;
        }
        try
        {
            _body = body; _state = state; _parts = parts;
            Volatile.Write(ref _pending, parts - 1);
            Interlocked.Increment(ref _generation); // publishes the job (full fence) before any worker is woken
            for (int w = 0; w < parts - 1; w++) _workers[w].WakeIfSleeping();
            body(state, 0, parts);
            var spin = new SpinWait();
            while (Volatile.Read(ref _pending) != 0) spin.SpinOnce(sleep1Threshold: -1);
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    private sealed class Worker(WorkerPool pool, int index)
    {
        private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);
        private int _sleeping;

        public void WakeIfSleeping()
        {
            if (Volatile.Read(ref _sleeping) != 0) _wake.Set();
        }

        public void Loop()
        {
            int seen = 0; // the generation before any job: workers start before the pool is handed out
            while (true)
            {
                seen = WaitForJob(seen);
                int part = index + 1;
                if (part < pool._parts)
                {
                    pool._body(pool._state, part, pool._parts);
                    Interlocked.Decrement(ref pool._pending);
                }
            }
        }

        private int WaitForJob(int seen)
        {
            long start = Stopwatch.GetTimestamp();
            while (true)
            {
                for (int i = 0; i < 64; i++)
                {
                    int g = Volatile.Read(ref pool._generation);
                    if (g != seen) return g;
                    Thread.SpinWait(8);
                }
                if (Stopwatch.GetTimestamp() - start < s_spinTicks) continue;

                // Announce sleep, then re-check: Run bumps the generation before it reads _sleeping, and both sides
                // use full fences, so either we see the new job here or Run sees us asleep and sets the event.
                _wake.Reset();
                Interlocked.Exchange(ref _sleeping, 1);
                int again = Volatile.Read(ref pool._generation);
                if (again == seen) _wake.Wait();
                Interlocked.Exchange(ref _sleeping, 0);
                start = Stopwatch.GetTimestamp();
            }
        }
    }
}
