#!/usr/bin/env bash
# Compares our GEMM with PyTorch's (torch.mm, OpenBLAS here) on the presets' shapes, one thread each side, and
# prints per-shape ratios plus the GEMM part of one training step per preset (forward NT + backward NN and TN for
# every Linear layer). Full training-step numbers (our step benchmark vs ../shared/reference/torch_ref.py) will
# be added here when the engine lands.
# Usage: benchmarks/compare-torch.sh [seconds-per-shape]      (needs /usr/bin/python3 with torch 1.13)
#        OPENBLAS_NUM_THREADS=2 benchmarks/compare-torch.sh       (let torch's OpenBLAS use its second thread)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-0.3}
ours=$(mktemp); theirs=$(mktemp)
trap 'rm -f "$ours" "$theirs"' EXIT

dotnet build benchmarks/Microsoft.ML.BatchNormMlp.Benchmarks -c Release -v q -nologo >/dev/null
dotnet run -c Release --no-build --project benchmarks/Microsoft.ML.BatchNormMlp.Benchmarks -- gemm "$secs" --csv > "$ours"
# torch.set_num_threads(1) alone leaves OpenBLAS free to use a second thread for mm (measured: process CPU time
# above wall time); pin it to one unless the caller says otherwise.
OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} /usr/bin/python3 benchmarks/torch_gemm.py "$secs" 1 > "$theirs"
echo "load average: $(cat /proc/loadavg)"
dotnet run -c Release --no-build --project benchmarks/Microsoft.ML.BatchNormMlp.Benchmarks -- peak | tee /dev/stderr >/dev/null

/usr/bin/python3 - "$ours" "$theirs" <<'PY'
import csv, sys
ours = list(csv.DictReader(open(sys.argv[1]))); torch = list(csv.DictReader(open(sys.argv[2])))
key = lambda r: (r["orientation"], r["model"], int(r["m"]), int(r["n"]), int(r["k"]))
t = {key(r): float(r["us"]) for r in torch}
tc = {key(r): float(r["cpu_us"]) for r in torch}
o1 = {key(r): r for r in ours if r["threads"] == "1"}
o2 = {key(r): r for r in ours if r["threads"] == "2"}
print("Wall time (us/call) and, in brackets, CPU time (ours: the calling thread; torch: the process), which the")
print("other processes on this shared machine do not inflate.")
print(f"{'op':3} {'model':8} {'m':>5} {'n':>5} {'k':>5} {'torch us':>16} {'ours us':>16} {'GFLOP/s':>8} {'x torch':>12} {'2thr us':>8} {'2thr x':>6} {'B/call':>6}")
for k_ in t:
    r = o1[k_]; r2 = o2.get(k_)
    us, tu, cu, tcu = float(r["us"]), t[k_], float(r["cpu_us"]), tc[k_]
    us2 = float(r2["us"]) if r2 else float("nan")
    print(f"{k_[0]:3} {k_[1]:8} {k_[2]:5} {k_[3]:5} {k_[4]:5} {tu:7.2f} [{tcu:7.2f}] {us:7.2f} [{cu:7.2f}] {2.0 * k_[2] * k_[3] * k_[4] / cu / 1e3:8.1f} "
          f"{tu / us:5.2f} [{tcu / cu:4.2f}] {us2:8.2f} {us / us2:6.2f} {r['alloc_bytes_per_call']:>6}")

# The GEMMs of one training step (batch 32): (model, in, out, how many such layers).
steps = {"bn1": [("bn1", 30, 200, 1), ("bn1", 200, 27, 1)],
         "mlp3": [("mlp3", 48, 256, 1), ("mlp3", 256, 512, 1), ("mlp3", 512, 1024, 1), ("mlp3", 1024, 512, 1),
                  ("mlp3", 512, 256, 1), ("mlp3", 256, 27, 1)],
         "deep50": [("mlp3", 48, 256, 1), ("deep50", 256, 256, 49), ("mlp3", 256, 27, 1)]}
print("\nGEMM part of one training step (batch 32; forward NT + backward NN + TN per Linear layer):")
for name, layers in steps.items():
    tt = ot1 = ot2 = flops = ttc = oc = 0.0
    for model, fin, fout, count in layers:
        for o, (m, n, k) in (("NT", (32, fout, fin)), ("NN", (32, fin, fout)), ("TN", (fout, fin, 32))):
            kk = (o, model, m, n, k)
            tt += count * t[kk]; ot1 += count * float(o1[kk]["us"]); ot2 += count * float(o2[kk]["us"])
            ttc += count * tc[kk]; oc += count * float(o1[kk]["cpu_us"])
            flops += count * 2.0 * m * n * k
    print(f"  {name:7} {flops / 1e6:6.1f} MFLOP  torch {tt:7.1f} us [cpu {ttc:7.1f}]  ours {ot1:7.1f} us [cpu {oc:7.1f}, {flops / oc / 1e3:5.1f} GFLOP/s]"
          f"  {tt / ot1:4.2f}x torch [cpu {ttc / oc:4.2f}x]  ours 2 threads {ot2:7.1f} us ({ot1 / ot2:4.2f}x)")
PY
