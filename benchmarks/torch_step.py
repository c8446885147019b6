"""Runs ../shared/reference/torch_ref.py unchanged and reports its per-step time both ways: CPU time of the process
(time.process_time, which other processes on a shared machine do not inflate) and wall time.
torch_ref.py times its loop with time.perf_counter: t0, then tw at step min(100, steps // 10), then t1 right after
the loop. This wrapper substitutes a clock that records process CPU time and wall time at each call, and stops the
script at the third call (t1), skipping its final full-set evaluation, which times nothing and takes minutes for
deep50 on a loaded machine.
Usage: python3 benchmarks/torch_step.py MODEL STEPS THREADS   (run from the project root)
Prints: model,threads,steps,cpu_us,wall_us"""
import runpy, sys, time

model, steps, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3]
cpu, wall = [], []
real = time.perf_counter

class LoopDone(Exception):
    pass

def clock():
    wall.append(real()); cpu.append(time.process_time())
    if len(wall) == 3:
        raise LoopDone()
    return wall[-1]

time.perf_counter = clock
sys.argv = ["torch_ref.py", model, str(steps), threads]
try:
    runpy.run_path("../shared/reference/torch_ref.py", run_name="__main__")
except LoopDone:
    pass
iw = min(100, steps // 10)
print(f"{model},{threads},{steps},{1e6 * (cpu[2] - cpu[1]) / (steps - iw):.2f},{1e6 * (wall[2] - wall[1]) / (steps - iw):.2f}", flush=True)
