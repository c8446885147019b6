"""Times torch.mm for the GEMM shapes of the presets, one thread, the same orientations and CSV columns as
`dotnet run -c Release --project benchmarks/Microsoft.ML.BatchNormMlp.Benchmarks -- gemm --csv`:
NT = a[m,k] @ b[n,k].T (Linear forward), NN = a[m,k] @ b[k,n] (input gradient),
TN = c += a[k,m].T @ b[k,n] (weight gradient, accumulating like our benchmark). Outputs are preallocated (out=)
so neither side pays for allocation. Usage: python3 torch_gemm.py [seconds_per_shape] [threads]
Note: torch.set_num_threads(1) does not stop Debian's OpenBLAS build from using its own second thread for mm;
run with OPENBLAS_NUM_THREADS=1 for a true single-thread figure (compare-torch.sh does)."""
import sys, time, statistics
import torch

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 0.3
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
torch.set_num_threads(threads)
LAYERS = [("bn1", 32, 30, 200), ("bn1", 32, 200, 27),
          ("mlp3", 32, 48, 256), ("mlp3", 32, 256, 512), ("mlp3", 32, 512, 1024),
          ("mlp3", 32, 1024, 512), ("mlp3", 32, 512, 256), ("mlp3", 32, 256, 27),
          ("deep50", 32, 256, 256),
          ("mnist1d", 200, 40, 100), ("mnist1d", 200, 100, 100), ("mnist1d", 200, 100, 10),
          ("eval", 4096, 256, 256)]

def dims(o, batch, fin, fout):
    return {"NT": (batch, fout, fin), "NN": (batch, fin, fout), "TN": (fout, fin, batch)}[o]

def timed(fn):
    """Median wall us/call and median process-CPU us/call over 5 batches. Process CPU time counts every thread
    (OpenBLAS may run its own) and not the time other processes held the cores."""
    for _ in range(20): fn()
    t0 = time.perf_counter(); probe = 0
    while time.perf_counter() - t0 < seconds / 10: fn(); probe += 1
    per = max(1, int(probe * 10 / 5 * 0.8)); us = []; cpu = []
    for _ in range(5):
        c0 = time.process_time(); t0 = time.perf_counter()
        for _ in range(per): fn()
        us.append((time.perf_counter() - t0) * 1e6 / per); cpu.append((time.process_time() - c0) * 1e6 / per)
    return statistics.median(us), statistics.median(cpu)

print("orientation,model,m,n,k,threads,us,gflops,cpu_us")
with torch.no_grad():
    for model, batch, fin, fout in LAYERS:
        for o in ("NT", "NN", "TN"):
            m, n, k = dims(o, batch, fin, fout)
            g = torch.Generator().manual_seed(1)
            c = torch.zeros(m, n)
            if o == "NT":
                a = torch.rand(m, k, generator=g); b = torch.rand(n, k, generator=g); bt = b.t()
                fn = lambda: torch.mm(a, bt, out=c)
            elif o == "NN":
                a = torch.rand(m, k, generator=g); b = torch.rand(k, n, generator=g)
                fn = lambda: torch.mm(a, b, out=c)
            else:
                a = torch.rand(k, m, generator=g); b = torch.rand(k, n, generator=g); at = a.t()
                fn = lambda: c.addmm_(at, b)
            us, cpu = timed(fn)
            print(f"{o},{model},{m},{n},{k},{threads},{us:.3f},{2.0 * m * n * k / us / 1e3:.1f},{cpu:.3f}", flush=True)
