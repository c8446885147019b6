"""Runs ../shared/reference/torch_ref.py unchanged and reports its per-step time both ways: CPU time of the process
(time.process_time, which other processes on a shared machine do not inflate) and wall time.
torch_ref.py times its loop with time.perf_counter (t0, then tw at step min(100, steps // 10), then t1); this
wrapper substitutes a clock that returns process CPU time and records the wall time of each call.
Usage: python3 benchmarks/torch_step.py MODEL STEPS THREADS   (run from the project root)
Prints: model,threads,steps,cpu_us,wall_us"""
import runpy, sys, time

model, steps, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3]
walls = []
real = time.perf_counter
def clock():
    walls.append(real())
    return time.process_time()
time.perf_counter = clock
sys.argv = ["torch_ref.py", model, str(steps), threads]
import io, contextlib
out = io.StringIO()
with contextlib.redirect_stdout(out):
    runpy.run_path("../shared/reference/torch_ref.py", run_name="__main__")
line = out.getvalue().strip().splitlines()[-1]
fields = dict(f.split("=", 1) for f in line.split()[1:])
iw = min(100, steps // 10)
wall_us = 1e6 * (walls[2] - walls[1]) / (steps - iw)
print(f"{model},{threads},{steps},{float(fields['us_per_step']):.2f},{wall_us:.2f}", flush=True)
print(line, file=sys.stderr)
