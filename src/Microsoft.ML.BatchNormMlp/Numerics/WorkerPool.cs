using System.Diagnostics;

namespace Microsoft.ML.BatchNormMlp.Numerics;

/// <summary>
/// A persistent pool that runs a job made of numbered units: the caller and up to <c>participants - 1</c> workers
/// claim units from a shared counter until none are left. No delegates, tasks or closures: the job is a function
/// pointer plus a pointer to the caller's state (alive because <see cref="Run"/> returns only after every worker that
/// joined has left), so a call allocates nothing. Units must not depend on which thread runs them; then results do
/// not depend on timing or on the number of threads, and a worker that the OS has descheduled (two cores shared
/// with other processes) only means the caller claims more units itself.
/// Idle workers spin briefly between jobs (the GEMMs of a training step arrive microseconds apart), then sleep.
/// </summary>
internal sealed unsafe class WorkerPool
{
    private static readonly object s_createLock = new();
    private static WorkerPool? s_shared;

    // How long an idle worker spins before sleeping: longer than the gaps between the GEMMs of one training step.
    private static readonly long s_spinTicks = Stopwatch.Frequency / 5000; // 200 us

    private readonly Worker[] _workers;
    private delegate*<void*, int, void> _body;
    private void* _state;
    private int _units;
    private int _next;
    private int _workerLimit;
    private int _generation;
    private int _closed = 1;
    private int _active;
    private int _busy;

    private WorkerPool(int workers)
    {
        _workers = new Worker[workers];
        // Wait until every worker has published its starting allocation count, so that WorkerAllocations never
        // changes for a thread's start-up (seen: 192 B in a test's first window when the pool was created just before).
        using var started = new CountdownEvent(workers);
        for (int w = 0; w < workers; w++)
        {
            var worker = new Worker(this, w, started);
            _workers[w] = worker;
            new Thread(worker.Loop) { IsBackground = true, Name = $"BatchNormMlp worker {w + 1}" }.Start();
        }
        started.Wait();
    }

    /// <summary>
    /// Bytes the pool's worker threads have allocated in their lifetime, as each published it when it last left a job,
    /// and how many times a worker has joined a job. Once <see cref="Run"/> has returned, every worker that joined it
    /// has published, so the change across a sequence of calls is exactly what the workers allocated for them (and
    /// while waiting between them). Lets a test tell the pool's allocations from those of unrelated threads of the
    /// process (a test host's timers), which the process-wide <see cref="GC.GetTotalAllocatedBytes"/> cannot.
    /// </summary>
    internal (long Bytes, long Joins) WorkerAllocations
    {
        get
        {
            long bytes = 0, joins = 0;
            foreach (var worker in _workers)
            {
                bytes += Volatile.Read(ref worker.AllocatedBytes);
                joins += Volatile.Read(ref worker.Joins);
            }
            return (bytes, joins);
        }
    }

    /// <summary>Most threads a job can usefully use here: one per processor.</summary>
    public static int MaxParticipants => Environment.ProcessorCount;

    /// <summary>The process-wide pool with <see cref="MaxParticipants"/> - 1 workers, created on first use.</summary>
    public static WorkerPool Shared
    {
        get
        {
            if (s_shared is { } pool) return pool;
            lock (s_createLock) return s_shared ??= new WorkerPool(Math.Max(0, MaxParticipants - 1));
        }
    }

    /// <summary>
    /// Runs <c>body(state, unit)</c> for unit = 0..units-1 on the caller and up to participants - 1 workers, and
    /// returns when all are done. When another caller holds the pool, the caller runs every unit itself.
    /// </summary>
    public void Run(int units, int participants, delegate*<void*, int, void> body, void* state)
    {
        if (units <= 1 || participants <= 1 || _workers.Length == 0 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            for (int unit = 0; unit < units; unit++) body(state, unit);
            return;
        }
        try
        {
            // Job fields first, then open the gate, then publish the generation (Interlocked: full fences), so any
            // worker that passes the gate reads this job's fields.
            _body = body; _state = state; _units = units; _next = 0;
            _workerLimit = Math.Min(participants - 1, _workers.Length);
            Interlocked.Exchange(ref _closed, 0);
            Interlocked.Increment(ref _generation);
            for (int w = 0; w < _workerLimit; w++) _workers[w].WakeIfSleeping();

            ClaimUnits();

            // Close the gate, then wait for the workers that got in. A worker that arrives later sees the gate closed
            // and never touches the job: it increments _active before it reads _closed, we write _closed before we
            // read _active, so one of the two sees the other.
            Interlocked.Exchange(ref _closed, 1);
            var spin = new SpinWait();
            while (Volatile.Read(ref _active) != 0) spin.SpinOnce(sleep1Threshold: -1);
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    private void ClaimUnits()
    {
        int unit;
        while ((unit = Interlocked.Increment(ref _next) - 1) < _units) _body(_state, unit);
    }

    private sealed class Worker(WorkerPool pool, int index, CountdownEvent started)
    {
        private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);
        private int _sleeping;

        // Published for WorkerAllocations: written only by this worker, read by anyone.
        public long AllocatedBytes;
        public long Joins;

        public void WakeIfSleeping()
        {
            if (Volatile.Read(ref _sleeping) != 0) _wake.Set();
        }

        public void Loop()
        {
            int seen = 0; // the generation before any job: workers start before the pool is handed out
            Volatile.Write(ref AllocatedBytes, GC.GetAllocatedBytesForCurrentThread()); // the thread's start is not a job's
            started.Signal();
            while (true)
            {
                seen = WaitForJob(seen);
                Interlocked.Increment(ref pool._active);
                if (Volatile.Read(ref pool._closed) == 0 && index < pool._workerLimit)
                {
                    pool.ClaimUnits();
                    // Before leaving (the decrement below), so that Run's return implies the figures are current.
                    Volatile.Write(ref AllocatedBytes, GC.GetAllocatedBytesForCurrentThread());
                    Volatile.Write(ref Joins, Joins + 1);
                }
                Interlocked.Decrement(ref pool._active);
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
                if (Volatile.Read(ref pool._generation) == seen) _wake.Wait();
                Interlocked.Exchange(ref _sleeping, 0);
                start = Stopwatch.GetTimestamp();
            }
        }
    }
}
